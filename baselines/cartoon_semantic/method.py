"""Semantic-aware Cartoon Style Transfer (Bai): White-box's generator and discriminators with a semantic loss.

Training reads only the train split: its photos (domain ``photo``) train the
semantic module and are the generator's inputs, its cartoons (domain
``cartoon``) are the unpaired style set. The losses are in ``recipe.py``, the
semantic module in ``segmentation.py``; what was scaled for a CPU is in
``PROFILES`` and README.md.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import partial
from pathlib import Path

from baselines.cartoon_semantic.recipe import semantic_recipe
from baselines.cartoon_semantic.segmentation import semantic_loss, train_segmenter
from baselines.cartoon_whitebox.method import build_generator
from baselines.cartoon_whitebox.networks import GeneratorShape
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

NAME = "cartoon-semantic"
SEED = 0
SHAPE = GeneratorShape(width=16, blocks=2)
DISC_WIDTH = 16
SEGMENTER_WIDTH = 8
VGG_RANDOM_WIDTH_DIVISOR = 4


@dataclass(frozen=True)
class Profile:
    cartoonizer: Schedule
    segmenter_steps: int


PROFILES = {
    "default": Profile(Schedule(init_steps=50, steps=150, batch_size=8, crop=48), segmenter_steps=50),
    "tiny": Profile(Schedule(init_steps=3, steps=4, batch_size=4, crop=32), segmenter_steps=3),
}


def train(ctx: TrainContext) -> None:
    photos, cartoons = to_signed(domain_images(ctx, "photo")), to_signed(domain_images(ctx, "cartoon"))
    seed_everything(SEED)
    profile = PROFILES.get(ctx.profile, PROFILES["default"])
    schedule = profile.cartoonizer.fitted(smallest_side(photos, cartoons))
    segmenter = train_segmenter(photos, profile.segmenter_steps, schedule.batch_size, schedule.crop, SEED, SEGMENTER_WIDTH)
    features = load_vgg_features(VGG_RANDOM_WIDTH_DIVISOR, SEED)
    recipe = semantic_recipe(partial(semantic_loss, segmenter))
    generator, log = train_cartoonizer(photos, cartoons, features, SHAPE, schedule, SEED, DISC_WIDTH, recipe)
    save_generator(ctx.checkpoint, NAME, SHAPE, schedule, features.source.describe(), log, generator,
                   segmenter_steps=profile.segmenter_steps)


def predict(input_dir: Path, output_dir: Path, checkpoint: Path | None) -> None:
    generator = load_generator(NAME, checkpoint, build_generator)
    translate_with(lambda photo: cartoonize(generator, photo), input_dir, output_dir, "semantic-aware cartoonizing")
