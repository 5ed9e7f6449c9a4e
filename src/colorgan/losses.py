"""The objectives, as named terms that a recipe weighs (paper 5.2, 5.6).

A phase's loss is the weighted sum of the terms a config names (`loss.pretrain`,
`loss.adversarial`): `{l1: 1}` is the paper's pretraining, `{gan: 1, l1: 100}` its adversarial
phase, `{mse: 1}` Deep Koalarization's. Each term sees the prediction, the batch and a context
(the discriminator, colour-rarity weights) and declares which of those it needs. A new term is
one function and one line in TERMS; the run log and the loss plots pick it up by name.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from dataclasses import dataclass, field

import torch
import torch.nn.functional as F
from torch import nn

from colorgan.rebalance import bin_index


@dataclass
class LossContext:
    """What terms may need beyond the prediction and the batch."""

    discriminator: nn.Module | None = None
    colour_weights: torch.Tensor | None = None  # rebalance.rebalance_weights
    autocast: Callable[[], contextlib.AbstractContextManager] = field(
        default=contextlib.nullcontext
    )


Batch = dict[str, torch.Tensor]  # "l_norm", "ab" and the priors, on the training device


def reconstruction_l1(fake_ab: torch.Tensor, real_ab: torch.Tensor) -> torch.Tensor:
    """Mean absolute error of ab: the paper's reconstruction loss and the validation metric."""
    return F.l1_loss(fake_ab.float(), real_ab)


def l1(fake_ab: torch.Tensor, x: Batch, ctx: LossContext) -> torch.Tensor:
    return reconstruction_l1(fake_ab, x["ab"])


def mse(fake_ab: torch.Tensor, x: Batch, ctx: LossContext) -> torch.Tensor:
    return F.mse_loss(fake_ab.float(), x["ab"])


def rebalanced_l1(fake_ab: torch.Tensor, x: Batch, ctx: LossContext) -> torch.Tensor:
    """L1 of ab with each pixel weighted by the rarity of its true colour (Zhang et al.)."""
    assert ctx.colour_weights is not None
    return weighted_l1(fake_ab, x["ab"], ctx.colour_weights)


def gan(fake_ab: torch.Tensor, x: Batch, ctx: LossContext) -> torch.Tensor:
    """Non-saturating: G maximises log D(x, G(x)) instead of minimising log(1 - D)."""
    assert ctx.discriminator is not None
    with ctx.autocast():
        logits = ctx.discriminator(x["l_norm"], fake_ab)
    return generator_gan_loss(logits)


@dataclass(frozen=True)
class Term:
    fn: Callable[[torch.Tensor, Batch, LossContext], torch.Tensor]
    needs_discriminator: bool = False
    needs_colour_weights: bool = False


TERMS: dict[str, Term] = {
    "l1": Term(l1),
    "mse": Term(mse),
    "rebalanced_l1": Term(rebalanced_l1, needs_colour_weights=True),
    "gan": Term(gan, needs_discriminator=True),
}


def weighted_sum(
    weights: dict[str, float], fake_ab: torch.Tensor, x: Batch, ctx: LossContext
) -> tuple[torch.Tensor, dict[str, torch.Tensor]]:
    """The phase's loss and each term's unweighted value (what the run log records)."""
    values = {name: TERMS[name].fn(fake_ab, x, ctx) for name in weights}
    total: torch.Tensor | None = None
    for name, weight in weights.items():
        term = values[name] if weight == 1.0 else weight * values[name]
        total = term if total is None else total + term
    assert total is not None, "a phase needs at least one loss term"
    return total, values


def generator_gan_loss(fake_logits: torch.Tensor) -> torch.Tensor:
    fake_logits = fake_logits.float()
    return F.binary_cross_entropy_with_logits(fake_logits, torch.ones_like(fake_logits))


def discriminator_loss(logits: torch.Tensor, real: bool) -> torch.Tensor:
    """D's loss on one side (real or generated pairs); D's step sums the two halves."""
    logits = logits.float()
    target = torch.ones_like(logits) if real else torch.zeros_like(logits)
    return 0.5 * F.binary_cross_entropy_with_logits(logits, target)


def weighted_l1(
    fake_ab: torch.Tensor, real_ab: torch.Tensor, weights: torch.Tensor
) -> torch.Tensor:
    """L1 of ab with each pixel weighted by its bin's weight."""
    w = weights.to(real_ab.device)[bin_index(real_ab)]
    return ((fake_ab.float() - real_ab).abs().mean(1) * w).mean()
