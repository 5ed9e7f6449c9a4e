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
from collections.abc import Callable
from contextlib import closing
from pathlib import Path
from typing import Any

import torch
from tqdm import tqdm

from colorgan.base.errors import ColorganError
from colorgan.config import Config, load_config
from colorgan.config.resume import check_resumable
from colorgan.models.runtime import resolve_precision
from colorgan.training import distributed
from colorgan.training.checkpoint import latest_checkpoint, save_checkpoint
from colorgan.training.data import TrainingData
from colorgan.training.gan import ColorGAN, warm_start
from colorgan.training.guard import RunLock, StopRequests
from colorgan.training.position import (
    PHASES,
    Position,
    RunState,
    restore_rng,
    rng_state,
    steps_left,
)
from colorgan.training.runlog import RunLog
from colorgan.training.schedule import Plan, lr_factor
from colorgan.training.validation import sample_grid, validation_l1

log = logging.getLogger("colorgan")
ESTIMATE_AFTER = 5  # steps of a run timed before it says how long the rest will take


def continues(checkpoint: Path, cfg: Config) -> None:
    """A resume continues the run that wrote `checkpoint`: `cfg` may differ from the config
    the checkpoint holds (not the run folder's config.yaml, which a hand may have changed)
    only where a resume may change it (config.resume); one line otherwise."""
    saved = checkpoint / "config.yaml"
    if saved.is_file():
        check_resumable(load_config(saved), cfg, f"{cfg.run_dir}'s checkpoint {checkpoint.name}")


