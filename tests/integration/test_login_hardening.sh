#!/usr/bin/env bash
# Password guessing (issue 11.1) and logins starving ingest (11.4), as an attacker would try:
# a user name with a NUL suffix; 40 parallel wrong guesses for one name (at most the name's
# budget is checked); a spray of one password across names (the address budget, then the global
# one, stop it); budgets shared by two server replicas; the same answer and a similar time for an
# unknown user and a wrong password; and a 16-connection sign-in flood that must not slow an
# agent's pushes (the figures are printed).
. "$(dirname "$0")/auth_lib.sh"
start_server pga_login_hardening
add_user admin admin
add_user alice user
checks() { curl -s --cacert "$CA" "$SERVER_URL/metrics" | awk '/^pganalytics_server_password_checks_total\{outcome="checked"\}/ {print $2}'; }
reset_budgets() { q "DELETE FROM pganalytics.login_attempts" >/dev/null; }
login_body() { jq -nc --arg u "$1" --arg p "$2" '{username:$u,password:$p}'; }

# --- a NUL suffix: refused with the field named, never signed in as "admin"
expect_eq "a NUL-suffixed name is refused" 400 \
  "$(call POST /api/v1/auth/login --data "{\"username\":\"admin\\u0000x\",\"password\":\"$(password_of admin)\"}")"
expect_eq "naming the field" '"username" contains a NUL character' "$(field .error.message)"
expect_eq "a NUL in the password is refused too" 400 \
  "$(call POST /api/v1/auth/login --data '{"username":"admin","password":"admin\u0000"}')"
expect_eq "no session was opened" 0 "$(q "SELECT count(*) FROM pganalytics.sessions")"

# --- 40 parallel wrong guesses for one name: at most its budget (5) is checked
before=$(checks)
for i in $(seq 1 40); do printf 'url = "%s/api/v1/auth/login"\noutput = "/dev/null"\n' "$SERVER_URL"; done >"$WORK/guesses.curl"
curl -s --parallel --parallel-max 40 --parallel-immediate --cacert "$CA" -X POST --data "$(login_body alice 'guess number one')" \
  -w '%{http_code}\n' -K "$WORK/guesses.curl" >"$WORK/guesses.codes" 2>/dev/null || true
checked=$(( $(checks) - before ))
expect_eq "all 40 guesses were answered" 40 "$(wc -l <"$WORK/guesses.codes")"
expect_eq "5 were checked and refused" 5 "$(grep -c '^401$' "$WORK/guesses.codes")"
expect_eq "35 were throttled before hashing" 35 "$(grep -c '^429$' "$WORK/guesses.codes")"
expect_eq "the server hashed 5 passwords, not 40" 5 "$checked"
expect_eq "even the right password waits now" 429 "$(call POST /api/v1/auth/login --data "$(login_body alice "$(password_of alice)")")"
expect_eq "with Retry-After" true "$(curl -s -D - -o /dev/null --cacert "$CA" -X POST --data "$(login_body alice x)" \
  "$SERVER_URL/api/v1/auth/login" | grep -qi '^retry-after: [0-9]' && echo true || echo false)"

# spray FILE: one password tried on 40 names, one after the other; the statuses go to FILE.
spray() {
  for i in $(seq 1 40); do
    call POST /api/v1/auth/login --data "$(login_body "sprayed$i" 'Summer2026!Summer')"
    echo
  done >"$1"
}
# expect_spray FILE CHECKED WHY: CHECKED attempts of the 40 reached the password check (401 and as
# many hashes since $before), the others were throttled before it (429).
expect_spray() {
  expect_eq "$3: $2 attempts were checked" "$2" "$(grep -c '^401$' "$1")"
  expect_eq "$3: the other $((40 - $2)) were throttled" $((40 - $2)) "$(grep -c '^429$' "$1")"
  expect_eq "$3: $2 hashes" "$2" "$(( $(checks) - before ))"
}

