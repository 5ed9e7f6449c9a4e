"""Where a run is and what one call of `Trainer.run` has done so far.

The position in training is (phase, epoch, batch), with the step counters: a checkpoint
stores it with the random generators' states, so a resumed run takes exactly the steps an
uninterrupted one would. `RunState` is one call's own: when it stops (a step or time budget,
a signal), its history of losses, and the seconds spent waiting for the loader against those
spent in whole steps (the loader keeps up when waiting is a small part of the step)."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any

import torch

from colorgan.training.runlog import RunLog

PHASES = ("pretrain", "adversarial")


def rng_state() -> dict[str, Any]:
    """The random generators a step may draw from (dropout), for an exact resume."""
    state: dict[str, Any] = {"torch": torch.get_rng_state()}
    if torch.cuda.is_available():
        state["cuda"] = torch.cuda.get_rng_state_all()
    return state


def restore_rng(state: dict[str, Any]) -> None:
    torch.set_rng_state(state["torch"])
    if "cuda" in state and torch.cuda.is_available():
        torch.cuda.set_rng_state_all(state["cuda"])


@dataclass
class Position:
    phase: int = 0  # index into PHASES
    epoch: int = 0  # within the phase
    batch: int = 0  # within the epoch
    step: int = 0  # global optimizer steps of G
    phase_step: int = 0  # G steps within the phase (drives the D-every-k rule)
    d_steps: int = 0

    def as_dict(self) -> dict[str, int]:
        return dict(self.__dict__)

    def stepped(self) -> None:
        """One G step done: the next batch."""
        self.batch += 1
        self.step += 1
        self.phase_step += 1

    def next_phase(self) -> None:
        self.phase += 1
        self.epoch = self.batch = self.phase_step = 0


@dataclass
class RunState:
    """One call of Trainer.run: its budget (`max_steps` more G steps, `max_seconds` of
    training), whether it must stop, its log and history, and its timing."""

    max_steps: int | None
    max_seconds: float | None
    log: RunLog
    stop: bool = False
    steps: int = 0
    history: list[dict[str, Any]] = field(default_factory=list)
    start: float = field(default_factory=time.perf_counter)
    wait_seconds: float = 0.0
    step_seconds: float = 0.0
    _interval: list[float] = field(default_factory=lambda: [0.0, 0.0])

    def steps_spent(self) -> bool:
        return self.max_steps is not None and self.steps >= self.max_steps

    def out_of_time(self, now: float) -> bool:
        return self.max_seconds is not None and now - self.start >= self.max_seconds

    def stepped(
        self, phase: str, step: int, logs: dict[str, float], wait: float, seconds: float
    ) -> None:
        """A step done: its losses, and `seconds` (the loader's `wait` included) spent."""
        self.steps += 1
        self.history.append({"step": step, "phase": phase, **logs})
        self.wait_seconds += wait
        self.step_seconds += seconds
        self._interval[0] += wait
        self._interval[1] += seconds

    def interval_wait_share(self) -> float:
        """The share of the time since the last call spent waiting for the loader."""
        wait, seconds = self._interval
        self._interval[:] = [0.0, 0.0]
        return wait / seconds
