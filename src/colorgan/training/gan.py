"""ColorGAN: the nets of a run and how they learn, apart from any data or loop.

It holds the generator, the PatchGAN, an optional EMA of the generator, their optimizers and
the two steps of the paper (5.5 L1 pretraining, 5.6 adversarial training), and its state for
checkpoints. Built from a config alone, it can be stepped on any batch of generator inputs:
{"l_norm", "ab"} plus the priors the generator needs (`priors.generator_inputs`).
"""

from __future__ import annotations

import contextlib
import logging
from pathlib import Path
from typing import Any

import torch
from torch import nn
from torch.nn.parallel import DistributedDataParallel
from torch.optim.swa_utils import AveragedModel, get_ema_multi_avg_fn

from colorgan.base.errors import ColorganError
from colorgan.config import Config, load_config
from colorgan.models import PatchDiscriminator
from colorgan.models.file import (
    build_generator,
    generator_meta,
    read_generator_file,
    save_generator,
)
from colorgan.models.runtime import autocast
from colorgan.training.checkpoint import latest_checkpoint, load_latest
from colorgan.training.distributed import World
from colorgan.training.losses import (
    TERMS,
    LossContext,
    PerceptualFeatures,
    discriminator_loss,
    weighted_sum,
)

log = logging.getLogger(__name__)

Batch = dict[str, torch.Tensor]


def warm_start(generator: nn.Module, path: str) -> None:
    """G's weights from a generator file of the same model (train.init_from): a new run that
    goes on from a finished one, with fresh optimizers and its own schedule. A file of the
    same body with another output head (regression -> classification) starts the body; the
    head keeps its fresh start."""
    tensors, _ = read_generator_file(path)
    own = generator.state_dict()
    head = getattr(generator, "head_prefix", None)
    reheaded = head is not None and any(
        k.startswith(head) and (k not in own or own[k].shape != v.shape) for k, v in tensors.items()
    )
    if reheaded:
        tensors = {k: v for k, v in tensors.items() if not k.startswith(head)}
    try:
        result = generator.load_state_dict({k: v.float() for k, v in tensors.items()}, strict=False)
    except RuntimeError:
        result = None
    # a file from before a widened input (hints) lacks only those zero-started weights
    fresh = (*getattr(generator, "widened", ()), *([head] if reheaded else []))
    if (
        result is None
        or result.unexpected_keys
        or any(not k.startswith(fresh) for k in result.missing_keys)
    ):
        raise ColorganError(
            f"train.init_from {path}: its generator is not this config's model"
        ) from None
    if reheaded:
        log.info("train.init_from %s: another output head; this one starts fresh", path)


