#!/usr/bin/env bash
# The server's security surface against real clients (openssl, curl) on 127.0.0.1: TLS 1.3 only,
# enrolment tokens, CSR signing, mutual TLS plus JWT on agent routes, refresh rotation with reuse
# detection, user login, gzip bombs and slow clients. The server must keep serving after each.
. "$(dirname "$0")/server_lib.sh"
start_server pga_server_security
api() { curl -s --cacert "$CA" -o "$WORK/body" -w '%{http_code}' "$@" || true; }
body() { cat "$WORK/body"; }

# --- TLS versions
if openssl s_client -connect "127.0.0.1:$SERVER_PORT" -tls1_2 -CAfile "$CA" </dev/null >"$WORK/tls12" 2>&1; then
  fail "TLS 1.2 is refused"; else pass "TLS 1.2 is refused"; fi
openssl s_client -connect "127.0.0.1:$SERVER_PORT" -tls1_3 -CAfile "$CA" -verify_return_error </dev/null >"$WORK/tls13" 2>&1
expect_contains "TLS 1.3 is accepted and the server certificate verifies" "Verify return code: 0 (ok)" "$(cat "$WORK/tls13")"
expect_eq "health answers without authentication" 200 "$(api "$SERVER_URL/api/v1/health")"
expect_eq "health reports the database" ok "$(body | jq -r .database)"

# --- enrolment token: alone on stdout, hints on stderr
"$PGA_BIN" token create --config "$WORK/server.toml" --ttl 10m --uses 1 >"$WORK/token.out" 2>"$WORK/token.err"
expect_eq "token create prints one line on stdout" 1 "$(wc -l <"$WORK/token.out")"
TOKEN=$(cat "$WORK/token.out")
fingerprint=$(openssl x509 -in "$CA" -noout -fingerprint -sha256 | cut -d= -f2 | tr -d : | tr A-F a-f)
expect_contains "stderr shows the CA fingerprint" "sha256:$fingerprint" "$(cat "$WORK/token.err")"
expect_contains "stderr shows the register command" "pganalytics register --server https://localhost:$SERVER_PORT --token $TOKEN" "$(cat "$WORK/token.err")"
expect_eq "the token is stored hashed, never in clear" 0 \
  "$(sql "$DATABASE_URL" "SELECT count(*) FROM pganalytics.enrollment_tokens WHERE position(convert_to('$TOKEN', 'UTF8') in token_hash) > 0")"

# --- a CSR asking for CA:TRUE and extra names
openssl ecparam -name prime256v1 -genkey -noout -out "$WORK/agent.key" 2>/dev/null
openssl req -new -key "$WORK/agent.key" -subj "/CN=evil.example" -addext "basicConstraints=critical,CA:TRUE" \
  -addext "subjectAltName=DNS:evil.example,IP:10.0.0.1" -out "$WORK/agent.csr" 2>/dev/null
