"""The paper's generator (Table 1) and Deep Koalarization's (Table 4), written as their tables.

Each table row is (kernels, stride) for a 3x3 conv, "up" for 2x nearest-neighbour upsampling.
Every conv is followed by ReLU except the last, which is followed by tanh (paper 5.3).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import torch
from torch import nn

if TYPE_CHECKING:
    from colorgan.config import ModelConfig

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


class PaperGenerator(nn.Module):
    """Table 1: [L x3 + 21 class probabilities] -> conv 24 -> encoder -> fusion -> decoder.

    `segmentation_channels=0` removes the first layer and its input ("without first COCO
    layer"); `embedding_dim=0` removes the embedding from the fusion ("without Inception").
    """

    def __init__(
        self, embedding_dim: int = 1000, segmentation_channels: int = 21, l_channels: int = 3
    ) -> None:
        super().__init__()
        self.embedding_dim = embedding_dim
        self.segmentation_channels = segmentation_channels
        self.l_channels = l_channels
        in_channels = l_channels + segmentation_channels
        if segmentation_channels:
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

    def forward(
        self,
        l_norm: torch.Tensor,
        embedding: torch.Tensor | None = None,
        segmentation: torch.Tensor | None = None,
    ) -> torch.Tensor:
        """L (B, 1, H, W) in [-1, 1] -> ab (B, 2, H, W) in [-1, 1]."""
        x = l_norm.expand(-1, self.l_channels, -1, -1)
        if self.segmentation_channels:
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


class KoalarizationGenerator(PaperGenerator):
    """Table 4 (Baldassarre et al.): the single L channel, no segmentation layer."""

    def __init__(self, embedding_dim: int = 1000) -> None:
        super().__init__(embedding_dim=embedding_dim, segmentation_channels=0, l_channels=1)


def build_generator(cfg: ModelConfig, embedding_dim: int = 1000) -> nn.Module:
    from colorgan.models.unet import UNetGenerator

    if cfg.generator == "unet":
        return UNetGenerator(dropout=cfg.unet_dropout, downs=cfg.unet_downs)
    dim = embedding_dim if cfg.use_embedding else 0
    if cfg.generator == "koalarization":
        return KoalarizationGenerator(embedding_dim=dim)
    return PaperGenerator(
        embedding_dim=dim, segmentation_channels=21 if cfg.use_segmentation else 0
    )


def needs_priors(model: nn.Module) -> tuple[bool, bool]:
    """(needs embedding, needs segmentation) for a built generator."""
    return bool(getattr(model, "embedding_dim", 0)), bool(
        getattr(model, "segmentation_channels", 0)
    )
