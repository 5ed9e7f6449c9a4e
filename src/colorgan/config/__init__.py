"""Typed experiment configuration, loaded from and saved to YAML.

Every experiment of the paper is one YAML file in `configs/`. A file may name a `base:` file
(relative to itself) whose values it inherits and overrides key by key, so a variant of a
recipe says only what differs. Unknown keys are an error, so a typo never silently falls back
to a default. The generator's own options sit under `model.<generator>`, typed by its class in
models/options.py. Reading a config imports no torch.
"""

from __future__ import annotations

import dataclasses
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import yaml

from colorgan.base.errors import ColorganError, short
from colorgan.config.checks import validate
from colorgan.config.recipes import apply_overrides, parse_override, read_recipe, read_yaml
from colorgan.config.upgrade import upgrade_old_form
from colorgan.spec.options import options_class
from colorgan.spec.typed import build_dataclass, listed, plain


@dataclass
class SourceConfig:
    """One folder of a training pool and how often an epoch draws each of its photos."""

    root: str
    # relative to a photo of weight 1: 2 draws each photo twice an epoch, 0.5 a random half
    weight: float = 1.0
    val_fraction: float | None = None  # this folder's share held out; None: data.val_fraction


@dataclass
class DataConfig:
    """Where the photos come from and how they are split (paper 4.1, 4.4)."""

    # one folder, or several read as one pool (each weight 1); `sources` gives each a weight;
    # no default: a recipe names its photos (or `--set data.root=FOLDER` does)
    root: str | list[str] | None = None
    sources: list[SourceConfig] | None = None  # in place of root: [{root, weight}, ...]
    # in place of root and sources: the folder `colorgan data pack` wrote, or a brace pattern
    # of some of its shards ("shards/train-{000000..000127}.tar"); photos are streamed
    shards: str | None = None
    shuffle_buffer: int = 1000  # photos each loader worker mixes when streaming shards
    layout: str = "folder"  # "folder": any tree of images; "coco": images folder + instances json
    annotations: str | None = None  # COCO instances_*.json; only images listed there are used
    num_images: int | None = None  # seeded random sample (the paper draws 10,000 from COCO)
    val_fraction: float = 0.2  # the paper's 8,000 / 2,000 split
    image_size: int = 256
    flip: bool = True  # random horizontal flip for training
    # random resized crops for training: the range of the crop's area as a fraction of the
    # photo, e.g. [0.5, 1.0] (aspect 3/4 to 4/3); null: the whole photo (the paper)
    random_crop: tuple[float, float] | None = None
    seed: int = 0
    # None: no workers when training on the CPU, where they compete with the step for the
    # same cores; with CUDA, one per core up to 8, so decoding overlaps the GPU's work.
    num_workers: int | None = None

    def pool(self) -> list[SourceConfig]:
        """The folders photos are drawn from, with their weights."""
        if self.sources is not None:
            return list(self.sources)
        roots = [self.root] if isinstance(self.root, str) else self.root or []
        return [SourceConfig(root) for root in roots]


@dataclass
class PriorConfig:
    """The frozen semantic networks and their feature cache (paper 4.2, 4.3, 5.3.3)."""

    embedding: str = "efficientnet_lite0"  # or "inception_resnet_v2" (the paper's)
    embedding_weights: str | None = None  # local weight file; None = the package/hub default
    segmentation: str = "efficientnet_lite0_cam"  # or "deeplabv3_resnet50" (the paper's)
    segmentation_weights: str | None = None
    cache: bool = True  # False: rerun the backbones on every batch
    cache_dir: str = ".colorgan-cache"
    batch_size: int = 32


@dataclass
class DiscriminatorConfig:
    """The 70 x 70 PatchGAN (pix2pix's n_layers=3)."""

    channels: int = 64
    spectral_norm: bool = False  # spectral normalization instead of BatchNorm


@dataclass
class ModelConfig:
    """Which registered generator, its own options (YAML: `model.<generator>`), and D."""

    generator: str = "fusion"
    options: Any = None  # the generator's Options dataclass; None = its defaults
    discriminator: DiscriminatorConfig = field(default_factory=DiscriminatorConfig)

    def __post_init__(self) -> None:
        if self.options is None:
            self.options = options_class(self.generator)()

    @classmethod
    def from_dict(cls, values: dict[str, Any], where: str = "model") -> ModelConfig:
        values = dict(values)
        name = values.pop("generator", cls.generator)
        if not isinstance(name, str):
            raise ColorganError(f"{where}.generator: expected a string, got {short(name)}")
        options = build_dataclass(options_class(name), values.pop(name, None), f"{where}.{name}")
        discriminator = build_dataclass(
            DiscriminatorConfig, values.pop("discriminator", None), f"{where}.discriminator"
        )
        if values:
            raise ColorganError(
                f"{where}: unknown key(s) {listed(sorted(map(str, values)))}; known: generator, "
                f"{name} (the options of model.generator {name!r}), discriminator"
            )
        return cls(name, options, discriminator)

    def to_dict(self) -> dict[str, Any]:
        return {
            "generator": self.generator,
            self.generator: asdict(self.options),
            "discriminator": asdict(self.discriminator),
        }


