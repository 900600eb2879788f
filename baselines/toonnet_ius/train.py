"""Seeded training of toonnet-ius: ``python -m baselines.toonnet_ius.train [--data ROOT] [--profile P] [--retrain]``.

Writes the checkpoint for the built benchmark's protocol under the cache
(see ``baselines.checkpoints``); same as ``python -m baselines train --only toonnet-ius``.
"""

import sys

from baselines.cli import main

if __name__ == "__main__":
    sys.exit(main(["train", "--only", "toonnet-ius", *sys.argv[1:]]))
