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

from dataclasses import dataclass

import numpy as np
import torch
import torch.nn.functional as F
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
from baselines.common.vgg_features import VggFeatures

LAMBDA_SURFACE, LAMBDA_TEXTURE, LAMBDA_STRUCTURE, LAMBDA_CONTENT, LAMBDA_TV = 1.0, 10.0, 2e3, 2e3, 1e4
LEARNING_RATE = 2e-4
BETAS = (0.5, 0.99)
REFINE_RADIUS, REFINE_EPS = 1, 5e-3


@dataclass(frozen=True)
class Schedule:
    """Steps of the reconstruction initialisation and of adversarial training, batch size and crop side."""

    init_steps: int
    steps: int
    batch_size: int
    crop: int


def to_signed(images: np.ndarray) -> torch.Tensor:
    """uint8 ``[N, H, W, 3]`` → float ``[N, 3, H, W]`` in [-1, 1]."""
    return torch.from_numpy(np.ascontiguousarray(images)).permute(0, 3, 1, 2).float() / 127.5 - 1.0


def to_uint8(images: torch.Tensor) -> np.ndarray:
    """float ``[N, 3, H, W]`` in [-1, 1] → uint8 ``[N, H, W, 3]``."""
    return ((images.clamp(-1, 1) + 1.0) * 127.5 + 0.5).permute(0, 2, 3, 1).numpy().astype(np.uint8)


def refine(photo: torch.Tensor, raw: torch.Tensor) -> torch.Tensor:
    """The authors' post-processing: the generator's output guided-filtered by the photo."""
    return guided_filter(photo, raw, REFINE_RADIUS, REFINE_EPS)


def cartoonize(generator: Generator, photo: torch.Tensor) -> torch.Tensor:
    return refine(photo, generator(photo)).clamp(-1, 1)


def random_crops(images: torch.Tensor, count: int, crop: int, generator: torch.Generator) -> torch.Tensor:
    """``count`` random ``crop``² patches of randomly chosen images, each flipped with probability ½."""
    picks = torch.randint(len(images), (count,), generator=generator).tolist()
    height, width = images.shape[-2:]
    ys = torch.randint(height - crop + 1, (count,), generator=generator).tolist()
    xs = torch.randint(width - crop + 1, (count,), generator=generator).tolist()
    flips = (torch.rand(count, generator=generator) < 0.5).tolist()
    patches = [images[i, :, y : y + crop, x : x + crop] for i, y, x in zip(picks, ys, xs)]
    return torch.stack([patch.flip(-1) if flip else patch for patch, flip in zip(patches, flips)])


def feature_l1(mapped: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    """Mean L1 distance of conv4_4 features divided by their C·H·W (eqs. 4 and 6, normalised as the authors do)."""
    return (mapped - target).abs().mean() / mapped[0].numel()


def discriminator_loss(disc: PatchDiscriminator, real: torch.Tensor, fake: torch.Tensor) -> torch.Tensor:
    """Eqs. 2 / 5 for the discriminator: −log D(cartoon) − log(1 − D(G(photo))) per patch."""
    return F.softplus(-disc(real)).mean() + F.softplus(disc(fake.detach())).mean()


def generator_adversarial(disc: PatchDiscriminator, fake: torch.Tensor) -> torch.Tensor:
    """The non-saturating generator side of eqs. 2 / 5: −log D(G(photo))."""
    return F.softplus(-disc(fake)).mean()


def adam(parameters) -> torch.optim.Adam:
    return torch.optim.Adam(parameters, lr=LEARNING_RATE, betas=BETAS)


def train_cartoonizer(photos: torch.Tensor, cartoons: torch.Tensor, features: VggFeatures, shape: GeneratorShape,
                      schedule: Schedule, seed: int, disc_width: int) -> tuple[Generator, dict[str, list[float]]]:
    """Train a generator on unpaired photos and cartoons (both ``[N, 3, H, W]`` in [-1, 1]); returns it and the loss log."""
    torch.manual_seed(seed)
    rng = torch.Generator().manual_seed(seed)
    generator = Generator(shape)
    surface_disc, texture_disc = PatchDiscriminator(3, disc_width), PatchDiscriminator(1, disc_width)
    g_optimizer = adam(generator.parameters())
    d_optimizer = adam([*surface_disc.parameters(), *texture_disc.parameters()])
    log: dict[str, list[float]] = {"init": [], "generator": [], "discriminator": []}
    for _ in tqdm(range(schedule.init_steps), desc="white-box init", leave=False):
        photo = random_crops(photos, schedule.batch_size, schedule.crop, rng)
        loss = (generator(photo) - photo).abs().mean()
        g_optimizer.zero_grad(set_to_none=True)
        loss.backward()
        g_optimizer.step()
        log["init"].append(loss.item())
    for _ in tqdm(range(schedule.steps), desc="white-box GAN", leave=False):
        photo = random_crops(photos, schedule.batch_size, schedule.crop, rng)
        cartoon = random_crops(cartoons, schedule.batch_size, schedule.crop, rng)
        weights = colour_shift_weights(schedule.batch_size, rng)
        fake = refine(photo, generator(photo))
        fake_surface, real_surface = surface_representation(fake), surface_representation(cartoon)
        fake_texture, real_texture = random_colour_shift(fake, weights), random_colour_shift(cartoon, weights)

        d_loss = discriminator_loss(surface_disc, real_surface, fake_surface) + discriminator_loss(texture_disc, real_texture, fake_texture)
        d_optimizer.zero_grad(set_to_none=True)
        d_loss.backward()
        d_optimizer.step()

        with torch.no_grad():
            content_target = features(photo)
            structure_target = features(structure_representation(fake))
        fake_features = features(fake)
        g_loss = (LAMBDA_SURFACE * generator_adversarial(surface_disc, fake_surface)
                  + LAMBDA_TEXTURE * generator_adversarial(texture_disc, fake_texture)
                  + LAMBDA_STRUCTURE * feature_l1(fake_features, structure_target)
                  + LAMBDA_CONTENT * feature_l1(fake_features, content_target)
                  + LAMBDA_TV * total_variation(fake))
        g_optimizer.zero_grad(set_to_none=True)
        g_loss.backward()
        g_optimizer.step()
        log["generator"].append(g_loss.item())
        log["discriminator"].append(d_loss.item())
    generator.eval()
    return generator, log
