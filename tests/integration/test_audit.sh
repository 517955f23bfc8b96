#!/usr/bin/env bash
# The audit log: a row for each event (sign-in success and failure with the address, sign-out,
# refresh reuse, token and user changes, collector enrolment, disable, delete and settings,
# permission denials); append-only for the server's role; chained by SHA-256 so that an edit or
# a deletion in the middle made with SQL is found by GET /api/v1/audit/verify; concurrent writers
# chain correctly; paging and filters; retention removing a prefix; and an enrolment flood that
# writes a few rows with counts instead of one row per attempt (issue 11.5).
. "$(dirname "$0")/auth_lib.sh"
start_server pga_audit
add_user root admin
add_user vic viewer
ADMIN=$(sign_in root)
VIC=$(sign_in vic)
call POST /api/v1/auth/login --data '{"username":"root","password":"wrong password here"}' >/dev/null
call POST /api/v1/auth/login --data '{"username":"nobody","password":"wrong password here"}' >/dev/null
as "$VIC" GET /api/v1/users >/dev/null
C=$(enrol_collector audited)
as "$ADMIN" PUT "/api/v1/collectors/$C/config" --data '{"collectors":{"pg_log":{"enabled":false}}}' >/dev/null
as "$ADMIN" POST "/api/v1/collectors/$C/disable" >/dev/null
as "$ADMIN" POST "/api/v1/collectors/$C/enable" >/dev/null
as "$ADMIN" PATCH "/api/v1/collectors/$C" --data '{"name":"renamed"}' >/dev/null
TOKEN_ID=$(as "$ADMIN" POST /api/v1/api-tokens --data '{"name":"t1","role":"viewer"}' >/dev/null; field .id)
as "$ADMIN" DELETE "/api/v1/api-tokens/$TOKEN_ID" >/dev/null
as "$ADMIN" PATCH "/api/v1/users/$(user_id vic)" --data '{"role":"user"}' >/dev/null
REFRESH=$(cat "$WORK/refresh.vic")
call POST /api/v1/auth/refresh --data "{\"refresh_token\":\"$REFRESH\"}" >/dev/null
call POST /api/v1/auth/refresh --data "{\"refresh_token\":\"$(field .refresh_token)\"}" >/dev/null
call POST /api/v1/auth/refresh --data "{\"refresh_token\":\"$REFRESH\"}" >/dev/null
as "$ADMIN" DELETE "/api/v1/collectors/$C" >/dev/null
as "$(sign_in vic)" POST /api/v1/auth/logout >/dev/null
as "$ADMIN" POST /api/v1/auth/logout >/dev/null
ADMIN=$(sign_in root)

row() { q "SELECT actor || '|' || target || '|' || outcome || '|' || remote_addr FROM pganalytics.audit_log WHERE $1 ORDER BY id LIMIT 1"; }
expect_eq "a sign-in, with the address" "user:root|root|success|127.0.0.1" "$(row "action = 'auth.login' AND outcome = 'success'")"
expect_eq "a failed sign-in, with the name tried and the address" "anonymous|root|failure|127.0.0.1" \
  "$(row "action = 'auth.login' AND outcome = 'failure'")"
expect_eq "an unknown name's failure looks the same" "anonymous|nobody|failure|127.0.0.1" \
  "$(row "action = 'auth.login' AND target = 'nobody'")"
expect_eq "a permission denial" "user:vic|GET /api/v1/users|failure|127.0.0.1" "$(row "action = 'access.denied'")"
expect_eq "an enrolment" "enrolment-token|$C|success|127.0.0.1" "$(row "action = 'collector.register'")"
for action in collector.config collector.disable collector.enable collector.rename collector.delete; do
  expect_eq "$action" "user:root|$C|success|127.0.0.1" "$(row "action = '$action'")"
done
expect_eq "API token creation" "user:root|t1|success|127.0.0.1" "$(row "action = 'api_token.create'")"
expect_eq "API token revocation" "user:root|t1|success|127.0.0.1" "$(row "action = 'api_token.revoke'")"
expect_eq "a user change" "user:root|vic|success|127.0.0.1" "$(row "action = 'user.update'")"
expect_eq "refresh reuse" "user:$(user_id vic)|failure|127.0.0.1" "$(q "SELECT actor || '|' || outcome || '|' || remote_addr FROM pganalytics.audit_log WHERE action = 'auth.refresh_reuse'")"
expect_eq "sign-outs" 2 "$(q "SELECT count(*) FROM pganalytics.audit_log WHERE action = 'auth.logout'")"

