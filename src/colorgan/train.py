"""Two-phase training (paper 5.5, 5.6): L1 pretraining of G, then G against a PatchGAN.

The position in training is (phase, epoch, batch). Data order and flips depend only on the
seed and the epoch, and checkpoints store the position, weights and optimizer states, so a
resumed run takes exactly the steps an uninterrupted one would.
"""

from __future__ import annotations

import csv
import logging
import math
import os
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import torch
import torch.nn.functional as F
from PIL import Image
from torch import nn
from torch.optim.swa_utils import AveragedModel, get_ema_multi_avg_fn
from torchvision.utils import make_grid
from tqdm import tqdm

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
from colorgan.runtime import autocast, pick_device, resolve_precision

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


class Trainer:
    def __init__(self, cfg: Config, resume: bool = False, progress: bool = True) -> None:
        self.cfg = cfg
        self.progress = progress
        self.run_dir = cfg.run_dir
        self.device = pick_device(cfg.train.device)
        self.precision = resolve_precision(cfg.train.precision, self.device)
        channels_last = cfg.train.channels_last
        if channels_last is None:
            channels_last = self.device.type == "cuda"
        self.memory_format = torch.channels_last if channels_last else torch.contiguous_format
        self.num_workers = cfg.data.num_workers
        if self.num_workers is None:
            self.num_workers = 0 if self.device.type == "cpu" else min(8, os.cpu_count() or 1)
        torch.manual_seed(cfg.train.seed)
        fmt = self.memory_format
        self.generator = build_generator(cfg.model).to(self.device, memory_format=fmt)
        self.discriminator = PatchDiscriminator(
            ndf=cfg.model.discriminator_channels, spectral_norm=cfg.model.spectral_norm
        ).to(self.device, memory_format=fmt)
        # An exponential moving average of G's weights: validated, sampled and exported in
        # place of G when train.ema_decay > 0 (a smoother generator for the same training).
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
        train = scan_images(train_paths, size, self.progress)
        val = scan_images(val_paths, size, self.progress)
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
                train = build_cache(train, priors, self.cache, cfg.priors.batch_size, self.progress)
                val = build_cache(val, priors, self.cache, cfg.priors.batch_size, self.progress)
            else:
                self.priors = priors.to(self.device)
        log.info("%d training and %d validation photos", len(train), len(val))
        self.train_set = PhotoDataset(train, size, self.cache)
        self.val_set = PhotoDataset(val[: cfg.train.val_images or None], size, self.cache)
        self.sampler = EpochSampler(len(train), cfg.train.seed, shuffle=True, flip=cfg.data.flip)

    def _loader(self, dataset: PhotoDataset, sampler: torch.utils.data.Sampler, drop_last: bool):
        return torch.utils.data.DataLoader(
            dataset,
            batch_size=self.cfg.train.batch_size,
            sampler=sampler,
            num_workers=self.num_workers,
            collate_fn=collate,
            drop_last=drop_last,
            pin_memory=self.device.type == "cuda",
            persistent_workers=False,
        )

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
        if self.generator_ema is not None:
            self.generator_ema.update_parameters(self.generator)

    @property
    def inference_generator(self) -> nn.Module:
        """What validation, samples and the exported file use: the EMA of G when kept."""
        return self.generator_ema.module if self.generator_ema is not None else self.generator

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
            fake = self._generate(x)
        loss = reconstruction_loss(self.cfg.train.pretrain_loss, fake, x["ab"])
        self._backward_step(loss, self.opt_pre)
        self._update_ema()
        return {self.cfg.train.pretrain_loss: loss.item()}

    def adversarial_step(self, x: dict[str, torch.Tensor]) -> dict[str, float]:
        t = self.cfg.train
        logs: dict[str, float] = {}
        with autocast(self.device, self.precision):
            fake = self._generate(x)
        if self.pos.phase_step % t.d_every == 0:
            self.discriminator.requires_grad_(True)
            with autocast(self.device, self.precision):
                loss_d = discriminator_loss(
                    self.discriminator(x["l"], x["ab"]), self.discriminator(x["l"], fake.detach())
                )
            self._backward_step(loss_d, self.opt_d)
            self.pos.d_steps += 1
            logs["d"] = loss_d.item()
        self.discriminator.requires_grad_(False)
        with autocast(self.device, self.precision):
            gan = generator_gan_loss(self.discriminator(x["l"], fake))
        l1 = reconstruction_loss("l1", fake, x["ab"])
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
        loader = self._loader(self.val_set, [(i, False) for i in range(len(self.val_set))], False)
        for batch in loader:
            if batch is None:
                continue
            x = self._inputs(batch)
            with autocast(self.device, self.precision):
                fake = self._generate(x, generator)
            total += reconstruction_loss("l1", fake, x["ab"]).item() * len(x["l"])
            count += len(x["l"])
        generator.train()
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

    def write_samples(self, writer: Any) -> None:
        """To TensorBoard and as samples/step-N.png in the run folder."""
        grid = self.samples()
        if grid is None:
            return
        writer.add_image("samples", grid, self.pos.step)
        image = Image.fromarray(grid.mul(255).round().byte().permute(1, 2, 0).numpy())
        with atomic_file(self.run_dir / "samples" / f"step-{self.pos.step:08d}.png") as tmp:
            image.save(tmp, format="PNG")

    # -- checkpoints -------------------------------------------------------------------------
    def _modules(self) -> dict[str, nn.Module]:
        modules = {"generator": self.generator, "discriminator": self.discriminator}
        if self.generator_ema is not None:
            modules["generator_ema"] = self.generator_ema
        return modules

    def save(self) -> Path:
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
    def run(self, max_steps: int | None = None) -> dict[str, Any]:
        """Train to the end of the schedule (or `max_steps` more G steps); returns a summary."""
        from torch.utils.tensorboard import SummaryWriter

        self.run_dir.mkdir(parents=True, exist_ok=True)
        (self.run_dir / "config.yaml").write_text(self.cfg.to_yaml())
        writer = SummaryWriter(str(self.run_dir / "tensorboard"))
        csv_path = self.run_dir / "losses.csv"
        new_csv = not csv_path.exists()
        csv_file = open(csv_path, "a", newline="")
        fields = ["step", "phase", "epoch", "l1", "mse", "g_gan", "d", "val_l1", "loader_wait",
                  "time"]  # fmt: skip
        csv_out = csv.DictWriter(csv_file, fieldnames=fields, extrasaction="ignore")
        if new_csv:
            csv_out.writeheader()
        log.info("training on %s in %s; run folder %s", self.device, self.precision, self.run_dir)
        steps_done = 0
        history: list[dict[str, Any]] = []
        # Seconds spent waiting for the loader and in whole steps (wait included): the loader
        # keeps up when waiting is a small fraction of the step.
        waited = stepped = 0.0
        interval_wait = interval_step = 0.0
        spe = self.steps_per_epoch()
        self.generator.train()
        self.discriminator.train()
        try:
            while self.pos.phase < len(PHASES):
                phase = PHASES[self.pos.phase]
                if self.pos.epoch >= self.phase_epochs(self.pos.phase):
                    self.pos.phase += 1
                    self.pos.epoch = self.pos.batch = self.pos.phase_step = 0
                    continue
                epoch_id = self.pos.phase * 10_000 + self.pos.epoch
                self.sampler.set_epoch(epoch_id, self.pos.batch * self.cfg.train.batch_size)
                loader = self._loader(self.train_set, self.sampler, drop_last=True)
                bar = tqdm(
                    total=spe, initial=self.pos.batch, disable=not self.progress,
                    desc=f"{phase} {self.pos.epoch + 1}/{self.phase_epochs(self.pos.phase)}",
                )  # fmt: skip
                tick = time.perf_counter()
                for batch in loader:
                    wait = time.perf_counter() - tick
                    if self.pos.batch >= spe or (max_steps is not None and steps_done >= max_steps):
                        break
                    if batch is None:
                        self.pos.batch += 1
                        continue
                    x = self._inputs(batch)
                    if phase == "pretrain":
                        logs = self.pretrain_step(x)
                    else:
                        logs = self.adversarial_step(x)
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
                        wait_share = interval_wait / interval_step
                        interval_wait = interval_step = 0.0
                        for k, v in logs.items():
                            writer.add_scalar(f"{phase}/{k}", v, self.pos.step)
                        writer.add_scalar("speed/loader_wait", wait_share, self.pos.step)
                        csv_out.writerow({"step": self.pos.step, "phase": phase,
                                          "epoch": self.pos.epoch, "time": round(time.time()),
                                          "loader_wait": round(wait_share, 4), **logs})  # fmt: skip
                        csv_file.flush()
                    if self.pos.step % self.cfg.train.checkpoint_every == 0:
                        self.save()
                    every = self.cfg.train.sample_every
                    if every and self.pos.step % every == 0 and len(self.val_set):
                        self.write_samples(writer)
                    tick = time.perf_counter()
                bar.close()
                if max_steps is not None and steps_done >= max_steps and self.pos.batch < spe:
                    break
                val = self.validate()
                log.info("%s epoch %d: validation L1 %.4f", phase, self.pos.epoch + 1, val)
                writer.add_scalar("val/l1", val, self.pos.step)
                csv_out.writerow({"step": self.pos.step, "phase": phase, "epoch": self.pos.epoch,
                                  "val_l1": val, "time": round(time.time())})  # fmt: skip
                csv_file.flush()
                self.pos.epoch += 1
                self.pos.batch = 0
                if self.pos.epoch >= self.phase_epochs(self.pos.phase):
                    self.save()  # the end of a phase is always kept
                if max_steps is not None and steps_done >= max_steps:
                    break
        finally:
            writer.close()
            csv_file.close()
        self.save()
        final = self.run_dir / "generator.safetensors"
        export_generator(final, self.inference_generator, generator_meta(self.cfg))
        return {"steps": self.pos.step, "d_steps": self.pos.d_steps, "history": history,
                "generator": str(final), "seconds": stepped,
                "loader_wait": waited / stepped if stepped else 0.0}  # fmt: skip
