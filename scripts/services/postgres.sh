#!/usr/bin/env bash
# Make sure PostgreSQL is installed; with a PORT, also start a throwaway cluster on loopback.
#   scripts/services/postgres.sh                # install Debian's postgresql with apt-get if missing
#   scripts/services/postgres.sh PORT DIR [DB]  # new cluster in DIR, listening on 127.0.0.1:PORT
# The cluster trusts loopback connections (it is for tests): connect as
#   postgres://postgres@127.0.0.1:PORT/DB  (DB defaults to toonbench)
# It runs as the postgres user when started by root. Stop it with:
#   pg_ctl -D DIR/data stop -m fast   (as the same user)
set -euo pipefail

find_bin() {
  local name=$1
  if command -v "$name" >/dev/null 2>&1; then command -v "$name"; return; fi
  ls -d /usr/lib/postgresql/*/bin/"$name" 2>/dev/null | sort -V | tail -1
}

if [ -z "$(find_bin initdb)" ]; then
  echo "==> installing postgresql (apt-get)"
  sudo_cmd=""
  if [ "$(id -u)" -ne 0 ]; then sudo_cmd="sudo"; fi
  $sudo_cmd apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo_cmd apt-get install -y -qq postgresql >/dev/null
fi
[ $# -eq 0 ] && { echo "postgresql is installed ($(find_bin initdb))"; exit 0; }

port=${1:?usage: scripts/services/postgres.sh [PORT DIR [DB]]}
dir=${2:?usage: scripts/services/postgres.sh PORT DIR [DB]}
db=${3:-toonbench}
initdb=$(find_bin initdb)
pg_ctl=$(find_bin pg_ctl)
mkdir -p "$dir"
dir=$(cd "$dir" && pwd)

as_owner() {
  if [ "$(id -u)" -eq 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}
if [ "$(id -u)" -eq 0 ]; then chown postgres: "$dir"; fi

as_owner "$initdb" -D "$dir/data" -U postgres --auth=trust --encoding=UTF8 --no-instructions >"$dir/initdb.log" 2>&1 \
  || { echo "initdb failed; see $dir/initdb.log" >&2; exit 1; }
as_owner "$pg_ctl" -D "$dir/data" -l "$dir/postgres.log" -w -t 60 \
  -o "-p $port -c listen_addresses=127.0.0.1 -k $dir -c fsync=off -c full_page_writes=off" start >/dev/null \
  || { echo "postgres did not start; see $dir/postgres.log" >&2; exit 1; }
as_owner psql -h 127.0.0.1 -p "$port" -U postgres -q -c "CREATE DATABASE $db" postgres
echo "postgres ready on 127.0.0.1:$port (database $db, data in $dir/data)"
