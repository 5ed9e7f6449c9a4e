"""The 70 x 70 PatchGAN (pix2pix's n_layers=3 discriminator) on the (L, ab) image."""

from __future__ import annotations

import torch
from torch import nn


class PatchDiscriminator(nn.Module):
    """C64-C128-C256-C512 then a 1-channel map; each output sees a 70 x 70 input patch.

    `spectral_norm` (Miyato et al. 2018) bounds every conv's Lipschitz constant instead of
    batch-normalizing, a common stabilizer of GAN training since the paper.
    """

    def __init__(
        self, in_channels: int = 3, ndf: int = 64, n_layers: int = 3, spectral_norm: bool = False
    ) -> None:
        super().__init__()

        def conv(*args: int, bias: bool = True) -> nn.Module:
            layer = nn.Conv2d(*args, bias=bias or spectral_norm)
            return nn.utils.parametrizations.spectral_norm(layer) if spectral_norm else layer

        def norm(channels: int) -> nn.Module:
            return nn.Identity() if spectral_norm else nn.BatchNorm2d(channels)

        layers: list[nn.Module] = [conv(in_channels, ndf, 4, 2, 1), nn.LeakyReLU(0.2, True)]
        mult = 1
        for n in range(1, n_layers + 1):
            prev, mult = mult, min(2**n, 8)
            stride = 2 if n < n_layers else 1
            layers += [
                conv(ndf * prev, ndf * mult, 4, stride, 1, bias=False),
                norm(ndf * mult),
                nn.LeakyReLU(0.2, True),
            ]
        layers.append(conv(ndf * mult, 1, 4, 1, 1))
        self.model = nn.Sequential(*layers)

    def forward(self, l_norm: torch.Tensor, ab: torch.Tensor) -> torch.Tensor:
        return self.model(torch.cat([l_norm, ab.to(l_norm.dtype)], 1))
