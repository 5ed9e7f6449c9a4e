"""The objectives: L1 / MSE reconstruction and the non-saturating GAN loss (paper 5.2, 5.6)."""

from __future__ import annotations

import torch
import torch.nn.functional as F


def reconstruction_loss(kind: str, fake_ab: torch.Tensor, real_ab: torch.Tensor) -> torch.Tensor:
    fake_ab = fake_ab.float()
    return F.l1_loss(fake_ab, real_ab) if kind == "l1" else F.mse_loss(fake_ab, real_ab)


def generator_gan_loss(fake_logits: torch.Tensor) -> torch.Tensor:
    """Non-saturating: G maximises log D(x, G(x)) instead of minimising log(1 - D)."""
    fake_logits = fake_logits.float()
    return F.binary_cross_entropy_with_logits(fake_logits, torch.ones_like(fake_logits))


def discriminator_loss(logits: torch.Tensor, real: bool) -> torch.Tensor:
    """D's loss on one side (real or generated pairs); D's step sums the two halves."""
    logits = logits.float()
    target = torch.ones_like(logits) if real else torch.zeros_like(logits)
    return 0.5 * F.binary_cross_entropy_with_logits(logits, target)
