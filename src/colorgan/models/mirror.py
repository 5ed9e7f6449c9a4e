"""Mirror averaging at inference: a photo and its mirror image are colorized in one batch of
two, and the mirror's colour, flipped back, is averaged with the photo's. Where the model is
sure of a colour both agree; where it guesses, the guesses partly cancel, so the colour that
is left is more often the right one (docs/results). A generator file opts in with
`"mirror": true` in its metadata (`colorgan export --mirror`), which both engines honour: the
torch engine wraps its generator, and the ONNX graph is exported from that wrapper.
"""

from __future__ import annotations

import torch
from torch import nn


class Mirrored(nn.Module):
    """A generator whose ab is the mean of its own and its mirror image's, flipped back.
    Spatial inputs (B, C, H, W: L, hints, segmentation) are mirrored; per-photo vectors (an
    embedding) are not. It keeps no weights of its own."""

    def __init__(self, generator: nn.Module) -> None:
        super().__init__()
        self.generator = generator

    def forward(self, **inputs: torch.Tensor) -> torch.Tensor:
        both = {k: torch.cat([v, v.flip(-1) if v.dim() == 4 else v]) for k, v in inputs.items()}
        n = next(iter(inputs.values())).shape[0]  # slices, not chunk: the ONNX batch is dynamic
        ab = self.generator(**both)
        return (ab[:n] + ab[n:].flip(-1)) / 2
