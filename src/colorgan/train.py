"""Two-phase training (paper 5.5, 5.6): L1 pretraining of G, then G against a PatchGAN.

The position in training is (phase, epoch, batch). Data order and flips depend only on the
seed and the epoch, and checkpoints store the position, weights and optimizer states, so a
resumed run takes exactly the steps an uninterrupted one would.
"""

from __future__ import annotations

import contextlib
import csv
import logging
import math
import os
import time
from dataclasses import asdict, dataclass
from functools import cached_property
from pathlib import Path
from typing import Any

import torch
import torch.nn.functional as F
from PIL import Image
from torch import nn
from torch.nn.parallel import DistributedDataParallel
from torch.optim.swa_utils import AveragedModel, get_ema_multi_avg_fn
from torchvision.utils import make_grid
from tqdm import tqdm

from colorgan import distributed
from colorgan.atomic import atomic_file
from colorgan.cache import FeatureCache, build_cache
from colorgan.checkpoint import (
    export_generator,
    latest_checkpoint,
    load_checkpoint,
    save_checkpoint,
)
from colorgan.color import grey_from_l, lab_normalized_to_rgb, rgb_to_lab_normalized, uint8_to_float
from colorgan.config import Config
from colorgan.data import (
    EpochSampler,
    PhotoDataset,
    collate,
    find_coco_images,
    find_images,
    sample_and_split,
    scan_images,
)
from colorgan.errors import ColorganError
from colorgan.losses import discriminator_loss, generator_gan_loss, reconstruction_loss
from colorgan.models import PatchDiscriminator, build_generator
from colorgan.models.generator import needs_priors
from colorgan.priors import PRIOR_IMAGE_SIZE, SemanticPriors, expand_segmentation
from colorgan.rebalance import ab_histogram, rebalance_weights, weighted_l1
from colorgan.runtime import autocast, resolve_precision

log = logging.getLogger("colorgan")

PHASES = ("pretrain", "adversarial")


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


def prior_names(cfg: Config, generator: nn.Module) -> tuple[str | None, str | None]:
    need_emb, need_seg = needs_priors(generator)
    return (
        cfg.priors.embedding if need_emb else None,
        cfg.priors.segmentation if need_seg else None,
    )


def generator_meta(cfg: Config) -> dict[str, Any]:
    """What colorize needs to rebuild the generator and its priors from an exported file."""
    return {"model": asdict(cfg.model), "priors": asdict(cfg.priors), "name": cfg.name,
            "image_size": cfg.data.image_size}  # fmt: skip


def inference_module(generator: nn.Module, ema: AveragedModel | None) -> nn.Module:
    """The EMA of G once it has started (the adversarial phase), else G itself."""
    return ema.module if ema is not None and ema.n_averaged.item() > 0 else generator