register_body() { jq -n --arg csr "$(cat "$1")" '{name:"db01",hostname:"db01.example",csr:$csr,agent_version:"test"}'; }
register_body "$WORK/agent.csr" >"$WORK/register.json"
expect_eq "register without a token is refused" 401 "$(api -X POST -H 'Content-Type: application/json' --data @"$WORK/register.json" "$SERVER_URL/api/v1/collectors/register")"
expect_eq "register with the token answers 201" 201 "$(api -X POST -H "Authorization: Bearer $TOKEN" -H 'Content-Type: application/json' --data @"$WORK/register.json" "$SERVER_URL/api/v1/collectors/register")"
body >"$WORK/registered.json"
COLLECTOR=$(jq -r .collector_id "$WORK/registered.json")
ACCESS=$(jq -r .access_token "$WORK/registered.json")
REFRESH=$(jq -r .refresh_token "$WORK/registered.json")
jq -r .certificate "$WORK/registered.json" >"$WORK/agent.crt"
expect_eq "the CA in the answer is the server's" "$(cat "$CA")" "$(jq -r .ca_certificate "$WORK/registered.json")"
expect_contains "the issued certificate verifies with openssl verify" "OK" "$(openssl verify -CAfile "$CA" "$WORK/agent.crt" 2>&1)"
cert_text=$(openssl x509 -in "$WORK/agent.crt" -noout -text)
expect_contains "the certificate is CA:FALSE" "CA:FALSE" "$cert_text"
expect_contains "the certificate is for client authentication" "TLS Web Client Authentication" "$cert_text"
expect_contains "the subject is the collector id" "CN = $COLLECTOR" "$cert_text"
expect_contains "the SAN is the collector id" "URI:urn:uuid:$COLLECTOR" "$cert_text"
if [[ "$cert_text" == *evil.example* || "$cert_text" == *10.0.0.1* ]]; then fail "requested names are ignored"; else pass "requested names are ignored"; fi
expect_eq "the collector row exists" active "$(sql "$DATABASE_URL" "SELECT status FROM pganalytics.collectors WHERE id = '$COLLECTOR'")"
expect_eq "the enrolment token is single-use" 401 "$(api -X POST -H "Authorization: Bearer $TOKEN" --data @"$WORK/register.json" "$SERVER_URL/api/v1/collectors/register")"
expect_eq "the failed enrolment is audited" 1 "$(sql "$DATABASE_URL" "SELECT count(*) FROM pganalytics.audit_log WHERE action = 'collector.register' AND outcome = 'failure'")"

# --- agent routes: certificate + token + one identity
openssl req -new -key "$WORK/agent.key" -subj "/CN=renew" -out "$WORK/renew.csr" 2>/dev/null
jq -n --arg csr "$(cat "$WORK/renew.csr")" '{csr:$csr}' >"$WORK/renew.json"
renew() { api -X POST --data @"$WORK/renew.json" "$@" "$SERVER_URL/api/v1/collectors/$COLLECTOR/certificate"; }
expect_eq "an agent route without a client certificate is refused" 401 "$(renew -H "Authorization: Bearer $ACCESS")"
expect_eq "the refusal names the missing certificate" client_certificate_required "$(body | jq -r .error.code)"
expect_eq "certificate + agent token renew the certificate" 200 "$(renew --cert "$WORK/agent.crt" --key "$WORK/agent.key" -H "Authorization: Bearer $ACCESS")"
expect_contains "the renewed certificate verifies" OK "$(body | jq -r .certificate | openssl verify -CAfile "$CA" 2>&1)"
expect_eq "a certificate without a token is refused" 401 "$(renew --cert "$WORK/agent.crt" --key "$WORK/agent.key")"
IFS=. read -r h p s <<<"$ACCESS"
none_header=$(printf '{"alg":"none","typ":"JWT","kid":"x"}' | base64 -w0 | tr '+/' '-_' | tr -d =)
expect_eq "alg none is refused" 401 "$(renew --cert "$WORK/agent.crt" --key "$WORK/agent.key" -H "Authorization: Bearer $none_header.$p.")"
tampered_payload=$(printf '%s' "$p" | tr 'A-Za-z' 'B-ZAb-za')
expect_eq "a tampered token is refused" 401 "$(renew --cert "$WORK/agent.crt" --key "$WORK/agent.key" -H "Authorization: Bearer $h.$tampered_payload.$s")"

# A certificate from a foreign CA.
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -keyout "$WORK/foreign-ca.key" \
  -subj "/CN=foreign" -days 1 -out "$WORK/foreign-ca.crt" 2>/dev/null
openssl req -new -key "$WORK/agent.key" -subj "/CN=$COLLECTOR" -out "$WORK/foreign.csr" 2>/dev/null
openssl x509 -req -in "$WORK/foreign.csr" -CA "$WORK/foreign-ca.crt" -CAkey "$WORK/foreign-ca.key" -days 1 \
  -extfile <(printf 'subjectAltName=URI:urn:uuid:%s\nextendedKeyUsage=clientAuth\n' "$COLLECTOR") -out "$WORK/foreign.crt" 2>/dev/null
