#!/usr/bin/env bash
# A throwaway PostgreSQL cluster on a free loopback port, for tests and benchmarks.
#   scripts/pg-throwaway.sh start   -> prints the postgres:// URL on stdout
#   scripts/pg-throwaway.sh stop    -> stops it and removes its files
# State lives in $PG_THROWAWAY_DIR (default: .tmp/pg under the project). Run as root from a
# checkout the postgres user cannot reach (a `mktemp -d` clone is mode 0700), the cluster
# itself goes to a /tmp directory of its own, named in $state/cluster.
set -euo pipefail
cd "$(dirname "$0")/.."
state=${PG_THROWAWAY_DIR:-$PWD/.tmp/pg}
bindir=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1 || true)

as_pg() {
  if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}

# Where the cluster's data, logs and socket are.
cluster() { if [ -f "$state/cluster" ]; then cat "$state/cluster"; else echo "$state"; fi; }

case "${1:-}" in
start)
  [ -n "$bindir" ] || { echo "pg-throwaway: PostgreSQL server binaries not found (apt-get install postgresql)" >&2; exit 3; }
  if [ -f "$state/url" ] && as_pg "$bindir/pg_ctl" -D "$(cluster)/data" status >/dev/null 2>&1; then cat "$state/url"; exit 0; fi
  [ "$(cluster)" != "$state" ] && rm -rf "$(cluster)"
  rm -rf "$state"; mkdir -p "$state"
  c=$state
  if [ "$(id -u)" = 0 ]; then
    chown postgres "$state"
    if ! runuser -u postgres -- test -w "$state"; then
      c=$(mktemp -d /tmp/mamori-pg.XXXXXX); chown postgres "$c"; echo "$c" >"$state/cluster"
    fi
  fi
  port=$(node -e "const s=require('net').createServer().listen(0,'127.0.0.1',()=>{console.log(s.address().port);s.close()})")
  as_pg "$bindir/initdb" -D "$c/data" -U postgres --auth=trust -E UTF8 --locale=C.UTF-8 >"$state/initdb.log" 2>&1 \
    || { cat "$state/initdb.log" >&2; exit 3; }
  as_pg "$bindir/pg_ctl" -D "$c/data" -l "$c/server.log" -w -t 60 \
    -o "-p $port -k $c -c listen_addresses=127.0.0.1 -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=200" start >/dev/null \
    || { cat "$c/server.log" >&2; exit 3; }
  echo "postgres://postgres@127.0.0.1:$port/postgres" | tee "$state/url"
  ;;
stop)
  c=$(cluster)
  if [ -d "$c/data" ] && [ -n "$bindir" ]; then as_pg "$bindir/pg_ctl" -D "$c/data" -m fast stop >/dev/null 2>&1 || true; fi
  [ "$c" != "$state" ] && rm -rf "$c"
  rm -rf "$state"
  ;;
*)
  echo "usage: $0 start|stop" >&2; exit 2 ;;
esac
