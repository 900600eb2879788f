#!/usr/bin/env bash
# Make a Docker engine and the cached base image available for the evaluator.
#
# Idempotent: with a working `docker info` the engine is left alone; otherwise
# docker.io (and debootstrap) are installed with apt when missing and dockerd
# is started in the background with the overlay2 storage driver when the
# kernel can mount overlayfs here, else vfs (which works everywhere but copies
# the whole image for every container: seconds per run instead of ~1 s). Then the base image that submission test
# images build on (toonbench/python-numpy:base: Debian bookworm minbase +
# python3 + numpy) is created when missing, from a cached tarball when there
# is one. No image registry is needed.
#
# Always exits 0: when the engine cannot start it says why, and the Docker
# tests skip with that reason.
#
# Settings (environment):
#   TOONBENCH_BASE_IMAGE   image name (default toonbench/python-numpy:base)
#   TOONBENCH_CACHE_DIR    where the rootfs tarball is kept (/var/cache/toonbench)
#   TOONBENCH_DEBIAN_MIRROR  mirror for debootstrap (first URI in apt sources)
#   TOONBENCH_DOCKERD_LOG  dockerd log file (/var/log/toonbench-dockerd.log)
#   TOONBENCH_DOCKER_STORAGE_DRIVER  force a storage driver (overlay2 | vfs)
set -uo pipefail

BASE_IMAGE=${TOONBENCH_BASE_IMAGE:-toonbench/python-numpy:base}
CACHE_DIR=${TOONBENCH_CACHE_DIR:-/var/cache/toonbench}
DOCKERD_LOG=${TOONBENCH_DOCKERD_LOG:-/var/log/toonbench-dockerd.log}
BASE_TARBALL="$CACHE_DIR/python-numpy-bookworm.tar"
START_WAIT_S=60

say() { echo "[docker.sh] $*"; }
give_up() { say "Docker engine unavailable: $*"; say "Docker tests will be skipped."; exit 0; }
as_root() { if [ "$(id -u)" -eq 0 ]; then "$@"; elif command -v sudo >/dev/null; then sudo -n "$@"; else return 1; fi; }

engine_answers() { docker info >/dev/null 2>&1; }

debian_mirror() {
  if [ -n "${TOONBENCH_DEBIAN_MIRROR:-}" ]; then echo "$TOONBENCH_DEBIAN_MIRROR"; return; fi
  local uri
  uri=$(grep -h -E '^(URIs:|deb )' /etc/apt/sources.list.d/*.sources /etc/apt/sources.list 2>/dev/null \
        | grep -E 'debian/?( |$)' | grep -v security | head -n1 \
        | sed -E 's/^URIs:[[:space:]]*//; s/^deb[[:space:]]+(\[[^]]*\][[:space:]]+)?//; s/[[:space:]].*$//')
  echo "${uri:-http://deb.debian.org/debian}"
}

