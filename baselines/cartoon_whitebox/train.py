"""Seeded training of cartoon-whitebox: ``python -m baselines.cartoon_whitebox.train [--data ROOT] [--profile P] [--retrain]``.

Writes the checkpoint for the built benchmark's protocol under the cache
(see ``baselines.checkpoints``); same as ``python -m baselines train --only cartoon-whitebox``.
"""

import sys

from baselines.cli import main

if __name__ == "__main__":
    sys.exit(main(["train", "--only", "cartoon-whitebox", *sys.argv[1:]]))
