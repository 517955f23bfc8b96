#!/usr/bin/env bash
# `pganalytics demo` as the README runs it: a managed PostgreSQL, the server and an agent in one
# process; the printed login works, batches arrive, and Ctrl-C stops everything without a
# warning (the agent delivers its last batch before the server stops).
. "$(dirname "$0")/server_lib.sh"
chmod 755 "$WORK"
port=$(free_port)
"$PGA_BIN" demo --dir "$WORK/demo" --listen "127.0.0.1:$port" --interval 1s >"$WORK/demo.out" 2>"$WORK/demo.err" &
demo=$!
for _ in $(seq 1 300); do grep -q "Press Ctrl-C" "$WORK/demo.out" && break; kill -0 "$demo" || break; sleep 0.1; done
expect_contains "the demo prints its URL" "https://127.0.0.1:$port" "$(cat "$WORK/demo.out")"
password=$(awk '/login:/ {print $4}' "$WORK/demo.out")
ca="$WORK/demo/server/ca.crt"
token=$(curl -s --cacert "$ca" --data "{\"username\":\"admin\",\"password\":\"$password\"}" "https://127.0.0.1:$port/api/v1/auth/login" | jq -r .access_token)
seq=0
for _ in $(seq 1 40); do
  seq=$(curl -s --cacert "$ca" -H "Authorization: Bearer $token" "https://127.0.0.1:$port/api/v1/collectors" | jq -r '.[0].last_seq // 0')
  [ "$seq" -ge 2 ] && break
  sleep 0.5
done
if [ "$seq" -ge 2 ]; then pass "the printed admin login works and the demo agent's batches arrive"; else fail "no batches: $(tail -5 "$WORK/demo.err")"; fi
kill -INT "$demo"
for _ in $(seq 1 150); do kill -0 "$demo" 2>/dev/null || break; sleep 0.1; done
if kill -0 "$demo" 2>/dev/null; then fail "Ctrl-C stops the demo within 15 s"; kill -KILL "$demo"; else
  wait "$demo" && pass "Ctrl-C stops the demo cleanly" || fail "the demo exited non-zero"; fi
expect_eq "the demo's whole run, stop included, logs no warning or error" "" \
  "$(grep -E ' (warn|error) ' "$WORK/demo.err" || true)"
if pgrep -f "postgres -D $WORK/demo" >/dev/null; then fail "the managed PostgreSQL is stopped"; else pass "the managed PostgreSQL is stopped"; fi
finish
