#!/usr/bin/env bash
# Start a throwaway Redis on a loopback port (no persistence) and wait until it answers PING.
#   scripts/services/redis.sh PORT [DIR]
# Installs Debian's redis-server with apt-get when it is missing. The server
# runs in the background; its pid file and log are written to DIR
# (default: var/redis-PORT). Stop it with: kill "$(cat DIR/redis.pid)"
set -euo pipefail
port=${1:?usage: scripts/services/redis.sh PORT [DIR]}
cd "$(dirname "$0")/../.."
dir=${2:-var/redis-$port}
mkdir -p "$dir"
dir=$(cd "$dir" && pwd)

if ! command -v redis-server >/dev/null 2>&1; then
  echo "==> installing redis-server (apt-get)"
  sudo_cmd=""
  if [ "$(id -u)" -ne 0 ]; then sudo_cmd="sudo"; fi
  $sudo_cmd apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo_cmd apt-get install -y -qq redis-server >/dev/null
fi

redis-server --port "$port" --bind 127.0.0.1 --protected-mode yes \
  --save "" --appendonly no --daemonize yes \
  --dir "$dir" --pidfile "$dir/redis.pid" --logfile "$dir/redis.log"

for _ in $(seq 1 100); do
  if [ "$(redis-cli -h 127.0.0.1 -p "$port" ping 2>/dev/null)" = "PONG" ]; then
    echo "redis ready on 127.0.0.1:$port (pid $(cat "$dir/redis.pid"))"
    exit 0
  fi
  sleep 0.1
done
echo "redis did not answer PING on 127.0.0.1:$port within 10 s; see $dir/redis.log" >&2
exit 1
