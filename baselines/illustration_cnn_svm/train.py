"""Seeded training of illustration-cnn-svm: ``python -m baselines.illustration_cnn_svm.train [--data ROOT] [--profile P] [--retrain]``.

Writes the checkpoint for the built benchmark's protocol under the cache
(see ``baselines.checkpoints``); same as ``python -m baselines train --only illustration-cnn-svm``.
"""

import sys

from baselines.cli import main

if __name__ == "__main__":
    sys.exit(main(["train", "--only", "illustration-cnn-svm", *sys.argv[1:]]))
