#!/usr/bin/env bash
# Build the baselines' model images: the runtime image (the base image plus the
# wheels of baselines/requirements.txt, from pip's configured sources on this
# machine), then one thin image per baseline FROM it, holding its code and its
# checkpoint on the current protocol. Tags are content keys, so a rerun with
# nothing changed builds nothing. Extra arguments go to python -m baselines.build_images
# (--only NAME..., --data ROOT).
set -euo pipefail
cd "$(dirname "$0")/.."
exec "${PYTHON:-.venv/bin/python}" -m baselines.build_images "$@"
