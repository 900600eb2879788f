"""CartoonGAN (Chen, Lai & Liu, CVPR 2018): a generator trained with the edge-promoting adversarial loss and a VGG content loss.

Training reads only the train split: its photos (domain ``photo``) as inputs
and its cartoons (domain ``cartoon``), with their edge-smoothed copies, as the
unpaired style set. The recipe is in ``training.py``; what was scaled for a
CPU is in ``PROFILES`` and README.md.
"""

from __future__ import annotations

from pathlib import Path

from baselines.cartoon_cartoongan.networks import CartoonGanGenerator, CartoonGanShape
from baselines.cartoon_cartoongan.training import train_cartoongan
from baselines.common.context import TrainContext
from baselines.common.training import seed_everything
from baselines.common.unpaired import Schedule, domain_images, load_generator, save_generator, to_signed, translate_with
from baselines.common.vgg_features import load_vgg_features

NAME = "cartoon-cartoongan"
SEED = 0
SHAPE = CartoonGanShape(width=16, blocks=8)
DISC_WIDTH = 16
VGG_RANDOM_WIDTH_DIVISOR = 4
PROFILES = {
    "default": Schedule(init_steps=50, steps=200, batch_size=8, crop=48),
    "tiny": Schedule(init_steps=3, steps=4, batch_size=4, crop=32),
}


def train(ctx: TrainContext) -> None:
    photos, cartoons = domain_images(ctx, "photo"), domain_images(ctx, "cartoon")
    seed_everything(SEED)
    features = load_vgg_features(VGG_RANDOM_WIDTH_DIVISOR, SEED)
    schedule = PROFILES.get(ctx.profile, PROFILES["default"]).fitted(min(*photos.shape[1:3], *cartoons.shape[1:3]))
    generator, log = train_cartoongan(to_signed(photos), cartoons, features, SHAPE, schedule, SEED, DISC_WIDTH)
    save_generator(ctx.checkpoint, NAME, SHAPE, schedule, features.source.describe(), log, generator)


def build_generator(shape: dict) -> CartoonGanGenerator:
    return CartoonGanGenerator(CartoonGanShape(**shape))


def predict(input_dir: Path, output_dir: Path, checkpoint: Path | None) -> None:
    translate_with(load_generator(NAME, checkpoint, build_generator), input_dir, output_dir, "CartoonGAN cartoonizing")