code=$(renew --cert "$WORK/foreign.crt" --key "$WORK/agent.key" -H "Authorization: Bearer $ACCESS")
if [ "$code" = 200 ]; then fail "a certificate from a foreign CA is refused (got 200)"; else pass "a certificate from a foreign CA is refused ($code)"; fi

# Another collector's certificate with this collector's token.
"$PGA_BIN" token create --config "$WORK/server.toml" >"$WORK/token2.out" 2>/dev/null
openssl ecparam -name prime256v1 -genkey -noout -out "$WORK/other.key" 2>/dev/null
openssl req -new -key "$WORK/other.key" -subj "/CN=other" -out "$WORK/other.csr" 2>/dev/null
register_body "$WORK/other.csr" >"$WORK/register2.json"
api -X POST -H "Authorization: Bearer $(cat "$WORK/token2.out")" --data @"$WORK/register2.json" "$SERVER_URL/api/v1/collectors/register" >/dev/null
body | jq -r .certificate >"$WORK/other.crt"
OTHER_ACCESS=$(body | jq -r .access_token)
expect_eq "another collector's certificate with this token is 403" 403 "$(renew --cert "$WORK/other.crt" --key "$WORK/other.key" -H "Authorization: Bearer $ACCESS")"
expect_eq "the other collector cannot act on this collector's path" 403 "$(renew --cert "$WORK/other.crt" --key "$WORK/other.key" -H "Authorization: Bearer $OTHER_ACCESS")"

# --- refresh rotation and reuse detection (a collector's refresh needs its certificate)
refresh() { api -X POST --cert "$WORK/agent.crt" --key "$WORK/agent.key" --data "{\"refresh_token\":\"$1\"}" "$SERVER_URL/api/v1/auth/refresh"; }
expect_eq "a refresh token rotates" 200 "$(refresh "$REFRESH")"
REFRESH2=$(body | jq -r .refresh_token)
if [ "$REFRESH2" != "$REFRESH" ] && [ -n "$REFRESH2" ]; then pass "rotation returns a new refresh token"; else fail "rotation returns a new refresh token"; fi
expect_eq "the new access token works" 200 "$(renew --cert "$WORK/agent.crt" --key "$WORK/agent.key" -H "Authorization: Bearer $(body | jq -r .access_token)")"
# Presented again at once it would answer the same pair (a lost answer: test_refresh.sh); once
# its successor was used, it is reuse.
expect_eq "the successor rotates in turn" 200 "$(refresh "$REFRESH2")"
REFRESH3=$(body | jq -r .refresh_token)
expect_eq "reusing a rotated refresh token is refused" 401 "$(refresh "$REFRESH")"
expect_eq "the reuse is named" refresh_token_reused "$(body | jq -r .error.code)"
expect_eq "reuse revoked the whole family" 401 "$(refresh "$REFRESH3")"

# --- users
printf 'correct horse battery\n' | "$PGA_BIN" user add alice --role admin --config "$WORK/server.toml" 2>/dev/null
expect_eq "the password is stored as argon2id" 1 "$(sql "$DATABASE_URL" "SELECT count(*) FROM pganalytics.users WHERE username = 'alice' AND password_hash LIKE '\$argon2id\$v=19\$m=19456,t=2,p=1\$%'")"
login() { api -X POST --data "{\"username\":\"alice\",\"password\":\"$1\"}" "$SERVER_URL/api/v1/auth/login"; }
expect_eq "login with the right password" 200 "$(login 'correct horse battery')"
USER_ACCESS=$(body | jq -r .access_token)
USER_REFRESH=$(body | jq -r .refresh_token)
expect_eq "a user token on an agent route is refused" 401 "$(renew --cert "$WORK/agent.crt" --key "$WORK/agent.key" -H "Authorization: Bearer $USER_ACCESS")"
expect_eq "logout revokes the session" 200 "$(api -X POST -H "Authorization: Bearer $USER_ACCESS" --data "{\"refresh_token\":\"$USER_REFRESH\"}" "$SERVER_URL/api/v1/auth/logout")"
expect_eq "the logged-out refresh token no longer works" 401 "$(api -X POST --data "{\"refresh_token\":\"$USER_REFRESH\"}" "$SERVER_URL/api/v1/auth/refresh")"
for i in 1 2 3 4 5; do login wrong >/dev/null; done
expect_eq "after five failures logins are throttled" 429 "$(login 'correct horse battery')"
expect_eq "failed logins are audited" 5 "$(sql "$DATABASE_URL" "SELECT count(*) FROM pganalytics.audit_log WHERE action = 'auth.login' AND outcome = 'failure'")"
if grep -q 'correct horse' "$WORK/server.log"; then fail "no password in the server log"; else pass "no password in the server log"; fi

