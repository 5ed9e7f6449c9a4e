"""Learning-rate schedules: a factor of each phase's rates as a pure function of the step.

Being a function of (step within the phase, the phase's length) and nothing else, a schedule
needs no state of its own in a checkpoint: a resumed run sets the very rates an uninterrupted
one would.
"""

from __future__ import annotations

import bisect
import math

from colorgan.config import TrainConfig


def lr_factor(train: TrainConfig, step: int, total: int) -> float:
    """The factor of the base learning rates at `step` (0-based) of a phase of `total` steps."""
    warmup = min(train.warmup_steps, max(total - 1, 0))
    if step < warmup:
        return (step + 1) / (warmup + 1)
    if train.lr_schedule == "constant":
        return 1.0
    progress = (step - warmup) / max(total - warmup, 1)
    if train.lr_schedule == "cosine":
        floor = train.lr_floor
        return floor + (1.0 - floor) * 0.5 * (1.0 + math.cos(math.pi * progress))
    # "step": x 0.1 at each milestone passed (fractions of the phase after warm-up)
    return max(0.1 ** bisect.bisect_right(sorted(train.lr_steps), progress), train.lr_floor)
