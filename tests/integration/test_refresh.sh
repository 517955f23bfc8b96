#!/usr/bin/env bash
# Refresh and sessions (issues 11.7, 11.9, 12.3): a refresh answer lost on the way is asked for
# again and the same pair comes back (within refresh_grace); presented after the window, or once
# its successor was used, the token is reuse and revokes the session, whose access tokens then
# stop at the next request, as they do after a sign-out; parallel presentations of one token
# agree; a disabled collector's refresh is refused without using the token up.
. "$(dirname "$0")/auth_lib.sh"
start_server pga_refresh
cat >>"$WORK/server.toml" <<TOML
[auth]
refresh_grace = "3s"
TOML
stop_server
restart_server
add_user root admin
ADMIN=$(sign_in root)
C=$(enrol_collector agent1)
STATE="$WORK/c-agent1/state"
refresh_as_agent() {
  call POST /api/v1/auth/refresh --cert "$STATE/agent.crt" --key "$STATE/agent.key" --data "{\"refresh_token\":\"$1\"}"
}
config_with() { call GET "/api/v1/config/$C" --cert "$STATE/agent.crt" --key "$STATE/agent.key" -H "Authorization: Bearer $1"; }
R1=$(jq -r .refresh_token "$STATE/credentials.json")
A1=$(jq -r .access_token "$STATE/credentials.json")

# --- a lost answer: the same token again gets the same pair
expect_eq "the refresh token rotates" 200 "$(refresh_as_agent "$R1")"
first=$(field -c '[.access_token, .refresh_token]')
expect_eq "asked again (the answer was lost), it answers 200" 200 "$(refresh_as_agent "$R1")"
expect_eq "with the very same pair" "$first" "$(field -c '[.access_token, .refresh_token]')"
A2=$(field -r .access_token)
R2=$(field -r .refresh_token)
expect_eq "the session was not revoked" 0 "$(q "SELECT count(*) FROM pganalytics.sessions WHERE collector_id = '$C' AND revoked_at IS NOT NULL")"
expect_eq "the new access token works" 200 "$(config_with "$A2")"
expect_eq "one successor was stored, hashed" 1 \
  "$(q "SELECT count(*) FROM pganalytics.refresh_tokens WHERE collector_id = '$C' AND rotated_at IS NULL")"
expect_eq "the successor is not stored in clear" 0 \
  "$(q "SELECT count(*) FROM pganalytics.refresh_tokens WHERE position(convert_to('$R2', 'UTF8') in token_hash) > 0")"

# --- parallel presentations of one token agree on one pair
for i in $(seq 1 8); do printf 'url = "%s/api/v1/auth/refresh"\noutput = "%s/par%s.json"\n' "$SERVER_URL" "$WORK" "$i"; done >"$WORK/par.curl"
curl -s --parallel --parallel-max 8 --parallel-immediate --cacert "$CA" --cert "$STATE/agent.crt" --key "$STATE/agent.key" \
  -X POST --data "{\"refresh_token\":\"$R2\"}" -K "$WORK/par.curl" 2>/dev/null || true
expect_eq "8 parallel refreshes of one token get one and the same pair" 1 \
  "$(cat "$WORK"/par*.json | jq -r .refresh_token | sort -u | grep -c '^pga_rt_')"
R3=$(jq -r .refresh_token "$WORK/par1.json")
A3=$(jq -r .access_token "$WORK/par1.json")

# --- after the grace window, presenting it again is reuse: the session ends, access tokens too
expect_eq "before the window ends the old access token still works" 200 "$(config_with "$A2")"
for _ in $(seq 1 100); do
  [ "$(q "SELECT count(*) FROM pganalytics.refresh_tokens t JOIN pganalytics.sessions s ON s.id = t.family_id
          WHERE s.collector_id = '$C' AND t.rotated_at < now() - interval '3.2 seconds'")" -ge 2 ] && break
  sleep 0.1
