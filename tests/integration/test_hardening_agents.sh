#!/usr/bin/env bash
# Issue 11.8 with the real binary: one enrolled agent, hostile, cannot degrade the service. Its
# 100,000 fake instance names, 500,000 database names and 48 MiB text cell are refused with 400
# naming the limit (and nothing of them stored); the inventory it can grow stays within the
# per-collector limits, so GET /api/v1/servers stays fast; and six concurrent 1e6-value batches
# of its own do not hold another agent's push for long: the ingest queue takes collectors in
# turn and gives one collector one writer at a time.
. "$(dirname "$0")/server_lib.sh"
ATTACK="$(dirname "$0")/attack.py"
FIXTURE="${PGA_SOURCE_DIR:-$(dirname "$0")/../..}/tests/fixtures/batches/valid.json"
start_server pga_hardening_agents
q() { sql "$DATABASE_URL" "$1"; }
attack() { /usr/bin/python3 "$ATTACK" "$@"; }
answer() { jq -r "$1" "$WORK/body" 2>/dev/null; }
HOSTILE=$(enrol_collector hostile)
HONEST=$(enrol_collector honest)
SERVER_ID=$(q "SELECT server_id FROM pganalytics.collectors WHERE id = '$HOSTILE'")
add_user alice admin 'correct horse battery'
login_as alice 'correct horse battery' >/dev/null
USER_TOKEN=$(answer .access_token)
NOW=$(date -u +%Y-%m-%dT%H:%M:%S.%3NZ)
instances() { q "SELECT count(*) FROM pganalytics.postgresql_instances WHERE server_id = $SERVER_ID"; }
databases() {
  q "SELECT count(*) FROM pganalytics.databases d JOIN pganalytics.postgresql_instances i ON i.id = d.instance_id
     WHERE i.server_id = $SERVER_ID"
}
# refused WHAT FILE CODE NEEDLE: the hostile push of FILE answers 400 CODE naming NEEDLE.
refused() {
  read -r status seconds <<<"$(push_as hostile "$2")"
  echo "$1: $status in ${seconds}s: $(answer .error.message)"
  expect_eq "$1 is refused" "400 $3" "$status $(answer .error.code)"
  expect_contains "... naming the limit" "$4" "$(answer .error.message)"
}

# --- 100,000 fake instance names, in ten batches of 10,000 samples
for seq in $(seq 1 10); do
  attack instances "$HOSTILE" "$NOW" 10000 "$WORK/instances-$seq.gz" "$seq"
  read -r status _ <<<"$(push_as hostile "$WORK/instances-$seq.gz")"
  echo "$status $(answer .error.code)" >>"$WORK/instances.answers"
done
expect_eq "ten batches of 10,000 new instances are all refused" "10 400 limit_exceeded" \
  "$(sort "$WORK/instances.answers" | uniq -c | tr -s ' ' | sed 's/^ //')"
expect_contains "... naming the limit" "instances" "$(answer .error.message)"
expect_eq "... and none of them is in the inventory" 0 "$(instances)"
# Within the limit per batch, but growing the inventory past it batch after batch.
for seq in 11 12 13 14; do
  attack instances "$HOSTILE" "$NOW" 100 "$WORK/grow-$seq.gz" "$seq"
  read -r status _ <<<"$(push_as hostile "$WORK/grow-$seq.gz")"
  echo "$status" >>"$WORK/grow.answers"
done
expect_eq "batches of 100 new instances are stored until the collector's limit (256)" "200 200 400 400" \
  "$(tr '\n' ' ' <"$WORK/grow.answers" | sed 's/ $//')"
expect_eq "... the inventory holds 200 instances" 200 "$(instances)"
started=$(date +%s%N)
status=$(curl -s --cacert "$CA" -H "Authorization: Bearer $USER_TOKEN" -o "$WORK/servers.json" -w '%{http_code}' "$SERVER_URL/api/v1/servers")
ms=$((($(date +%s%N) - started) / 1000000))
echo "GET /api/v1/servers: $status, $(stat -c %s "$WORK/servers.json") bytes in ${ms} ms"
expect_eq "GET /api/v1/servers answers" 200 "$status"
if [ "$ms" -lt 1000 ]; then pass "GET /api/v1/servers stays fast (${ms} ms)"; else fail "GET /api/v1/servers took ${ms} ms"; fi

# --- 500,000 database names in one sample (exactly the 1e6-value limit of a batch)
attack databases "$HOSTILE" "$NOW" 500000 "$WORK/databases.gz" 20
refused "a sample with 500,000 database names" "$WORK/databases.gz" limit_exceeded databases
expect_eq "... no database entered the inventory" 0 "$(databases)"

# --- a 48 MiB text cell (1.4 MB on the wire)
attack text "$HOSTILE" "$NOW" $((48 * 1024 * 1024)) "$WORK/text.gz" 21
refused "a 48 MiB text cell" "$WORK/text.gz" limit_exceeded "text"
expect_eq "... nothing of it stored" 0 "$(q "SELECT count(*) FROM pganalytics.metrics_pg_log")"

# --- six concurrent 1e6-value batches of the hostile agent against the honest agent's pushes
honest_seq=0
honest_push() {
  honest_seq=$((honest_seq + 1))
  jq --arg c "$HONEST" --argjson seq "$honest_seq" --arg now "$NOW" \
    '.collector_id = $c | .seq = $seq | .sent_at = $now | .samples[].at = $now' "$FIXTURE" | gzip -c >"$WORK/honest.gz"
  push_as honest "$WORK/honest.gz"
}
for _ in 1 2 3 4 5; do honest_push; echo; done | awk '{print $2}' >"$WORK/honest.alone"
for seq in 31 32 33 34 35 36; do attack cells "$HOSTILE" "$NOW" 1000000 "$WORK/cells-$seq.gz" "$seq"; done
pids=()
for seq in 31 32 33 34 35 36; do BODY="$WORK/cells-$seq.body" push_as hostile "$WORK/cells-$seq.gz" >"$WORK/cells-$seq.status" & pids+=($!); done
sleep 0.5
: >"$WORK/honest.during"
while kill -0 "${pids[0]}" 2>/dev/null || kill -0 "${pids[5]}" 2>/dev/null; do
  read -r status seconds <<<"$(honest_push)"
  echo "$status $seconds" >>"$WORK/honest.during"
done
wait "${pids[@]}"
echo "hostile pushes: $(for f in "$WORK"/cells-*.status; do cat "$f"; echo; done | tr '\n' ',')"
echo "honest push alone: $(tr '\n' ' ' <"$WORK/honest.alone")s"
echo "honest push during the attack: $(awk '{print $1 ":" $2}' "$WORK/honest.during" | tr '\n' ' ')"
expect_eq "every honest push during the attack is stored" "" "$(awk '$1 != 200' "$WORK/honest.during")"
worst=$(awk '{print $2}' "$WORK/honest.during" | sort -n | tail -1)
if [ -n "$worst" ] && awk -v w="$worst" 'BEGIN {exit !(w < 2.0)}'; then pass "the honest agent's slowest push took ${worst}s (< 2 s)"
else fail "the honest agent's slowest push took ${worst:-?}s"; fi
stored=$(grep -c '^200' "$WORK"/cells-*.status | awk -F: '{s += $2} END {print s}')
if [ "$stored" -ge 1 ]; then pass "the hostile agent's big batches are still stored, in turn ($stored of 6)"; else fail "no big batch stored"; fi

if grep -qi 'internal_error\|unhandled' "$WORK/server.log"; then fail "no internal errors in the server log"; else pass "no internal errors in the server log"; fi
finish
