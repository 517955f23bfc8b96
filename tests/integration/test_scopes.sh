#!/usr/bin/env bash
# Who sees which server: users and viewers only the servers granted to them, directly or through
# a team, in lists, by id and in series; a server outside the scope answers exactly as one that
# does not exist (404, same body); users change collector settings of their servers, viewers
# only read; an API token may be narrower than its owner; grant changes apply on the next request.
. "$(dirname "$0")/auth_lib.sh"
start_server pga_scopes
for u in root:admin alice:user bob:user vic:viewer; do add_user "${u%%:*}" "${u##*:}"; done
ADMIN=$(sign_in root)
A=$(enrol_collector alpha)
B=$(enrol_collector beta)
SA=$(server_of "$A")
SB=$(server_of "$B")
expect_eq "alpha pushes a batch" 200 "$(push_fixture alpha 1)"
expect_eq "beta pushes a batch" 200 "$(push_fixture beta 1)"
expect_eq "alice is granted alpha's server" 200 "$(grant "$ADMIN" alice "$SA")"
expect_eq "the answer lists the grant" "[$SA]" "$(field -c .server_ids)"
expect_eq "vic (viewer) is granted alpha's server" 200 "$(grant "$ADMIN" vic "$SA")"
expect_eq "an unknown server id is refused, named" 400 "$(grant "$ADMIN" bob 999999)"
expect_eq "the refusal names the field" 'bad_field:"server_ids[0]" names no server' "$(field '.error.code + ":" + .error.message')"
ALICE=$(sign_in alice)
BOB=$(sign_in bob)
VIC=$(sign_in vic)

# --- lists
expect_eq "alice lists only her server" "[$SA]" "$(as "$ALICE" GET /api/v1/servers >/dev/null; field -c '[.[].id]')"
expect_eq "alice lists only her collector" "[\"$A\"]" "$(as "$ALICE" GET /api/v1/collectors >/dev/null; field -c '[.[].id]')"
expect_eq "bob, granted nothing, lists nothing" "[]" "$(as "$BOB" GET /api/v1/servers >/dev/null; field -c '[.[].id]')"
expect_eq "the admin lists both" "[$SA,$SB]" "$(as "$ADMIN" GET /api/v1/servers >/dev/null; field -c '[.[].id] | sort')"

# --- by id and in series: 404, the same answer as for a server that does not exist
expect_eq "alice reads her server" 200 "$(as "$ALICE" GET "/api/v1/servers/$SA")"
expect_eq "alice cannot read beta's server" 404 "$(as "$ALICE" GET "/api/v1/servers/$SB")"
hidden=$(body)
as "$ALICE" GET /api/v1/servers/999999 >/dev/null
expect_eq "a hidden server answers exactly as a missing one" "$(body)" "$hidden"
series="family=pg_stats_database&column=xact_commit&from=$(($(date +%s) - 600))"
expect_eq "alice reads her server's series" 200 "$(as "$ALICE" GET "/api/v1/servers/$SA/metrics?$series")"
expect_eq "the series holds the pushed points" 1200 "$(field '[.series[] | select(.labels.datname == "app") | .points[][1]] | max')"
expect_eq "alice cannot read beta's series" 404 "$(as "$ALICE" GET "/api/v1/servers/$SB/metrics?$series")"
expect_eq "alice cannot read beta's collector" 404 "$(as "$ALICE" GET "/api/v1/collectors/$B")"

# --- users change collector settings of their servers; viewers only read
config='{"collectors":{"pg_log":{"enabled":false}}}'
expect_eq "alice changes alpha's settings" 200 "$(as "$ALICE" PUT "/api/v1/collectors/$A/config" --data "$config")"
expect_eq "alice cannot touch beta's settings (404)" 404 "$(as "$ALICE" PUT "/api/v1/collectors/$B/config" --data "$config")"
expect_eq "vic (viewer) reads alpha" 200 "$(as "$VIC" GET "/api/v1/collectors/$A")"
expect_eq "vic (viewer) cannot change alpha's settings" 403 "$(as "$VIC" PUT "/api/v1/collectors/$A/config" --data "$config")"
expect_eq "alice cannot disable a collector (admins only)" 403 "$(as "$ALICE" POST "/api/v1/collectors/$A/disable")"
expect_eq "the settings change is audited with alice as actor" 1 \
  "$(q "SELECT count(*) FROM pganalytics.audit_log WHERE action = 'collector.config' AND actor = 'user:alice' AND target = '$A'")"

