"""Where a run is and what one call of `Trainer.run` has done so far.

The position in training is (phase, epoch, batch), with the step counters: a checkpoint
stores it with the random generators' states, so a resumed run takes exactly the steps an
uninterrupted one would. `RunState` is one call's own: when it stops (a step or time budget,
a signal), its history of losses, and the seconds spent waiting for the loader against those
spent in whole steps (the loader keeps up when waiting is a small part of the step)."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import torch

from colorgan.training.runlog import RunLog

log = logging.getLogger("colorgan")
PHASES = ("pretrain", "adversarial")


def rng_state() -> dict[str, Any]:
    """The random generators a step may draw from (dropout), for an exact resume."""
    state: dict[str, Any] = {"torch": torch.get_rng_state()}
    if torch.cuda.is_available():
        state["cuda"] = torch.cuda.get_rng_state_all()
    return state


def restore_rng(state: dict[str, Any]) -> None:
    """The random states `rng_state` gave; CUDA's for the devices this machine has."""
    torch.set_rng_state(state["torch"])
    if "cuda" in state and torch.cuda.is_available():
        torch.cuda.set_rng_state_all(list(state["cuda"])[: torch.cuda.device_count()])


def checked_rng(state: object) -> dict[str, Any]:
    """A checkpoint's random states, as restore_rng takes them: torch's own check of each
    (a valid generator state) tried, and the current states kept; ValueError otherwise."""
    if not isinstance(state, dict) or "torch" not in state or set(state) - {"torch", "cuda"}:
        raise ValueError("its random state is not torch's")
    cuda = state.get("cuda", [])
    tensors = [state["torch"], *cuda] if isinstance(cuda, list | tuple) else [None]
    if not all(isinstance(t, torch.Tensor) and t.dtype == torch.uint8 for t in tensors):
        raise ValueError("its random state is not torch's")
    now = rng_state()
    try:
        restore_rng(state)
    except (RuntimeError, TypeError, ValueError, IndexError) as exc:
        raise ValueError(f"its random state does not restore ({exc})") from None
    finally:
        restore_rng(now)
    return state


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

    @classmethod
    def of(cls, values: object) -> Position:
        """A checkpoint's position: its counters (any it lacks, 0), each a whole number of at
        least 0, the phase one of PHASES; ValueError otherwise."""
        fields = cls.__dataclass_fields__
        if not isinstance(values, dict) or set(values) - set(fields):
            raise ValueError("its position is not the trainer's")
        for name, value in values.items():
            if isinstance(value, bool) or not isinstance(value, int) or value < 0:
                raise ValueError(f"its position's {name} is not a count")
        position = cls(**values)
        if position.phase > len(PHASES):
            raise ValueError(f"its position's phase is {position.phase}")
        return position

    def stepped(self) -> None:
        """One G step done: the next batch."""
        self.batch += 1
        self.step += 1
        self.phase_step += 1

    def next_phase(self) -> None:
        self.phase += 1
        self.epoch = self.batch = self.phase_step = 0


def steps_left(max_steps: int | None, step: int) -> int | None:
    """The G steps a run at `step` may take before it has taken `max_steps` in all (counted
    from its start, not from a resume, as a user reads --max-steps); None: no bound."""
    if max_steps is None:
        return None
    if step >= max_steps:
        log.info("the run is at step %d: no step more (max_steps %d)", step, max_steps)
    return max(0, max_steps - step)


@dataclass
class RunState:
    """One call of Trainer.run: its budget (`steps_left` G steps, `max_seconds` of
    training), whether it must stop, its log and history, and its timing by `clock`: the
    seconds spent waiting for each batch (from the end of the step before, or the start of
    the epoch, to the batch's arrival) against those spent in whole steps (the wait
    included), what is done between steps (logs, checkpoints, samples) in neither."""

    steps_left: int | None
    max_seconds: float | None
    log: RunLog
    clock: Callable[[], float] = time.perf_counter
    stop: bool = False
    steps: int = 0
    history: list[dict[str, Any]] = field(default_factory=list)
    wait_seconds: float = 0.0
    step_seconds: float = 0.0
    _interval: list[float] = field(default_factory=lambda: [0.0, 0.0])

    def __post_init__(self) -> None:
        self.start = self._tick = self.clock()
        self._wait = 0.0

    def steps_spent(self) -> bool:
        return self.steps_left is not None and self.steps >= self.steps_left

    def out_of_time(self) -> bool:
        return self.max_seconds is not None and self._tick - self.start >= self.max_seconds

    def tick(self) -> None:
        """The loop waits for its next batch from now."""
        self._tick = self.clock()

    def arrived(self) -> None:
        """A batch has come: the wait for it is over."""
        self._wait = self.clock() - self._tick

    def stepped(self, phase: str, step: int, logs: dict[str, float]) -> None:
        """A step done: its losses, and the seconds since the wait for its batch began."""
        seconds = self.clock() - self._tick
        self.steps += 1
        self.history.append({"step": step, "phase": phase, **logs})
        self.wait_seconds += self._wait
        self.step_seconds += seconds
        self._interval[0] += self._wait
        self._interval[1] += seconds

    def interval_wait_share(self) -> float:
        """The share of the time since the last call spent waiting for the loader."""
        wait, seconds = self._interval
        self._interval[:] = [0.0, 0.0]
        return wait / seconds
