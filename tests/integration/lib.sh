#!/usr/bin/env bash
# Shared helpers for the shell integration tests: the throwaway PostgreSQL of pg_harness.sh, a
# fresh database per test, and assertions that print what was expected and what came.
set -euo pipefail
: "${PGA_TEST_PG_STATE:?run through ctest (fixture pg)}"
: "${PGA_BIN:?path of the pganalytics binary}"
# shellcheck disable=SC1091
. "$PGA_TEST_PG_STATE/env"
PSQL="$PGA_TEST_PG_BIN/psql"
ADMIN_URL="postgresql://postgres@127.0.0.1:$PGA_TEST_PG_PORT/postgres"
WORK=$(mktemp -d "${TMPDIR:-/tmp}/pga-test.XXXXXX")
trap 'rm -rf "$WORK"' EXIT

failures=0
pass() { echo "ok: $*"; }
fail() { echo "FAIL: $*" >&2; failures=$((failures + 1)); }
finish() { [ "$failures" = 0 ] && echo "all checks passed" || { echo "$failures check(s) failed" >&2; exit 1; }; }

# fresh_database NAME: drops and creates NAME, prints its URL.
fresh_database() {
  "$PSQL" -q -X -d "$ADMIN_URL" -c "DROP DATABASE IF EXISTS \"$1\" WITH (FORCE)" -c "CREATE DATABASE \"$1\"" >/dev/null
  echo "postgresql://postgres@127.0.0.1:$PGA_TEST_PG_PORT/$1"
}

# sql URL QUERY: one value, unaligned, no headers.
sql() { "$PSQL" -X -A -t -q -v ON_ERROR_STOP=1 -d "$1" -c "$2"; }

expect_eq() { # expect_eq WHAT EXPECTED ACTUAL
  if [ "$2" == "$3" ]; then pass "$1"; else fail "$1: expected [$2], got [$3]"; fi
}
expect_contains() { # expect_contains WHAT NEEDLE HAYSTACK
  if [[ "$3" == *"$2"* ]]; then pass "$1"; else fail "$1: [$2] not found in: $3"; fi
}
# run_status VAR CMD...: runs CMD capturing stdout+stderr in $OUT and the exit status in VAR.
run_status() {
  local __var=$1; shift
  set +e
  OUT=$("$@" 2>&1)
  printf -v "$__var" '%s' "$?"
  set -e
}
