#!/usr/bin/env bash
# Starting and stopping a real `pganalytics server` for the shell tests: its own database, data
# directory and free port on 127.0.0.1, stopped by PID when the test exits.
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

SERVER_PID=""
stop_server() {
  if [ -n "$SERVER_PID" ] && kill -0 "$SERVER_PID" 2>/dev/null; then
    kill -TERM "$SERVER_PID" 2>/dev/null || true
    for _ in $(seq 1 100); do kill -0 "$SERVER_PID" 2>/dev/null || break; sleep 0.1; done
    kill -KILL "$SERVER_PID" 2>/dev/null || true
  fi
  SERVER_PID=""
}
trap 'stop_server; rm -rf "$WORK"' EXIT

free_port() {
  local port
  while :; do
    port=$((20000 + RANDOM % 40000))
    (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null || { echo "$port"; return; }
  done
}

# launch_server: the server in the background on $WORK/server.toml, its output appended to
# $WORK/server.log; under `ulimit -Sn $SERVER_NOFILE` when that is set. Sets SERVER_PID.
launch_server() {
  if [ -n "${SERVER_NOFILE:-}" ]; then
    bash -c 'ulimit -Sn "$1" && exec "$2" server --config "$3"' _ "$SERVER_NOFILE" "$PGA_BIN" "$WORK/server.toml" \
      >>"$WORK/server.log" 2>&1 &
  else
    "$PGA_BIN" server --config "$WORK/server.toml" >>"$WORK/server.log" 2>&1 &
  fi
  SERVER_PID=$!
}

# start_server DATABASE: a fresh DATABASE on the fixture, then start_server_on its URL.
start_server() { start_server_on "$(fresh_database "$1")"; }

# start_server_on URL: writes $WORK/server.toml storing into URL (then $SERVER_TOML_EXTRA, e.g.
# a [limits] table) and starts the server; sets SERVER_URL, SERVER_PORT, DATABASE_URL, CA. A port
# another test grabbed meanwhile is retried.
start_server_on() {
  local url=$1 port
  mkdir -p "$WORK/server"
  for _ in 1 2 3 4 5; do
    port=$(free_port)
    cat >"$WORK/server.toml" <<TOML
[server]
listen = "127.0.0.1:$port"
data_dir = "$WORK/server"
hostnames = ["localhost", "127.0.0.1"]
[database]
url = "$url"
TOML
    printf '%s\n' "${SERVER_TOML_EXTRA:-}" >>"$WORK/server.toml"
    : >"$WORK/server.log"
    launch_server
    SERVER_URL="https://127.0.0.1:$port"
    SERVER_PORT=$port
    DATABASE_URL=$url
    CA="$WORK/server/ca.crt"
    for _ in $(seq 1 100); do
      if [ -f "$CA" ] && curl -sf --cacert "$CA" "$SERVER_URL/api/v1/health" >/dev/null 2>&1; then return 0; fi
      kill -0 "$SERVER_PID" 2>/dev/null || break
      sleep 0.1
    done
    grep -q "Address already in use" "$WORK/server.log" || break
  done
  cat "$WORK/server.log" >&2
  fail "the server did not start"
  finish
}

# restart_server: starts the server again with the same server.toml and waits for its health.
restart_server() {
  launch_server
  for _ in $(seq 1 100); do
    curl -sf --cacert "$CA" "$SERVER_URL/api/v1/health" >/dev/null 2>&1 && return 0
    sleep 0.1
  done
  fail "the server did not come back: $(tail -5 "$WORK/server.log")"
}

# enrol_agent [AGENT_LINE...] <<TOML: writes $WORK/agent.toml for an agent at a 1 s interval
# pushing to the running server — AGENT_LINEs go in its [agent] table, stdin (the [[instance]]
# blocks) follows — and registers it. Sets AGENT_STATE and COLLECTOR.
enrol_agent() {
  AGENT_STATE="$WORK/agent-state"
  {
    printf '[agent]\nstate_dir = "%s"\n' "$AGENT_STATE"
    printf '%s\n' "$@"
    printf '[server]\nurl = "%s"\n[collect]\ninterval = "1s"\n' "$SERVER_URL"
    cat
  } >"$WORK/agent.toml"
  "$PGA_BIN" register --server "$SERVER_URL" --token "$("$PGA_BIN" token create --config "$WORK/server.toml" 2>/dev/null)" \
    --ca-file "$CA" --config "$WORK/agent.toml" >/dev/null
  COLLECTOR=$(jq -r .collector_id "$AGENT_STATE/credentials.json")
}

# stored_batches: how many batches of the enrolled agent ($COLLECTOR) the server holds; 0 while
# the storage cannot be read.
stored_batches() {
  sql "$DATABASE_URL" "SELECT count(*) FROM pganalytics.ingested_batches WHERE collector_id = '$COLLECTOR'" 2>/dev/null || echo 0
}
wait_for_batches() { # wait_for_batches N: until at least N batches are stored (at most 60 s)
  for _ in $(seq 1 120); do [ "$(stored_batches)" -ge "$1" ] && return 0; sleep 0.5; done
  return 1
}

# start_agent [LOG]: runs the enrolled agent in the background, its output appended to
# $WORK/LOG (agent.log by default); sets AGENT_PID.
start_agent() { "$PGA_BIN" agent --config "$WORK/agent.toml" >>"$WORK/${1:-agent.log}" 2>&1 & AGENT_PID=$!; }

# enrol_collector NAME: registers a collector (no agent runs) with its state in $WORK/NAME; prints
# its collector id.
enrol_collector() {
  printf '[agent]\nstate_dir = "%s"\n[server]\nurl = "%s"\n' "$WORK/$1" "$SERVER_URL" >"$WORK/$1.toml"
  "$PGA_BIN" register --server "$SERVER_URL" --token "$("$PGA_BIN" token create --config "$WORK/server.toml" 2>/dev/null)" \
    --name "$1" --ca-file "$CA" --config "$WORK/$1.toml" >/dev/null
  jq -r .collector_id "$WORK/$1/credentials.json"
}

# push_as NAME FILE [CURL-ARGS]: posts the gzipped batch FILE as collector NAME (enrol_collector);
# prints "STATUS SECONDS", the answer in ${BODY:-$WORK/body}.
push_as() {
  local state="$WORK/$1" file=$2
  shift 2
  curl -s --max-time 60 --cacert "$CA" --cert "$state/agent.crt" --key "$state/agent.key" \
    -H "Authorization: Bearer $(jq -r .access_token "$state/credentials.json")" -H 'Content-Encoding: gzip' \
    -o "${BODY:-$WORK/body}" -w '%{http_code} %{time_total}' --data-binary @"$file" "$@" \
    "$SERVER_URL/api/v1/metrics/push" || true
}

# add_user NAME ROLE PASSWORD, then login NAME PASSWORD: prints "STATUS SECONDS", the answer in
# ${BODY:-$WORK/body}.
add_user() { printf '%s\n' "$3" | "$PGA_BIN" user add "$1" --role "$2" --config "$WORK/server.toml" 2>/dev/null; }
login_as() {
  curl -s --max-time 30 --cacert "$CA" -o "${BODY:-$WORK/body}" -w '%{http_code} %{time_total}' \
    --data "{\"username\":\"$1\",\"password\":\"$2\"}" "$SERVER_URL/api/v1/auth/login" || true
}
