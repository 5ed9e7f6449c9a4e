"""The generator registry: configs name a generator, the generator says what it needs.

Every generator maps normalized L (B, 1, H, W) in [-1, 1], plus the priors it declares, to
normalized ab (B, 2, H, W). A generator class registers under a name with `@register("name")`
and carries its `Options` dataclass (models/options.py, which configs fill under
`model.<name>` without importing torch); the options say which priors it takes (`needs`) and
whether it can run at an image size (`check`). The priors' sizes (embedding width,
segmentation classes) come from the prior backbones, never from the generator.
"""

from __future__ import annotations

from typing import Any, ClassVar

import torch
from torch import nn

from colorgan.base.errors import ColorganError
from colorgan.spec.options import OPTIONS, Needs, NoOptions, PriorSizes


class Generator(nn.Module):
    """The interface of a registered generator."""

    name: ClassVar[str]
    Options: ClassVar[type[NoOptions]] = NoOptions

    @classmethod
    def needs(cls, options: NoOptions) -> Needs:
        return options.needs()

    @classmethod
    def from_options(cls, options: Any, sizes: PriorSizes) -> Generator:
        raise NotImplementedError

    def load_pretrained(self) -> None:
        """Load pretrained parts before training starts (a generator file holds them all)."""

    def param_groups(self, lr: float) -> list[dict]:
        """The optimizer's parameter groups at learning rate `lr` (parts may learn slower)."""
        return [{"params": [p for p in self.parameters() if p.requires_grad], "lr": lr}]

    def forward(
        self,
        l_norm: torch.Tensor,
        embedding: torch.Tensor | None = None,
        segmentation: torch.Tensor | None = None,
    ) -> torch.Tensor:
        raise NotImplementedError


GENERATORS: dict[str, type[Generator]] = {}


def register(name: str):  # a class decorator
    def add(cls: type[Generator]) -> type[Generator]:
        if OPTIONS.get(name) is not cls.Options:
            raise TypeError(f"generator {name!r}: its Options must be options.OPTIONS[{name!r}]")
        cls.name = name
        GENERATORS[name] = cls
        return cls

    return add


def generator_class(name: str) -> type[Generator]:
    if name not in GENERATORS:
        raise ColorganError(
            f"model.generator: {name!r} is not one of {', '.join(sorted(GENERATORS))}"
        )
    return GENERATORS[name]
