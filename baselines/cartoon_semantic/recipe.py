"""The losses of Semantic-aware Cartoon Style Transfer (Bai, §3.2, eqs. 1-8) as a White-box-family recipe.

Eq. 1: L_total = Σ W_N·L_style,N + W_tv·L_tv + W_content·L_content + W_semantic·L_semantic,
with L_style = λ1·L_surface + λ2·L_texture (eq. 4). Unlike White-box's eq. 8
there is no structure (superpixel) term. The terms:

- surface (eq. 5): White-box's, a spectrally normalised PatchGAN on the
  self-guided-filtered outputs and cartoons;
- texture (eqs. 6-7): Bai's random colour shift, which differs from
  White-box's: F_rcs(I) = (1 − α)(β1·R + β2·G + β3·B) + α·Y with α = 0.8,
  β_c ~ U(−1, 1) and Y the standard grayscale (0.299, 0.587, 0.114), a
  second PatchGAN on it;
- content (eq. 2): L1 of VGG19 conv4_4 features of G(I_p) and I_p;
- semantic (eq. 3): L1 of the semantic module's outputs on G(I_p) and I_p
  (``segmentation.semantic_loss``);
- total variation (eq. 8): White-box's (eq. 7 there), divided by H·W·C.

The paper gives no values for the weights (its authors adjust them while
training, §4.1); the surface, texture, content and TV weights are
White-box's, and W_semantic is fixed at ``SEMANTIC_WEIGHT``.
"""

from __future__ import annotations

from collections.abc import Callable

import torch

from baselines.cartoon_whitebox.representations import LUMA_WEIGHTS
from baselines.cartoon_whitebox.training import Recipe, Weights

ALPHA = 0.8
SEMANTIC_WEIGHT = 10.0


def bai_shift_weights(count: int, generator: torch.Generator) -> torch.Tensor:
    """Eq. 6's per-image channel weights ``[count, 3]``: (1 − α)·β + α·(0.299, 0.587, 0.114), β ~ U(−1, 1)."""
    beta = 2.0 * torch.rand(count, 3, generator=generator) - 1.0
    return (1.0 - ALPHA) * beta + ALPHA * torch.tensor(LUMA_WEIGHTS)


def channel_mix(images: torch.Tensor, weights: torch.Tensor) -> torch.Tensor:
    """``[N, 3, H, W]`` → ``[N, 1, H, W]``: Σ_c w_c·I_c per image (eq. 6 with the weights above)."""
    return (images * weights[:, :, None, None]).sum(dim=1, keepdim=True)


def semantic_recipe(semantic: Callable[[torch.Tensor, torch.Tensor], torch.Tensor]) -> Recipe:
    """Eq. 1 as a training recipe, ``semantic(photo, fake)`` being eq. 3's unweighted loss."""
    return Recipe(name="semantic-aware", weights=Weights(structure=0.0), texture_weights=bai_shift_weights,
                  texture=channel_mix, extra=lambda photo, fake: SEMANTIC_WEIGHT * semantic(photo, fake))