# --- a spray of one password across 40 names from one address: the address budget (30)
reset_budgets
before=$(checks)
spray "$WORK/spray.codes"
expect_spray "$WORK/spray.codes" 30 "the address budget"
expect_eq "spent budgets are rows of the database, shared by replicas" t \
  "$(q "SELECT attempts > 30 FROM pganalytics.login_attempts WHERE scope = 'address' AND key = '127.0.0.1'")"

# --- from many addresses the global budget holds (addresses given a wide budget here)
stop_server
cat >>"$WORK/server.toml" <<TOML
[auth]
login_attempts_per_address = 100000
login_attempts_global = 25
TOML
restart_server
reset_budgets
before=$(checks)
spray "$WORK/global.codes"
expect_spray "$WORK/global.codes" 25 "the global budget"
expect_eq "once it is spent, names tried add no rows" 25 \
  "$(q "SELECT count(*) FROM pganalytics.login_attempts WHERE scope = 'name' AND key LIKE 'sprayed%'")"

# --- two replicas share the budgets: 20 guesses at each, 5 checked in all
reset_budgets
mkdir -p "$WORK/replica"
cp -a "$WORK/server/." "$WORK/replica/"
port2=$(free_port)
sed -e "s|127.0.0.1:$SERVER_PORT|127.0.0.1:$port2|" -e "s|$WORK/server\"|$WORK/replica\"|" "$WORK/server.toml" >"$WORK/replica.toml"
"$PGA_BIN" server --config "$WORK/replica.toml" >"$WORK/replica.log" 2>&1 &
REPLICA_PID=$!
trap 'kill "$REPLICA_PID" 2>/dev/null || true; stop_server; rm -rf "$WORK"' EXIT
for _ in $(seq 1 100); do curl -sf --cacert "$CA" "https://127.0.0.1:$port2/api/v1/health" >/dev/null 2>&1 && break; sleep 0.1; done
for i in $(seq 1 20); do printf 'url = "%s/api/v1/auth/login"\noutput = "/dev/null"\n' "$SERVER_URL" "https://127.0.0.1:$port2"; done >"$WORK/both.curl"
curl -s --parallel --parallel-max 40 --parallel-immediate --cacert "$CA" -X POST --data "$(login_body alice 'guess number two')" \
  -w '%{http_code}\n' -K "$WORK/both.curl" >"$WORK/both.codes" 2>/dev/null || true
expect_eq "40 guesses at two replicas: 5 checked in all" 5 "$(grep -c '^401$' "$WORK/both.codes")"
kill "$REPLICA_PID"
wait "$REPLICA_PID" 2>/dev/null || true
trap 'stop_server; rm -rf "$WORK"' EXIT

# --- the same answer, and a similar time, for an unknown user and a wrong password
reset_budgets
median() { sort -n | awk '{a[NR] = $1} END {print a[int((NR + 1) / 2)]}'; }
timed() { curl -s --cacert "$CA" -o "$WORK/answer.$1" -w '%{time_total}\n' -X POST --data "$2" "$SERVER_URL/api/v1/auth/login"; }
# Taken in turns, so that a change of load on the machine touches both alike.
for i in 1 2 3 4 5; do
  timed wrong "$(login_body alice "wrong password $i")" >>"$WORK/t.wrong.all"
  timed unknown "$(login_body "nobody$i" "wrong password $i")" >>"$WORK/t.unknown.all"
done
median <"$WORK/t.wrong.all" >"$WORK/t.wrong"
median <"$WORK/t.unknown.all" >"$WORK/t.unknown"
expect_eq "the same answer for both" "$(cat "$WORK/answer.wrong")" "$(cat "$WORK/answer.unknown")"
echo "sign-in times (median of 5, in turns): wrong password $(cat "$WORK/t.wrong") s, unknown user $(cat "$WORK/t.unknown") s"
ratio=$(echo "$(cat "$WORK/t.unknown") / $(cat "$WORK/t.wrong")" | bc -l)
if (($(echo "$ratio > 0.5 && $ratio < 2" | bc -l))); then pass "similar times (ratio $ratio)"; else fail "times differ (ratio $ratio)"; fi