# --- disabled collectors are refused at once
sql "$DATABASE_URL" "UPDATE pganalytics.collectors SET status = 'disabled' WHERE id = '$COLLECTOR'" >/dev/null
expect_eq "a disabled collector is refused" 403 "$(renew --cert "$WORK/agent.crt" --key "$WORK/agent.key" -H "Authorization: Bearer $ACCESS")"

# --- a 200 MiB gzip bomb and a malformed body
head -c $((200 * 1024 * 1024)) /dev/zero | gzip -1 >"$WORK/bomb.gz"
hwm_before=$(awk '/VmHWM/ {print $2}' "/proc/$SERVER_PID/status")
expect_eq "a 200 MiB gzip bomb to login is refused unread (only the push route takes gzip)" 415 "$(api -X POST -H 'Content-Encoding: gzip' --data-binary @"$WORK/bomb.gz" "$SERVER_URL/api/v1/auth/login")"
hwm_after=$(awk '/VmHWM/ {print $2}' "/proc/$SERVER_PID/status")
growth=$(( (hwm_after - hwm_before) / 1024 ))
if [ "$growth" -lt 100 ]; then pass "server memory stays flat under the bomb (+${growth} MiB)"; else fail "server memory grew by ${growth} MiB"; fi
expect_eq "bad JSON is a 400" 400 "$(api -X POST --data '{"username":' "$SERVER_URL/api/v1/auth/login")"
expect_eq "the error has a code" bad_json "$(body | jq -r .error.code)"
expect_eq "an unknown route is a JSON 404" not_found "$(api "$SERVER_URL/api/v1/nope" >/dev/null; body | jq -r .error.code)"

# --- a slow client is cut by the header timeout (10 s)
start=$(date +%s)
(printf 'GET /api/v1/health HTTP/1.1\r\nHost: x\r\n'; sleep 31.7) | openssl s_client -quiet -connect "127.0.0.1:$SERVER_PORT" >/dev/null 2>&1 &
client=$!
for _ in $(seq 1 125); do kill -0 "$client" 2>/dev/null || break; sleep 0.2; done
elapsed=$(( $(date +%s) - start ))
kill "$client" 2>/dev/null || true
pkill -f 'sleep 31.7' || true
if [ "$elapsed" -ge 9 ] && [ "$elapsed" -le 20 ]; then pass "a slow client is cut after the header timeout (${elapsed}s)"; else fail "slow client cut after ${elapsed}s"; fi

expect_eq "the server still serves after all of this" 200 "$(api "$SERVER_URL/api/v1/health")"
kill -TERM "$SERVER_PID"
for _ in $(seq 1 50); do kill -0 "$SERVER_PID" 2>/dev/null || break; sleep 0.1; done
if kill -0 "$SERVER_PID" 2>/dev/null; then fail "SIGTERM stops the server within 5 s"; else wait "$SERVER_PID" && pass "SIGTERM stops the server cleanly" || fail "the server exited non-zero on SIGTERM"; fi
SERVER_PID=""
finish
