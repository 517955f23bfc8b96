#!/usr/bin/env bash
# The command line as a user meets it: --help, --version, exit statuses, and check-config on the
# shipped files and on broken ones (file, line and key named, exit 2).
. "$(dirname "$0")/lib.sh"

run_status rc "$PGA_BIN" --help
expect_eq "--help exits 0" 0 "$rc"
for sub in server agent register migrate token user demo check-config; do
  expect_contains "--help lists $sub" "  $sub " "$OUT"
done
run_status rc "$PGA_BIN" --version
expect_eq "--version exits 0" 0 "$rc"
expect_contains "--version prints the version" "pganalytics 0." "$OUT"
for sub in migrate check-config; do
  run_status rc "$PGA_BIN" "$sub" --help
  expect_eq "$sub --help exits 0" 0 "$rc"
done
run_status rc "$PGA_BIN" migrate --no-such-flag
expect_eq "an unknown flag exits 2" 2 "$rc"
expect_contains "the unknown flag is named" "--no-such-flag" "$OUT"
run_status rc "$PGA_BIN"
expect_eq "no subcommand exits 2" 2 "$rc"

for file in server agent; do
  run_status rc "$PGA_BIN" check-config --config "$PGA_SOURCE_DIR/conf/$file.toml"
  expect_eq "conf/$file.toml is valid" 0 "$rc"
  expect_contains "conf/$file.toml is recognised as a $file configuration" "valid $file configuration" "$OUT"
done

check_broken() { # check_broken WHAT FILE-CONTENT EXPECTED-LOCATION-AND-KEY
  printf '%b' "$2" >"$WORK/broken.toml"
  run_status rc "$PGA_BIN" check-config --config "$WORK/broken.toml"
  expect_eq "$1: exit 2" 2 "$rc"
  expect_contains "$1: file, line and key named" "$WORK/broken.toml:$3" "$OUT"
}
check_broken "unknown key" '[server]\nlisten = "0.0.0.0:8443"\nlisten_port = 1\n' "3: server.listen_port"
check_broken "invalid duration" '[retention]\nraw = "7days"\n' "2: retention.raw"
check_broken "wrong type" '[auth]\n\naccess_token_ttl = 900\n' "3: auth.access_token_ttl"
check_broken "unknown section" '[servr]\nlisten = "0.0.0.0:8443"\n' "1: servr"
check_broken "agent interval below 1s" '[collect]\ninterval = "500ms"\n' "2: collect.interval"
check_broken "agent plain http URL" '[agent]\n[server]\nurl = "http://x:8443"\n' "3: server.url"
check_broken "instance without conninfo" '[[instance]]\nname = "main"\n' "1: instance.conninfo"
check_broken "TOML syntax error" '[server]\nlisten = "0.0.0.0:8443\n' "2"
run_status rc "$PGA_BIN" check-config --config "$WORK/does-not-exist.toml"
expect_eq "a missing file exits 2" 2 "$rc"

run_status rc "$PGA_BIN" --log-format json check-config --config "$WORK/broken.toml"
expect_contains "--log-format json writes JSON lines" '"level":"error"' "$OUT"
finish
