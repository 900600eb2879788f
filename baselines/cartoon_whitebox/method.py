"""White-box Cartoonization (Wang & Yu, CVPR 2020), learned: a generator trained against surface and texture discriminators.

Training reads only the train split: its photos (domain ``photo``) as inputs
and its cartoons (domain ``cartoon``) as the unpaired style set. The recipe is
in ``training.py``; what was scaled for a CPU is in ``PROFILES`` and README.md.
"""

from __future__ import annotations

from dataclasses import asdict
from pathlib import Path

import numpy as np
import torch

from baselines.cartoon_whitebox.networks import Generator, GeneratorShape
from baselines.cartoon_whitebox.training import Schedule, cartoonize, to_signed, to_uint8, train_cartoonizer
from baselines.common.context import TrainContext
from baselines.common.contract import read_rgb
from baselines.common.training import seed_everything
from baselines.common.translate import translate_folder
from baselines.common.vgg_features import load_vgg_features
from baselines.common.weights import load_checkpoint, save_checkpoint

NAME = "cartoon-whitebox"
SEED = 0
SHAPE = GeneratorShape(width=16, blocks=2)
DISC_WIDTH = 16
VGG_RANDOM_WIDTH_DIVISOR = 4
PROFILES = {
    "default": Schedule(init_steps=100, steps=300, batch_size=8, crop=64),
    "tiny": Schedule(init_steps=3, steps=4, batch_size=4, crop=32),
}


def domain_images(ctx: TrainContext, domain: str) -> np.ndarray:
    """The train split's images of one domain as uint8 ``[N, H, W, 3]``."""
    paths = [Path(ctx.built.folder) / item.path for item in ctx.built.train_items() if item.domain == domain]
    if not paths:
        raise ValueError(f"{ctx.built.folder}: the train split has no {domain} images")
    return np.stack([read_rgb(path) for path in paths])


def schedule_for(profile: str, side: int) -> Schedule:
    """The profile's schedule, its crop no larger than the images."""
    schedule = PROFILES.get(profile, PROFILES["default"])
    return Schedule(schedule.init_steps, schedule.steps, schedule.batch_size, min(schedule.crop, side))


def train(ctx: TrainContext) -> None:
    photos, cartoons = to_signed(domain_images(ctx, "photo")), to_signed(domain_images(ctx, "cartoon"))
    seed_everything(SEED)
    features = load_vgg_features(VGG_RANDOM_WIDTH_DIVISOR, SEED)
    schedule = schedule_for(ctx.profile, min(photos.shape[-1], photos.shape[-2], cartoons.shape[-1], cartoons.shape[-2]))
    generator, log = train_cartoonizer(photos, cartoons, features, SHAPE, schedule, SEED, DISC_WIDTH)
    save_checkpoint(ctx.checkpoint, {"baseline": NAME, "shape": asdict(SHAPE), "schedule": asdict(schedule),
                                     "vgg": features.source.describe(), "losses": log, "state": generator.state_dict()})


def load_generator(checkpoint: Path) -> Generator:
    payload = load_checkpoint(checkpoint)
    generator = Generator(GeneratorShape(**payload["shape"]))
    generator.load_state_dict(payload["state"])
    return generator.eval()


def predict(input_dir: Path, output_dir: Path, checkpoint: Path | None) -> None:
    if checkpoint is None:
        raise FileNotFoundError(f"{NAME} needs a checkpoint; train it with: python -m baselines train --only {NAME}")
    generator = load_generator(checkpoint)

    @torch.no_grad()
    def one(photo: np.ndarray) -> np.ndarray:
        return to_uint8(cartoonize(generator, to_signed(photo[None])))[0]

    translate_folder(input_dir, output_dir, one, desc="white-box (learned) cartoonizing")
