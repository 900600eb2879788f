"""OpenCV's edge-preserving stylization filter (``cv2.stylization``) as a cartoonizer."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np

from baselines.common.translate import translate_folder

SIGMA_S = 60.0
SIGMA_R = 0.45


def stylize(photo: np.ndarray) -> np.ndarray:
    bgr = cv2.cvtColor(photo, cv2.COLOR_RGB2BGR)
    return cv2.cvtColor(cv2.stylization(bgr, sigma_s=SIGMA_S, sigma_r=SIGMA_R), cv2.COLOR_BGR2RGB)


def predict(input_dir: Path, output_dir: Path, checkpoint: Path | None = None) -> None:
    translate_folder(input_dir, output_dir, stylize, desc="cv2.stylization")
