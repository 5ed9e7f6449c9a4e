"""Typed experiment configuration, loaded from and saved to YAML.

Every experiment of the paper is one YAML file in `configs/`; unknown keys are an error so a
typo never silently falls back to a default.
"""

from __future__ import annotations

import dataclasses
import types
import typing
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import yaml

from colorgan.errors import ColorganError


@dataclass
class DataConfig:
    """Where the photos come from and how they are split (paper 4.1, 4.4)."""

    root: str = "../shared/datasets/train"
    layout: str = "folder"  # "folder": any tree of images; "coco": images folder + instances json
    annotations: str | None = None  # COCO instances_*.json; only images listed there are used
    num_images: int | None = None  # seeded random sample (the paper draws 10,000 from COCO)
    val_fraction: float = 0.2  # the paper's 8,000 / 2,000 split
    image_size: int = 256
    flip: bool = True  # random horizontal flip for training
    seed: int = 0
    # None: no workers when training on the CPU, where they compete with the step for the
    # same cores and the loader already takes about 1% of the step (BENCHMARKS.md); with CUDA,
    # one per core up to 8, so decoding overlaps the GPU's work.
    num_workers: int | None = None


@dataclass
class PriorConfig:
    """The frozen semantic networks and their feature cache (paper 4.2, 4.3, 5.3.3)."""

    embedding: str = "efficientnet_lite0"  # or "inception_resnet_v2" (the paper's)
    embedding_weights: str | None = None  # local weight file; None = the package/hub default
    segmentation: str = "efficientnet_lite0_cam"  # or "deeplabv3_resnet50" (the paper's)
    segmentation_weights: str | None = None
    cache: bool = True  # False: rerun the backbones on every batch (slow; BENCHMARKS.md)
    cache_dir: str = ".colorgan-cache"
    batch_size: int = 32


@dataclass
class ModelConfig:
    """Which generator (paper Tables 1 and 4, pix2pix U-Net) and which ablation switches."""

    generator: str = "paper"  # "paper" | "koalarization" | "unet"
    use_segmentation: bool = True  # the paper's first (COCO / DeepLabV3) layer
    use_embedding: bool = True  # the Inception fusion
    discriminator_channels: int = 64
    spectral_norm: bool = False  # spectral normalization instead of BatchNorm in the PatchGAN
    unet_dropout: float = 0.0  # the paper found no dropout best
    unet_downs: int = 8  # U-Net 256 (pix2pix's unet_256); 7 is its unet_128


@dataclass
class TrainConfig:
    """Two phases: L1 pretraining of G, then adversarial training (paper 5.5, 5.6)."""

    batch_size: int = 64  # the global batch: under torchrun each of N processes takes 1/N
    pretrain_epochs: int = 20
    pretrain_lr: float = 1e-4
    pretrain_loss: str = "l1"  # "l1" | "mse" (Deep Koalarization uses MSE)
    adversarial_epochs: int = 15
    lr_g: float = 2e-4
    lr_d: float = 2e-4
    betas: tuple[float, float] = (0.5, 0.999)
    lambda_l1: float = 100.0
    # Class rebalancing of the L1 of ab (rebalance.py): None = off; lambda in (0, 1], Zhang
    # et al. use 0.5. Weighs rare, saturated colours up against greyish predictions.
    rebalance: float | None = None
    ema_decay: float = 0.0  # > 0: keep an EMA of G's weights (e.g. 0.999) and export it
    d_every: int = 5  # one discriminator step per d_every generator steps
    max_steps_per_epoch: int | None = None  # caps an epoch for the small configs
    precision: str = "auto"  # "auto" | "fp32" | "bf16" | "fp16"
    channels_last: bool | None = None  # None: on for CUDA, off on the CPU (BENCHMARKS.md)
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
    train: TrainConfig = field(default_factory=TrainConfig)

    @property
    def run_dir(self) -> Path:
        return Path(self.out_dir) / self.name

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    def to_yaml(self) -> str:
        return yaml.safe_dump(_plain(self.to_dict()), sort_keys=False)


