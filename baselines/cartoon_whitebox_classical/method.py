"""White-box-style cartoonization without a network (surface, structure and texture representations).

Training only picks constants: ``selection.select_style`` scores a small grid
of styles by FID between cartoonized train photos and train cartoons, and the
checkpoint stores the winner with every point's FID. Predicting
(``inference.py``, which the model image's ``predict.py`` imports directly,
since the image holds no evaluator) reads the stored style and applies
``whitebox.cartoonize``.
"""

from __future__ import annotations

from dataclasses import asdict

from baselines.cartoon_whitebox_classical import selection
from baselines.cartoon_whitebox_classical.inference import NAME, load_style, predict
from baselines.common.context import TrainContext
from baselines.common.weights import save_checkpoint

__all__ = ["NAME", "SEED", "load_style", "predict", "train"]

SEED = 0


def train(ctx: TrainContext) -> None:
    size = selection.SAMPLE_SIZES.get(ctx.profile, selection.SAMPLE_SIZES["default"])
    style, fids = selection.select_style(ctx.built, size, SEED, selection.scorer_features())
    save_checkpoint(ctx.checkpoint, {
        "baseline": NAME, "style": asdict(style), "seed": SEED, "sample_size": size, "extractor": selection.EXTRACTOR,
        "grid": [{**asdict(point), "fid_cartoon": fid} for point, fid in zip(selection.GRID, fids)],
    })