# --- teams
expect_eq "an admin creates a team" 201 "$(as "$ADMIN" POST /api/v1/teams --data '{"name":"ops"}')"
TEAM=$(field .id)
expect_eq "a second team of that name is refused" 409 "$(as "$ADMIN" POST /api/v1/teams --data '{"name":"ops"}')"
expect_eq "the team gets beta's server" 200 "$(as "$ADMIN" PUT "/api/v1/teams/$TEAM/servers" --data "{\"server_ids\":[$SB]}")"
expect_eq "bob joins the team" 200 "$(as "$ADMIN" PUT "/api/v1/teams/$TEAM/members" --data "{\"user_ids\":[$(user_id bob)]}")"
expect_eq "the team lists its member and server" "[$(user_id bob)]/[$SB]" "$(field -c '"\(.user_ids)/\(.server_ids)"' | tr -d '"')"
expect_eq "an unknown member is refused, named" 400 "$(as "$ADMIN" PUT "/api/v1/teams/$TEAM/members" --data '{"user_ids":[424242]}')"
expect_eq "bob sees beta's server through the team, same token" 200 "$(as "$BOB" GET "/api/v1/servers/$SB")"
expect_eq "bob's list shows it" "[$SB]" "$(as "$BOB" GET /api/v1/servers >/dev/null; field -c '[.[].id]')"
expect_eq "bob still cannot see alpha" 404 "$(as "$BOB" GET "/api/v1/servers/$SA")"
expect_eq "bob leaves the team" 200 "$(as "$ADMIN" PUT "/api/v1/teams/$TEAM/members" --data '{"user_ids":[]}')"
expect_eq "at his next request beta is gone" 404 "$(as "$BOB" GET "/api/v1/servers/$SB")"
expect_eq "the team changes are audited (create, servers, join, leave)" 4 \
  "$(q "SELECT count(*) FROM pganalytics.audit_log WHERE action IN ('team.create', 'team.members', 'team.servers')")"

# --- API tokens narrower than their owner
NARROW=$(new_api_token "$ADMIN" narrow user "{\"server_ids\":[$SA]}")
expect_eq "an admin's user token narrowed to alpha lists alpha only" "[$SA]" \
  "$(as "$NARROW" GET /api/v1/servers >/dev/null; field -c '[.[].id]')"
expect_eq "it cannot read beta" 404 "$(as "$NARROW" GET "/api/v1/servers/$SB")"
expect_eq "an admin token cannot be narrowed" 400 "$(as "$ADMIN" POST /api/v1/api-tokens --data "{\"name\":\"x\",\"role\":\"admin\",\"server_ids\":[$SA]}")"
expect_eq "alice cannot scope a token to a server she does not see" 400 \
  "$(as "$ALICE" POST /api/v1/api-tokens --data "{\"name\":\"x\",\"server_ids\":[$SB]}")"
expect_eq "the refusal names the entry" '"server_ids[0]" is not one of your servers' "$(field .error.message)"
ALICE_TOKEN=$(new_api_token "$ALICE" script viewer)
expect_eq "alice's viewer token sees her server" 200 "$(as "$ALICE_TOKEN" GET "/api/v1/servers/$SA")"
expect_eq "alice's viewer token cannot change settings" 403 "$(as "$ALICE_TOKEN" PUT "/api/v1/collectors/$A/config" --data "$config")"
expect_eq "alice cannot mint a token above her role" 400 "$(as "$ALICE" POST /api/v1/api-tokens --data '{"name":"x","role":"admin"}')"

# --- a grant taken away applies at the next request, to sessions and tokens alike
expect_eq "alice's grants are emptied" 200 "$(grant "$ADMIN" alice)"
expect_eq "her access token no longer reads alpha" 404 "$(as "$ALICE" GET "/api/v1/servers/$SA")"
expect_eq "nor does her API token" 404 "$(as "$ALICE_TOKEN" GET "/api/v1/servers/$SA")"
finish
