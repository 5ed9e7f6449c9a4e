"""The 70 x 70 PatchGAN (pix2pix's n_layers=3 discriminator) on the (L, ab) image."""

from __future__ import annotations

import torch
from torch import nn


class PatchDiscriminator(nn.Module):
    """C64-C128-C256-C512 then a 1-channel map; each output sees a 70 x 70 input patch."""

    def __init__(self, in_channels: int = 3, ndf: int = 64, n_layers: int = 3) -> None:
        super().__init__()
        layers: list[nn.Module] = [
            nn.Conv2d(in_channels, ndf, 4, stride=2, padding=1),
            nn.LeakyReLU(0.2, True),
        ]
        mult = 1
        for n in range(1, n_layers + 1):
            prev, mult = mult, min(2**n, 8)
            stride = 2 if n < n_layers else 1
            layers += [
                nn.Conv2d(ndf * prev, ndf * mult, 4, stride=stride, padding=1, bias=False),
                nn.BatchNorm2d(ndf * mult),
                nn.LeakyReLU(0.2, True),
            ]
        layers.append(nn.Conv2d(ndf * mult, 1, 4, stride=1, padding=1))
        self.model = nn.Sequential(*layers)

    def forward(self, l_norm: torch.Tensor, ab: torch.Tensor) -> torch.Tensor:
        return self.model(torch.cat([l_norm, ab.to(l_norm.dtype)], 1))
