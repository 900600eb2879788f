#!/usr/bin/env bash
# Serve the site as the embedded default does: gunicorn, DEBUG off, plain HTTP on loopback.
#   scripts/serve.sh [HOST] [PORT]      (defaults 127.0.0.1 8000; static files must be collected first)
#   TOONBENCH_DEBUG_SERVER=1 scripts/serve.sh   Django's debug server with DEBUG=1 instead: never expose it
# With DEBUG off, the secret key is generated on first start and kept in var/secret_key (mode 0600)
# unless SECRET_KEY is set. There is no TLS here, so no HTTPS redirect and no secure-only cookies;
# behind a TLS proxy, see platform/DEPLOY.md instead.
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PYTHON:-.venv/bin/python}
HOST=${1:-127.0.0.1}
PORT=${2:-8000}

if [ "${TOONBENCH_DEBUG_SERVER:-0}" = "1" ]; then
  echo "==> ToonBench (Django's debug server, DEBUG=1: never expose it) on http://$HOST:$PORT/"
  DEBUG=1 exec "$PY" manage.py runserver "$HOST:$PORT" --noreload
fi
export DEBUG=0 SECURE_SSL_REDIRECT=${SECURE_SSL_REDIRECT:-0} SESSION_COOKIE_SECURE=${SESSION_COOKIE_SECURE:-0} \
  CSRF_COOKIE_SECURE=${CSRF_COOKIE_SECURE:-0} SECURE_HSTS_SECONDS=${SECURE_HSTS_SECONDS:-0} \
  ALLOWED_HOSTS=${ALLOWED_HOSTS:-localhost,127.0.0.1,[::1],$HOST}
echo "==> ToonBench on http://$HOST:$PORT/"
exec "$PY" -m gunicorn --chdir platform toonbench_site.wsgi:application --bind "$HOST:$PORT" \
  --worker-class gthread --workers "${TOONBENCH_WEB_WORKERS:-2}" --threads "${TOONBENCH_WEB_THREADS:-4}" \
  --timeout 120 --graceful-timeout 10 --access-logfile - --error-logfile -