install_packages() {
  local missing=()
  command -v dockerd >/dev/null || missing+=(docker.io)
  command -v docker >/dev/null || missing+=(docker.io)
  command -v debootstrap >/dev/null || missing+=(debootstrap)
  [ ${#missing[@]} -eq 0 ] && return 0
  say "installing ${missing[*]} with apt-get"
  as_root env DEBIAN_FRONTEND=noninteractive apt-get update -qq || return 1
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
    "${missing[@]}" ca-certificates iptables >/dev/null || return 1
}

overlay_mount_works() {
  local probe ok=1
  probe=$(mktemp -d /var/tmp/toonbench-overlay.XXXXXX) || return 1
  mkdir -p "$probe"/{lower,upper,work,merged}
  if as_root mount -t overlay overlay \
      -o "lowerdir=$probe/lower,upperdir=$probe/upper,workdir=$probe/work" "$probe/merged" 2>/dev/null; then
    ok=0; as_root umount "$probe/merged"
  fi
  as_root rm -rf "$probe"
  return $ok
}

storage_driver() {
  if [ -n "${TOONBENCH_DOCKER_STORAGE_DRIVER:-}" ]; then echo "$TOONBENCH_DOCKER_STORAGE_DRIVER"
  elif overlay_mount_works; then echo overlay2
  else echo vfs; fi
}

start_dockerd() {
  local driver
  driver=$(storage_driver)
  say "starting dockerd --storage-driver=$driver (log: $DOCKERD_LOG)"
  as_root mkdir -p "$(dirname "$DOCKERD_LOG")"
  # setsid: the daemon outlives the shell (and test run) that started it.
  as_root setsid nohup dockerd --storage-driver="$driver" >>"$DOCKERD_LOG" 2>&1 < /dev/null &
  local waited=0
  while [ $waited -lt $START_WAIT_S ]; do
    engine_answers && { say "engine is up after ${waited}s"; return 0; }
    sleep 1; waited=$((waited + 1))
  done
  say "dockerd did not answer within ${START_WAIT_S}s; last log lines:"
  tail -n 15 "$DOCKERD_LOG" 2>/dev/null | sed 's/^/    /'
  return 1
}

ensure_engine() {
  if engine_answers; then say "engine already running: nothing to do"; return 0; fi
  install_packages || give_up "could not install docker.io/debootstrap with apt-get"
  command -v dockerd >/dev/null || give_up "dockerd is not installed"
  if pgrep -x dockerd >/dev/null; then
    say "dockerd is running but does not answer yet; waiting"
    for _ in $(seq $START_WAIT_S); do engine_answers && return 0; sleep 1; done
    give_up "dockerd is running but 'docker info' fails: $(docker info 2>&1 | tail -n1)"
  fi
  start_dockerd || give_up "dockerd failed to start (see $DOCKERD_LOG)"
}

build_rootfs_tarball() {
  command -v debootstrap >/dev/null || install_packages || return 1
  local mirror workdir
  mirror=$(debian_mirror)
  workdir=$(mktemp -d /tmp/toonbench-rootfs.XXXXXX)
  say "debootstrap bookworm minbase + python3-numpy from $mirror (about a minute)"
  if ! as_root debootstrap --variant=minbase --include=python3-minimal,python3-numpy \
      bookworm "$workdir/root" "$mirror" >"$workdir/debootstrap.log" 2>&1; then
    say "debootstrap failed; last lines:"; tail -n 15 "$workdir/debootstrap.log" | sed 's/^/    /'
    as_root rm -rf "$workdir"; return 1
  fi
  # Smaller image = faster container creation with vfs, which copies layers.
  as_root rm -rf "$workdir/root"/usr/share/{doc,man,info,locale,lintian} \
    "$workdir/root"/var/cache/apt/* "$workdir/root"/var/lib/apt/lists/* "$workdir/root"/var/log/*
  as_root mkdir -p "$CACHE_DIR"
  as_root tar -C "$workdir/root" --numeric-owner -cf "$BASE_TARBALL.partial" . \
    && as_root mv "$BASE_TARBALL.partial" "$BASE_TARBALL"
  as_root rm -rf "$workdir"
  say "cached rootfs tarball $BASE_TARBALL ($(du -h "$BASE_TARBALL" | cut -f1))"
}

ensure_base_image() {
  if docker image inspect "$BASE_IMAGE" >/dev/null 2>&1; then
    say "base image $BASE_IMAGE present"; return 0
  fi
  [ -s "$BASE_TARBALL" ] || build_rootfs_tarball || { say "could not build the base image"; return 1; }
  say "importing $BASE_TARBALL as $BASE_IMAGE"
  docker import --change 'ENV LANG=C.UTF-8' --change 'CMD ["python3"]' "$BASE_TARBALL" "$BASE_IMAGE" >/dev/null \
    || { say "docker import failed"; return 1; }
  say "base image $BASE_IMAGE ready ($(docker image inspect -f '{{.Size}}' "$BASE_IMAGE" | awk '{printf "%.0f MB", $1/1e6}'))"
}

ensure_engine
ensure_base_image || say "base image missing: tests that build submission images will be skipped"
exit 0
