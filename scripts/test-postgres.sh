#!/usr/bin/env bash
# Starts or stops a throw-away PostgreSQL 15 cluster for the tests: owned by the `postgres` user,
# in a temporary directory, listening on 127.0.0.1 only, with the pgvector extension created.
#   scripts/test-postgres.sh start <dir> [port]   prints the connection URL on its last line
#   scripts/test-postgres.sh restart <dir>        fast shutdown and start on the same port
#   scripts/test-postgres.sh stop <dir>
# Run as root (CI) or as the postgres user; nothing outside <dir> is touched.
set -euo pipefail

bin=/usr/lib/postgresql/15/bin
action=${1:-}
dir=${2:-}
if [ -z "$action" ] || [ -z "$dir" ]; then
  echo "usage: $0 start|restart|stop <dir> [port]" >&2
  exit 64
fi

as_postgres() {
  if [ "$(id -un)" = postgres ]; then "$@"; else runuser -u postgres -- "$@"; fi
}

case "$action" in
  start)
    port=${3:-$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')}
    mkdir -p "$dir"
    chown postgres:postgres "$dir" 2>/dev/null || true
    as_postgres "$bin/initdb" -D "$dir/data" -U postgres -A trust --no-sync -E UTF8 --locale=C.UTF-8 >"$dir/initdb.log"
    as_postgres "$bin/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -t 60 \
      -o "-c listen_addresses=127.0.0.1 -c port=$port -c unix_socket_directories='$dir' -c fsync=off -c max_connections=200" start >/dev/null
    as_postgres "$bin/psql" -h 127.0.0.1 -p "$port" -U postgres -q -v ON_ERROR_STOP=1 \
      -c "CREATE DATABASE open_notebook_test" \
      -d postgres >/dev/null
    as_postgres "$bin/psql" -h 127.0.0.1 -p "$port" -U postgres -q -v ON_ERROR_STOP=1 \
      -c "CREATE EXTENSION IF NOT EXISTS vector" -d open_notebook_test >/dev/null
    echo "postgresql://postgres@127.0.0.1:$port/open_notebook_test"
    ;;
  restart)
    as_postgres "$bin/pg_ctl" -D "$dir/data" -l "$dir/server.log" -m fast -w -t 60 restart >/dev/null
    ;;
  stop)
    as_postgres "$bin/pg_ctl" -D "$dir/data" -m fast -w stop >/dev/null
    ;;
  *)
    echo "usage: $0 start|restart|stop <dir> [port]" >&2
    exit 64
    ;;
esac
