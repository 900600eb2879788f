"""Seeded training of toonnet-resnet: ``python -m baselines.toonnet_resnet.train [--data ROOT] [--profile P] [--retrain]``.

Writes the checkpoint for the built benchmark's protocol under the cache
(see ``baselines.checkpoints``); same as ``python -m baselines train --only toonnet-resnet``.
"""

import sys

from baselines.cli import main

if __name__ == "__main__":
    sys.exit(main(["train", "--only", "toonnet-resnet", *sys.argv[1:]]))