done
expect_eq "after the window the rotated token is reuse" 401 "$(refresh_as_agent "$R2")"
expect_eq "named" refresh_token_reused "$(field .error.code)"
expect_eq "the session is revoked: the latest refresh token fails" 401 "$(refresh_as_agent "$R3")"
expect_eq "and its access token is refused at the next request, not in 15 minutes" 401 "$(config_with "$A3")"
expect_eq "as a revoked session" session_revoked "$(field .error.code)"
expect_eq "the reuse is audited" 1 "$(q "SELECT count(*) FROM pganalytics.audit_log WHERE action = 'auth.refresh_reuse'")"

# --- a successor already used: reuse even within the window
UR1=$(call POST /api/v1/auth/login --data "$(jq -nc --arg p "$(password_of root)" '{username:"root",password:$p}')" >/dev/null; field -r .refresh_token)
UA1=$(field -r .access_token)
call POST /api/v1/auth/refresh --data "{\"refresh_token\":\"$UR1\"}" >/dev/null
UR2=$(field -r .refresh_token)
expect_eq "the successor is used" 200 "$(call POST /api/v1/auth/refresh --data "{\"refresh_token\":\"$UR2\"}")"
expect_eq "then the first token, even within the window, is reuse" 401 "$(call POST /api/v1/auth/refresh --data "{\"refresh_token\":\"$UR1\"}")"
expect_eq "which ends the session's access tokens" 401 "$(as "$UA1" GET /api/v1/me)"

# --- sign-out ends the session's access tokens at once
USER_ACCESS=$(sign_in root)
expect_eq "signed in" 200 "$(as "$USER_ACCESS" GET /api/v1/me)"
expect_eq "sign-out with the refresh token in the body" 200 \
  "$(as "$USER_ACCESS" POST /api/v1/auth/logout --data "{\"refresh_token\":\"$(cat "$WORK/refresh.root")\"}")"
expect_eq "the access token is refused at the next request" 401 "$(as "$USER_ACCESS" GET /api/v1/me)"
OTHER=$(sign_in root)
expect_eq "someone else's refresh token cannot be signed out" 400 \
  "$(as "$OTHER" POST /api/v1/auth/logout --data "{\"refresh_token\":\"$(jq -r .refresh_token "$WORK/par1.json")\"}")"

# --- a disabled collector: refused without using the token up; enabled, the same token works
C2=$(enrol_collector agent2)
STATE="$WORK/c-agent2/state"
C=$C2
R=$(jq -r .refresh_token "$STATE/credentials.json")
expect_eq "an admin disables the collector" 200 "$(as "$ADMIN" POST "/api/v1/collectors/$C2/disable")"
expect_eq "its refresh is refused" 403 "$(refresh_as_agent "$R")"
expect_eq "as disabled, with a time to come back" "collector_disabled" "$(field .error.code)"
expect_eq "the token was not used up" 0 \
  "$(q "SELECT count(*) FROM pganalytics.refresh_tokens WHERE collector_id = '$C2' AND (rotated_at IS NOT NULL OR revoked_at IS NOT NULL)")"
expect_eq "its pushes are refused the same way" 403 "$(push_fixture agent2 1)"
expect_eq "the admin enables it again" 200 "$(as "$ADMIN" POST "/api/v1/collectors/$C2/enable")"
expect_eq "the same refresh token works" 200 "$(refresh_as_agent "$R")"
expect_eq "and the new access token pushes" 200 \
  "$(call POST /api/v1/metrics/push --cert "$STATE/agent.crt" --key "$STATE/agent.key" -H "Authorization: Bearer $(field -r .access_token)" \
     -H 'Content-Type: application/json' --data "$(jq -c --arg c "$C2" --arg now "$(date -u +%Y-%m-%dT%H:%M:%SZ)" \
       '.collector_id = $c | .seq = 1 | .sent_at = $now | .samples[].at = $now' \
       "${PGA_SOURCE_DIR:-$(dirname "$0")/../..}/tests/fixtures/batches/valid.json")")"
finish
