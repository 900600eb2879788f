#!/usr/bin/env bash
# Run the platform's own image registry (Debian's docker-registry, distribution 2.8) on loopback.
#
# The registry stores images under $TOONBENCH_REGISTRY_DIR/data and accepts
# only bearer tokens signed by the site (distribution's token authentication):
# the signing key and its self-signed certificate are made once, here, and
# kept in the same folder (token.key for the site, token.crt for the
# registry). The config is rewritten on every call; a registry this script
# started with another config is restarted, one already running with the
# same config is left alone.
#
# Always exits 0: when the registry cannot start it says why, and the
# registry tests skip with that reason.
#
# Settings (environment):
#   TOONBENCH_REGISTRY_ADDR     host:port to listen on (127.0.0.1:5000)
#   TOONBENCH_REGISTRY_DIR      storage, key, config, log (var/registry)
#   TOONBENCH_REGISTRY_REALM    the site's token URL (http://127.0.0.1:8000/registry/token/)
#   TOONBENCH_REGISTRY_SERVICE  token audience (toonbench-registry)
#   TOONBENCH_REGISTRY_ISSUER   token issuer (toonbench)
set -uo pipefail
cd "$(dirname "$0")/../.."

ADDR=${TOONBENCH_REGISTRY_ADDR:-127.0.0.1:5000}
DIR=${TOONBENCH_REGISTRY_DIR:-${TOONBENCH_VAR_DIR:-var}/registry}
REALM=${TOONBENCH_REGISTRY_REALM:-http://${TOONBENCH_HOST:-127.0.0.1}:${TOONBENCH_PORT:-8000}/registry/token/}
SERVICE=${TOONBENCH_REGISTRY_SERVICE:-toonbench-registry}
ISSUER=${TOONBENCH_REGISTRY_ISSUER:-toonbench}
START_WAIT_S=20

say() { echo "[registry.sh] $*"; }
give_up() { say "registry unavailable: $*"; say "registry tests will be skipped."; exit 0; }
as_root() { if [ "$(id -u)" -eq 0 ]; then "$@"; elif command -v sudo >/dev/null; then sudo -n "$@"; else return 1; fi; }

# A token-auth registry answers /v2/ with 401 and a Bearer challenge.
registry_answers() {
  curl -s -o /dev/null -m 2 -D - "http://$ADDR/v2/" 2>/dev/null | grep -qi '^www-authenticate: bearer'
}

ours_running() {
  local pid
  pid=$(cat "$DIR/registry.pid" 2>/dev/null) || return 1
  [ -n "$pid" ] && grep -q docker-registry "/proc/$pid/cmdline" 2>/dev/null
}

install_package() {
  command -v docker-registry >/dev/null && return 0
  say "installing docker-registry with apt-get"
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq docker-registry >/dev/null 2>&1 && return 0
  as_root env DEBIAN_FRONTEND=noninteractive apt-get update -qq >/dev/null 2>&1 || return 1
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq docker-registry >/dev/null 2>&1
}

make_signing_key() {
  [ -s "$DIR/token.key" ] && [ -s "$DIR/token.crt" ] && return 0
  command -v openssl >/dev/null || return 1
  say "making the token signing key and certificate in $DIR"
  (umask 077 && openssl req -x509 -newkey rsa:2048 -nodes -sha256 -days 3650 \
      -subj "/CN=ToonBench registry token signer" \
      -keyout "$DIR/token.key.partial" -out "$DIR/token.crt.partial" >/dev/null 2>&1) || return 1
  mv "$DIR/token.key.partial" "$DIR/token.key" && mv "$DIR/token.crt.partial" "$DIR/token.crt"
  chmod 644 "$DIR/token.crt"
}

write_config() {
  [ -s "$DIR/http.secret" ] || (umask 077 && openssl rand -hex 32 > "$DIR/http.secret")
  cat > "$DIR/config.yml.new" <<EOF
version: 0.1
log:
  level: info
  fields: {service: toonbench-registry}
storage:
  filesystem: {rootdirectory: $DIR/data}
  delete: {enabled: true}
  cache: {blobdescriptor: inmemory}
http:
  addr: $ADDR
  secret: $(cat "$DIR/http.secret")
  headers:
    X-Content-Type-Options: [nosniff]
auth:
  token:
    realm: $REALM
    service: $SERVICE
    issuer: $ISSUER
    rootcertbundle: $DIR/token.crt
EOF
}

start_registry() {
  mv "$DIR/config.yml.new" "$DIR/config.yml"
  say "starting docker-registry on $ADDR (token realm $REALM; log: $DIR/registry.log)"
  # setsid: the registry outlives the shell (and test run) that started it.
  setsid nohup docker-registry serve "$DIR/config.yml" >>"$DIR/registry.log" 2>&1 < /dev/null &
  echo $! > "$DIR/registry.pid"
  local waited=0
  while [ $waited -lt $((START_WAIT_S * 4)) ]; do
    registry_answers && { say "registry is up on $ADDR"; return 0; }
    sleep 0.25; waited=$((waited + 1))
  done
  say "docker-registry did not answer within ${START_WAIT_S}s; last log lines:"
  tail -n 15 "$DIR/registry.log" 2>/dev/null | sed 's/^/    /'
  return 1
}

mkdir -p "$DIR/data" || give_up "cannot create $DIR"
DIR=$(cd "$DIR" && pwd -P)
install_package || give_up "could not install docker-registry with apt-get"
make_signing_key || give_up "could not make the token signing key (openssl missing?)"
write_config || give_up "could not write $DIR/config.yml"

if registry_answers; then
  if ours_running && ! cmp -s "$DIR/config.yml.new" "$DIR/config.yml"; then
    say "configuration changed: restarting the registry"
    kill "$(cat "$DIR/registry.pid")" 2>/dev/null
    for _ in $(seq 40); do registry_answers || break; sleep 0.25; done
  else
    rm -f "$DIR/config.yml.new"
    say "registry already running on $ADDR: nothing to do"
    exit 0
  fi
fi
start_registry || give_up "docker-registry failed to start (see $DIR/registry.log)"
exit 0
