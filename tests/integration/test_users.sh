#!/usr/bin/env bash
# User management through the API (CONTRACT §10, exact bodies) and the CLI: create, list,
# change role, disable, reset password, delete; the password policy; never the last admin;
# every user's own password, sessions and API tokens. Disabling a user or changing their role
# takes effect on their very next request, for access tokens and API tokens alike.
. "$(dirname "$0")/auth_lib.sh"
start_server pga_users
add_user root admin
ADMIN=$(sign_in root)
users() { as "$ADMIN" "$@"; }

# --- create, with the policy
new_user() { jq -nc --arg u "$1" --arg r "$2" --arg p "$3" '{username:$u,role:$r,password:$p}'; }
expect_eq "an admin creates a user" 201 "$(users POST /api/v1/users --data "$(new_user carol user 'carol has a long password')")"
CAROL=$(field .id)
expect_eq "the answer describes the user, without any hash" "carol/user/false/[]" \
  "$(field -r '"\(.username)/\(.role)/\(.disabled)/\(.server_ids)"')"
expect_eq "no password hash in the answer" false "$(field 'has("password_hash")')"
expect_eq "a short password is refused, named" 400 "$(users POST /api/v1/users --data "$(new_user dave user 'short')")"
expect_eq "the refusal names the field" '"password" the password needs at least 12 characters' "$(field .error.message)"
expect_eq "a breached password is refused" 400 "$(users POST /api/v1/users --data "$(new_user dave user 'Password1234')")"
expect_contains "the refusal says why" "breaches" "$(field .error.message)"
expect_eq "the user name as password is refused" 400 "$(users POST /api/v1/users --data "$(new_user dave_the_great user 'DAVE_THE_GREAT')")"
expect_eq "an unknown role is refused, named" 400 "$(users POST /api/v1/users --data "$(new_user dave root 'dave has a long password')")"
expect_eq "the role refusal names the field" '"role" must be admin, user or viewer' "$(field .error.message)"
expect_eq "a control character in the name is refused" 400 \
  "$(users POST /api/v1/users --data '{"username":"da\nve","role":"user","password":"dave has a long password"}')"
expect_eq "a NUL in the name is refused, named" 400 \
  "$(users POST /api/v1/users --data '{"username":"root\u0000x","role":"admin","password":"dave has a long password"}')"
expect_eq "the NUL refusal names the field" '"username" contains a NUL character' "$(field .error.message)"
expect_eq "a taken name is refused" 409 "$(users POST /api/v1/users --data "$(new_user carol viewer 'carol has a long password')")"
expect_eq "nothing half-stored by the refusals" 2 "$(q "SELECT count(*) FROM pganalytics.users")"
expect_eq "the list shows both users" "carol,root" "$(users GET /api/v1/users >/dev/null; field -r '[.[].username] | join(",")')"

# --- a role change applies at the next request, with the same token
CAROL_TOKEN=$(sign_in carol 'carol has a long password')
expect_eq "carol (user) cannot list users" 403 "$(as "$CAROL_TOKEN" GET /api/v1/users)"
expect_eq "an admin makes carol admin" 200 "$(users PATCH "/api/v1/users/$CAROL" --data '{"role":"admin"}')"
expect_eq "the answer shows the new role" admin "$(field .role)"
expect_eq "carol's next request, same token, is an admin's" 200 "$(as "$CAROL_TOKEN" GET /api/v1/users)"
expect_eq "GET /me says admin" admin "$(as "$CAROL_TOKEN" GET /api/v1/me >/dev/null; field .role)"
CAROL_API=$(new_api_token "$CAROL_TOKEN" carol-script admin)
expect_eq "carol's admin API token lists users" 200 "$(as "$CAROL_API" GET /api/v1/users)"
expect_eq "an admin makes carol viewer" 200 "$(users PATCH "/api/v1/users/$CAROL" --data '{"role":"viewer"}')"
expect_eq "her API token now acts as a viewer (the lower of token and owner)" 403 "$(as "$CAROL_API" GET /api/v1/users)"
expect_eq "GET /me through the token says viewer, as the account" "viewer/viewer/api_token" \
  "$(as "$CAROL_API" GET /api/v1/me >/dev/null; field -r '"\(.role)/\(.account_role)/\(.auth)"')"
expect_eq "carol's session cannot list users any more" 403 "$(as "$CAROL_TOKEN" GET /api/v1/users)"

