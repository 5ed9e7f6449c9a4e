"""The fusion generator of the paper's Table 1 and Deep Koalarization's of Table 4.

Each table row is (kernels, stride) for a 3x3 conv, "up" for 2x nearest-neighbour upsampling.
Every conv is followed by ReLU except the last, which is followed by tanh (paper 5.3).
"""

from __future__ import annotations

import torch
from torch import nn

from colorgan.models.registry import Generator, register
from colorgan.spec.options import FusionOptions, KoalarizationOptions, PriorSizes

Row = tuple[int, int] | str

# Table 1, left column (the encoder), below its first row: identical to Table 4's encoder.
ENCODER: list[Row] = [
    (64, 2),
    (128, 1),
    (128, 2),
    (256, 1),
    (256, 2),
    (512, 1),
    (512, 1),
    (256, 1),
]
# Table 1, first row, highlighted in red: the extra 24-kernel layer over L x3 + 21 classes.
SEGMENTATION_LAYER: Row = (24, 1)
# Table 1 / Table 4, middle column: fusion then 256 kernels of 1x1.
FUSION_CHANNELS = 256
# Table 1 / Table 4, right column (the decoder).
DECODER: list[Row] = [(128, 1), "up", (64, 1), (64, 1), "up", (32, 1), (2, 1), "up"]


def conv_stack(in_channels: int, rows: list[Row], last_tanh: bool = False) -> nn.Sequential:
    layers: list[nn.Module] = []
    channels = in_channels
    conv_rows = [i for i, r in enumerate(rows) if r != "up"]
    for i, row in enumerate(rows):
        if row == "up":
            layers.append(nn.Upsample(scale_factor=2, mode="nearest"))
            continue
        out, stride = row
        layers.append(nn.Conv2d(channels, out, 3, stride=stride, padding=1))
        layers.append(nn.Tanh() if last_tanh and i == conv_rows[-1] else nn.ReLU(inplace=True))
        channels = out
    return nn.Sequential(*layers)


@register("fusion")
class FusionGenerator(Generator):
    """Table 1: [L x3 + class probabilities] -> conv 24 -> encoder -> fusion -> decoder.

    `segmentation_classes=0` removes the first layer and its input; `embedding_dim=0` removes
    the embedding from the fusion.
    """

    Options = FusionOptions

    def __init__(
        self, embedding_dim: int = 1000, segmentation_classes: int = 21, l_channels: int = 3
    ) -> None:
        super().__init__()
        self.embedding_dim = embedding_dim
        self.segmentation_classes = segmentation_classes
        self.l_channels = l_channels
        in_channels = l_channels + segmentation_classes
        if segmentation_classes:
            self.segmentation_layer = conv_stack(in_channels, [SEGMENTATION_LAYER])
            in_channels = SEGMENTATION_LAYER[0]
        else:
            self.segmentation_layer = nn.Identity()
        self.encoder = conv_stack(in_channels, ENCODER)
        encoder_out = ENCODER[-1][0]
        self.fusion = nn.Sequential(
            nn.Conv2d(encoder_out + embedding_dim, FUSION_CHANNELS, 1), nn.ReLU(inplace=True)
        )
        self.decoder = conv_stack(FUSION_CHANNELS, DECODER, last_tanh=True)

    @classmethod
    def from_options(cls, options: FusionOptions, sizes: PriorSizes) -> FusionGenerator:
        return cls(embedding_dim=sizes.embedding, segmentation_classes=sizes.segmentation)

    def forward(
        self,
        l_norm: torch.Tensor,
        embedding: torch.Tensor | None = None,
        segmentation: torch.Tensor | None = None,
    ) -> torch.Tensor:
        """L (B, 1, H, W) in [-1, 1] -> ab (B, 2, H, W) in [-1, 1]."""
        x = l_norm.expand(-1, self.l_channels, -1, -1)
        if self.segmentation_classes:
            if segmentation is None:
                raise ValueError("this generator needs the segmentation prior")
            x = torch.cat([x, segmentation.to(x.dtype)], 1)
        features = self.encoder(self.segmentation_layer(x))
        if self.embedding_dim:
            if embedding is None:
                raise ValueError("this generator needs the embedding prior")
            # Fusion (5.3.4): the embedding repeated over the H/8 x W/8 grid, concatenated.
            tiled = embedding.to(features.dtype)[:, :, None, None].expand(
                -1, -1, features.shape[2], features.shape[3]
            )
            features = torch.cat([features, tiled], 1)
        return self.decoder(self.fusion(features))


@register("koalarization")
class KoalarizationGenerator(FusionGenerator):
    """Table 4 (Baldassarre et al.): the single L channel, no segmentation layer."""

    Options = KoalarizationOptions

    def __init__(self, embedding_dim: int = 1000) -> None:
        super().__init__(embedding_dim=embedding_dim, segmentation_classes=0, l_channels=1)

    @classmethod
    def from_options(
        cls, options: KoalarizationOptions, sizes: PriorSizes
    ) -> KoalarizationGenerator:
        return cls(embedding_dim=sizes.embedding)