class ColorGAN:
    def __init__(
        self,
        cfg: Config,
        device: torch.device | str = "cpu",
        precision: str = "fp32",
        memory_format: torch.memory_format = torch.contiguous_format,
        world: World | None = None,
    ) -> None:
        self.cfg = cfg
        self.device = torch.device(device)
        self.precision = precision
        self.world = world or World()
        torch.manual_seed(cfg.train.seed)
        fmt = memory_format
        generator = build_generator(cfg.model, cfg.priors)
        generator.load_pretrained()
        self.generator = generator.to(self.device, memory_format=fmt)
        disc = cfg.model.discriminator
        self.discriminator = PatchDiscriminator(
            ndf=disc.channels, spectral_norm=disc.spectral_norm
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
                self.generator,
                multi_avg_fn=get_ema_multi_avg_fn(cfg.train.ema_decay),
                use_buffers=True,
            )
        betas = tuple(cfg.train.betas)
        pre, lr_g = cfg.train.pretrain_lr, cfg.train.lr_g
        self.opt_pre = torch.optim.Adam(generator.param_groups(pre), lr=pre)
        self.opt_g = torch.optim.Adam(generator.param_groups(lr_g), lr=lr_g, betas=betas)
        self.opt_d = torch.optim.Adam(
            self.discriminator.parameters(), lr=cfg.train.lr_d, betas=betas
        )
        # the configured rates, which the schedule's factor multiplies (kept out of the
        # optimizers' state, so a resumed run takes them from its config as a new one does)
        self.base_lrs = {
            name: [group["lr"] for group in getattr(self, name).param_groups]
            for name in ("opt_pre", "opt_g", "opt_d")
        }
        self.scaler = torch.amp.GradScaler(self.device.type, enabled=precision == "fp16")
        # rebalance.rebalance_weights from the training photos, for the rebalanced_l1 term
        self.colour_weights: torch.Tensor | None = None
        terms = [*cfg.loss.pretrain, *cfg.loss.adversarial]
        self.features: PerceptualFeatures | None = None
        if any(TERMS[name].needs.features for name in terms):
            self.features = PerceptualFeatures().to(self.device)
        # The modules the steps call: DDP wrappers once `distribute` ran, the plain ones before.
        self.g_train: nn.Module = self.generator
        self.d_train: nn.Module = self.discriminator

    @classmethod
    def from_checkpoint(cls, run_dir: Path) -> ColorGAN:
        """A run's latest checkpoint, on the CPU (for export)."""
        ckpt = latest_checkpoint(run_dir)
        if ckpt is None:
            raise ColorganError(f"no checkpoint in {run_dir}")
        gan = cls(load_config(ckpt / "config.yaml"))
        gan.resume(run_dir)
        return gan

    def compile(self) -> None:
        self.generator.compile()
        self.discriminator.compile()

    def distribute(self) -> None:
        """Wrap G and D in DistributedDataParallel, which averages gradients over ranks."""
        ids = [self.device.index] if self.device.type == "cuda" else None
        self.g_train = DistributedDataParallel(self.generator, device_ids=ids)
        self.d_train = DistributedDataParallel(self.discriminator, device_ids=ids)

    # -- the steps ---------------------------------------------------------------------------
    def autocast(self) -> contextlib.AbstractContextManager:
        return autocast(self.device, self.precision)

    @staticmethod
    def generate(generator: nn.Module, x: Batch) -> tuple[torch.Tensor, Batch]:
        """ab, and what the loss terms may need beyond it (a classifier's logits)."""
        hints = {"hints": x["hints"]} if "hints" in x else {}  # only hint-taking generators
        out = generator(x["l_norm"], x.get("embedding"), x.get("segmentation"), **hints)
        if isinstance(out, dict):
            return out["ab"], {"logits": out["logits"]}
        return out, {}

    def _context(self, discriminator: nn.Module | None = None) -> LossContext:
        return LossContext(
            discriminator=discriminator,
            colour_weights=self.colour_weights,
            features=self.features,
            autocast=self.autocast,
        )

    def set_lr_factor(self, phase: str, factor: float) -> None:
        """The phase's optimizers at `factor` x their configured rates (the schedule's)."""
        for name in ("opt_pre",) if phase == "pretrain" else ("opt_g", "opt_d"):
            for group, base in zip(
                getattr(self, name).param_groups, self.base_lrs[name], strict=True
            ):
                group["lr"] = base * factor

    def _step(self, opt: torch.optim.Optimizer) -> None:
        """The optimizer's step on the scaled gradients, clipped to train.grad_clip."""
        clip = self.cfg.train.grad_clip
        if clip is not None:
            self.scaler.unscale_(opt)
            params = [p for group in opt.param_groups for p in group["params"]]
            torch.nn.utils.clip_grad_norm_(params, clip)
        self.scaler.step(opt)
        self.scaler.update()

    def _backward_step(self, loss: torch.Tensor, opt: torch.optim.Optimizer) -> None:
        opt.zero_grad(set_to_none=True)
        self.scaler.scale(loss).backward()
        self._step(opt)

    def pretrain_step(self, x: Batch) -> dict[str, float]:
        """One G step on `loss.pretrain`; returns each term's value."""
        with self.autocast():
            fake, extra = self.generate(self.g_train, x)
        loss, terms = weighted_sum(self.cfg.loss.pretrain, fake, {**x, **extra}, self._context())
        self._backward_step(loss, self.opt_pre)
        return {k: v.item() for k, v in terms.items()}

    def adversarial_step(self, x: Batch, step_discriminator: bool = True) -> dict[str, float]:
        """A D step (if asked: the D-every-k rule is the caller's), then a G step on
        `loss.adversarial`, then the EMA; returns D's loss (`d`) and each term's value."""
        logs: dict[str, float] = {}
        with self.autocast():
            fake, extra = self.generate(self.g_train, x)
        if step_discriminator:
            self.discriminator.requires_grad_(True)
            logs["d"] = self._discriminator_step(x, fake)
        # G's step goes through the plain D: D's weights are frozen here and need no sync.
        self.discriminator.requires_grad_(False)
        loss, terms = weighted_sum(
            self.cfg.loss.adversarial, fake, {**x, **extra}, self._context(self.discriminator)
        )
        self._backward_step(loss, self.opt_g)
        if self.generator_ema is not None:  # the first call copies G
            self.generator_ema.update_parameters(self.generator)
        self.discriminator.requires_grad_(True)
        logs.update({k: v.item() for k, v in terms.items()})
        return logs

    def critic_step(self, x: Batch) -> dict[str, float]:
        """A D step on G's current outputs, G untouched (the critic's warm-up)."""
        with torch.no_grad(), self.autocast():
            fake = self.generate(self.g_train, x)[0]
        return {"d": self._discriminator_step(x, fake)}

    def _discriminator_step(self, x: Batch, fake: torch.Tensor) -> float:
        """D on real then fake pairs, one backward each (their sum is the loss's gradient).

        Under DDP the real pass accumulates locally (no_sync) and the fake pass's backward
        averages the summed gradients over ranks: DDP allows one synced forward per backward.
        """
        self.opt_d.zero_grad(set_to_none=True)
        distributed = isinstance(self.d_train, DistributedDataParallel)
        no_sync = self.d_train.no_sync if distributed else contextlib.nullcontext
        total = 0.0
        for real, pair in ((True, x["ab"]), (False, fake.detach())):
            with no_sync() if real else contextlib.nullcontext():
                with self.autocast():
                    part = discriminator_loss(self.d_train(x["l_norm"], pair), real)
                self.scaler.scale(part).backward()
            total += part.item()
        self._step(self.opt_d)
        return total

    # -- inference and export ----------------------------------------------------------------
    @property
    def inference_generator(self) -> nn.Module:
        """What validation, samples and the exported file use: the EMA of G once it has
        started (the adversarial phase), G before that or without one."""
        ema = self.generator_ema
        return ema.module if ema is not None and ema.n_averaged.item() > 0 else self.generator

    @torch.no_grad()
    def predict(self, x: Batch) -> torch.Tensor:
        """ab of the inference generator, in eval mode, as fp32."""
        generator = self.inference_generator
        generator.eval()
        with self.autocast():
            fake = self.generate(generator, x)[0].float()
        generator.train()
        return fake

    def export(self, path: Path, half: bool = False) -> None:
        save_generator(path, self.inference_generator, generator_meta(self.cfg), half=half)

    # -- checkpoint state --------------------------------------------------------------------
    def modules(self, phase: str = "adversarial") -> dict[str, nn.Module]:
        """The modules a checkpoint folder of this phase holds, one weights file each: what a
        resume reads. In pretraining D is as its seed made it (a resumed run makes the same),
        so it is left out."""
        modules = {"generator": self.generator}
        if phase == "adversarial":
            modules["discriminator"] = self.discriminator
        if self.generator_ema is not None:
            modules["generator_ema"] = self.generator_ema
        return modules

    def state_dict(self, phase: str = "adversarial") -> dict[str, Any]:
        """The optimizer and scaler states a resume of this phase reads (the weights go
        through `modules`): pretraining steps only its own optimizer, and the adversarial
        phase never steps it again, so each phase's checkpoint holds its own optimizers."""
        names = ("opt_pre",) if phase == "pretrain" else ("opt_g", "opt_d")
        return {name: getattr(self, name).state_dict() for name in (*names, "scaler")}

    def resume(self, run_dir: Path) -> tuple[Path, dict[str, Any]]:
        """Weights and optimizer states from the run's best readable checkpoint (a damaged
        one is reported and skipped); returns it and its whole state (with the trainer's
        position). A checkpoint that does not fit this config is one error."""
        try:
            path, state = load_latest(run_dir, self.modules())
            for name in ("opt_pre", "opt_g", "opt_d", "scaler"):
                if name in state:  # a phase's checkpoint holds the optimizers it steps
                    getattr(self, name).load_state_dict(state[name])
        except (RuntimeError, KeyError, ValueError, TypeError, IndexError) as exc:
            raise ColorganError(
                f"the checkpoint in {run_dir} does not fit this config "
                f"({exc.__class__.__name__}: {str(exc).splitlines()[0][:160]})"
            ) from None
        return path, state
