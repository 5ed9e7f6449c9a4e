"""The mean of generators trained apart: each member predicts ab from the same input, scaled
by its own saturation, and the results are averaged. Where two models err on a photo's overall
colour independently, their mean errs less; a second encoder's view costs its FLOPs."""

from __future__ import annotations

import torch
from torch import nn

from colorgan.models.registry import Generator, generator_class, register
from colorgan.spec.options import MeanOptions, PriorSizes


@register("mean")
class MeanGenerator(Generator):
    Options = MeanOptions

    def __init__(self, members: list[Generator], scales: list[float], hinted: list[bool]) -> None:
        super().__init__()
        self.members = nn.ModuleList(members)
        self.scales, self.hinted = list(scales), list(hinted)

    @classmethod
    def from_options(cls, options: MeanOptions, sizes: PriorSizes) -> MeanGenerator:
        members, hinted = [], []
        for name, member in options.member_options():
            needs = member.needs()
            own = PriorSizes(
                sizes.embedding if needs.embedding else 0,
                sizes.segmentation if needs.segmentation else 0,
            )
            members.append(generator_class(name).from_options(member, own))
            hinted.append(needs.hints)
        return cls(members, options.scales, hinted)

    def forward(
        self,
        l_norm: torch.Tensor,
        embedding: torch.Tensor | None = None,
        segmentation: torch.Tensor | None = None,
        hints: torch.Tensor | None = None,
    ) -> torch.Tensor:
        """As each member's forward; `hints` go to the members that take them."""
        total = 0
        for member, scale, hinted in zip(self.members, self.scales, self.hinted, strict=True):
            extra = {"hints": hints} if hinted else {}
            total = total + scale * member(l_norm, embedding, segmentation, **extra)
        return total / len(self.members)
