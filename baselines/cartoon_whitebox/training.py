"""Seeded CPU training of the White-box cartoonizer (Wang & Yu, CVPR 2020, §3.4-§4.1).

Eq. 8: L = λ1·L_surface + λ2·L_texture + λ3·L_structure + λ4·L_content + λ5·L_tv
with the paper's λ1 = 1, λ2 = 10, λ3 = 2·10³, λ4 = 2·10³, λ5 = 10⁴. The
adversarial terms (eqs. 2 and 5) are the non-saturating GAN losses of the two
PatchGAN discriminators on the surface and texture representations; the
structure and content terms (eqs. 4 and 6) are L1 distances of VGG19 conv4_4
features, normalised by the feature map's size C·H·W as in the authors' code
(which is what makes λ3 and λ4 of order 10³ sensible). As in §4.1, the
generator is first initialised on the photos alone (pixel L1 reconstruction),
then trained adversarially; Adam at 2·10⁻⁴, β = (0.5, 0.99). The network's
output is guided-filtered with the photo as guide (r = 1, ε = 5·10⁻³) in
training and at inference, as the authors do.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import torch
from tqdm import tqdm

from baselines.cartoon_whitebox.networks import Generator, GeneratorShape, PatchDiscriminator
from baselines.cartoon_whitebox.representations import (
    colour_shift_weights,
    guided_filter,
    random_colour_shift,
    structure_representation,
    surface_representation,
    total_variation,
)
from baselines.common.unpaired import Schedule, adam, discriminator_loss, generator_adversarial, random_crops, step
from baselines.common.vgg_features import VggFeatures

LEARNING_RATE = 2e-4
BETAS = (0.5, 0.99)
REFINE_RADIUS, REFINE_EPS = 1, 5e-3

TextureWeights = Callable[[int, torch.Generator], torch.Tensor]
TextureShift = Callable[[torch.Tensor, torch.Tensor], torch.Tensor]
ExtraLoss = Callable[[torch.Tensor, torch.Tensor], torch.Tensor]


@dataclass(frozen=True)
class Weights:
    """The λ of eq. 8; a zero weight skips its term (and its cost)."""

    surface: float = 1.0
    texture: float = 10.0
    structure: float = 2e3
    content: float = 2e3
    tv: float = 1e4


@dataclass(frozen=True)
class Recipe:
    """What a White-box-family cartoonizer trains with: its weights, its texture representation and an optional extra term.

    ``texture_weights(count, rng)`` draws per-image channel weights and
    ``texture(images, weights)`` maps ``[N, 3, H, W]`` to the one-channel texture
    representation; ``extra(photo, fake)`` is added to the generator's loss as it is.
    """

    name: str = "white-box"
    weights: Weights = Weights()
    texture_weights: TextureWeights = colour_shift_weights
    texture: TextureShift = random_colour_shift
    extra: ExtraLoss | None = None


def refine(photo: torch.Tensor, raw: torch.Tensor) -> torch.Tensor:
    """The authors' post-processing: the generator's output guided-filtered by the photo."""
    return guided_filter(photo, raw, REFINE_RADIUS, REFINE_EPS)


def cartoonize(generator: Generator, photo: torch.Tensor) -> torch.Tensor:
    return refine(photo, generator(photo)).clamp(-1, 1)


def feature_l1(mapped: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    """Mean L1 distance of conv4_4 features divided by their C·H·W (eqs. 4 and 6, normalised as the authors do)."""
    return (mapped - target).abs().mean() / mapped[0].numel()


def initialise(generator: Generator, photos: torch.Tensor, schedule: Schedule, rng: torch.Generator, desc: str) -> list[float]:
    """§4.1's initialisation: the generator learns to reconstruct photos (pixel L1) before any adversarial step."""
    optimizer = adam(generator.parameters(), LEARNING_RATE, BETAS)
    losses = []
    for _ in tqdm(range(schedule.init_steps), desc=f"{desc} init", leave=False):
        photo = random_crops(photos, schedule.batch_size, schedule.crop, rng)
        losses.append(step(optimizer, (generator(photo) - photo).abs().mean()))
    return losses


def generator_loss(recipe: Recipe, features: VggFeatures, photo: torch.Tensor, fake: torch.Tensor,
                   adversarial: torch.Tensor) -> torch.Tensor:
    """Eq. 8 without its adversarial terms (``adversarial`` carries them, already weighted), plus the recipe's extra term."""
    weights = recipe.weights
    fake_features = features(fake)
    with torch.no_grad():
        content_target = features(photo)
    loss = adversarial + weights.content * feature_l1(fake_features, content_target) + weights.tv * total_variation(fake)
    if weights.structure:
        with torch.no_grad():
            structure_target = features(structure_representation(fake))
        loss = loss + weights.structure * feature_l1(fake_features, structure_target)
    if recipe.extra is not None:
        loss = loss + recipe.extra(photo, fake)
    return loss


def train_cartoonizer(photos: torch.Tensor, cartoons: torch.Tensor, features: VggFeatures, shape: GeneratorShape,
                      schedule: Schedule, seed: int, disc_width: int, recipe: Recipe = Recipe()
                      ) -> tuple[Generator, dict[str, list[float]]]:
    """Train a generator on unpaired photos and cartoons (both ``[N, 3, H, W]`` in [-1, 1]); returns it and the loss log."""
    torch.manual_seed(seed)
    rng = torch.Generator().manual_seed(seed)
    generator = Generator(shape)
    surface_disc, texture_disc = PatchDiscriminator(3, disc_width), PatchDiscriminator(1, disc_width)
    log: dict[str, list[float]] = {"init": initialise(generator, photos, schedule, rng, recipe.name), "generator": [], "discriminator": []}
    g_optimizer = adam(generator.parameters(), LEARNING_RATE, BETAS)
    d_optimizer = adam([*surface_disc.parameters(), *texture_disc.parameters()], LEARNING_RATE, BETAS)
    for _ in tqdm(range(schedule.steps), desc=f"{recipe.name} GAN", leave=False):
        photo = random_crops(photos, schedule.batch_size, schedule.crop, rng)
        cartoon = random_crops(cartoons, schedule.batch_size, schedule.crop, rng)
        weights = recipe.texture_weights(schedule.batch_size, rng)
        fake = refine(photo, generator(photo))
        fake_surface, real_surface = surface_representation(fake), surface_representation(cartoon)
        fake_texture, real_texture = recipe.texture(fake, weights), recipe.texture(cartoon, weights)
        log["discriminator"].append(step(d_optimizer, discriminator_loss(surface_disc, real_surface, [fake_surface])
                                         + discriminator_loss(texture_disc, real_texture, [fake_texture])))
        adversarial = (recipe.weights.surface * generator_adversarial(surface_disc, fake_surface)
                       + recipe.weights.texture * generator_adversarial(texture_disc, fake_texture))
        log["generator"].append(step(g_optimizer, generator_loss(recipe, features, photo, fake, adversarial)))
    generator.eval()
    return generator, log
