#!/usr/bin/env bash
# Issue 11.2 with the real binary: one anonymous client holding 1,023 idle kept-alive TLS
# connections (one /api/v1/health each) must not lock anyone out. The server starts with a soft
# open-file limit of 1024, as a unit without LimitNOFILE would: it raises it to the hard limit,
# caps the connections of one address, and closes that address's oldest idle connections to admit
# new ones, so an agent push and a user login succeed while the attack holds.
. "$(dirname "$0")/server_lib.sh"
ATTACK="$(dirname "$0")/attack.py"
FIXTURE="${PGA_SOURCE_DIR:-$(dirname "$0")/../..}/tests/fixtures/batches/valid.json"
ATTACKER=""
trap 'touch "$WORK/stop"; kill "$ATTACKER" 2>/dev/null || true; stop_server; rm -rf "$WORK"' EXIT

SERVER_NOFILE=1024 start_server pga_hardening_connections
expect_eq "the server raised its open-file limit to the hard limit" "$(ulimit -Hn)" \
  "$(awk '/^Max open files/ {print $4}' "/proc/$SERVER_PID/limits")"
COLLECTOR=$(enrol_collector agent)
add_user alice admin 'correct horse battery'
NOW=$(date -u +%Y-%m-%dT%H:%M:%S.%3NZ)
jq --arg c "$COLLECTOR" --arg now "$NOW" '.collector_id = $c | .sent_at = $now | .samples[].at = $now' "$FIXTURE" |
  gzip -c >"$WORK/batch.gz"

/usr/bin/python3 "$ATTACK" idle "$SERVER_PORT" "$CA" 1023 "$WORK/ready" "$WORK/stop" "$WORK/report" &
ATTACKER=$!
for _ in $(seq 1 600); do [ -f "$WORK/ready" ] && break; kill -0 "$ATTACKER" 2>/dev/null || break; sleep 0.2; done
echo "attacker: $(cat "$WORK/ready" 2>/dev/null)"
expect_eq "the attacker got its 1,023 connections answered" 1023 "$(jq -r .opened "$WORK/ready" 2>/dev/null)"

read -r push_status push_seconds <<<"$(push_as agent "$WORK/batch.gz" --max-time 10)"
echo "agent push during the attack: $push_status in ${push_seconds}s"
expect_eq "an agent push succeeds while the attacker holds its connections" 200 "$push_status"
read -r login_status login_seconds <<<"$(login_as alice 'correct horse battery')"
echo "user login during the attack: $login_status in ${login_seconds}s"
expect_eq "a user login succeeds while the attacker holds its connections" 200 "$login_status"
read -r again_status _ <<<"$(login_as alice 'correct horse battery')"
expect_eq "... and again" 200 "$again_status"

touch "$WORK/stop"
for _ in $(seq 1 100); do [ -f "$WORK/report" ] && break; sleep 0.1; done
echo "attacker at the end: $(cat "$WORK/report" 2>/dev/null)"
still_open=$(jq -r .still_open "$WORK/report" 2>/dev/null || echo 9999)
per_address=$(curl -s --cacert "$CA" "$SERVER_URL/metrics" | awk '$1 == "pganalytics_server_connections_per_address_limit" {print $2}')
if [ -n "$per_address" ] && [ "$still_open" -le "$per_address" ]; then
  pass "the attacker keeps at most the per-address cap open ($still_open <= $per_address)"
else fail "the attacker kept $still_open connections (cap ${per_address:-unknown})"; fi
evicted=$(curl -s --cacert "$CA" "$SERVER_URL/metrics" | awk '$1 == "pganalytics_server_connections_evicted_total" {print $2}')
if [ "${evicted:-0}" -gt 0 ]; then pass "idle connections were reclaimed ($evicted)"; else fail "no idle connection was reclaimed"; fi
expect_eq "the server still serves" 200 "$(curl -s --cacert "$CA" -o /dev/null -w '%{http_code}' "$SERVER_URL/api/v1/health")"
if grep -q 'accepting a connection failed' "$WORK/server.log"; then fail "accept never ran out of file descriptors"; else pass "accept never ran out of file descriptors"; fi
finish