# --- disabling stops sessions and API tokens at once
expect_eq "an admin disables carol" 200 "$(users PATCH "/api/v1/users/$CAROL" --data '{"disabled":true}')"
expect_eq "her access token is refused at the next request" 401 "$(as "$CAROL_TOKEN" GET /api/v1/me)"
expect_eq "as a disabled user" user_disabled "$(field .error.code)"
expect_eq "her API token is refused too" 401 "$(as "$CAROL_API" GET /api/v1/me)"
expect_eq "her refresh token no longer works" 401 "$(call POST /api/v1/auth/refresh --data "{\"refresh_token\":\"$(cat "$WORK/refresh.carol")\"}")"
expect_eq "she cannot sign in" 401 "$(call POST /api/v1/auth/login --data '{"username":"carol","password":"carol has a long password"}')"
expect_eq "her sessions were revoked" 0 \
  "$(q "SELECT count(*) FROM pganalytics.sessions WHERE user_id = $CAROL AND revoked_at IS NULL")"
expect_eq "an admin enables carol again" 200 "$(users PATCH "/api/v1/users/$CAROL" --data '{"disabled":false}')"
expect_eq "an admin resets her password" 200 "$(users PATCH "/api/v1/users/$CAROL" --data '{"password":"carol got a new password"}')"
expect_eq "the old password is refused" 401 "$(call POST /api/v1/auth/login --data '{"username":"carol","password":"carol has a long password"}')"
expect_eq "the new one works" 200 "$(call POST /api/v1/auth/login --data '{"username":"carol","password":"carol got a new password"}')"
expect_eq "a PATCH with nothing to change is refused" 400 "$(users PATCH "/api/v1/users/$CAROL" --data '{}')"
expect_eq "a PATCH of a missing user is 404" 404 "$(users PATCH /api/v1/users/999999 --data '{"role":"user"}')"

# --- the last admin stays
ROOT=$(user_id root)
expect_eq "the last admin cannot be demoted" 409 "$(users PATCH "/api/v1/users/$ROOT" --data '{"role":"user"}')"
expect_eq "with a reason" last_admin "$(field .error.code)"
expect_eq "nor disabled" 409 "$(users PATCH "/api/v1/users/$ROOT" --data '{"disabled":true}')"
expect_eq "nor deleted" 409 "$(users DELETE "/api/v1/users/$ROOT")"
expect_eq "root is still admin" admin "$(q "SELECT role FROM pganalytics.users WHERE id = $ROOT")"

# --- one's own password and sessions
SECOND=$(sign_in root)
expect_eq "root lists two sessions" 2 "$(as "$ADMIN" GET /api/v1/me/sessions >/dev/null; field length)"
expect_eq "one of them is the caller's" 1 "$(field '[.[] | select(.current)] | length')"
OTHER_SESSION=$(field -r '.[] | select(.current | not) | .id')
expect_eq "root revokes the other session" 204 "$(as "$ADMIN" DELETE "/api/v1/me/sessions/$OTHER_SESSION")"
expect_eq "its access token is refused at once" 401 "$(as "$SECOND" GET /api/v1/me)"
expect_eq "as a revoked session" session_revoked "$(field .error.code)"
expect_eq "a session that is not one's own is 404" 404 "$(as "$ADMIN" DELETE "/api/v1/me/sessions/$OTHER_SESSION")"
THIRD=$(sign_in root)
change() { jq -nc --arg c "$1" --arg n "$2" '{current_password:$c,new_password:$n}'; }
expect_eq "a wrong current password is refused" 400 "$(as "$ADMIN" POST /api/v1/me/password --data "$(change 'not my password' 'root has a newer password')")"
expect_eq "named" '"current_password" is not your current password' "$(field .error.message)"
expect_eq "a weak new password is refused" 400 "$(as "$ADMIN" POST /api/v1/me/password --data "$(change "$(password_of root)" 'qwerty123456')")"
expect_eq "root changes the password" 200 "$(as "$ADMIN" POST /api/v1/me/password --data "$(change "$(password_of root)" 'root has a newer password')")"
expect_eq "root's other sessions end" 401 "$(as "$THIRD" GET /api/v1/me)"
expect_eq "the current one goes on" 200 "$(as "$ADMIN" GET /api/v1/me)"
expect_eq "an API token cannot change the password" 403 \
  "$(as "$(new_api_token "$ADMIN" pw-try admin)" POST /api/v1/me/password --data "$(change 'root has a newer password' 'root has the newest password')")"

# --- API tokens: shown once, stored hashed, listed with their use, revocable
expect_eq "root creates an API token" 201 "$(as "$ADMIN" POST /api/v1/api-tokens --data '{"name":"grafana","role":"viewer","ttl":"30d"}')"
GRAFANA=$(field .token)
GRAFANA_ID=$(field .id)
expect_eq "the answer has the contract's fields" "grafana/viewer/true/true" \
  "$(field -r '"\(.name)/\(.role)/\(.expires_at != null)/\(.token | startswith("pga_api_"))"')"
expect_eq "the token is not stored in clear" 0 \
  "$(q "SELECT count(*) FROM pganalytics.api_tokens WHERE position(convert_to('$GRAFANA', 'UTF8') in token_hash) > 0 OR name = '$GRAFANA'")"
