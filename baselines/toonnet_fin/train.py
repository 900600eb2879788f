"""Seeded training of toonnet-fin: ``python -m baselines.toonnet_fin.train [--data ROOT] [--profile P] [--retrain]``.

Writes the checkpoint for the built benchmark's protocol under the cache
(see ``baselines.checkpoints``); same as ``python -m baselines train --only toonnet-fin``.
"""

import sys

from baselines.cli import main

if __name__ == "__main__":
    sys.exit(main(["train", "--only", "toonnet-fin", *sys.argv[1:]]))
