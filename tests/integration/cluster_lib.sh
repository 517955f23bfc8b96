#!/usr/bin/env bash
# Extra PostgreSQL clusters a test owns outright (a monitored primary with its own logging, a
# streaming replica), beside the shared fixture; each is stopped when the test exits.
# Source after lib.sh or server_lib.sh, then register cluster_stop_all in the test's EXIT trap.

CLUSTERS=()
as_postgres() { if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi; }

# cluster_new NAME: initdb under $WORK/NAME (owned by postgres when root), with the fixture's
# settings; extra postgresql.conf lines are read from stdin. Sets <NAME>_DIR.
cluster_new() {
  local name=$1 dir="$WORK/$1"
  mkdir -p "$dir"
  chmod 755 "$WORK" "$dir"
  [ "$(id -u)" = 0 ] && chown postgres:postgres "$dir"
  as_postgres "$PGA_TEST_PG_BIN/initdb" -D "$dir/data" -U postgres --auth=trust --no-sync --no-instructions \
    -E UTF8 --locale=C >"$dir/initdb.log" 2>&1 || { cat "$dir/initdb.log" >&2; return 1; }
  {
    echo "listen_addresses = '127.0.0.1'"
    echo "unix_socket_directories = '$dir'"
    echo "lc_messages = 'C'"
    cat
  } | as_postgres tee -a "$dir/data/postgresql.conf" >/dev/null
  printf -v "${name}_DIR" '%s' "$dir"
}

# cluster_start NAME: starts it on a free port (retrying a taken one); sets <NAME>_PORT and
# <NAME>_URL (the postgres database as the postgres user).
cluster_start() {
  local name=$1 dir="$WORK/$1" port
  for _ in 1 2 3 4 5; do
    port=$(cluster_free_port)
    echo "port = $port" | as_postgres tee -a "$dir/data/postgresql.conf" >/dev/null
    if as_postgres "$PGA_TEST_PG_BIN/pg_ctl" -D "$dir/data" -l "$dir/pg_ctl.log" -w -t 60 start >/dev/null 2>&1; then
      CLUSTERS+=("$dir")
      printf -v "${name}_PORT" '%s' "$port"
      printf -v "${name}_URL" '%s' "postgresql://postgres@127.0.0.1:$port/postgres"
      return 0
    fi
  done
  cat "$dir/pg_ctl.log" >&2
  return 1
}

# cluster_stop NAME: fast shutdown, waiting for it.
cluster_stop() {
  as_postgres "$PGA_TEST_PG_BIN/pg_ctl" -D "$WORK/$1/data" -m fast -w -t 60 stop >/dev/null 2>&1 || true
}

cluster_stop_all() {
  local dir
  for dir in "${CLUSTERS[@]}"; do
    as_postgres "$PGA_TEST_PG_BIN/pg_ctl" -D "$dir/data" -m immediate -w -t 60 stop >/dev/null 2>&1 || true
  done
}

cluster_free_port() {
  local port
  while :; do
    port=$((20000 + RANDOM % 40000))
    (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null || { echo "$port"; return; }
  done
}