# --- verify, and what the database refuses
verify() { as "$ADMIN" GET /api/v1/audit/verify >/dev/null; field -c '[.ok, .first_bad_id]'; }
expect_eq "the chain verifies" "[true,null]" "$(verify)"
expect_eq "every row was checked" "$(q "SELECT count(*) FROM pganalytics.audit_log")" "$(field .checked)"
expect_eq "a non-admin may not verify" 403 "$(as "$(sign_in vic)" GET /api/v1/audit/verify)"
for statement in "UPDATE pganalytics.audit_log SET actor = 'x'" "DELETE FROM pganalytics.audit_log WHERE id = 3" \
  "TRUNCATE pganalytics.audit_log"; do
  run_status rc sql "$DATABASE_URL" "$statement"
  expect_eq "refused: $statement" 1 "$rc"
  expect_contains "with the reason" "append-only" "$OUT"
done

# An edit in the middle, made bypassing the trigger (a superuser disabling triggers).
MIDDLE=$(q "SELECT id FROM pganalytics.audit_log ORDER BY id OFFSET 5 LIMIT 1")
original=$(q "SELECT actor FROM pganalytics.audit_log WHERE id = $MIDDLE")
tamper() { "$PSQL" -X -q -d "$DATABASE_URL" -c "SET session_replication_role = replica" -c "$1" >/dev/null; }
tamper "UPDATE pganalytics.audit_log SET actor = 'someone else' WHERE id = $MIDDLE"
expect_eq "an edited row is found" "[false,$MIDDLE]" "$(verify)"
tamper "UPDATE pganalytics.audit_log SET actor = '$original' WHERE id = $MIDDLE"
expect_eq "put back, the chain verifies again" "[true,null]" "$(verify)"
# Recomputing the edited row's own hash does not help: the next row chained the old one.
tamper "UPDATE pganalytics.audit_log a SET detail = '{\"forged\":true}',
          hash = pganalytics.audit_row_hash((SELECT hash FROM pganalytics.audit_log WHERE id < a.id ORDER BY id DESC LIMIT 1),
                                            (a.id, a.at, a.actor, a.action, a.target, a.outcome, a.remote_addr,
                                             '{\"forged\":true}'::jsonb, a.count, a.hash)::pganalytics.audit_log)
        WHERE id = $MIDDLE"
NEXT=$(q "SELECT id FROM pganalytics.audit_log WHERE id > $MIDDLE ORDER BY id LIMIT 1")
expect_eq "an edit with its hash recomputed is found at the next row" "[false,$NEXT]" "$(verify)"
BEFORE=$(q "SELECT id FROM pganalytics.audit_log WHERE id < $MIDDLE ORDER BY id DESC LIMIT 1")
tamper "DELETE FROM pganalytics.audit_log WHERE id = $MIDDLE"
expect_eq "a deleted row is found (the row after it no longer chains)" "[false,$NEXT]" "$(verify)"

# --- concurrent writers (as many replicas would be) chain correctly
db=$(fresh_database pga_audit_chain)
"$PGA_BIN" migrate --database-url "$db" >/dev/null 2>&1
writers=()
for writer in $(seq 1 8); do
  (for i in $(seq 1 40); do
    echo "SELECT pganalytics.audit_append('writer$writer', 'test.append', '$i', 'success', '', '{}');"
  done | "$PSQL" -X -q -d "$db" >/dev/null) &
  writers+=($!)
done
wait "${writers[@]}"
expect_eq "320 rows appended by 8 concurrent sessions" 320 "$(sql "$db" "SELECT count(*) FROM pganalytics.audit_log WHERE action = 'test.append'")"
expect_eq "and they chain" "true|320|" "$(sql "$db" "SELECT ok || '|' || checked || '|' || coalesce(first_bad_id::text, '') FROM pganalytics.verify_audit_log()")"

