"""Seeded training of icartoonface-arcface: ``python -m baselines.icartoonface_arcface.train [--data ROOT] [--profile P] [--retrain]``.

Writes the checkpoint for the built benchmark's protocol under the cache
(see ``baselines.checkpoints``); same as ``python -m baselines train --only icartoonface-arcface``.
"""

import sys

from baselines.cli import main

if __name__ == "__main__":
    sys.exit(main(["train", "--only", "icartoonface-arcface", *sys.argv[1:]]))
