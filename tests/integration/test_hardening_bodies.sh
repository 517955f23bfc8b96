#!/usr/bin/env bash
# Issue 11.3 and the Transfer-Encoding part of 11.9 with the real binary: bodies are not read,
# let alone inflated, before the route and its authentication are known. Eight anonymous clients
# send 64 MiB gzip bodies (2 MB on the wire) to /api/v1/auth/login and /api/v1/health over and
# over for a few seconds: the server's peak memory stays flat and /health stays fast. Only the
# push route takes a compressed body; an unknown Transfer-Encoding is refused and the connection
# closed, so nothing behind it runs as a second request.
. "$(dirname "$0")/server_lib.sh"
ATTACK="$(dirname "$0")/attack.py"
start_server pga_hardening_bodies
api() { curl -s --max-time 30 --cacert "$CA" -o "$WORK/body" -w '%{http_code}' "$@" || true; }
error_code() { jq -r .error.code "$WORK/body" 2>/dev/null; }
/usr/bin/python3 "$ATTACK" inflatable "$WORK/inflatable.gz"
echo "the attack body: $(stat -c %s "$WORK/inflatable.gz") bytes, 67108864 inflated"

# health_times N OUT: N sequential /health requests on one kept-alive connection, their times in
# seconds, one a line (no process start or handshake in them: the machine is shared).
health_times() { /usr/bin/python3 "$ATTACK" latency "$SERVER_PORT" "$CA" "$1" "$2"; }
median_ms() { sort -n "$1" | awk '{a[NR] = $1} END {printf "%d", a[int((NR + 1) / 2)] * 1000}'; }
max_ms() { sort -n "$1" | tail -1 | awk '{printf "%d", $1 * 1000}'; }
health_times 20 "$WORK/health.before"
cpu_ticks() { awk '{print $14 + $15}' "/proc/$SERVER_PID/stat"; }
cpu_before=$(cpu_ticks)
rss_before=$(awk '/VmRSS/ {print $2}' "/proc/$SERVER_PID/status")
hwm_before=$(awk '/VmHWM/ {print $2}' "/proc/$SERVER_PID/status")

# attacker ROUTE METHOD: sends the body again and again for 6 s.
attacker() {
  local until=$(($(date +%s) + 6))
  while [ "$(date +%s)" -lt "$until" ]; do
    curl -s --max-time 20 --cacert "$CA" -X "$2" -H 'Content-Encoding: gzip' -H 'Content-Type: application/json' \
      --data-binary @"$WORK/inflatable.gz" -o /dev/null -w '%{http_code}\n' "$SERVER_URL$1" >>"$WORK/attack.codes" || true
  done
}
pids=()
for i in 1 2 3 4; do attacker /api/v1/auth/login POST & pids+=($!); attacker /api/v1/health GET & pids+=($!); done
health_times 40 "$WORK/health.during"
wait "${pids[@]}"
rss_after=$(awk '/VmRSS/ {print $2}' "/proc/$SERVER_PID/status")
hwm_after=$(awk '/VmHWM/ {print $2}' "/proc/$SERVER_PID/status")
echo "attack answers: $(sort "$WORK/attack.codes" | uniq -c | tr -s ' ' | tr '\n' ',')"
echo "server memory: RSS $((rss_before / 1024)) -> $((rss_after / 1024)) MiB, peak $((hwm_before / 1024)) -> $((hwm_after / 1024)) MiB"
growth=$(((hwm_after - hwm_before) / 1024))
if [ "$growth" -lt 32 ]; then pass "peak memory stays flat under the attack (+$growth MiB)"; else fail "peak memory grew by $growth MiB"; fi
cpu_ms=$(( ($(cpu_ticks) - cpu_before) * 1000 / $(getconf CLK_TCK) ))
echo "server CPU during the attack: $cpu_ms ms"
if [ "$cpu_ms" -lt 2000 ]; then pass "the attack costs the server little CPU (${cpu_ms} ms in 6 s)"; else fail "the attack cost the server ${cpu_ms} ms of CPU"; fi
before_ms=$(median_ms "$WORK/health.before")
during_ms=$(median_ms "$WORK/health.during")
echo "/health median: ${before_ms} ms before, ${during_ms} ms during the attack (slowest: $(max_ms "$WORK/health.before"), $(max_ms "$WORK/health.during") ms)"
if [ "$during_ms" -le $((before_ms * 3 + 20)) ]; then pass "/health stays fast during the attack"; else fail "/health slowed from ${before_ms} to ${during_ms} ms"; fi
if grep -qv '^415$' "$WORK/attack.codes"; then fail "every attack request is refused 415"; else pass "every attack request is refused 415"; fi

# --- only the push route takes a compressed body; the others have small body limits
printf '{"username":"a","password":"b"}' | gzip -c >"$WORK/login.gz"
expect_eq "a gzip body to login is refused" 415 "$(api -H 'Content-Encoding: gzip' --data-binary @"$WORK/login.gz" "$SERVER_URL/api/v1/auth/login")"
expect_eq "... as unsupported_content_encoding" unsupported_content_encoding "$(error_code)"
expect_eq "an anonymous gzip push is refused" 401 \
  "$(api -H 'Content-Encoding: gzip' --data-binary @"$WORK/inflatable.gz" "$SERVER_URL/api/v1/metrics/push")"
head -c $((1024 * 1024)) /dev/zero | tr '\0' ' ' >"$WORK/big.json"
expect_eq "a 1 MiB body to login is over the route's limit" 413 "$(api --data-binary @"$WORK/big.json" "$SERVER_URL/api/v1/auth/login")"

# --- Transfer-Encoding: anything but chunked is refused and ends the connection
smuggle() {
  printf 'POST /api/v1/auth/login HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: %s\r\nContent-Type: application/json\r\n\r\nGET /api/v1/smuggled HTTP/1.1\r\nHost: x\r\n\r\n' "$1" |
    timeout 10 openssl s_client -quiet -connect "127.0.0.1:$SERVER_PORT" -CAfile "$CA" 2>/dev/null || true
}
answers=$(smuggle gzip)
expect_eq "an unknown Transfer-Encoding gets one answer, nothing smuggled" 1 "$(grep -o 'HTTP/1.1 [0-9][0-9][0-9]' <<<"$answers" | wc -l)"
expect_contains "... a 501" "HTTP/1.1 501" "$answers"
expect_contains "... closing the connection" "Connection: close" "$answers"
answers=$(smuggle 'gzip, chunked')
expect_eq "gzip before chunked is refused too" 1 "$(grep -o 'HTTP/1.1 [0-9][0-9][0-9]' <<<"$answers" | wc -l)"
expect_contains "... with 501" "HTTP/1.1 501" "$answers"

expect_eq "the server still serves" 200 "$(api "$SERVER_URL/api/v1/health")"
finish
