"""Class rebalancing of the ab loss (Zhang et al., Colorful Image Colorization, 3.1).

A regression loss is won by predicting the common, greyish colours everywhere; weighting each
pixel by the rarity of its true colour makes saturated colours count. The ab plane is cut into
a grid of bins; the training photos give the empirical distribution p (smoothed with a
Gaussian), and a pixel whose true colour falls in bin q weighs
w(q) = 1 / ((1 - lambda) p(q) + lambda / Q), normalised so that the p-average weight is 1
(Q: the bins with any mass). lambda = 1 weighs every colour equally (no rebalancing).
The loss term that uses the weights is `losses.rebalanced_l1`.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F

from colorgan.base.images import BadImage, load_rgb
from colorgan.colour.bins import BINS, bin_index
from colorgan.colour.tensors import rgb_to_lab_normalized, uint8_to_float

SAMPLE_SIZE = 64  # photos are read this small for the histogram: colour, not detail


def ab_histogram(paths: Sequence[Path], limit: int = 512) -> torch.Tensor:
    """Counts of the training photos' ab values (BINS x BINS), from up to `limit` photos."""
    counts = torch.zeros(BINS * BINS, dtype=torch.float64)
    step = max(1, len(paths) // limit)
    for path in list(paths)[::step][:limit]:
        try:
            rgb = load_rgb(path, SAMPLE_SIZE)
        except (BadImage, OSError):
            continue
        x = uint8_to_float(torch.from_numpy(rgb).permute(2, 0, 1)[None])
        _, ab = rgb_to_lab_normalized(x)
        counts += torch.bincount(bin_index(ab).flatten(), minlength=BINS * BINS).double()
    return counts.view(BINS, BINS)


def smoothed_distribution(counts: torch.Tensor, sigma: float = 1.0) -> torch.Tensor:
    """The ab distribution p (BINS * BINS,): counts blurred by a Gaussian, summing to 1."""
    radius = int(3 * sigma)
    kernel = torch.from_numpy(np.exp(-0.5 * (np.arange(-radius, radius + 1) / sigma) ** 2))
    kernel = (kernel / kernel.sum()).float()
    p = counts.float()[None, None]
    p = F.conv2d(p, kernel.view(1, 1, 1, -1), padding=(0, radius))
    p = F.conv2d(p, kernel.view(1, 1, -1, 1), padding=(radius, 0)).flatten()
    return p / p.sum()


def rebalance_weights(counts: torch.Tensor, lam: float, sigma: float = 1.0) -> torch.Tensor:
    """Per-bin weights (BINS * BINS,) from ab counts; mean weight 1 under the smoothed p."""
    p = smoothed_distribution(counts, sigma)
    support = p > 0
    weights = torch.zeros_like(p)
    weights[support] = 1.0 / ((1 - lam) * p[support] + lam / int(support.sum()))
    return weights / (weights * p).sum()
