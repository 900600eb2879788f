"""Seeded CPU training of CartoonGAN (Chen, Lai & Liu, CVPR 2018, §3.2-§3.3).

Eq. 1: L(G, D) = L_adv(G, D) + ω·L_con(G, D), ω = 10.

- L_adv (eq. 2, the edge-promoting adversarial loss): the discriminator
  takes cartoons as real and both the generator's outputs and the
  edge-smoothed cartoons (``edges.smooth_edges``) as fake; the generator is
  trained with the non-saturating form −log D(G(p)).
- L_con (eq. 3): the L1 distance between VGG19 conv4_4 features of the
  output and of the photo (L1 rather than L2, so that the output may depart
  from the photo locally, as cartoons do).
- Initialisation (§3.3): the generator is first trained with ω·L_con alone,
  so that it reconstructs the photo's content before it meets the
  discriminator.

Adam at 2·10⁻⁴, β = (0.5, 0.999).
"""

from __future__ import annotations

import numpy as np
import torch
from tqdm import tqdm

from baselines.cartoon_cartoongan.edges import smooth_edges
from baselines.cartoon_cartoongan.networks import CartoonGanDiscriminator, CartoonGanGenerator, CartoonGanShape
from baselines.common.unpaired import Schedule, adam, discriminator_loss, generator_adversarial, random_crops, step, to_signed
from baselines.common.vgg_features import VggFeatures

CONTENT_WEIGHT = 10.0
LEARNING_RATE = 2e-4
BETAS = (0.5, 0.999)


def content_loss(features: VggFeatures, photo: torch.Tensor, fake: torch.Tensor) -> torch.Tensor:
    """Eq. 3: mean L1 distance of conv4_4 features of G(p) and p."""
    with torch.no_grad():
        target = features(photo)
    return (features(fake) - target).abs().mean()


def cartoon_pairs(cartoons: np.ndarray) -> torch.Tensor:
    """uint8 ``[N, H, W, 3]`` cartoons → ``[N, 6, H, W]``: each cartoon and its edge-smoothed copy, stacked on channels.

    Stacking keeps a crop of the cartoon and of its smoothed copy aligned.
    """
    smoothed = np.stack([smooth_edges(image) for image in cartoons])
    return torch.cat([to_signed(cartoons), to_signed(smoothed)], dim=1)


def train_cartoongan(photos: torch.Tensor, cartoons: np.ndarray, features: VggFeatures, shape: CartoonGanShape,
                     schedule: Schedule, seed: int, disc_width: int) -> tuple[CartoonGanGenerator, dict[str, list[float]]]:
    """Train on photos (``[N, 3, H, W]`` in [-1, 1]) and uint8 cartoons ``[M, H, W, 3]``; returns the generator and its loss log."""
    torch.manual_seed(seed)
    rng = torch.Generator().manual_seed(seed)
    pairs = cartoon_pairs(cartoons)
    generator, disc = CartoonGanGenerator(shape), CartoonGanDiscriminator(disc_width)
    g_optimizer = adam(generator.parameters(), LEARNING_RATE, BETAS)
    d_optimizer = adam(disc.parameters(), LEARNING_RATE, BETAS)
    log: dict[str, list[float]] = {"init": [], "generator": [], "discriminator": []}
    for _ in tqdm(range(schedule.init_steps), desc="cartoongan init", leave=False):
        photo = random_crops(photos, schedule.batch_size, schedule.crop, rng)
        log["init"].append(step(g_optimizer, CONTENT_WEIGHT * content_loss(features, photo, generator(photo))))
    for _ in tqdm(range(schedule.steps), desc="cartoongan GAN", leave=False):
        photo = random_crops(photos, schedule.batch_size, schedule.crop, rng)
        cartoon, smoothed = random_crops(pairs, schedule.batch_size, schedule.crop, rng).split(3, dim=1)
        fake = generator(photo)
        log["discriminator"].append(step(d_optimizer, discriminator_loss(disc, cartoon, [smoothed, fake])))
        g_loss = generator_adversarial(disc, fake) + CONTENT_WEIGHT * content_loss(features, photo, fake)
        log["generator"].append(step(g_optimizer, g_loss))
    generator.eval()
    return generator, log
