"""Seeded training of cartoon-whitebox-classical: ``python -m baselines.cartoon_whitebox_classical.train [--data ROOT] [--profile P] [--retrain]``.

Writes the checkpoint for the built benchmark's protocol under the cache
(see ``baselines.checkpoints``); same as ``python -m baselines train --only cartoon-whitebox-classical``.
"""

import sys

from baselines.cli import main

if __name__ == "__main__":
    sys.exit(main(["train", "--only", "cartoon-whitebox-classical", *sys.argv[1:]]))
