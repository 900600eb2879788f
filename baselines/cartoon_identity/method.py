"""Identity: returns each photo unchanged, the "FID with real" floor of the leaderboard."""

from __future__ import annotations

from pathlib import Path

from baselines.common.translate import translate_folder


def predict(input_dir: Path, output_dir: Path, checkpoint: Path | None = None) -> None:
    translate_folder(input_dir, output_dir, lambda photo: photo, desc="copying photos")
