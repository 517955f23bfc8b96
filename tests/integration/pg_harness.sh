#!/usr/bin/env bash
# A throwaway PostgreSQL for the integration tests: initdb in a temporary directory on a free
# port, never the machine's default cluster. Usage: pg_harness.sh start|stop STATE_DIR
# `start` writes STATE_DIR/env (PGA_TEST_PG_PORT, PGA_TEST_PG_DIR, PGA_TEST_PG_BIN) for the tests.
set -euo pipefail
command=${1:?start or stop}
state=${2:?state directory}
PGBIN=${PGBIN:-$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)}
[ -x "$PGBIN/initdb" ] || { echo "pg_harness: no PostgreSQL server binaries under /usr/lib/postgresql" >&2; exit 1; }

# initdb refuses to run as root: run the server as `postgres` then.
as_owner() { if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi; }

start() {
  mkdir -p "$state"
  [ -f "$state/env" ] && stop
  local dir
  dir=$(mktemp -d "${TMPDIR:-/tmp}/pga-test-pg.XXXXXX")
  chmod 755 "$dir"
  [ "$(id -u)" = 0 ] && chown postgres:postgres "$dir"
  as_owner "$PGBIN/initdb" -D "$dir/data" -U postgres --auth=trust --no-sync --no-instructions \
    -E UTF8 --locale=C >"$dir/initdb.log" 2>&1 || { cat "$dir/initdb.log" >&2; exit 1; }
  cat >>"$dir/data/postgresql.conf" <<CONF
listen_addresses = '127.0.0.1'
unix_socket_directories = '$dir'
shared_preload_libraries = 'pg_stat_statements'
max_connections = 200
fsync = off
full_page_writes = off
lc_messages = 'C'
CONF
  local port attempt
  for attempt in $(seq 1 20); do
    port=$((20000 + (RANDOM * 7 + attempt) % 40000))
    echo "port = $port" >>"$dir/data/postgresql.conf"
    if as_owner "$PGBIN/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -t 60 start >/dev/null 2>&1; then
      printf 'PGA_TEST_PG_DIR=%s\nPGA_TEST_PG_PORT=%s\nPGA_TEST_PG_BIN=%s\n' "$dir" "$port" "$PGBIN" >"$state/env"
      echo "throwaway PostgreSQL on 127.0.0.1:$port in $dir"
      return 0
    fi
  done
  cat "$dir/server.log" >&2
  rm -rf "$dir"
  exit 1
}

stop() {
  [ -f "$state/env" ] || return 0
  # shellcheck disable=SC1091
  . "$state/env"
  as_owner "$PGA_TEST_PG_BIN/pg_ctl" -D "$PGA_TEST_PG_DIR/data" -m fast -w -t 60 stop >/dev/null 2>&1 || true
  rm -rf "$PGA_TEST_PG_DIR" "$state/env"
}

case "$command" in
  start) start ;;
  stop) stop ;;
  *) echo "usage: pg_harness.sh start|stop STATE_DIR" >&2; exit 2 ;;
esac
