"""The objectives, as named terms that a recipe weighs (paper 5.2, 5.6).

A phase's loss is the weighted sum of the terms a config names (`loss.pretrain`,
`loss.adversarial`): `{l1: 1}` is the paper's pretraining, `{gan: 1, l1: 100}` its adversarial
phase, `{mse: 1}` Deep Koalarization's. Each term sees the prediction, the batch and a context
(the discriminator, colour-rarity weights, a feature network) and declares which it needs.
The feature network of the perceptual term is ImageNet's EfficientNet-Lite0, never FID's
Inception-v3, which stays an evaluation-only network so that FID and KID stay honest. A new
term is one function here, named in _FUNCTIONS, and a line in terms.TERM_NEEDS; the run log
and the loss plots pick it up by name.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from dataclasses import dataclass, field

import torch
import torch.nn.functional as F
from torch import nn

from colorgan.colour.bins import bin_index, soft_bins
from colorgan.colour.tensors import colourfulness as colourfulness_of
from colorgan.colour.tensors import lab_normalized_to_rgb
from colorgan.priors.backbones import (
    freeze,
    lite_input,
    lite_network,
    lite_stages,
    lite_weights_file,
    stage_blocks,
)
from colorgan.spec.terms import TERM_NEEDS, Needs


@dataclass
class LossContext:
    """What terms may need beyond the prediction and the batch."""

    discriminator: nn.Module | None = None
    colour_weights: torch.Tensor | None = None  # rebalance.rebalance_weights
    features: PerceptualFeatures | None = None
    autocast: Callable[[], contextlib.AbstractContextManager] = field(
        default=contextlib.nullcontext
    )


Batch = dict[str, torch.Tensor]  # "l_norm", "ab" and the priors, on the training device


def reconstruction_l1(fake_ab: torch.Tensor, real_ab: torch.Tensor) -> torch.Tensor:
    """Mean absolute error of ab: the paper's reconstruction loss."""
    return F.l1_loss(fake_ab.float(), real_ab)


def photo_l1(fake_ab: torch.Tensor, real_ab: torch.Tensor) -> torch.Tensor:
    """Each photo's mean absolute error of ab: the validation metric, kept per photo for its
    standard error."""
    return (fake_ab.float() - real_ab).abs().flatten(1).mean(1)


def l1(fake_ab: torch.Tensor, x: Batch, ctx: LossContext) -> torch.Tensor:
    return reconstruction_l1(fake_ab, x["ab"])


def mse(fake_ab: torch.Tensor, x: Batch, ctx: LossContext) -> torch.Tensor:
    return F.mse_loss(fake_ab.float(), x["ab"])


def rebalanced_l1(fake_ab: torch.Tensor, x: Batch, ctx: LossContext) -> torch.Tensor:
    """L1 of ab with each pixel weighted by the rarity of its true colour (Zhang et al.)."""
    assert ctx.colour_weights is not None
    return weighted_l1(fake_ab, x["ab"], ctx.colour_weights)


def classification(fake_ab: torch.Tensor, x: Batch, ctx: LossContext) -> torch.Tensor:
    """Cross-entropy of a classifying generator's logits over ab bins against the true ab
    (at the logits' size, soft over its four nearest bins), each pixel weighted by its
    colour's rarity (Zhang et al. 2016): the net learns which colours an object may have,
    and the annealed mean picks one instead of averaging them to brown."""
    assert ctx.colour_weights is not None
    logits = x["logits"].float()
    ab = F.adaptive_avg_pool2d(x["ab"], logits.shape[2:])
    index, weight = soft_bins(ab)
    log_p = torch.log_softmax(logits, 1).gather(1, index)
    rarity = ctx.colour_weights.to(ab.device)[bin_index(ab)]
    return (-(weight * log_p).sum(1) * rarity).mean()


def gan(fake_ab: torch.Tensor, x: Batch, ctx: LossContext) -> torch.Tensor:
    """Non-saturating: G maximises log D(x, G(x)) instead of minimising log(1 - D)."""
    assert ctx.discriminator is not None
    with ctx.autocast():
        logits = ctx.discriminator(x["l_norm"], fake_ab)
    return generator_gan_loss(logits)


def perceptual(fake_ab: torch.Tensor, x: Batch, ctx: LossContext) -> torch.Tensor:
    """Distance of the colorization from the photo in a pretrained network's features: what a
    plausible colour is, rather than the one colour per pixel that L1 asks for."""
    assert ctx.features is not None
    fake = lab_normalized_to_rgb(x["l_norm"], fake_ab)
    with torch.no_grad():
        real = lab_normalized_to_rgb(x["l_norm"], x["ab"])
    return ctx.features.distance(fake, real)


def colourfulness(fake_ab: torch.Tensor, x: Batch, ctx: LossContext) -> torch.Tensor:
    """How far the colorization falls short of the photo's colourfulness (Hasler and
    Suesstrunk, in units of 100), never rewarding more colour than the photo has, which would
    paint blocks of it."""
    fake = lab_normalized_to_rgb(x["l_norm"], fake_ab) * 255.0
    with torch.no_grad():
        real = lab_normalized_to_rgb(x["l_norm"], x["ab"]) * 255.0
    return (colourfulness_of(real) - colourfulness_of(fake)).clamp(min=0.0).mean() / 100.0


def cast(fake_ab: torch.Tensor, x: Batch, ctx: LossContext) -> torch.Tensor:
    """L1 between each photo's mean predicted ab and its true mean ab: the colour cast that
    `colorgan evaluate` reports, as a loss. A classifier that picks colours boldly can still
    tint a whole photo; this term costs only the tint, not the choice of colour per pixel."""
    return F.l1_loss(fake_ab.float().mean((2, 3)), x["ab"].mean((2, 3)))


class PerceptualFeatures(nn.Module):
    """Frozen ImageNet EfficientNet-Lite0, its stages at 1/2 .. 1/16 compared by L1."""

    def __init__(self, stages: int = 4) -> None:
        super().__init__()
        self.net = freeze(lite_network(lite_weights_file()))
        self.blocks, self.stages = stage_blocks(self.net), stages

    def distance(self, a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
        """Mean over stages of the L1 between the features of two RGB batches in [0, 1]."""
        feats_a = lite_stages(self.net, lite_input(a), self.blocks, self.stages)
        with torch.no_grad():
            feats_b = lite_stages(self.net, lite_input(b), self.blocks, self.stages)
        return torch.stack(
            [F.l1_loss(fa, fb) for fa, fb in zip(feats_a, feats_b, strict=True)]
        ).mean()


@dataclass(frozen=True)
class Term:
    fn: Callable[[torch.Tensor, Batch, LossContext], torch.Tensor]
    needs: Needs


_FUNCTIONS = {
    "l1": l1,
    "mse": mse,
    "rebalanced_l1": rebalanced_l1,
    "classification": classification,
    "perceptual": perceptual,
    "colourfulness": colourfulness,
    "cast": cast,
    "gan": gan,
}
TERMS: dict[str, Term] = {name: Term(_FUNCTIONS[name], needs) for name, needs in TERM_NEEDS.items()}


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
