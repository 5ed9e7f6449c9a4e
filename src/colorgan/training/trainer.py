"""The training loop: two phases (paper 5.5, 5.6) over epochs of batches, with validation,
sample grids, checkpoints and logging.

The position in training is (phase, epoch, batch). Data order and flips depend only on the
seed and the epoch, and checkpoints store the position, weights and optimizer states, so a
resumed run takes exactly the steps an uninterrupted one would.
"""

from __future__ import annotations

import logging
import math
import time
from contextlib import closing
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch
from torchvision.utils import make_grid
from tqdm import tqdm

from colorgan.colour.tensors import lab_normalized_to_rgb
from colorgan.config import Config
from colorgan.errors import ColorganError
from colorgan.runtime import resolve_precision
from colorgan.training import distributed
from colorgan.training.checkpoint import latest_checkpoint, save_checkpoint
from colorgan.training.data import TrainingData
from colorgan.training.gan import ColorGAN, warm_start
from colorgan.training.guard import RunLock, StopRequests
from colorgan.training.losses import photo_l1
from colorgan.training.runlog import RunLog
from colorgan.training.schedule import lr_factor

log = logging.getLogger("colorgan")

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


class Trainer:
    """Builds a run's ColorGAN and TrainingData (or resumes them) and runs the schedule."""

    def __init__(self, cfg: Config, resume: bool = False, progress: bool = True) -> None:
        self.cfg = cfg
        self.run_dir = cfg.run_dir
        # Under torchrun: one process per device, rank 0 alone writes (distributed.py).
        self.world, self.device = distributed.setup(cfg.train.device)
        # one trainer per run folder: a second --resume would interleave their files
        self.lock = RunLock(self.run_dir) if self.world.main else None
        try:
            self._build(resume, progress)
        except BaseException:
            self.release()
            raise

    def release(self) -> None:
        if self.lock is not None:
            self.lock.release()

    def _build(self, resume: bool, progress: bool) -> None:
        cfg = self.cfg
        if cfg.train.batch_size % self.world.size:
            raise ColorganError(
                f"train.batch_size {cfg.train.batch_size} (the global batch) does not split "
                f"over {self.world.size} processes; make it a multiple of the process count"
            )
        self.progress = progress and self.world.main
        precision = resolve_precision(cfg.train.precision, self.device)
        channels_last = cfg.train.channels_last
        if channels_last is None:
            channels_last = self.device.type == "cuda"
        fmt = torch.channels_last if channels_last else torch.contiguous_format
        self.gan = ColorGAN(cfg, self.device, precision, fmt, self.world)
        self.pos = Position()
        self.saved: tuple[dict[str, int], Path] | None = None  # the last checkpoint written
        existing = latest_checkpoint(self.run_dir)
        if existing is not None and not resume:
            raise ColorganError(
                f"{self.run_dir} already holds a run; pass --resume to continue it, "
                "or change name/out_dir"
            )
        self.data = TrainingData(cfg, self.world, self.device, fmt, progress)
        self.gan.colour_weights = self.data.colour_weights
        rng = None
        if resume and existing is not None:
            existing, state = self.gan.resume(self.run_dir)
            self.pos = Position(**state["position"])
            rng = state.get("rng")
            log.info("resumed from %s (step %d)", existing, self.pos.step)
        elif resume:
            log.info("no checkpoint in %s; starting from scratch", self.run_dir)
        if cfg.train.init_from is not None and self.pos.step == 0:
            warm_start(self.gan.generator, cfg.train.init_from)
            log.info("generator started from %s", cfg.train.init_from)
        if cfg.train.compile:
            self.gan.compile()
        if self.world.distributed:
            self.gan.distribute()
            log.info(
                "data parallel over %d processes (%s): global batch %d = %d per process",
                self.world.size, torch.distributed.get_backend(), cfg.train.batch_size,
                self.data.local_batch,
            )  # fmt: skip
        if rng is not None:
            restore_rng(rng)  # last: building the run above drew random numbers

    def phase_epochs(self, phase: int) -> int:
        t = self.cfg.train
        return t.pretrain_epochs if PHASES[phase] == "pretrain" else t.adversarial_epochs

    def step(self, phase: str, x: dict[str, torch.Tensor]) -> dict[str, float]:
        """One generator step of the phase (with D's step where the D-every-k rule says), at
        the learning rates the schedule gives this step of the phase."""
        total = self.data.steps_per_epoch() * self.phase_epochs(self.pos.phase)
        self.gan.set_lr_factor(phase, lr_factor(self.cfg.train, self.pos.phase_step, total))
        if phase == "pretrain":
            return self.gan.pretrain_step(x)
        if self.pos.phase_step < self.cfg.train.d_warmup_steps:  # the critic first, G frozen
            self.pos.d_steps += 1
            return self.gan.critic_step(x)
        step_d = self.pos.phase_step % self.cfg.train.d_every == 0
        logs = self.gan.adversarial_step(x, step_discriminator=step_d)
        self.pos.d_steps += step_d
        return logs

    @torch.no_grad()
    def validate(self) -> tuple[float, float]:
        """Mean L1 of ab on the validation photos (unflipped), with its standard error over
        the photos, so that two epochs' figures can be told apart from noise."""
        if len(self.data.val_set) == 0:
            return float("nan"), float("nan")
        n, total, squares = 0.0, 0.0, 0.0  # photos, their L1s' sum and sum of squares
        for batch in self.data.val_loader:
            if batch is None:
                continue
            x = self.data.inputs(batch)
            per_photo = photo_l1(self.gan.predict(x), x["ab"]).double()
            n += len(per_photo)
            total += per_photo.sum().item()
            squares += per_photo.square().sum().item()
        n, total, squares = distributed.all_sum([n, total, squares], self.world, self.device)
        mean = total / max(n, 1)
        variance = max(squares - n * mean**2, 0.0) / (n - 1) if n > 1 else float("nan")
        return mean, math.sqrt(variance / max(n, 1))

    @torch.no_grad()
    def samples(self) -> torch.Tensor | None:
        """A grid of validation photos, one per row: grey input, colorization, original."""
        x = self.data.validation_batch(self.cfg.train.sample_images)
        if x is None:
            return None
        fake = self.gan.predict(x)
        grey = lab_normalized_to_rgb(x["l_norm"], torch.zeros_like(x["ab"]))
        rows = torch.stack([grey, lab_normalized_to_rgb(x["l_norm"], fake),
                            lab_normalized_to_rgb(x["l_norm"], x["ab"])], 1)  # fmt: skip
        return make_grid(rows.flatten(0, 1).cpu(), nrow=3, padding=2, pad_value=1.0)

    def save(self) -> Path | None:
        """A checkpoint of the whole state (rank 0 writes; the ranks' copies are equal)."""
        if not self.world.main:
            return None
        if self.saved is not None and self.saved[0] == self.pos.as_dict():
            return self.saved[1]  # nothing moved since (the end of a run after a phase end)
        state = {"position": self.pos.as_dict(), "rng": rng_state(), **self.gan.state_dict()}
        path = save_checkpoint(
            self.run_dir, self.pos.step, self.gan.modules(), state, self.cfg.to_yaml(),
            self.cfg.train.keep_checkpoints,
        )  # fmt: skip
        self.saved = (self.pos.as_dict(), path)
        return path

    def run(self, max_steps: int | None = None, max_seconds: float | None = None) -> dict[str, Any]:
        """Train to the end of the schedule, or for `max_steps` more G steps, or until
        `max_seconds` have passed (then checkpoint and export); returns a summary."""
        try:
            return self._run(max_steps, max_seconds)
        finally:
            self.release()

    def _run(self, max_steps: int | None, max_seconds: float | None) -> dict[str, Any]:
        terms = list(dict.fromkeys([*self.cfg.loss.pretrain, "d", *self.cfg.loss.adversarial]))
        spe = self.data.steps_per_epoch()
        total = spe * (self.cfg.train.pretrain_epochs + self.cfg.train.adversarial_epochs)
        if self.cfg.train.sample_every > total:
            log.warning("train.sample_every %d is more than the run's %d steps: no sample grids",
                        self.cfg.train.sample_every, total)  # fmt: skip
        # resumed after an epoch's last step, before its validation: that row comes again
        revalidate = self.pos.batch >= spe
        out = RunLog(self.run_dir, self.pos.step, self.cfg.to_yaml(), self.world.main, terms,
                     drop_validation=revalidate)  # fmt: skip
        log.info("training on %s in %s; run folder %s", self.device, self.gan.precision,
                 self.run_dir)  # fmt: skip
        start = time.perf_counter()
        steps_done = 0
        history: list[dict[str, Any]] = []
        # Seconds spent waiting for the loader and in whole steps (wait included): the loader
        # keeps up when waiting is a small fraction of the step.
        waited = stepped = interval_wait = interval_step = 0.0
        self.gan.generator.train()
        self.gan.discriminator.train()
        stop = False
        with StopRequests() as stops, closing(out):
            while self.pos.phase < len(PHASES) and not stop:
                phase = PHASES[self.pos.phase]
                if self.pos.epoch >= self.phase_epochs(self.pos.phase):
                    self.pos.phase += 1
                    self.pos.epoch = self.pos.batch = self.pos.phase_step = 0
                    continue
                epoch_id = self.pos.phase * 10_000 + self.pos.epoch
                self.data.sampler.set_epoch(epoch_id, self.pos.batch * self.cfg.train.batch_size)
                bar = tqdm(
                    total=spe, initial=self.pos.batch, disable=not self.progress,
                    desc=f"{phase} {self.pos.epoch + 1}/{self.phase_epochs(self.pos.phase)}",
                )  # fmt: skip
                tick = time.perf_counter()
                for batch in self.data.train_loader:
                    wait = time.perf_counter() - tick
                    over_time = max_seconds is not None and tick - start >= max_seconds
                    # Every rank skips the same batches and stops at the same step.
                    skip, over_time, asked = distributed.any_rank(
                        [batch is None, over_time, stops.requested is not None],
                        self.world, self.device,
                    )  # fmt: skip
                    stop = over_time or asked or (max_steps is not None and steps_done >= max_steps)
                    if self.pos.batch >= spe or stop:
                        break
                    if skip:
                        self.pos.batch += 1
                        continue
                    logs = self.step(phase, self.data.inputs(batch, self.pos.step))
                    logs = distributed.all_mean(logs, self.world, self.device)
                    if not all(math.isfinite(v) for v in logs.values()):
                        raise ColorganError(
                            f"loss became non-finite at step {self.pos.step}: {logs}"
                        )
                    self.pos.batch += 1
                    self.pos.step += 1
                    self.pos.phase_step += 1
                    steps_done += 1
                    history.append({"step": self.pos.step, "phase": phase, **logs})
                    step_time = time.perf_counter() - tick
                    waited, stepped = waited + wait, stepped + step_time
                    interval_wait, interval_step = (
                        interval_wait + wait,
                        interval_step + step_time,
                    )
                    bar.update(1)
                    bar.set_postfix({k: f"{v:.4f}" for k, v in logs.items()})
                    if self.pos.step % self.cfg.train.log_every == 0:
                        out.losses(self.pos.step, self.pos.epoch, phase, logs,
                                   interval_wait / interval_step)  # fmt: skip
                        interval_wait = interval_step = 0.0
                    if self.pos.step % self.cfg.train.checkpoint_every == 0:
                        self.save()
                    every = self.cfg.train.sample_every
                    if every and self.pos.step % every == 0 and self.world.main:
                        grid = self.samples()
                        if grid is not None:
                            out.image("samples", grid, self.pos.step)
                    tick = time.perf_counter()
                bar.close()
                if stop and self.pos.batch < spe:
                    break  # stopped inside the epoch: it resumes from here, unvalidated
                val, se = self.validate()
                log.info("%s epoch %d: validation L1 %.4f ± %.4f", phase, self.pos.epoch + 1,
                         val, se)  # fmt: skip
                out.validation(self.pos.step, self.pos.epoch, phase, val, se)
                self.pos.epoch += 1
                self.pos.batch = 0
                if self.pos.epoch >= self.phase_epochs(self.pos.phase):
                    self.save()  # the end of a phase is always kept
                if max_steps is not None and steps_done >= max_steps:
                    break
        saved = self.save()
        if stops.requested is not None:
            log.info("stopped by %s at step %d; checkpoint %s written, --resume continues",
                     stops.requested, self.pos.step, saved)  # fmt: skip
            raise KeyboardInterrupt
        final = self.run_dir / "generator.safetensors"
        if self.world.main:
            self.gan.export(final)
        distributed.barrier(self.world)
        return {"steps": self.pos.step, "d_steps": self.pos.d_steps, "history": history,
                "generator": str(final), "seconds": stepped,
                "loader_wait": waited / stepped if stepped else 0.0}  # fmt: skip
