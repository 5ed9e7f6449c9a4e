"""The restorer's network: where a print is damaged, and what lies under the damage.

A U-Net on the grey photo whose encoder is ImageNet's EfficientNet-Lite0 (the default model's
own, its weights from a pip package) up to 1/16 of the photo, decoded with skips from every
stage and from a small full-resolution branch, because a scratch may be a pixel wide and the
encoder's first stage already halves the photo. The 1/16 stage is there for context: to the
1/8 one alone, a twig or a fin's edge looks as a crack does; seen with the branch or the
fish, it does not. Two planes come out at full size: the logit of
"damaged here" (scratches, cracks, dust, spots, tears) and the photo's grey as it would be
without the damage (the learned fill, in 0..1). It is fully convolutional, so it runs on tiles
of any size that is a multiple of 16 (pipeline.restore tiles a photo of any size).
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from colorgan.priors.backbones import (
    lite_input,
    lite_network,
    lite_stages,
    lite_weights_file,
    stage_blocks,
    stage_channels,
)

STAGES = 4  # Lite0's stages used: 1/2, 1/4, 1/8, 1/16
DECODER = (40, 32, 24, 16)  # channels from 1/8 up to full size
FULL = 8  # the full-resolution branch's channels
MULTIPLE = 2**STAGES  # a tile's side is a multiple of this


def _block(in_channels: int, out_channels: int, convs: int = 2) -> nn.Sequential:
    layers: list[nn.Module] = []
    for k in range(convs):
        layers += [nn.Conv2d(in_channels if k == 0 else out_channels, out_channels, 3, padding=1)]
        layers += [nn.ReLU(inplace=True)]
    return nn.Sequential(*layers)


class DamageNet(nn.Module):
    """Grey (B, 1, H, W) in [0, 1], H and W multiples of 16 -> (B, 2, H, W): the damage
    logit and the grey without the damage."""

    def __init__(self, pretrained: bool = True) -> None:
        super().__init__()
        self.encoder = lite_network(lite_weights_file() if pretrained else None)
        del self.encoder._fc, self.encoder._conv_head, self.encoder._bn1
        self.blocks = stage_blocks(self.encoder)
        channels = stage_channels(self.encoder)[:STAGES]  # 16, 24, 40, 112
        self.encoder._blocks = self.encoder._blocks[: self.blocks[STAGES - 1] + 1]
        self.full = nn.Sequential(nn.Conv2d(1, FULL, 3, padding=1), nn.ReLU(inplace=True))
        skips = (*reversed(channels[:-1]), FULL)  # 40, 24, 16, then the full branch
        ins = (channels[-1], *DECODER[:-1])
        convs = (2,) * (len(DECODER) - 1) + (1,)  # full size is the costly one: one conv there
        self.up = nn.ModuleList(
            _block(i + s, o, n) for i, s, o, n in zip(ins, skips, DECODER, convs, strict=True)
        )
        self.head = nn.Conv2d(DECODER[-1], 2, 3, padding=1)

    def forward(self, grey: torch.Tensor) -> torch.Tensor:
        stages = lite_stages(self.encoder, lite_input(grey), self.blocks, STAGES)
        skips = [*reversed(stages[:-1]), self.full(grey * 2 - 1)]
        x = stages[-1]
        for block, skip in zip(self.up, skips, strict=True):
            x = F.interpolate(x, size=skip.shape[-2:], mode="nearest")
            x = block(torch.cat([x, skip], 1))
        out = self.head(x)
        return torch.cat([out[:, :1], torch.sigmoid(out[:, 1:])], 1)
