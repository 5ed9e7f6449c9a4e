"""The run's schedule: its plan (phases, epochs, steps, sample grids), and learning-rate
schedules, a factor of each phase's rates as a pure function of the step.

Being a function of (step within the phase, the phase's length) and nothing else, a schedule
needs no state of its own in a checkpoint: a resumed run sets the very rates an uninterrupted
one would.
"""

from __future__ import annotations

import bisect
import math
from dataclasses import dataclass

from colorgan.config import TrainConfig
from colorgan.training.position import PHASES, Position


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


@dataclass(frozen=True)
class Plan:
    """The run's shape (epochs per phase, steps per epoch), and what follows from it: the
    phase after this one, the phase a checkpoint resumes in, when a sample grid is due."""

    train: TrainConfig
    steps_per_epoch: int

    def epochs(self, phase: int) -> int:
        t = self.train
        return t.pretrain_epochs if PHASES[phase] == "pretrain" else t.adversarial_epochs

    def total_steps(self) -> int:
        return self.steps_per_epoch * (self.train.pretrain_epochs + self.train.adversarial_epochs)

    def later_phase(self, phase: int) -> int | None:
        """The next phase with epochs after `phase`, if any."""
        later = [p for p in range(phase + 1, len(PHASES)) if self.epochs(p)]
        return later[0] if later else None

    def phase_ahead(self, pos: Position) -> str:
        """The phase a resume from `pos` trains in: past a phase's last epoch, the next one
        with epochs, else that phase still (a resume with more epochs goes on with it)."""
        phase = pos.phase
        if phase < len(PHASES) and pos.epoch >= self.epochs(phase):
            phase = self.later_phase(phase) or phase
        return PHASES[min(phase, len(PHASES) - 1)]

    def sample_due(self, step: int) -> bool:
        """A sample grid every train.sample_every steps, and the first early: at a tenth of
        the run where that comes sooner, so a short run shows what it learns."""
        every = self.train.sample_every
        if not every:
            return False
        return step % every == 0 or step == min(every, max(1, self.total_steps() // 10))

    def said(self, done: int) -> str:
        t = self.train
        return (
            f"{self.total_steps()} steps of {t.batch_size} photos ({t.pretrain_epochs} + "
            f"{t.adversarial_epochs} epochs of {self.steps_per_epoch} steps), {done} done"
        )

    def time_left(self, pace: float, step: int) -> str:
        """What the rest of the run will take at `pace` seconds a step, from `step`."""
        left = self.total_steps() - step
        seconds = pace * left
        span = f"{seconds / 60:.0f} min" if seconds < 5400 else f"{seconds / 3600:.1f} h"
        return f"at {pace:.2f} s a step: about {span} for the {left} steps left"
