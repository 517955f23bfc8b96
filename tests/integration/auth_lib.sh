#!/usr/bin/env bash
# Helpers for the access-control tests: calling the API as someone (curl, status on stdout and
# the answer in $WORK/body), users made with the real CLI and signed in through the API, and
# collectors enrolled with the real `register`, each with its own state directory.
. "$(dirname "${BASH_SOURCE[0]}")/server_lib.sh"

# call METHOD PATH [CURL-ARGS...]: the status; the answer in $WORK/body.
call() {
  local method=$1 path=$2
  shift 2
  curl -s --cacert "$CA" -X "$method" -o "$WORK/body" -w '%{http_code}' "$@" "$SERVER_URL$path" || true
}
# as TOKEN METHOD PATH [CURL-ARGS...]: the same with Authorization: Bearer TOKEN.
as() {
  local token=$1
  shift
  local method=$1 path=$2
  shift 2
  call "$method" "$path" -H "Authorization: Bearer $token" "$@"
}
body() { cat "$WORK/body"; }
field() { jq -r "$@" "$WORK/body"; }
q() { sql "$DATABASE_URL" "$1"; }

# The password every test user gets unless told otherwise (passes the policy).
password_of() { echo "$1 has a long password"; }

# add_user NAME ROLE: creates the user with the CLI.
add_user() { password_of "$1" | "$PGA_BIN" user add "$1" --role "$2" --config "$WORK/server.toml" 2>/dev/null; }
user_id() { q "SELECT id FROM pganalytics.users WHERE username = '$1'"; }

# sign_in NAME [PASSWORD]: prints the access token; the refresh token goes to $WORK/refresh.NAME.
sign_in() {
  local password=${2:-$(password_of "$1")}
  call POST /api/v1/auth/login --data "$(jq -nc --arg u "$1" --arg p "$password" '{username:$u,password:$p}')" >/dev/null
  jq -r .refresh_token "$WORK/body" >"$WORK/refresh.$1"
  jq -r .access_token "$WORK/body"
}

# enrol_collector NAME: registers a collector named NAME with `pganalytics register`, its state in
# $WORK/c-NAME/state; prints the collector id.
enrol_collector() {
  local dir="$WORK/c-$1"
  mkdir -p "$dir"
  printf '[agent]\nstate_dir = "%s"\n[server]\nurl = "%s"\n' "$dir/state" "$SERVER_URL" >"$dir/agent.toml"
  "$PGA_BIN" register --server "$SERVER_URL" --token "$("$PGA_BIN" token create --config "$WORK/server.toml" 2>/dev/null)" \
    --name "$1" --ca-file "$CA" --config "$dir/agent.toml" >/dev/null
  jq -r .collector_id "$dir/state/credentials.json"
}
server_of() { q "SELECT server_id FROM pganalytics.collectors WHERE id = '$1'"; }
agent_token() { jq -r .access_token "$WORK/c-$1/state/credentials.json"; }

# agent_call NAME METHOD PATH [CURL-ARGS...]: as the enrolled collector NAME (certificate + token).
agent_call() {
  local name=$1 dir="$WORK/c-$1" method=$2 path=$3
  shift 3
  call "$method" "$path" --cert "$dir/state/agent.crt" --key "$dir/state/agent.key" \
    -H "Authorization: Bearer $(agent_token "$name")" "$@"
}

# grant ADMIN_TOKEN USER SERVER_ID...: replaces the servers granted to USER.
grant() {
  local token=$1 user=$2
  shift 2
  as "$token" PUT "/api/v1/users/$(user_id "$user")/servers" --data "$(printf '%s\n' "$@" | jq -sc '{server_ids: .}')"
}

# new_api_token SESSION_TOKEN NAME ROLE [EXTRA-JSON]: prints the token's text.
new_api_token() {
  local extra=${4:-}
  [ -n "$extra" ] || extra='{}'
  as "$1" POST /api/v1/api-tokens --data "$(jq -nc --arg n "$2" --arg r "$3" --argjson x "$extra" '{name:$n,role:$r} + $x')" >/dev/null
  field .token
}

# push_fixture NAME SEQ: pushes tests/fixtures/batches/valid.json, dated now, as collector NAME.
push_fixture() {
  local now fixture="${PGA_SOURCE_DIR:-$(dirname "${BASH_SOURCE[0]}")/../..}/tests/fixtures/batches/valid.json"
  now=$(date -u +%Y-%m-%dT%H:%M:%S.%3NZ)
  jq --arg c "$(jq -r .collector_id "$WORK/c-$1/state/credentials.json")" --argjson seq "$2" --arg now "$now" \
    '.collector_id = $c | .seq = $seq | .sent_at = $now | .samples[].at = $now' "$fixture" | gzip -c >"$WORK/batch.gz"
  agent_call "$1" POST /api/v1/metrics/push -H 'Content-Encoding: gzip' -H 'Content-Type: application/json' \
    --data-binary @"$WORK/batch.gz"
}
