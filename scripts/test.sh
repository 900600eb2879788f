#!/usr/bin/env bash
# Set up everything and run the whole test suite (extra arguments go to pytest).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
for service in scripts/services/*.sh; do
  [ -e "$service" ] || continue
  case "$service" in *redis.sh) continue ;; esac  # redis is started per test session on a free port
  bash "$service" || echo "warning: $service could not start its service; tests that need it will say so"
done
exec .venv/bin/python -m pytest "$@"
