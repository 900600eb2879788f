"""Seeded training of cartoon-cartoongan: ``python -m baselines.cartoon_cartoongan.train [--data ROOT] [--profile P] [--retrain]``.

Writes the checkpoint for the built benchmark's protocol under the cache
(see ``baselines.checkpoints``); same as ``python -m baselines train --only cartoon-cartoongan``.
"""

import sys

from baselines.cli import main

if __name__ == "__main__":
    sys.exit(main(["train", "--only", "cartoon-cartoongan", *sys.argv[1:]]))