@dataclass
class LossConfig:
    """Each phase's objective: loss term name -> weight (training.terms; paper 5.2, 5.6)."""

    pretrain: dict[str, float] = field(default_factory=lambda: {"l1": 1.0})
    adversarial: dict[str, float] = field(default_factory=lambda: {"gan": 1.0, "l1": 100.0})
    # lambda of the rebalanced_l1 term's colour-rarity weights, in (0, 1]; Zhang et al. use 0.5
    rebalance_lambda: float = 0.5


@dataclass
class TrainConfig:
    """Two phases: L1 pretraining of G, then adversarial training (paper 5.5, 5.6)."""

    batch_size: int = 64  # the global batch: under torchrun each of N processes takes 1/N
    pretrain_epochs: int = 20
    pretrain_lr: float = 1e-4
    adversarial_epochs: int = 15
    lr_g: float = 2e-4
    lr_d: float = 2e-4
    betas: tuple[float, float] = (0.5, 0.999)
    ema_decay: float = 0.0  # > 0: keep an EMA of G's weights (e.g. 0.999) and export it
    d_every: int = 5  # one discriminator step per d_every generator steps
    # the adversarial phase's first steps train D alone on the pretrained G's outputs, so G
    d_warmup_steps: int = 0  # meets a critic that already knows its faults (DeOldify's NoGAN)
    # each phase's rates: "constant" (the paper), or warmup_steps of linear warm-up, then
    # "cosine" to lr_floor x, or "step" (x 0.1 at each fraction in lr_steps); exact on resume
    lr_schedule: str = "constant"
    warmup_steps: int = 0
    lr_floor: float = 0.0
    lr_steps: tuple[float, ...] = (0.6, 0.85)
    grad_clip: float | None = None  # clip each step's gradient to this global norm
    init_from: str | None = None  # a generator file to start G from (resumed: the checkpoint)
    # for a generator that takes colour hints: a photo gets none with chance hints_none, else
    # a geometric number of points with chance hints_p (mean 1 / hints_p; training/hints.py)
    hints_p: float = 0.125
    hints_none: float = 0.25
    max_steps_per_epoch: int | None = None  # caps an epoch for the small configs
    precision: str = "auto"  # "auto" | "fp32" | "bf16" | "fp16"
    channels_last: bool | None = None  # None: on for CUDA, off on the CPU (no faster there)
    compile: bool = False  # torch.compile G and D (worth it on GPUs for long runs)
    # Under torchrun on CUDA: BatchNorm layers (PatchGAN, U-Net) pool their statistics over
    # the global batch, so N GPUs compute what one would (SyncBatchNorm is GPU-only).
    sync_batchnorm: bool = True
    device: str = "auto"  # "auto" | "cpu" | "cuda" | "cuda:N"
    checkpoint_every: int = 200  # steps; a checkpoint is also written at each phase end
    keep_checkpoints: int = 2
    log_every: int = 10
    val_images: int | None = 64  # validation images per epoch (None = all)
    sample_every: int = 200  # steps; a grid of validation colorizations (0 = never)
    sample_images: int = 8
    seed: int = 0


@dataclass
class Config:
    name: str = "paper"
    out_dir: str = "runs"
    data: DataConfig = field(default_factory=DataConfig)
    priors: PriorConfig = field(default_factory=PriorConfig)
    model: ModelConfig = field(default_factory=ModelConfig)
    loss: LossConfig = field(default_factory=LossConfig)
    train: TrainConfig = field(default_factory=TrainConfig)

    @property
    def run_dir(self) -> Path:
        return Path(self.out_dir) / self.name

    def to_dict(self) -> dict[str, Any]:
        out = {f.name: getattr(self, f.name) for f in dataclasses.fields(self)}
        return {k: v.to_dict() if hasattr(v, "to_dict") else plain(v) for k, v in out.items()}

    def to_yaml(self) -> str:
        return yaml.safe_dump(plain(self.to_dict()), sort_keys=False)


def config_from_dict(values: dict[str, Any]) -> Config:
    return validate(build_dataclass(Config, upgrade_old_form(values), ""))


__all__ = [
    "Config",
    "apply_overrides",
    "config_from_dict",
    "load_config",
    "parse_override",
    "read_recipe",
    "read_yaml",
]


def load_config(path: str | Path, overrides: list[str] | None = None) -> Config:
    """Load a YAML config (with its bases); `overrides` are `section.key=value` strings."""
    path = Path(path)
    values = apply_overrides(read_recipe(path), overrides or [])
    values.setdefault("name", path.stem)
    return config_from_dict(values)