def _plain(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    return value


def _coerce(tp: Any, value: Any, where: str) -> Any:
    origin = typing.get_origin(tp)
    if dataclasses.is_dataclass(tp):
        return build_dataclass(tp, value, where)
    if origin in (typing.Union, types.UnionType):
        args = typing.get_args(tp)
        if value is None and type(None) in args:
            return None
        errors = []
        for arg in args:
            if arg is type(None):
                continue
            try:
                return _coerce(arg, value, where)
            except ColorganError as exc:
                errors.append(str(exc))
        raise ColorganError(errors[0] if errors else f"{where}: bad value {value!r}")
    if origin is tuple:
        args = typing.get_args(tp)
        if not isinstance(value, (list, tuple)) or len(value) != len(args):
            raise ColorganError(f"{where}: expected a list of {len(args)} values, got {value!r}")
        return tuple(_coerce(a, v, where) for a, v in zip(args, value, strict=True))
    if tp is bool:
        if not isinstance(value, bool):
            raise ColorganError(f"{where}: expected true/false, got {value!r}")
        return value
    if tp is int:
        if isinstance(value, bool) or not isinstance(value, int):
            raise ColorganError(f"{where}: expected an integer, got {value!r}")
        return value
    if tp is float:
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise ColorganError(f"{where}: expected a number, got {value!r}")
        return float(value)
    if tp is str:
        if not isinstance(value, str):
            raise ColorganError(f"{where}: expected a string, got {value!r}")
        return value
    return value


def build_dataclass(cls: type, values: Any, where: str) -> Any:
    if values is None:
        values = {}
    if not isinstance(values, dict):
        raise ColorganError(f"{where or 'config'}: expected a mapping, got {values!r}")
    hints = typing.get_type_hints(cls)
    names = {f.name for f in dataclasses.fields(cls)}
    unknown = sorted(set(values) - names)
    if unknown:
        raise ColorganError(
            f"{where or 'config'}: unknown key(s) {', '.join(unknown)}; "
            f"known: {', '.join(sorted(names))}"
        )
    kwargs = {k: _coerce(hints[k], v, f"{where}.{k}" if where else k) for k, v in values.items()}
    return cls(**kwargs)


_CHOICES = {
    ("data", "layout"): ("folder", "coco"),
    ("priors", "embedding"): ("efficientnet_lite0", "inception_resnet_v2"),
    ("priors", "segmentation"): ("efficientnet_lite0_cam", "deeplabv3_resnet50"),
    ("model", "generator"): ("paper", "koalarization", "unet"),
    ("train", "pretrain_loss"): ("l1", "mse"),
    ("train", "precision"): ("auto", "fp32", "bf16", "fp16"),
}


def validate(cfg: Config) -> Config:
    for (section, key), allowed in _CHOICES.items():
        value = getattr(getattr(cfg, section), key)
        if value not in allowed:
            raise ColorganError(f"{section}.{key}: {value!r} is not one of {', '.join(allowed)}")
    if cfg.data.image_size % 8 or cfg.data.image_size < 32:
        raise ColorganError("data.image_size must be a multiple of 8 and at least 32")
    if cfg.model.generator == "unet" and cfg.data.image_size != 2**cfg.model.unet_downs:
        raise ColorganError(
            f"the U-Net with model.unet_downs {cfg.model.unet_downs} needs data.image_size "
            f"{2**cfg.model.unet_downs} (unet_downs 7 for 128, 8 for 256)"
        )
    if not 0.0 <= cfg.data.val_fraction < 1.0:
        raise ColorganError("data.val_fraction must be in [0, 1)")
    if cfg.train.rebalance is not None and not 0.0 < cfg.train.rebalance <= 1.0:
        raise ColorganError("train.rebalance must be in (0, 1] (or null for off)")
    if cfg.train.batch_size < 1 or cfg.train.d_every < 1:
        raise ColorganError("train.batch_size and train.d_every must be at least 1")
    return cfg


def config_from_dict(values: dict[str, Any]) -> Config:
    return validate(build_dataclass(Config, values, ""))


def read_yaml(path: str | Path, what: str = "config") -> dict[str, Any]:
    """A YAML file whose top level is a mapping; ColorganError (one line) otherwise."""
    path = Path(path)
    if not path.is_file():
        raise ColorganError(f"{what} file not found: {path}")
    try:
        values = yaml.safe_load(path.read_text()) or {}
    except yaml.YAMLError as exc:
        raise ColorganError(f"{path}: not valid YAML ({exc.__class__.__name__})") from None
    if not isinstance(values, dict):
        raise ColorganError(f"{path}: the top level must be a mapping")
    return values


def load_config(path: str | Path, overrides: list[str] | None = None) -> Config:
    """Load a YAML config; `overrides` are `section.key=value` strings (YAML values)."""
    path = Path(path)
    values = read_yaml(path)
    for item in overrides or []:
        key, sep, raw = item.partition("=")
        if not sep:
            raise ColorganError(f"override {item!r} is not of the form section.key=value")
        node = values
        parts = key.split(".")
        for part in parts[:-1]:
            node = node.setdefault(part, {})
            if not isinstance(node, dict):
                raise ColorganError(f"override {item!r}: {part} is not a section")
        node[parts[-1]] = yaml.safe_load(raw)
    values.setdefault("name", path.stem)
    return config_from_dict(values)