# --- a 16-connection sign-in flood does not slow pushes
reset_budgets
enrol_collector pusher >/dev/null
seq_no=0
# push_times N: N pushes one after the other; prints each one's request time (after TLS) in ms.
push_times() {
  for _ in $(seq 1 "$1"); do
    seq_no=$((seq_no + 1))
    local now
    now=$(date -u +%Y-%m-%dT%H:%M:%S.%3NZ)
    jq --arg c "$(jq -r .collector_id "$WORK/c-pusher/state/credentials.json")" --argjson seq "$seq_no" --arg now "$now" \
      '.collector_id = $c | .seq = $seq | .sent_at = $now | .samples[].at = $now' \
      "${PGA_SOURCE_DIR:-$(dirname "$0")/../..}/tests/fixtures/batches/valid.json" | gzip -c >"$WORK/push.gz"
    curl -s --cacert "$CA" --cert "$WORK/c-pusher/state/agent.crt" --key "$WORK/c-pusher/state/agent.key" \
      -H "Authorization: Bearer $(agent_token pusher)" -H 'Content-Encoding: gzip' -H 'Content-Type: application/json' \
      --data-binary @"$WORK/push.gz" -o /dev/null -w '%{http_code} %{time_total} %{time_appconnect}\n' \
      "$SERVER_URL/api/v1/metrics/push" | awk '$1 == 200 {printf "%.1f\n", ($2 - $3) * 1000}'
  done
}
push_times 3 >/dev/null  # warm-up: connections of the pool, partitions
push_times 20 >"$WORK/push.idle"
for i in $(seq 1 16); do add_user "flood$i" viewer; done
flooders=()
for i in $(seq 1 16); do
  for _ in $(seq 1 400); do printf 'url = "%s/api/v1/auth/login"\noutput = "/dev/null"\n' "$SERVER_URL"; done >"$WORK/flood$i.curl"
  curl -s --parallel --parallel-max 1 --cacert "$CA" -X POST --data "$(login_body "flood$i" "$(password_of "flood$i")")" \
    -K "$WORK/flood$i.curl" >/dev/null 2>&1 &
  flooders+=($!)
done
flood_sessions() { q "SELECT count(*) FROM pganalytics.sessions s JOIN pganalytics.users u ON u.id = s.user_id WHERE u.username LIKE 'flood%'"; }
busy_checks() { curl -s --cacert "$CA" "$SERVER_URL/metrics" | awk '/^pganalytics_server_password_checks_total\{outcome="refused_busy"\}/ {print $2}'; }
busy_before=$(busy_checks)
for _ in $(seq 1 200); do [ "$(flood_sessions)" -ge 16 ] && break; sleep 0.1; done
sessions_before=$(flood_sessions)
push_times 20 >"$WORK/push.flood"
signed_in=$(( $(flood_sessions) - sessions_before ))
busy=$(( $(busy_checks) - busy_before ))
kill "${flooders[@]}" 2>/dev/null || true
wait "${flooders[@]}" 2>/dev/null || true
idle=$(median <"$WORK/push.idle")
flood=$(median <"$WORK/push.flood")
worst=$(sort -n "$WORK/push.flood" | tail -1)
echo "push latency: idle median ${idle} ms; during the sign-in flood median ${flood} ms, max ${worst} ms" \
  "($signed_in sign-ins succeeded and $busy were refused as too many at once meanwhile)"
expect_eq "every push during the flood was stored" 20 "$(wc -l <"$WORK/push.flood")"
if [ "$signed_in" -ge 16 ]; then pass "the flood kept signing in ($signed_in)"; else fail "the flood signed in only $signed_in times"; fi
if (($(echo "$flood <= 2.5 * $idle + 30" | bc -l))); then
  pass "pushes are not slowed by the flood (median $flood ms against $idle ms idle)"
else
  fail "pushes slowed by the flood: median $flood ms against $idle ms idle"
fi
finish
