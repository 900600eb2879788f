"""Seeded training of cartoon-semantic: ``python -m baselines.cartoon_semantic.train [--data ROOT] [--profile P] [--retrain]``.

Writes the checkpoint for the built benchmark's protocol under the cache
(see ``baselines.checkpoints``); same as ``python -m baselines train --only cartoon-semantic``.
"""

import sys

from baselines.cli import main

if __name__ == "__main__":
    sys.exit(main(["train", "--only", "cartoon-semantic", *sys.argv[1:]]))
