"""pix2pix's U-Net 256 (Isola et al.): 8 down / 8 up with skip connections, L -> ab."""

from __future__ import annotations

import torch
from torch import nn

from colorgan.models.registry import Generator, register
from colorgan.spec.options import PriorSizes, UNetOptions


class UNetBlock(nn.Module):
    """One level: down conv, the inner levels, up conv, with the skip concatenated."""

    def __init__(
        self,
        outer: int,
        inner: int,
        submodule: nn.Module | None = None,
        outermost: bool = False,
        in_channels: int | None = None,
        out_channels: int | None = None,
        dropout: float = 0.0,
    ) -> None:
        super().__init__()
        self.outermost = outermost
        in_channels = in_channels or outer
        down = nn.Conv2d(in_channels, inner, 4, stride=2, padding=1, bias=False)
        if outermost:
            up = nn.ConvTranspose2d(inner * 2, out_channels or outer, 4, stride=2, padding=1)
            layers = [down, submodule, nn.ReLU(True), up, nn.Tanh()]
        elif submodule is None:  # innermost
            up = nn.ConvTranspose2d(inner, outer, 4, stride=2, padding=1, bias=False)
            layers = [nn.LeakyReLU(0.2, True), down, nn.ReLU(True), up, nn.BatchNorm2d(outer)]
        else:
            up = nn.ConvTranspose2d(inner * 2, outer, 4, stride=2, padding=1, bias=False)
            layers = [
                nn.LeakyReLU(0.2, True),
                down,
                nn.BatchNorm2d(inner),
                submodule,
                nn.ReLU(True),
                up,
                nn.BatchNorm2d(outer),
            ]
            if dropout:
                layers.append(nn.Dropout(dropout))
        self.model = nn.Sequential(*layers)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.model(x) if self.outermost else torch.cat([x, self.model(x)], 1)


@register("unet")
class UNetGenerator(Generator):
    """pix2pix's U-Net: `downs` halvings to a 1x1 bottleneck; it takes no priors."""

    Options = UNetOptions

    def __init__(self, ngf: int = 64, dropout: float = 0.0, downs: int = 8) -> None:
        super().__init__()
        if downs < 6:
            raise ValueError("the U-Net needs at least 6 halvings")
        block = UNetBlock(ngf * 8, ngf * 8)
        for _ in range(downs - 5):
            block = UNetBlock(ngf * 8, ngf * 8, block, dropout=dropout)
        block = UNetBlock(ngf * 4, ngf * 8, block)
        block = UNetBlock(ngf * 2, ngf * 4, block)
        block = UNetBlock(ngf, ngf * 2, block)
        self.model = UNetBlock(ngf, ngf, block, outermost=True, in_channels=1, out_channels=2)

    @classmethod
    def from_options(cls, options: UNetOptions, sizes: PriorSizes) -> UNetGenerator:
        return cls(downs=options.downs, dropout=options.dropout)

    def forward(
        self,
        l_norm: torch.Tensor,
        embedding: torch.Tensor | None = None,
        segmentation: torch.Tensor | None = None,
    ) -> torch.Tensor:
        """The priors are accepted for a common signature and ignored: pix2pix has none."""
        return self.model(l_norm)
