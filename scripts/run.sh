#!/usr/bin/env bash
# Set up everything and run ToonBench on this machine (the embedded default):
# build the four benchmarks, migrate SQLite, train and submit the bundled
# baselines, start the evaluation worker beside the site.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
PY=.venv/bin/python
HOST=${TOONBENCH_HOST:-127.0.0.1}
PORT=${TOONBENCH_PORT:-8000}

if [ -z "${TOONBENCH_RUNNER:-}" ]; then
  if docker info >/dev/null 2>&1; then export TOONBENCH_RUNNER=docker; else
    export TOONBENCH_RUNNER=local
    echo "note: no Docker engine answers here; container submissions need one (scripts/services/docker.sh starts it)."
  fi
fi
if docker info >/dev/null 2>&1; then
  echo "==> starting the image registry on ${TOONBENCH_REGISTRY_ADDR:-127.0.0.1:5000} (users push with toonbench push)"
  TOONBENCH_REGISTRY_REALM=${TOONBENCH_REGISTRY_REALM:-http://$HOST:$PORT/registry/token/} scripts/services/registry.sh
fi

echo "==> building the four benchmarks under ${TOONBENCH_DATA_ROOT:-data}/ (server split, keyed by the build secret)"
$PY -m datasets build all --server
echo "==> migrating the database"
$PY manage.py migrate --noinput
$PY manage.py sync_benchmarks

if ! $PY -c "from evaluator.metrics.inception import find_standard_weights; find_standard_weights()" 2>/dev/null \
   && [ -z "${TOONBENCH_FID_EXTRACTOR:-}" ]; then
  export TOONBENCH_FID_EXTRACTOR=seeded-inception
  echo "note: pytorch-fid's Inception weights are not here (see README, 'FID weights'); cartoonization results"
  echo "      use the seeded extractor and are marked not comparable with published FIDs."
fi

mkdir -p var/log
echo "==> starting the evaluation worker (log: var/log/worker.log)"
$PY -m celery --workdir platform -A toonbench_site worker -B -Q evaluate,maintenance \
    --concurrency 1 --prefetch-multiplier 1 -n embedded@%h --loglevel INFO > var/log/worker.log 2>&1 &
WORKER=$!
trap 'kill $WORKER 2>/dev/null || true' EXIT

echo "==> training missing baselines in the background; leaderboards fill as they finish (log: var/log/baselines.log)"
# With an engine and the registry, ensure_baselines builds the runtime image on a background thread while
# the first baselines train (what scripts/build-baseline-images.sh builds, reused when unchanged), then builds
# each baseline's image, pushes it to the registry and submits it pinned to its digest.
$PY manage.py ensure_baselines > var/log/baselines.log 2>&1 &

echo "==> collecting static files"
$PY manage.py collectstatic --noinput -v0
# gunicorn with DEBUG off on loopback (TOONBENCH_DEBUG_SERVER=1: Django's debug server instead).
PYTHON=$PY scripts/serve.sh "$HOST" "$PORT"
