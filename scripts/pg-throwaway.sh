#!/usr/bin/env bash
# A throwaway PostgreSQL cluster on a free loopback port, for tests and benchmarks.
#   scripts/pg-throwaway.sh start   -> prints the postgres:// URL on stdout
#   scripts/pg-throwaway.sh stop    -> stops it and removes its files
# State lives in $PG_THROWAWAY_DIR (default: .tmp/pg under the project).
set -euo pipefail
cd "$(dirname "$0")/.."
state=${PG_THROWAWAY_DIR:-$PWD/.tmp/pg}
bindir=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1 || true)

as_pg() {
  if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}

case "${1:-}" in
start)
  [ -n "$bindir" ] || { echo "pg-throwaway: PostgreSQL server binaries not found (apt-get install postgresql)" >&2; exit 3; }
  if [ -f "$state/url" ] && as_pg "$bindir/pg_ctl" -D "$state/data" status >/dev/null 2>&1; then cat "$state/url"; exit 0; fi
  rm -rf "$state"; mkdir -p "$state"
  [ "$(id -u)" = 0 ] && chown postgres "$state"
  port=$(node -e "const s=require('net').createServer().listen(0,'127.0.0.1',()=>{console.log(s.address().port);s.close()})")
  as_pg "$bindir/initdb" -D "$state/data" -U postgres --auth=trust -E UTF8 --locale=C.UTF-8 >"$state/initdb.log" 2>&1 \
    || { cat "$state/initdb.log" >&2; exit 3; }
  as_pg "$bindir/pg_ctl" -D "$state/data" -l "$state/server.log" -w -t 60 \
    -o "-p $port -k $state -c listen_addresses=127.0.0.1 -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=200" start >/dev/null \
    || { cat "$state/server.log" >&2; exit 3; }
  echo "postgres://postgres@127.0.0.1:$port/postgres" | tee "$state/url"
  ;;
stop)
  if [ -d "$state/data" ] && [ -n "$bindir" ]; then as_pg "$bindir/pg_ctl" -D "$state/data" -m fast stop >/dev/null 2>&1 || true; fi
  rm -rf "$state"
  ;;
*)
  echo "usage: $0 start|stop" >&2; exit 2 ;;
esac
