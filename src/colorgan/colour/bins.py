"""The ab plane cut into a grid of bins, shared by the loss that rebalances colours by their
rarity (training.losses), the classification head that predicts a distribution over the bins
(models.lite_unet) and its soft targets. Normalized ab is in [-1, 1]^2."""

from __future__ import annotations

import torch

BINS = 32  # over the normalized ab square [-1, 1]^2: 6.9 ab units per bin
CLASS_BINS = BINS  # the classification head's grid is the same, so one set of weights serves


def bin_index(ab: torch.Tensor) -> torch.Tensor:
    """(B, 2, H, W) normalized ab -> (B, H, W) flat bin index."""
    idx = ((ab.clamp(-1, 1 - 1e-6) + 1) * (BINS / 2)).long()
    return idx[:, 0] * BINS + idx[:, 1]


def bin_centres() -> torch.Tensor:
    """(BINS * BINS, 2): the normalized ab at the centre of each bin, in bin_index order."""
    centre = -1.0 + (torch.arange(BINS, dtype=torch.float32) + 0.5) * (2.0 / BINS)
    a, b = torch.meshgrid(centre, centre, indexing="ij")
    return torch.stack([a.flatten(), b.flatten()], 1)


def soft_bins(ab: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """(B, 2, H, W) normalized ab -> the four bins around each value and their bilinear
    weights, both (B, 4, H, W): a soft target whose mean over bin centres is the ab itself
    (inside the centres' range), where a hard bin would round it by up to half a bin."""
    pos = ((ab.float().clamp(-1, 1) + 1) * (BINS / 2) - 0.5).clamp(0, BINS - 1)
    low = pos.floor().clamp(max=BINS - 2)
    frac = pos - low
    low = low.long()
    index, weight = [], []
    for da in (0, 1):
        for db in (0, 1):
            index.append((low[:, 0] + da) * BINS + low[:, 1] + db)
            wa = frac[:, 0] if da else 1 - frac[:, 0]
            wb = frac[:, 1] if db else 1 - frac[:, 1]
            weight.append(wa * wb)
    return torch.stack(index, 1), torch.stack(weight, 1)
