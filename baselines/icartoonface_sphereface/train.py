"""Seeded training of icartoonface-sphereface: ``python -m baselines.icartoonface_sphereface.train [--data ROOT] [--profile P] [--retrain]``.

Writes the checkpoint for the built benchmark's protocol under the cache
(see ``baselines.checkpoints``); same as ``python -m baselines train --only icartoonface-sphereface``.
"""

import sys

from baselines.cli import main

if __name__ == "__main__":
    sys.exit(main(["train", "--only", "icartoonface-sphereface", *sys.argv[1:]]))
