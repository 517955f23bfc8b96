#!/usr/bin/env bash
# `pganalytics register` against a real server: the CA is pinned by fingerprint (or given as a
# file), the key stays local with mode 0600, the files of CONTRACT §3 are written, an existing
# enrolment is kept unless --force, and the stored credentials open the agent routes.
. "$(dirname "$0")/server_lib.sh"
start_server pga_register
token() { "$PGA_BIN" token create --config "$WORK/server.toml" 2>"$WORK/token.err"; }
state="$WORK/agent-state"
printf '[agent]\nstate_dir = "%s"\n[server]\nurl = "%s"\n' "$state" "$SERVER_URL" >"$WORK/agent.toml"

t=$(token); fingerprint=$(grep -o 'sha256:[0-9a-f]*' "$WORK/token.err" | head -1)
run_status rc "$PGA_BIN" register --server "$SERVER_URL" --token "$t" --ca-fingerprint "sha256:$(printf '0%.0s' $(seq 64))" --config "$WORK/agent.toml"
expect_eq "a wrong CA fingerprint refuses to enrol" 1 "$rc"
expect_contains "the refusal names the fingerprint" "fingerprint" "$OUT"
if [ -e "$state/credentials.json" ]; then fail "nothing is stored after a refused enrolment"; else pass "nothing is stored after a refused enrolment"; fi

run_status rc "$PGA_BIN" register --server "$SERVER_URL" --token "$t" --config "$WORK/agent.toml"
expect_eq "register without --ca-file or --ca-fingerprint is a usage error" 2 "$rc"

run_status rc "$PGA_BIN" register --server "$SERVER_URL" --token "$t" --name db-main --ca-fingerprint "$fingerprint" --config "$WORK/agent.toml"
expect_eq "register with the pinned fingerprint succeeds" 0 "$rc"
collector=$(jq -r .collector_id "$state/credentials.json")
expect_contains "register prints the collector id" "$collector" "$OUT"
expect_eq "agent.key is 0600" 600 "$(stat -c %a "$state/agent.key")"
expect_eq "credentials.json is 0600" 600 "$(stat -c %a "$state/credentials.json")"
expect_eq "credentials.json holds the server URL" "$SERVER_URL" "$(jq -r .server_url "$state/credentials.json")"
expect_eq "ca.crt is the server's CA" "$(cat "$CA")" "$(cat "$state/ca.crt")"
expect_contains "agent.crt verifies against the CA" OK "$(openssl verify -CAfile "$state/ca.crt" "$state/agent.crt" 2>&1)"
expect_eq "agent.crt belongs to agent.key" "$(openssl pkey -in "$state/agent.key" -pubout)" "$(openssl x509 -in "$state/agent.crt" -noout -pubkey)"
expect_eq "the collector is named as asked" db-main "$(sql "$DATABASE_URL" "SELECT name FROM pganalytics.collectors WHERE id = '$collector'")"

before=$(cat "$state/credentials.json")
run_status rc "$PGA_BIN" register --server "$SERVER_URL" --token "$(token)" --ca-file "$CA" --config "$WORK/agent.toml"
expect_eq "an existing enrolment is kept without --force" 1 "$rc"
expect_eq "the credentials are untouched" "$before" "$(cat "$state/credentials.json")"
run_status rc "$PGA_BIN" register --server "$SERVER_URL" --token "$(token)" --ca-file "$CA" --config "$WORK/agent.toml" --force
expect_eq "--force enrols again, with --ca-file" 0 "$rc"
if [ "$(jq -r .collector_id "$state/credentials.json")" != "$collector" ]; then pass "a new collector id"; else fail "a new collector id"; fi

access=$(jq -r .access_token "$state/credentials.json")
openssl req -new -key "$state/agent.key" -subj /CN=x -out "$WORK/r.csr" 2>/dev/null
jq -n --arg csr "$(cat "$WORK/r.csr")" '{csr:$csr}' >"$WORK/r.json"
code=$(curl -s -o /dev/null -w '%{http_code}' --cacert "$state/ca.crt" --cert "$state/agent.crt" --key "$state/agent.key" \
  -H "Authorization: Bearer $access" --data @"$WORK/r.json" "$SERVER_URL/api/v1/collectors/$(jq -r .collector_id "$state/credentials.json")/certificate" || true)
expect_eq "the stored key, certificate and token open the agent routes" 200 "$code"
finish
