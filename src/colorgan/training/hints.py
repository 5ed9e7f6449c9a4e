"""Simulated colour hints for training (Zhang et al. 2017): points drawn from the photo
itself, so that one model serves automatic and guided use. Per photo: none with probability
`none`, else a geometric number of points (mean 1 / p); each point is the mean true ab of a
small square (1 to 9 pixels a side) at a uniformly drawn place, written over the same square
with the mask set to 1. Drawn from a generator seeded by the step, so a resumed run draws the
same hints."""

from __future__ import annotations

import torch

from colorgan.spec.hints import CHANNELS

MAX_POINTS = 50
MAX_SIDE = 9


def simulate_hints(
    ab: torch.Tensor, rng: torch.Generator, p: float = 0.125, none: float = 0.25
) -> torch.Tensor:
    """True ab (B, 2, H, W) -> hints (B, CHANNELS, H, W) in spec.hints' format: ab and
    mask, zeros where there is none."""
    b, _, h, w = ab.shape
    hints = torch.zeros(b, CHANNELS, h, w, device=ab.device, dtype=ab.dtype)
    for i in range(b):
        if torch.rand((), generator=rng).item() < none:
            continue
        # geometric on 1, 2, ...: the number of trials to the first success of chance p
        u = torch.rand((), generator=rng).clamp_min(1e-12)
        count = min(int(torch.log(u) / torch.log(torch.tensor(1.0 - p))) + 1, MAX_POINTS)
        for _ in range(count):
            side = int(torch.randint(1, MAX_SIDE + 1, (), generator=rng))
            y = int(torch.randint(0, h - side + 1, (), generator=rng))
            x = int(torch.randint(0, w - side + 1, (), generator=rng))
            patch = ab[i, :, y : y + side, x : x + side]
            hints[i, :2, y : y + side, x : x + side] = patch.mean((1, 2), keepdim=True)
            hints[i, 2, y : y + side, x : x + side] = 1.0
    return hints
