#!/usr/bin/env bash
# A throwaway PostgreSQL for the shared-store tests, from Debian's packages, on 127.0.0.1.
#
#   eval "$(bash scripts/start-test-postgres.sh start)"   # exports MLOPS_TEST_POSTGRES_URL and _DIR
#   bash scripts/start-test-postgres.sh stop "$MLOPS_TEST_POSTGRES_DIR"
#
# `start` installs the `postgresql` package when no server binaries are found (as root, which
# CI is), then creates a cluster in a temporary folder, owned by the `postgres` user when run
# as root (the server refuses to run as root), with a random password, listening on a free
# port of 127.0.0.1 only. Durability is off (fsync, synchronous_commit): it is deleted at `stop`.
# Only the `export` lines go to stdout; progress goes to stderr.
set -euo pipefail

server_bin() {
  local d
  for d in $(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V -r); do
    [ -x "$d/pg_ctl" ] && [ -x "$d/initdb" ] && { echo "$d"; return 0; }
  done
  return 1
}

as_owner() {
  if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}

start() {
  local t0 bin dir port password
  t0=$(date +%s%N)
  if ! bin=$(server_bin); then
    if [ "$(id -u)" != 0 ]; then
      echo "start-test-postgres: no PostgreSQL server under /usr/lib/postgresql and not root to install it (apt-get install postgresql)" >&2
      exit 2
    fi
    echo "start-test-postgres: installing Debian's postgresql package" >&2
    export DEBIAN_FRONTEND=noninteractive
    apt-get install -y --no-install-recommends postgresql >&2 || { apt-get update >&2 && apt-get install -y --no-install-recommends postgresql >&2; }
    bin=$(server_bin)
  fi
  dir=$(mktemp -d /tmp/mlops-test-pg.XXXXXX)
  chmod 700 "$dir"
  [ "$(id -u)" = 0 ] && chown postgres: "$dir"
  password=$(od -An -N16 -tx1 /dev/urandom | tr -d ' \n')
  as_owner sh -c "umask 077; printf '%s\n' '$password' > '$dir/pwfile'"
  as_owner "$bin/initdb" -D "$dir/data" -U mlops --pwfile="$dir/pwfile" --auth=scram-sha-256 -E UTF8 --locale=C.UTF-8 >"$dir/initdb.log" 2>&1 \
    || { cat "$dir/initdb.log" >&2; exit 1; }
  as_owner rm -f "$dir/pwfile"
  port=$(node -e "const s=require('net').createServer().listen(0,'127.0.0.1',()=>{console.log(s.address().port);s.close()})")
  as_owner "$bin/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -t 60 \
    -o "-c listen_addresses=127.0.0.1 -p $port -k $dir -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=200" start >&2 \
    || { cat "$dir/server.log" >&2; exit 1; }
  as_owner env PGPASSWORD="$password" "$bin/createdb" -h 127.0.0.1 -p "$port" -U mlops mlops_test >&2
  local ms=$(( ($(date +%s%N) - t0) / 1000000 ))
  echo "start-test-postgres: PostgreSQL $("$bin/postgres" --version | awk '{print $3}') on 127.0.0.1:$port, ready in $((ms / 1000)).$((ms % 1000 / 100)) s" >&2
  echo "export MLOPS_TEST_POSTGRES_URL='postgres://mlops:$password@127.0.0.1:$port/mlops_test'"
  echo "export MLOPS_TEST_POSTGRES_DIR='$dir'"
}

stop() {
  local dir=${1:-} bin
  [ -n "$dir" ] && [ -d "$dir/data" ] || { echo "start-test-postgres: nothing to stop at '$dir'" >&2; return 0; }
  bin=$(server_bin)
  as_owner "$bin/pg_ctl" -D "$dir/data" -m fast -w stop >&2 || true
  rm -rf "$dir"
}

case "${1:-}" in
  start) start ;;
  stop) stop "${2:-}" ;;
  *) echo "usage: $0 start | stop DIR" >&2; exit 2 ;;
esac
