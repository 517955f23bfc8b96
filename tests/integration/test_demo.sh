#!/usr/bin/env bash
# `pganalytics demo` as the README runs it: a managed PostgreSQL, the server and an agent in one
# process; the printed login works, batches arrive, and Ctrl-C stops everything without a
# warning (the agent delivers its last batch before the server stops). Then in the same
# directory again, after a demo killed with -9: the PostgreSQL it left running is stopped and
# replaced, and the new printed login works.
. "$(dirname "$0")/server_lib.sh"
. "$(dirname "$0")/cluster_lib.sh"
chmod 755 "$WORK"
demo=""
# Whatever happens, no demo and no PostgreSQL of it outlive the test.
trap 'kill -KILL $demo 2>/dev/null || true
  as_postgres "$PGA_TEST_PG_BIN/pg_ctl" -D "$WORK/demo/postgresql/data" -m immediate -w stop >/dev/null 2>&1 || true
  rm -rf "$WORK"' EXIT
# start_demo LOG: a demo in $WORK/demo writing LOG.out and LOG.err, until it prints its login;
# sets demo (its PID), port and token (the printed admin login, used).
start_demo() {
  port=$(free_port)
  "$PGA_BIN" demo --dir "$WORK/demo" --listen "127.0.0.1:$port" --interval 1s >"$1.out" 2>"$1.err" &
  demo=$!
  for _ in $(seq 1 300); do grep -q "Press Ctrl-C" "$1.out" && break; kill -0 "$demo" || break; sleep 0.1; done
  password=$(awk '/login:/ {print $4}' "$1.out")
  token=$(curl -s --cacert "$ca" --data "{\"username\":\"admin\",\"password\":\"$password\"}" \
    "https://127.0.0.1:$port/api/v1/auth/login" | jq -r .access_token)
}
ca="$WORK/demo/server/ca.crt"
start_demo "$WORK/demo"
expect_contains "the demo prints its URL" "https://127.0.0.1:$port" "$(cat "$WORK/demo.out")"
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

# A demo killed with -9 leaves its PostgreSQL running; the next demo in the directory stops it.
start_demo "$WORK/killed"
if [ -n "$token" ] && [ "$token" != null ]; then pass "a second demo in the same directory prints a login that works"
else fail "no login on the second run: $(tail -3 "$WORK/killed.err")"; fi
kill -KILL "$demo"; wait "$demo" 2>/dev/null || true
pgrep -f "postgres -D $WORK/demo" >/dev/null || fail "the killed demo's PostgreSQL should still be running"
start_demo "$WORK/again"
expect_contains "the next demo says it stopped the PostgreSQL left running" "left running under $WORK/demo" \
  "$(cat "$WORK/again.err")"
if [ -n "$token" ] && [ "$token" != null ]; then pass "the demo comes up again in the same directory and its new printed login works"
else fail "no login after the restart: $(tail -3 "$WORK/again.err")"; fi
kill -INT "$demo"
for _ in $(seq 1 150); do kill -0 "$demo" 2>/dev/null || break; sleep 0.1; done
kill -KILL "$demo" 2>/dev/null || true
if pgrep -f "postgres -D $WORK/demo" >/dev/null; then fail "PostgreSQL stopped after the second demo"; else pass "PostgreSQL stopped after the second demo"; fi
finish
