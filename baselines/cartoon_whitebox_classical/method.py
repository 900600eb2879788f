"""White-box-style cartoonization without a network (surface, structure and texture representations)."""

from __future__ import annotations

from pathlib import Path

from baselines.cartoon_whitebox_classical.whitebox import cartoonize
from baselines.common.translate import translate_folder


def predict(input_dir: Path, output_dir: Path, checkpoint: Path | None = None) -> None:
    translate_folder(input_dir, output_dir, cartoonize, desc="white-box cartoonizing")