# --- retention: a prefix goes, the chain restarts after it, with a record
KEEP_FROM=$(sql "$db" "SELECT id FROM pganalytics.audit_log ORDER BY id OFFSET 100 LIMIT 1")
removed=$(sql "$db" "SELECT pganalytics.prune_audit_log(now() - (SELECT at FROM pganalytics.audit_log WHERE id = $KEEP_FROM))")
if [ "$removed" -ge 1 ]; then pass "retention removed $removed rows"; else fail "retention removed rows (got $removed)"; fi
expect_eq "none older than the bound is left" 0 "$(sql "$db" "SELECT count(*) FROM pganalytics.audit_log WHERE at < (SELECT at FROM pganalytics.audit_log WHERE id = $KEEP_FROM)")"
expect_eq "the anchor records where the chain restarts" "$removed" "$(sql "$db" "SELECT rows_removed FROM pganalytics.audit_chain_anchor")"
expect_eq "the pruning is itself audited" 1 "$(sql "$db" "SELECT count(*) FROM pganalytics.audit_log WHERE action = 'audit.prune'")"
expect_eq "the pruned chain verifies" t "$(sql "$db" "SELECT ok FROM pganalytics.verify_audit_log()")"
sql "$db" "SET session_replication_role = replica; DELETE FROM pganalytics.audit_log WHERE id = (SELECT min(id) FROM pganalytics.audit_log)" >/dev/null
expect_eq "removing its first row by hand is found" f "$(sql "$db" "SELECT ok FROM pganalytics.verify_audit_log()")"

# --- paging and filters
page() { as "$ADMIN" GET "/api/v1/audit?$1" >/dev/null; }
page "limit=3"
expect_eq "a page holds limit entries, newest first" 3 "$(field '.entries | length')"
expect_eq "newest first" true "$(field '.entries[0].id > .entries[2].id')"
first_page=$(field -c '[.entries[].id]')
page "limit=3&cursor=$(field -r .next_cursor)"
expect_eq "the next page continues below the first" true \
  "$(field --argjson prev "$first_page" '(.entries[0].id < ($prev | min)) and (.entries | length == 3)')"
page "action=auth.*&limit=1000"
expect_eq "an action prefix filters" true "$(field '[.entries[].action | startswith("auth.")] | all and length > 3')"
page "actor=user:vic"
expect_eq "an actor filter" true "$(field '[.entries[].actor == "user:vic"] | all and length > 0')"
page "from=$(($(date +%s) + 3600))"
expect_eq "from in the future: nothing" 0 "$(field '.entries | length')"
expect_eq "and no cursor" null "$(field .next_cursor)"
expect_eq "a bad limit is refused" 400 "$(as "$ADMIN" GET "/api/v1/audit?limit=0")"
expect_eq "a bad from is refused" 400 "$(as "$ADMIN" GET "/api/v1/audit?from=-99999999999999")"

# --- an enrolment flood writes a few rows with counts, not one row per attempt
ATTEMPTS=600
jq -nc '{name:"x",hostname:"flood",csr:"x"}' >"$WORK/flood.json"
{
  for i in $(seq 1 $ATTEMPTS); do printf 'url = "%s/api/v1/collectors/register"\noutput = "/dev/null"\n' "$SERVER_URL"; done
} >"$WORK/flood.curl"
rows_before=$(q "SELECT count(*) FROM pganalytics.audit_log WHERE action = 'collector.register' AND outcome = 'failure'")
started=$(date +%s.%N)
curl -s --parallel --parallel-max 16 --cacert "$CA" -X POST -H 'Authorization: Bearer pga_enr_not-a-token' \
  --data @"$WORK/flood.json" -w '%{http_code}\n' -K "$WORK/flood.curl" >"$WORK/flood.codes" 2>/dev/null || true
elapsed=$(echo "$(date +%s.%N) - $started" | bc)
expect_eq "every flood attempt was refused 401" "$ATTEMPTS" "$(grep -c '^401$' "$WORK/flood.codes")"
rows=$(( $(q "SELECT count(*) FROM pganalytics.audit_log WHERE action = 'collector.register' AND outcome = 'failure'") - rows_before ))
echo "enrolment flood: $ATTEMPTS attempts in ${elapsed}s wrote $rows audit rows"
if [ "$rows" -le 6 ]; then pass "the flood wrote $rows rows (at most 5 + a summary per minute)"; else fail "the flood wrote $rows rows"; fi
stop_server
counted=$(q "SELECT sum(count) FROM pganalytics.audit_log WHERE action = 'collector.register' AND outcome = 'failure' AND target IN ('', 'flood')")
expect_eq "at shutdown the summary holds the rest: every attempt is counted" "$ATTEMPTS" "$counted"
expect_eq "the summary says it aggregates" t \
  "$(q "SELECT bool_or((detail->>'aggregated')::boolean) FROM pganalytics.audit_log WHERE action = 'collector.register' AND count > 1")"
finish
