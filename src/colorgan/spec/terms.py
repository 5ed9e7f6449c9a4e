"""The loss terms recipes may name (loss.pretrain, loss.adversarial) and what each needs, apart
from their code (losses.py), so that reading a config checks them without importing torch."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Needs:
    """What a loss term needs beyond the fake ab and the batch."""

    discriminator: bool = False
    logits: bool = False  # a generator with head: classification
    colour_weights: bool = False
    features: bool = False  # the perceptual term's feature network


TERM_NEEDS: dict[str, Needs] = {
    "l1": Needs(),
    "mse": Needs(),
    "rebalanced_l1": Needs(colour_weights=True),
    "classification": Needs(colour_weights=True, logits=True),
    "perceptual": Needs(features=True),
    "colourfulness": Needs(),
    "cast": Needs(),
    "gan": Needs(discriminator=True),
}