expect_eq "a bad ttl is refused, named" 400 "$(as "$ADMIN" POST /api/v1/api-tokens --data '{"name":"x","ttl":"forever"}')"
expect_eq "the ttl refusal names the field" true "$(field '.error.message | startswith("\"ttl\"")')"
expect_eq "the token works" 200 "$(call GET /api/v1/servers -H "Authorization: Bearer $GRAFANA")"
as "$ADMIN" GET /api/v1/api-tokens >/dev/null
expect_eq "the list shows its last use and address, never the token" "127.0.0.1/false" \
  "$(field -r ".[] | select(.id == $GRAFANA_ID) | \"\(.last_used_addr)/\(has(\"token\"))\"")"
expect_eq "the list has a last-used time" true "$(field ".[] | select(.id == $GRAFANA_ID) | .last_used_at != null")"
add_user erin viewer
ERIN=$(sign_in erin)
expect_eq "erin sees only her own tokens" 0 "$(as "$ERIN" GET /api/v1/api-tokens >/dev/null; field length)"
expect_eq "erin cannot revoke root's token" 404 "$(as "$ERIN" DELETE "/api/v1/api-tokens/$GRAFANA_ID")"
expect_eq "root revokes it" 204 "$(as "$ADMIN" DELETE "/api/v1/api-tokens/$GRAFANA_ID")"
expect_eq "a revoked token is refused at once" 401 "$(call GET /api/v1/servers -H "Authorization: Bearer $GRAFANA")"

# --- delete
expect_eq "an admin deletes erin" 204 "$(users DELETE "/api/v1/users/$(user_id erin)")"
expect_eq "her token is refused" 401 "$(as "$ERIN" GET /api/v1/me)"

# --- the CLI
cli() { "$PGA_BIN" user "$@" --config "$WORK/server.toml"; }
run_status rc cli add frank --role viewer <<<"short"
expect_eq "the CLI refuses a weak password (exit 2)" 2 "$rc"
expect_contains "and says why" "at least 12 characters" "$OUT"
printf 'frank has a long password\n' | cli add frank --role viewer 2>/dev/null
expect_eq "the CLI creates frank" viewer "$(q "SELECT role FROM pganalytics.users WHERE username = 'frank'")"
expect_contains "user list shows him" "frank" "$(cli list)"
cli set-role frank --role user 2>/dev/null
expect_eq "set-role changes the role" user "$(q "SELECT role FROM pganalytics.users WHERE username = 'frank'")"
FRANK=$(sign_in frank 'frank has a long password')
cli disable frank 2>/dev/null
expect_eq "disable disables him" t "$(q "SELECT disabled FROM pganalytics.users WHERE username = 'frank'")"
expect_eq "his session stops at the next request" 401 "$(as "$FRANK" GET /api/v1/me)"
cli enable frank 2>/dev/null
printf 'frank has a new long password\n' | cli passwd frank 2>/dev/null
expect_eq "passwd sets the password" 200 "$(call POST /api/v1/auth/login --data '{"username":"frank","password":"frank has a new long password"}')"
run_status rc cli set-role root --role viewer
expect_eq "the CLI keeps the last admin too (exit 1)" 1 "$rc"
"$PGA_BIN" api-token create ci --user frank --role viewer --ttl 7d --config "$WORK/server.toml" >"$WORK/token.out" 2>"$WORK/token.err"
expect_eq "api-token create prints the token alone on stdout" 1 "$(grep -c '^pga_api_' "$WORK/token.out")$(wc -l <"$WORK/token.out" | sed 's/^1$//')"
expect_eq "the CLI token works as a viewer" 200 "$(call GET /api/v1/me -H "Authorization: Bearer $(cat "$WORK/token.out")")"
expect_eq "with frank's identity" "frank/viewer" "$(field -r '"\(.username)/\(.role)"')"
run_status rc "$PGA_BIN" api-token create ci2 --user frank --role admin --config "$WORK/server.toml"
expect_eq "a token above the user's role is refused (exit 2)" 2 "$rc"
expect_eq "every change is audited with its actor" \
  "cli:user.create cli:user.update user:root:user.create user:root:user.delete user:root:user.update" \
  "$(q "SELECT string_agg(DISTINCT actor || ':' || action, ' ' ORDER BY actor || ':' || action) FROM pganalytics.audit_log WHERE action LIKE 'user.%' AND action NOT IN ('user.password')")"
expect_eq "API token changes are audited" t \
  "$(q "SELECT bool_and(n > 0) FROM (SELECT count(*) AS n FROM pganalytics.audit_log WHERE action IN ('api_token.create', 'api_token.revoke') GROUP BY action HAVING true) x")"
if grep -q 'long password' "$WORK/server.log"; then fail "no password in the server log"; else pass "no password in the server log"; fi
expect_eq "no password or token in the audit log" 0 \
  "$(q "SELECT count(*) FROM pganalytics.audit_log WHERE (detail::text || target || actor) ~ '(long password|pga_api_|pga_rt_)'")"
finish
