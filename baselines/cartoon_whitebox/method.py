"""White-box Cartoonization (Wang & Yu, CVPR 2020), learned: a generator trained against surface and texture discriminators.

Training reads only the train split: its photos (domain ``photo``) as inputs
and its cartoons (domain ``cartoon``) as the unpaired style set. The recipe is
in ``training.py``; what was scaled for a CPU is in ``PROFILES`` and README.md.
"""

from __future__ import annotations

from pathlib import Path

from baselines.cartoon_whitebox.networks import Generator, GeneratorShape
from baselines.cartoon_whitebox.training import cartoonize, train_cartoonizer
from baselines.common.context import TrainContext
from baselines.common.training import seed_everything
from baselines.common.unpaired import (
    Schedule,
    domain_images,
    load_generator,
    save_generator,
    smallest_side,
    to_signed,
    translate_with,
)
from baselines.common.vgg_features import load_vgg_features

NAME = "cartoon-whitebox"
SEED = 0
SHAPE = GeneratorShape(width=16, blocks=2)
DISC_WIDTH = 16
VGG_RANDOM_WIDTH_DIVISOR = 4
PROFILES = {
    "default": Schedule(init_steps=50, steps=200, batch_size=8, crop=48),
    "tiny": Schedule(init_steps=3, steps=4, batch_size=4, crop=32),
}


def train(ctx: TrainContext) -> None:
    photos, cartoons = to_signed(domain_images(ctx, "photo")), to_signed(domain_images(ctx, "cartoon"))
    seed_everything(SEED)
    features = load_vgg_features(VGG_RANDOM_WIDTH_DIVISOR, SEED)
    schedule = PROFILES.get(ctx.profile, PROFILES["default"]).fitted(smallest_side(photos, cartoons))
    generator, log = train_cartoonizer(photos, cartoons, features, SHAPE, schedule, SEED, DISC_WIDTH)
    save_generator(ctx.checkpoint, NAME, SHAPE, schedule, features.source.describe(), log, generator)


def build_generator(shape: dict) -> Generator:
    return Generator(GeneratorShape(**shape))


def predict(input_dir: Path, output_dir: Path, checkpoint: Path | None) -> None:
    generator = load_generator(NAME, checkpoint, build_generator)
    translate_with(lambda photo: cartoonize(generator, photo), input_dir, output_dir, "white-box (learned) cartoonizing")
