"""Seeded training of illustration-cnn-svm-optimized: ``python -m baselines.illustration_cnn_svm_optimized.train [--data ROOT] [--profile P] [--retrain]``.

Writes the checkpoint for the built benchmark's protocol under the cache
(see ``baselines.checkpoints``); same as ``python -m baselines train --only illustration-cnn-svm-optimized``.
"""

import sys

from baselines.cli import main

if __name__ == "__main__":
    sys.exit(main(["train", "--only", "illustration-cnn-svm-optimized", *sys.argv[1:]]))
