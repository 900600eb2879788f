"""Container entrypoint of cartoon-whitebox-classical: ``python baselines/cartoon_whitebox_classical/predict.py /input /output``.

Reads ``/input/manifest.json`` and the images, writes the contract's outputs
to ``/output`` (DESIGN.md §3).
"""

import sys
from pathlib import Path

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from baselines.common.entry import run_predict  # noqa: E402
from baselines.cartoon_whitebox_classical.inference import predict  # noqa: E402

if __name__ == "__main__":
    sys.exit(run_predict(predict))
