#!/usr/bin/env bash
# The rest of issue 11.8 and 11.9 with the real binary: the inventory lists page (limit, cursor,
# a default page size, next_cursor), non-finite numbers are refused in batches, absurd times are
# a 400 on the routes taking times, and text from the network cannot forge lines or escape
# sequences in the server's text log.
. "$(dirname "$0")/server_lib.sh"
ATTACK="$(dirname "$0")/attack.py"
start_server pga_hardening_api
q() { sql "$DATABASE_URL" "$1"; }
answer() { jq -r "$1" "$WORK/body" 2>/dev/null; }
COLLECTOR=$(enrol_collector agent)
SERVER_ID=$(q "SELECT server_id FROM pganalytics.collectors WHERE id = '$COLLECTOR'")
add_user alice admin 'correct horse battery'
login_as alice 'correct horse battery' >/dev/null
USER_TOKEN=$(answer .access_token)
get() { curl -s --cacert "$CA" -H "Authorization: Bearer $USER_TOKEN" -D "$WORK/headers" -o "$WORK/body" -w '%{http_code}' "$SERVER_URL$1" || true; }
NOW=$(date -u +%Y-%m-%dT%H:%M:%S.%3NZ)

# --- paging: 602 servers (three of enrolled collectors, the rest straight into the table)
q "INSERT INTO pganalytics.servers (hostname, display_name) SELECT 'host-' || i, 'host-' || i FROM generate_series(1, 599) i" >/dev/null
enrol_collector second >/dev/null
enrol_collector third >/dev/null
expect_eq "GET /servers without paging answers an array" "200 array" "$(get /api/v1/servers) $(answer type)"
expect_eq "... of the default page size (500)" 500 "$(answer length)"
expect_contains "... saying where the next page starts" "rel=\"next\"" "$(cat "$WORK/headers")"
next=$(awk -F': ' 'tolower($1) == "x-next-cursor" {print $2}' "$WORK/headers" | tr -d '\r')
expect_eq "... the rest follows from X-Next-Cursor" "200 102 null" \
  "$(get "/api/v1/servers?cursor=$next") $(answer '.items | length') $(answer .next_cursor)"
# walk LIST LIMIT: every id of LIST page by page; prints "pages ids-in-order".
walk() {
  local cursor="" pages=0 ids=""
  while :; do
    [ "$(get "/api/v1/$1?limit=$2${cursor:+&cursor=$cursor}")" = 200 ] || { echo "failed: $(cat "$WORK/body")"; return; }
    pages=$((pages + 1))
    ids="$ids $(answer '[.items[].id] | join(" ")')"
    cursor=$(answer '.next_cursor // empty')
    [ -n "$cursor" ] || break
  done
  echo "$pages$ids"
}
expect_eq "paging /servers by 250 visits every server once, in order" \
  "3 $(q "SELECT string_agg(id::text, ' ' ORDER BY id) FROM pganalytics.servers")" "$(walk servers 250)"
expect_eq "paging /collectors by 2 visits every collector once, in order" \
  "2 $(q "SELECT string_agg(id::text, ' ' ORDER BY name, id) FROM pganalytics.collectors")" "$(walk collectors 2)"
expect_eq "GET /collectors without paging is the whole array" "3" "$(get /api/v1/collectors >/dev/null; answer length)"
expect_eq "limit=0 is refused" "400 limit" "$(get '/api/v1/servers?limit=0') $(answer .error.message | grep -o limit | head -1)"
expect_eq "limit=100000 is refused" 400 "$(get '/api/v1/servers?limit=100000')"
expect_eq "a forged cursor is refused" "400 cursor" "$(get '/api/v1/servers?cursor=bm9wZQ') $(answer .error.message | grep -o cursor | head -1)"

# --- non-finite numbers in a batch
for literal in 1e999 -1e999; do
  /usr/bin/python3 "$ATTACK" number "$COLLECTOR" "$NOW" "$literal" "$WORK/number.gz"
  read -r status _ <<<"$(push_as agent "$WORK/number.gz")"
  expect_eq "$literal in a float column is refused" "400 bad_value" "$status $(answer .error.code)"
  expect_contains "... naming family and column" "pg_stats_database" "$(answer .error.message)"
  expect_contains "... and column" "blk_read_time" "$(answer .error.message)"
done
expect_eq "... nothing stored" 0 "$(q "SELECT count(*) FROM pganalytics.metrics_pg_stats_database")"

# --- absurd times on the routes taking times
metrics="/api/v1/servers/$SERVER_ID/metrics?family=sysstat&column=cpu_user"
expect_eq "a plain query answers" 200 "$(get "$metrics")"
for bad in "from=-99999999999999" "to=99999999999999" "from=1e300" "from=0001-01-01T00:00:00Z&to=0001-01-02T00:00:00Z" "step=9999999999999d"; do
  expect_eq "$bad is a 400" 400 "$(get "$metrics&$bad")"
  expect_eq "... bad_parameter" bad_parameter "$(answer .error.code)"
done

# --- text from the network in the text log
openssl ecparam -name prime256v1 -genkey -noout -out "$WORK/evil.key" 2>/dev/null
openssl req -new -key "$WORK/evil.key" -subj "/CN=evil" -out "$WORK/evil.csr" 2>/dev/null
forged=$'db\n2030-01-01T00:00:00.000Z error forged line\e[2J\e]0;title\a'
jq -n --arg csr "$(cat "$WORK/evil.csr")" --arg name "$forged" '{name:$name,hostname:$name,csr:$csr,agent_version:"x"}' >"$WORK/evil.json"
expect_eq "a collector named with a newline and escape sequences enrols" 201 \
  "$(curl -s --cacert "$CA" -o /dev/null -w '%{http_code}' -H "Authorization: Bearer $("$PGA_BIN" token create --config "$WORK/server.toml" 2>/dev/null)" \
     --data @"$WORK/evil.json" "$SERVER_URL/api/v1/collectors/register")"
printf '{"collector_id":"%s","seq":50,"sent_at":"%s","agent":{"version":"x","hostname":"h"},"samples":[{"family":"pg\\n2030-01-01T00:00:00.000Z error forged family\\u001b[31m","at":"%s","columns":["x"],"rows":[]}]}' \
  "$COLLECTOR" "$NOW" "$NOW" | gzip -c >"$WORK/family.gz"
expect_eq "a batch with such a family name is refused" "400" "$(push_as agent "$WORK/family.gz" | cut -d' ' -f1)"
for _ in $(seq 1 50); do grep -q 'refused a batch' "$WORK/server.log" && break; sleep 0.1; done
if grep -q '^2030-01-01' "$WORK/server.log"; then fail "no forged line in the server log: $(grep '^2030' "$WORK/server.log")"
else pass "no forged line in the server log"; fi
if grep -qP '\x1b|\x07' "$WORK/server.log"; then fail "no escape sequence reaches the server log"; else pass "no escape sequence reaches the server log"; fi
expect_contains "the name is logged escaped" 'db\n2030-01-01T00:00:00.000Z error forged line\x1b[2J' "$(cat "$WORK/server.log")"
finish
