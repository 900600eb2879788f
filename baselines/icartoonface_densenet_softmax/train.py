"""Seeded training of icartoonface-densenet-softmax: ``python -m baselines.icartoonface_densenet_softmax.train [--data ROOT] [--profile P] [--retrain]``.

Writes the checkpoint for the built benchmark's protocol under the cache
(see ``baselines.checkpoints``); same as ``python -m baselines train --only icartoonface-densenet-softmax``.
"""

import sys

from baselines.cli import main

if __name__ == "__main__":
    sys.exit(main(["train", "--only", "icartoonface-densenet-softmax", *sys.argv[1:]]))