class Trainer:
    def __init__(self, cfg: Config, resume: bool = False, progress: bool = True) -> None:
        self.cfg = cfg
        self.run_dir = cfg.run_dir
        # Under torchrun: one process per device, rank 0 alone writes (distributed.py).
        self.world, self.device = distributed.setup(cfg.train.device)
        if cfg.train.batch_size % self.world.size:
            raise ColorganError(
                f"train.batch_size {cfg.train.batch_size} (the global batch) does not split "
                f"over {self.world.size} processes; make it a multiple of the process count"
            )
        self.local_batch = cfg.train.batch_size // self.world.size
        self.progress = progress and self.world.main
        self.precision = resolve_precision(cfg.train.precision, self.device)
        channels_last = cfg.train.channels_last
        if channels_last is None:
            channels_last = self.device.type == "cuda"
        self.memory_format = torch.channels_last if channels_last else torch.contiguous_format
        self.num_workers = cfg.data.num_workers
        if self.num_workers is None:
            per_node = int(os.environ.get("LOCAL_WORLD_SIZE", 1))
            cores = max(1, (os.cpu_count() or 1) // per_node)
            self.num_workers = 0 if self.device.type == "cpu" else min(8, cores)
        torch.manual_seed(cfg.train.seed)
        fmt = self.memory_format
        self.generator = build_generator(cfg.model).to(self.device, memory_format=fmt)
        self.discriminator = PatchDiscriminator(
            ndf=cfg.model.discriminator_channels, spectral_norm=cfg.model.spectral_norm
        ).to(self.device, memory_format=fmt)
        if self.world.size > 1 and self.device.type == "cuda" and cfg.train.sync_batchnorm:
            self.generator = nn.SyncBatchNorm.convert_sync_batchnorm(self.generator)
            self.discriminator = nn.SyncBatchNorm.convert_sync_batchnorm(self.discriminator)
        # An exponential moving average of G's weights over the adversarial phase, where G
        # oscillates: validated, sampled and exported in place of G when train.ema_decay > 0.
        # It starts as a copy of the pretrained G, so no early (random) weights linger in it.
        self.generator_ema: AveragedModel | None = None
        if cfg.train.ema_decay > 0:
            self.generator_ema = AveragedModel(
                self.generator, multi_avg_fn=get_ema_multi_avg_fn(cfg.train.ema_decay),
                use_buffers=True,
            )  # fmt: skip
        betas = tuple(cfg.train.betas)
        self.opt_pre = torch.optim.Adam(self.generator.parameters(), lr=cfg.train.pretrain_lr)
        self.opt_g = torch.optim.Adam(self.generator.parameters(), lr=cfg.train.lr_g, betas=betas)
        self.opt_d = torch.optim.Adam(
            self.discriminator.parameters(), lr=cfg.train.lr_d, betas=betas
        )
        self.scaler = torch.amp.GradScaler(self.device.type, enabled=self.precision == "fp16")
        self.pos = Position()
        existing = latest_checkpoint(self.run_dir)
        if existing is not None and not resume:
            raise ColorganError(
                f"{self.run_dir} already holds a run; pass --resume to continue it, "
                "or change name/out_dir"
            )
        self._setup_data()
        if resume and existing is not None:
            self._resume(existing)
        elif resume:
            log.info("no checkpoint in %s; starting from scratch", self.run_dir)
        if cfg.train.compile:
            self.generator.compile()
            self.discriminator.compile()
        # The modules the training steps call: DDP wrappers under torchrun (they average the
        # gradients over ranks), the plain modules otherwise; checkpoints hold the plain ones.
        self.g_train: nn.Module = self.generator
        self.d_train: nn.Module = self.discriminator
        if self.world.distributed:
            ids = [self.device.index] if self.device.type == "cuda" else None
            self.g_train = DistributedDataParallel(self.generator, device_ids=ids)
            self.d_train = DistributedDataParallel(self.discriminator, device_ids=ids)
            log.info(
                "data parallel over %d processes (%s): global batch %d = %d per process",
                self.world.size, torch.distributed.get_backend(), cfg.train.batch_size,
                self.local_batch,
            )  # fmt: skip

    # -- data --------------------------------------------------------------------------------
    def _setup_data(self) -> None:
        cfg = self.cfg
        if cfg.data.layout == "coco":
            paths = find_coco_images(cfg.data.root, cfg.data.annotations)
        else:
            paths = find_images(cfg.data.root)
        if not paths:
            raise ColorganError(f"no images found under {cfg.data.root}")
        train_paths, val_paths = sample_and_split(
            paths, cfg.data.num_images, cfg.data.val_fraction, cfg.data.seed
        )
        size = cfg.data.image_size
        train = self._scan(train_paths)
        val = self._scan(val_paths)
        if len(train) < cfg.train.batch_size:
            raise ColorganError(
                f"only {len(train)} usable training photos for batch size {cfg.train.batch_size}"
            )
        emb, seg = prior_names(cfg, self.generator)
        self.cache = None
        self.priors: SemanticPriors | None = None  # only when the backbones run every batch
        self.seg_is_logits = seg == "deeplabv3_resnet50"
        if emb or seg:
            priors = SemanticPriors(
                emb, seg, cfg.priors.embedding_weights, cfg.priors.segmentation_weights
            )
            if cfg.priors.cache:
                self.cache = FeatureCache(cfg.priors.cache_dir, priors.fingerprint())
                train = self._build_cache(train, priors)
                val = self._build_cache(val, priors)
            else:
                self.priors = priors.to(self.device)
        log.info("%d training and %d validation photos", len(train), len(val))
        self.ab_weights: torch.Tensor | None = None
        if cfg.train.rebalance is not None:
            self.ab_weights = rebalance_weights(ab_histogram(train), cfg.train.rebalance)
            log.info("L1 of ab rebalanced by colour rarity (lambda %s)", cfg.train.rebalance)
        self.train_set = PhotoDataset(train, size, self.cache)
        self.val_set = PhotoDataset(val[: cfg.train.val_images or None], size, self.cache)
        self.sampler = EpochSampler(
            len(train), cfg.train.seed, shuffle=True, flip=cfg.data.flip,
            batch_size=cfg.train.batch_size, rank=self.world.rank, world=self.world.size,
        )  # fmt: skip

    def _scan(self, paths: list[Path]) -> list:
        """scan_images, each rank checking its share; every rank gets the same list back."""
        found = scan_images(distributed.shard(paths, self.world), self.cfg.data.image_size,
                            self.progress)  # fmt: skip
        order = {p: i for i, p in enumerate(paths)}
        return sorted(distributed.gather(found, self.world), key=lambda ph: order[ph.path])

    def _build_cache(self, photos: list, priors: SemanticPriors) -> list:
        """Each rank computes the priors of its share once; then every rank checks the whole
        cache and fills what it still lacks (a node without the shared filesystem)."""
        assert self.cache is not None
        batch = self.cfg.priors.batch_size
        if self.world.distributed:
            build_cache(distributed.shard(photos, self.world), priors, self.cache, batch,
                        self.progress)  # fmt: skip
            distributed.barrier(self.world)
        return build_cache(photos, priors, self.cache, batch, self.progress)

    def _loader(self, dataset: PhotoDataset, sampler: torch.utils.data.Sampler, drop_last: bool):
        return torch.utils.data.DataLoader(
            dataset,
            batch_size=self.local_batch,
            sampler=sampler,
            num_workers=self.num_workers,
            collate_fn=collate,
            drop_last=drop_last,
            pin_memory=self.device.type == "cuda",
            # Kept across epochs: each fresh set of workers costs seconds, which on a GPU
            # can be a sizeable share of a short epoch. The sampler is re-read every epoch.
            persistent_workers=self.num_workers > 0,
        )

    @cached_property
    def train_loader(self) -> torch.utils.data.DataLoader:
        return self._loader(self.train_set, self.sampler, drop_last=True)

    @cached_property
    def val_loader(self) -> torch.utils.data.DataLoader:
        items = distributed.shard([(i, False) for i in range(len(self.val_set))], self.world)
        return self._loader(self.val_set, items, drop_last=False)

    def _inputs(self, batch: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
        rgb = uint8_to_float(batch["rgb"].to(self.device, non_blocking=True))
        l_norm, ab = rgb_to_lab_normalized(rgb.contiguous(memory_format=self.memory_format))
        out = {"l": l_norm, "ab": ab}
        if self.priors is not None:
            batch = {**batch, **self._run_priors(l_norm)}
        if "embedding" in batch:
            out["embedding"] = batch["embedding"].to(self.device)
        if "segmentation" in batch:
            out["segmentation"] = expand_segmentation(
                batch["segmentation"].to(self.device), l_norm.shape[-1], self.seg_is_logits
            )
        return out

    @torch.no_grad()
    def _run_priors(self, l_norm: torch.Tensor) -> dict[str, torch.Tensor]:
        """The backbones on this batch, as the cache would have given them (cache: false)."""
        if l_norm.shape[-1] != PRIOR_IMAGE_SIZE:
            l_norm = F.interpolate(l_norm, size=(PRIOR_IMAGE_SIZE,) * 2, mode="bilinear",
                                   align_corners=False, antialias=True)  # fmt: skip
        return self.priors(grey_from_l(l_norm))

    def _update_ema(self) -> None:
        """After each adversarial step (the first call copies G)."""
        if self.generator_ema is not None:
            self.generator_ema.update_parameters(self.generator)

    @property
    def inference_generator(self) -> nn.Module:
        """What validation, samples and the exported file use: the EMA of G when kept."""
        return inference_module(self.generator, self.generator_ema)

    def _generate(
        self, x: dict[str, torch.Tensor], generator: nn.Module | None = None
    ) -> torch.Tensor:
        generator = self.generator if generator is None else generator
        return generator(x["l"], x.get("embedding"), x.get("segmentation"))

    # -- schedule ----------------------------------------------------------------------------
    def phase_epochs(self, phase: int) -> int:
        t = self.cfg.train
        return t.pretrain_epochs if PHASES[phase] == "pretrain" else t.adversarial_epochs

    def steps_per_epoch(self) -> int:
        n = len(self.train_set) // self.cfg.train.batch_size
        cap = self.cfg.train.max_steps_per_epoch
        return min(n, cap) if cap else n

    # -- steps -------------------------------------------------------------------------------
    def _backward_step(self, loss: torch.Tensor, opt: torch.optim.Optimizer) -> None:
        opt.zero_grad(set_to_none=True)
        self.scaler.scale(loss).backward()
        self.scaler.step(opt)
        self.scaler.update()

    def pretrain_step(self, x: dict[str, torch.Tensor]) -> dict[str, float]:
        with autocast(self.device, self.precision):
            fake = self._generate(x, self.g_train)
        loss = self._reconstruction(self.cfg.train.pretrain_loss, fake, x["ab"])
        self._backward_step(loss, self.opt_pre)
        return {self.cfg.train.pretrain_loss: loss.item()}

    def _reconstruction(self, kind: str, fake: torch.Tensor, real: torch.Tensor) -> torch.Tensor:
        """The training loss of ab: L1 or MSE, the L1 weighted by colour rarity if asked."""
        if kind == "l1" and self.ab_weights is not None:
            return weighted_l1(fake, real, self.ab_weights)
        return reconstruction_loss(kind, fake, real)

    def _discriminator_step(self, x: dict[str, torch.Tensor], fake: torch.Tensor) -> float:
        """D on real then fake pairs, one backward each (their sum is the loss's gradient).

        Under DDP the real pass accumulates locally (no_sync) and the fake pass's backward
        averages the summed gradients over ranks: DDP allows one synced forward per backward.
        """
        self.opt_d.zero_grad(set_to_none=True)
        no_sync = self.d_train.no_sync if self.world.distributed else contextlib.nullcontext
        total = 0.0
        for real, pair in ((True, x["ab"]), (False, fake.detach())):
            with no_sync() if real else contextlib.nullcontext():
                with autocast(self.device, self.precision):
                    part = discriminator_loss(self.d_train(x["l"], pair), real)
                self.scaler.scale(part).backward()
            total += part.item()
        self.scaler.step(self.opt_d)
        self.scaler.update()
        return total

    def adversarial_step(self, x: dict[str, torch.Tensor]) -> dict[str, float]:
        t = self.cfg.train
        logs: dict[str, float] = {}
        with autocast(self.device, self.precision):
            fake = self._generate(x, self.g_train)
        if self.pos.phase_step % t.d_every == 0:
            self.discriminator.requires_grad_(True)
            logs["d"] = self._discriminator_step(x, fake)
            self.pos.d_steps += 1
        # G's step goes through the plain D: D's weights are frozen here and need no sync.
        self.discriminator.requires_grad_(False)
        with autocast(self.device, self.precision):
            gan = generator_gan_loss(self.discriminator(x["l"], fake))
        l1 = self._reconstruction("l1", fake, x["ab"])
        self._backward_step(gan + t.lambda_l1 * l1, self.opt_g)
        self._update_ema()
        self.discriminator.requires_grad_(True)
        logs.update(g_gan=gan.item(), l1=l1.item())
        return logs

    @torch.no_grad()
    def validate(self) -> float:
        """Mean L1 of ab on the validation photos (unflipped)."""
        if len(self.val_set) == 0:
            return float("nan")
        generator = self.inference_generator
        generator.eval()
        total, count = 0.0, 0
        for batch in self.val_loader:
            if batch is None:
                continue
            x = self._inputs(batch)
            with autocast(self.device, self.precision):
                fake = self._generate(x, generator)
            total += reconstruction_loss("l1", fake, x["ab"]).item() * len(x["l"])
            count += len(x["l"])
        generator.train()
        total, count = distributed.all_sum([total, count], self.world, self.device)
        return total / max(count, 1)

    @torch.no_grad()
    def samples(self) -> torch.Tensor | None:
        """A grid of validation photos, one per row: grey input, colorization, original."""
        count = min(self.cfg.train.sample_images, len(self.val_set))
        items = [self.val_set[(i, False)] for i in range(count)]
        batch = collate(items)
        if batch is None:
            return None
        x = self._inputs(batch)
        generator = self.inference_generator
        generator.eval()
        with autocast(self.device, self.precision):
            fake = self._generate(x, generator).float()
        generator.train()
        grey = lab_normalized_to_rgb(x["l"], torch.zeros_like(x["ab"]))
        rows = torch.stack([grey, lab_normalized_to_rgb(x["l"], fake),
                            lab_normalized_to_rgb(x["l"], x["ab"])], 1)  # fmt: skip
        return make_grid(rows.flatten(0, 1).cpu(), nrow=3, padding=2, pad_value=1.0)

    def write_samples(self, out: RunLog) -> None:
        """To TensorBoard and as samples/step-N.png in the run folder (rank 0)."""
        if not self.world.main:
            return
        grid = self.samples()
        if grid is not None:
            out.image("samples", grid, self.pos.step)

    # -- checkpoints -------------------------------------------------------------------------
    def _modules(self) -> dict[str, nn.Module]:
        modules = {"generator": self.generator, "discriminator": self.discriminator}
        if self.generator_ema is not None:
            modules["generator_ema"] = self.generator_ema
        return modules

    def save(self) -> Path | None:
        """A checkpoint of the whole state (rank 0 writes; the ranks' copies are equal)."""
        if not self.world.main:
            return None
        state = {
            "position": self.pos.as_dict(),
            "opt_pre": self.opt_pre.state_dict(),
            "opt_g": self.opt_g.state_dict(),
            "opt_d": self.opt_d.state_dict(),
            "scaler": self.scaler.state_dict(),
        }
        return save_checkpoint(
            self.run_dir, self.pos.step, self._modules(), state, self.cfg.to_yaml(),
            self.cfg.train.keep_checkpoints,
        )  # fmt: skip

    def _resume(self, path: Path) -> None:
        state = load_checkpoint(path, self._modules())
        self.opt_pre.load_state_dict(state["opt_pre"])
        self.opt_g.load_state_dict(state["opt_g"])
        self.opt_d.load_state_dict(state["opt_d"])
        self.scaler.load_state_dict(state["scaler"])
        self.pos = Position(**state["position"])
        log.info("resumed from %s (step %d)", path, self.pos.step)

    # -- the loop ----------------------------------------------------------------------------
    def run(self, max_steps: int | None = None, max_seconds: float | None = None) -> dict[str, Any]:
        """Train to the end of the schedule, or for `max_steps` more G steps, or until
        `max_seconds` have passed (then checkpoint and export); returns a summary."""
        out = RunLog(self.run_dir, self.pos.step, self.cfg.to_yaml(), self.world.main)
        log.info("training on %s in %s; run folder %s", self.device, self.precision, self.run_dir)
        start = time.perf_counter()
        steps_done = 0
        history: list[dict[str, Any]] = []
        # Seconds spent waiting for the loader and in whole steps (wait included): the loader
        # keeps up when waiting is a small fraction of the step.
        waited = stepped = 0.0
        interval_wait = interval_step = 0.0
        spe = self.steps_per_epoch()
        self.generator.train()
        self.discriminator.train()
        stop = False
        try:
            while self.pos.phase < len(PHASES) and not stop:
                phase = PHASES[self.pos.phase]
                if self.pos.epoch >= self.phase_epochs(self.pos.phase):
                    self.pos.phase += 1
                    self.pos.epoch = self.pos.batch = self.pos.phase_step = 0
                    continue
                epoch_id = self.pos.phase * 10_000 + self.pos.epoch
                self.sampler.set_epoch(epoch_id, self.pos.batch * self.cfg.train.batch_size)
                bar = tqdm(
                    total=spe, initial=self.pos.batch, disable=not self.progress,
                    desc=f"{phase} {self.pos.epoch + 1}/{self.phase_epochs(self.pos.phase)}",
                )  # fmt: skip
                tick = time.perf_counter()
                for batch in self.train_loader:
                    wait = time.perf_counter() - tick
                    over_time = max_seconds is not None and tick - start >= max_seconds
                    # Every rank skips the same batches and stops at the same step.
                    skip, over_time = distributed.any_rank(
                        [batch is None, over_time], self.world, self.device
                    )
                    stop = over_time or (max_steps is not None and steps_done >= max_steps)
                    if self.pos.batch >= spe or stop:
                        break
                    if skip:
                        self.pos.batch += 1
                        continue
                    x = self._inputs(batch)
                    if phase == "pretrain":
                        logs = self.pretrain_step(x)
                    else:
                        logs = self.adversarial_step(x)
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
                    interval_wait, interval_step = interval_wait + wait, interval_step + step_time
                    bar.update(1)
                    bar.set_postfix({k: f"{v:.4f}" for k, v in logs.items()})
                    if self.pos.step % self.cfg.train.log_every == 0:
                        out.losses(self.pos, phase, logs, interval_wait / interval_step)
                        interval_wait = interval_step = 0.0
                    if self.pos.step % self.cfg.train.checkpoint_every == 0:
                        self.save()
                    every = self.cfg.train.sample_every
                    if every and self.pos.step % every == 0 and len(self.val_set):
                        self.write_samples(out)
                    tick = time.perf_counter()
                bar.close()
                if stop and self.pos.batch < spe:
                    break  # stopped inside the epoch: it resumes from here, unvalidated
                val = self.validate()
                log.info("%s epoch %d: validation L1 %.4f", phase, self.pos.epoch + 1, val)
                out.validation(self.pos, phase, val)
                self.pos.epoch += 1
                self.pos.batch = 0
                if self.pos.epoch >= self.phase_epochs(self.pos.phase):
                    self.save()  # the end of a phase is always kept
                if max_steps is not None and steps_done >= max_steps:
                    break
        finally:
            out.close()
        self.save()
        final = self.run_dir / "generator.safetensors"
        if self.world.main:
            export_generator(final, self.inference_generator, generator_meta(self.cfg))
        distributed.barrier(self.world)
        return {"steps": self.pos.step, "d_steps": self.pos.d_steps, "history": history,
                "generator": str(final), "seconds": stepped,
                "loader_wait": waited / stepped if stepped else 0.0}  # fmt: skip


class RunLog:
    """TensorBoard, losses.csv and sample grids of a run, written by rank 0 alone.

    A resumed run first drops the csv rows after its checkpoint's step, so the curves never
    run backwards where an interrupted run had gone on past its last checkpoint.
    """

    FIELDS = ["step", "phase", "epoch", "l1", "mse", "g_gan", "d", "val_l1", "loader_wait",
              "time"]  # fmt: skip

    def __init__(self, run_dir: Path, step: int, config_yaml: str, active: bool) -> None:
        self.active = active
        self.run_dir = run_dir
        if not active:
            return
        from torch.utils.tensorboard import SummaryWriter

        run_dir.mkdir(parents=True, exist_ok=True)
        (run_dir / "config.yaml").write_text(config_yaml)
        self.writer = SummaryWriter(str(run_dir / "tensorboard"), purge_step=step or None)
        path = run_dir / "losses.csv"
        kept: list[dict[str, str]] = []
        if path.exists():
            with open(path, newline="") as fh:
                kept = [row for row in csv.DictReader(fh) if int(row["step"] or 0) <= step]
        with atomic_file(path) as tmp, open(tmp, "w", newline="") as fh:
            rewrite = csv.DictWriter(fh, fieldnames=self.FIELDS, extrasaction="ignore")
            rewrite.writeheader()
            rewrite.writerows(kept)
        self.csv_file = open(path, "a", newline="")
        self.csv = csv.DictWriter(self.csv_file, fieldnames=self.FIELDS, extrasaction="ignore")

    def losses(self, pos: Position, phase: str, logs: dict[str, float], wait: float) -> None:
        if not self.active:
            return
        for k, v in logs.items():
            self.writer.add_scalar(f"{phase}/{k}", v, pos.step)
        self.writer.add_scalar("speed/loader_wait", wait, pos.step)
        self._row(pos, phase, loader_wait=round(wait, 4), **logs)

    def validation(self, pos: Position, phase: str, val: float) -> None:
        if not self.active:
            return
        self.writer.add_scalar("val/l1", val, pos.step)
        self._row(pos, phase, val_l1=val)

    def _row(self, pos: Position, phase: str, **values: float) -> None:
        row = {"step": pos.step, "phase": phase, "epoch": pos.epoch, "time": round(time.time())}
        self.csv.writerow({**row, **values})
        self.csv_file.flush()

    def image(self, name: str, grid: torch.Tensor, step: int) -> None:
        if not self.active:
            return
        self.writer.add_image(name, grid, step)
        image = Image.fromarray(grid.mul(255).round().byte().permute(1, 2, 0).numpy())
        with atomic_file(self.run_dir / "samples" / f"step-{step:08d}.png") as tmp:
            image.save(tmp, format="PNG")

    def close(self) -> None:
        if self.active:
            self.writer.close()
            self.csv_file.close()
