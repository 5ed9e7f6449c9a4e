"""Colour queries (DDColor, Kang et al., ICCV 2023): a decoder head that chooses colours.

A regression head predicts each pixel's ab on its own and, where an object could be several
colours, lands on their average: the brown of issue 20. Here a small set of learnt queries
first attends to the decoder's features at 1/16, 1/8 and 1/4 (coarse to fine, one transformer
layer a scale), so each query can settle on one colour that the
whole scene supports; each pixel then takes its colour from its similarity to every query
(a map per query), and a 1x1 conv turns those maps and the pixel's own features into ab.
"""

from __future__ import annotations

import torch
from torch import nn

QUERIES = 32  # DDColor uses 100 at 256 px with a ConvNeXt encoder; this network is ~30x smaller
QUERY_DIM = 64
QUERY_HEADS = 4


class ColourQueries(nn.Module):
    """Decoder features (coarse to fine) and the output-size features -> ab in [-1, 1]."""

    def __init__(
        self,
        memory_channels: list[int],
        pixel_channels: int,
        queries: int = QUERIES,
        dim: int = QUERY_DIM,
        heads: int = QUERY_HEADS,
    ) -> None:
        super().__init__()
        self.memories = nn.ModuleList(nn.Conv2d(c, dim, 1) for c in memory_channels)
        # which scale a token comes from (DDColor adds a level embedding the same way)
        self.level = nn.Parameter(torch.zeros(len(memory_channels), dim))
        self.query = nn.Parameter(torch.randn(queries, dim) * 0.02)
        self.layers = nn.ModuleList(
            nn.TransformerDecoderLayer(
                dim, heads, 2 * dim, dropout=0.0, batch_first=True, norm_first=True
            )
            for _ in memory_channels
        )
        self.norm = nn.LayerNorm(dim)
        self.pixel = nn.Conv2d(pixel_channels, dim, 1)
        self.out = nn.Sequential(nn.Conv2d(queries + pixel_channels, 2, 1), nn.Tanh())

    def colours(self, features: list[torch.Tensor]) -> torch.Tensor:
        """(B, K, dim): the queries after attending to every scale in turn."""
        tokens = [
            (proj(f).flatten(2).transpose(1, 2) + level)
            for proj, f, level in zip(self.memories, features, self.level, strict=True)
        ]
        # a sum, not a view of the parameter: inference mode's tensors then carry no grad
        q = features[0].new_zeros(features[0].shape[0], *self.query.shape) + self.query
        for layer, memory in zip(self.layers, tokens, strict=True):
            q = layer(q, memory)
        return self.norm(q)

    def forward(self, pixels: torch.Tensor, features: list[torch.Tensor]) -> torch.Tensor:
        q = self.colours(features)
        maps = torch.einsum("bkd,bdhw->bkhw", q, self.pixel(pixels))
        return self.out(torch.cat([maps, pixels], 1))