class Trainer:
    """Builds a run's ColorGAN and TrainingData (or resumes them) and runs the schedule."""

    def __init__(self, cfg: Config, resume: bool = False, progress: bool = True) -> None:
        self.cfg = cfg
        self.run_dir = cfg.run_dir
        self.clock: Callable[[], float] = time.perf_counter  # what a run's timing reads
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
        self.data = TrainingData(cfg, self.world, self.device, fmt, progress, self.gan.autocast)
        self.gan.colour_weights = self.data.colour_weights
        self.plan = Plan(cfg.train, self.data.steps_per_epoch())
        rng = None
        if resume and existing is not None:
            existing, state = self.gan.resume(self.run_dir)
            continues(existing, cfg)
            self.pos = state["position"]
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
                self.world.size,
                torch.distributed.get_backend(),
                cfg.train.batch_size,
                self.data.local_batch,
            )
        if rng is not None:
            restore_rng(rng)  # last: building the run above drew random numbers

    def step(self, phase: str, x: dict[str, torch.Tensor]) -> dict[str, float]:
        """One generator step of the phase (with D's step where the D-every-k rule says), at
        the learning rates the schedule gives this step of the phase."""
        total = self.data.steps_per_epoch() * self.plan.epochs(self.pos.phase)
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

    def validate(self) -> tuple[float, float]:
        """Mean L1 of ab on the validation photos, with its standard error over the photos."""
        return validation_l1(self.gan, self.data, self.world, self.device)

    def samples(self) -> torch.Tensor | None:
        """A grid of validation photos, one per row: grey input, colorization, original."""
        return sample_grid(self.gan, self.data, self.cfg.train.sample_images)

    def save(self) -> Path | None:
        """A checkpoint of the whole state (rank 0 writes; the ranks' copies are equal)."""
        if not self.world.main:
            return None
        if self.saved is not None and self.saved[0] == self.pos.as_dict():
            return self.saved[1]  # nothing moved since (the end of a run after a phase end)
        phase = self.plan.phase_ahead(self.pos)
        modules = self.gan.modules(phase)
        state = {"position": self.pos.as_dict(), "rng": rng_state(), "modules": list(modules)}
        state.update(self.gan.state_dict(phase))
        path = save_checkpoint(
            self.run_dir,
            self.pos.step,
            modules,
            state,
            self.cfg.to_yaml(),
            self.cfg.train.keep_checkpoints,
        )
        self.saved = (self.pos.as_dict(), path)
        return path

    def run(self, max_steps: int | None = None, max_seconds: float | None = None) -> dict[str, Any]:
        """Train to the end of the schedule, or until the run has taken `max_steps` G steps in
        all (counted from its start, not from a resume: a run resumed at step 5 with
        max_steps 7 takes 2), or until `max_seconds` have passed in this call (then checkpoint
        and export); returns a summary."""
        try:
            return self._run(max_steps, max_seconds)
        finally:
            self.release()

    def _run(self, max_steps: int | None, max_seconds: float | None) -> dict[str, Any]:
        left = steps_left(max_steps, self.pos.step)
        run = RunState(left, max_seconds, self._open_log(), self.clock)
        self.gan.generator.train()
        self.gan.discriminator.train()
        with StopRequests() as stops, closing(run.log):
            while self.pos.phase < len(PHASES) and not run.steps_spent():
                if self.pos.epoch >= self.plan.epochs(self.pos.phase):
                    if self.plan.later_phase(self.pos.phase) is None:
                        break  # done: the position stays at the end of its last phase
                    self.pos.next_phase()
                    continue
                finished = self._epoch(run, stops)
                if run.stop and not finished:
                    break  # stopped inside the epoch: it resumes from here, unvalidated
                self._end_epoch(run.log)
                if run.stop or run.steps_spent():
                    break
        return self._finish(run, stops.requested)

    def _open_log(self) -> RunLog:
        """The run's losses.csv, TensorBoard and sample grids, continued from this position."""
        where = f"{self.device} in {self.gan.precision}"
        log.info(
            "training on %s: %s; run folder %s", where, self.plan.said(self.pos.step), self.run_dir
        )
        terms = list(dict.fromkeys([*self.cfg.loss.pretrain, "d", *self.cfg.loss.adversarial]))
        # resumed after an epoch's last step, before its validation: that row comes again
        revalidate = self.pos.batch >= self.data.steps_per_epoch()
        main = self.world.main
        return RunLog(self.run_dir, self.pos.step, self.cfg.to_yaml(), main, terms, revalidate)

    def _epoch(self, run: RunState, stops: StopRequests) -> bool:
        """The current epoch from the current batch; whether it ran to its end."""
        phase, spe = PHASES[self.pos.phase], self.data.steps_per_epoch()
        epoch_id = self.pos.phase * 10_000 + self.pos.epoch
        self.data.sampler.set_epoch(epoch_id, self.pos.batch * self.cfg.train.batch_size)
        title = f"{phase} {self.pos.epoch + 1}/{self.plan.epochs(self.pos.phase)}"
        bar = tqdm(total=spe, initial=self.pos.batch, disable=not self.progress, desc=title)
        run.tick()
        for batch in self.data.train_loader:
            run.arrived()
            # Every rank skips the same batches and stops at the same step.
            skip, over_time, asked = distributed.any_rank(
                [batch is None, run.out_of_time(), stops.requested is not None],
                self.world,
                self.device,
            )
            run.stop = over_time or asked or run.steps_spent()
            if self.pos.batch >= spe or run.stop:
                break
            if skip:
                self.pos.batch += 1
                continue
            logs = self._train_step(phase, batch)
            run.stepped(phase, self.pos.step, logs)
            bar.update(1)
            bar.set_postfix({k: f"{v:.4f}" for k, v in logs.items()})
            self._after_step(run, phase, logs)
            run.tick()
        bar.close()
        return self.pos.batch >= spe

    def _train_step(self, phase: str, batch: Any) -> dict[str, float]:
        """One step on a batch, its losses averaged over the ranks; the position moves on."""
        logs = self.step(phase, self.data.inputs(batch, self.pos.step))
        logs = distributed.all_mean(logs, self.world, self.device)
        if not all(math.isfinite(v) for v in logs.values()):
            raise ColorganError(f"loss became non-finite at step {self.pos.step}: {logs}")
        self.pos.stepped()
        return logs

    def _after_step(self, run: RunState, phase: str, logs: dict[str, float]) -> None:
        """What falls due at this step: a log row, a checkpoint, a sample grid."""
        step, train = self.pos.step, self.cfg.train
        if step % train.log_every == 0:
            run.log.losses(step, self.pos.epoch, phase, logs, run.interval_wait_share())
        if step % train.checkpoint_every == 0:
            self.save()
        if run.steps == ESTIMATE_AFTER and self.world.main:
            log.info(self.plan.time_left(run.step_seconds / run.steps, step))
        if self.plan.sample_due(step) and self.world.main:
            grid = self.samples()
            if grid is not None:
                run.log.image("samples", grid, step)

    def _end_epoch(self, out: RunLog) -> None:
        """Validation, then the next epoch; the end of a phase is always checkpointed."""
        phase = PHASES[self.pos.phase]
        val, se = self.validate()
        log.info("%s epoch %d: validation L1 %.4f ± %.4f", phase, self.pos.epoch + 1, val, se)
        out.validation(self.pos.step, self.pos.epoch, phase, val, se)
        self.pos.epoch += 1
        self.pos.batch = 0
        if self.pos.epoch >= self.plan.epochs(self.pos.phase):
            self.save()

    def _finish(self, run: RunState, stopped_by: str | None) -> dict[str, Any]:
        """A checkpoint of where it ended; the generator file where it was not stopped by a
        signal (then KeyboardInterrupt, after saying how to continue)."""
        saved = self.save()
        if stopped_by is not None:
            log.info(
                "stopped by %s at step %d; checkpoint %s written; continue with: colorgan "
                "train --resume %s",
                stopped_by,
                self.pos.step,
                saved,
                self.run_dir,
            )
            raise KeyboardInterrupt
        final = self.run_dir / "generator.safetensors"
        if self.world.main:
            self.gan.export(final)
        distributed.barrier(self.world)
        return {
            "steps": self.pos.step,
            "d_steps": self.pos.d_steps,
            "history": run.history,
            "generator": str(final),
            "seconds": run.step_seconds,
            "loader_wait": run.wait_seconds / run.step_seconds if run.step_seconds else 0.0,
        }
