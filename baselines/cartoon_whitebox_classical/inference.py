"""Predicting with the chosen style: what the model image runs (no evaluator there, unlike ``selection.py``)."""

from __future__ import annotations

from pathlib import Path

from baselines.cartoon_whitebox_classical.whitebox import Style, cartoonize
from baselines.common.translate import translate_folder
from baselines.common.weights import load_checkpoint

NAME = "cartoon-whitebox-classical"


def load_style(checkpoint: Path | None) -> Style:
    """The style a checkpoint stores."""
    if checkpoint is None:
        raise FileNotFoundError(f"{NAME} needs a checkpoint; train it with: python -m baselines train --only {NAME}")
    return Style(**load_checkpoint(checkpoint)["style"])


def predict(input_dir: Path, output_dir: Path, checkpoint: Path | None) -> None:
    style = load_style(checkpoint)
    translate_folder(input_dir, output_dir, lambda photo: cartoonize(photo, style), desc="white-box cartoonizing")
