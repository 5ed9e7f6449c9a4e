"""The reference encoder: what matching sees of a photo or a reference photo. Frozen ImageNet
EfficientNet-Lite0 on the lightness alone (so a reference's colour never decides what matches):
its 1/8 stage and its 1/16 stage brought up to the 1/8 grid, each L2-normalized and joined,
and a whole-photo descriptor (its 1/16 and 1/32 stages, pooled) for finding references by what
a photo shows. The light install runs the same network from its ONNX file, which
`engines.export.export_reference_encoder` writes (weights/reference.onnx is that file; the
network's weights are rounded to fp16 values, so the file stores them in half the bytes and
both engines compute the same features)."""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from colorgan.colour.tensors import grey_from_l
from colorgan.priors.backbones import (
    freeze,
    lite_input,
    lite_network,
    lite_stages,
    lite_weights_file,
    stage_blocks,
)
from colorgan.spec.references import GRID, SIZE


class ReferenceFeatures(nn.Module):
    """Normalized L (B, 1, SIZE, SIZE) -> (local features (B, C, GRID, GRID), unit norm at
    each place; a whole-photo descriptor (B, D), unit norm)."""

    def __init__(self, weights: str | None = None) -> None:
        super().__init__()
        self.net = lite_network(weights or lite_weights_file())
        with torch.no_grad():  # fp16 values, so its ONNX file stores them in half the bytes
            for tensor in self.net.state_dict().values():
                if tensor.is_floating_point():
                    tensor.copy_(tensor.half().float())
        freeze(self.net)
        self.blocks = stage_blocks(self.net)

    @torch.inference_mode()
    def forward(self, l_norm: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        if l_norm.shape[-2:] != (SIZE, SIZE):
            l_norm = F.interpolate(l_norm, size=(SIZE, SIZE), mode="bilinear", antialias=True)
        stages = lite_stages(self.net, lite_input(grey_from_l(l_norm)), self.blocks, count=5)
        fine = F.normalize(stages[2], dim=1)  # 1/8
        coarse = F.normalize(F.interpolate(stages[3], size=(GRID, GRID), mode="bilinear"), dim=1)
        local = F.normalize(torch.cat([fine, coarse], 1), dim=1)
        pooled = [F.normalize(s.mean((2, 3)), dim=1) for s in stages[3:]]
        return local, F.normalize(torch.cat(pooled, 1), dim=1)
