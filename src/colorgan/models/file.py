"""The generator file: what `colorgan train` and `colorgan export` write and `Colorizer` reads.

One safetensors file holds the generator's weights and, in its metadata, everything needed to
rebuild it without the run: the registered generator and its options, the priors it was
trained with (backbones, weight files, their sizes), the training size and the run's name.
Files written before the generator registry (format /1) are upgraded as they are read.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, replace
from pathlib import Path
from typing import Any

import torch
from safetensors import SafetensorError, safe_open
from safetensors.torch import load_file, save_file
from torch import nn

from colorgan.base.errors import ColorganError, SettingError, shown
from colorgan.base.files import atomic_file
from colorgan.config import Config, ModelConfig, PriorConfig
from colorgan.config.upgrade import upgrade_old_form
from colorgan.models import Generator, generator_class
from colorgan.priors.semantic import prior_sizes
from colorgan.spec.meta import check_size, stored_mirror, stored_saturation
from colorgan.spec.typed import build_dataclass

FORMAT = "colorgan-generator/2"
MAX_META_CHARS = 1 << 20  # a model's own description is a few kB; a megabyte is plenty
READABLE = ("colorgan-generator/1", FORMAT)


def build_generator(model: ModelConfig, priors: PriorConfig) -> Generator:
    """The registered generator with its options, sized for the priors it needs."""
    cls = generator_class(model.generator)
    sizes = prior_sizes(priors.embedding, priors.segmentation, cls.needs(model.options))
    return cls.from_options(model.options, sizes)


def generator_meta(cfg: Config) -> dict[str, Any]:
    return {
        "name": cfg.name,
        "model": cfg.model.to_dict(),
        "priors": asdict(cfg.priors),
        "image_size": cfg.data.image_size,
    }


def state_tensors(module: nn.Module, half: bool = False) -> dict[str, torch.Tensor]:
    tensors = {k: v.detach().cpu().contiguous() for k, v in module.state_dict().items()}
    if half:
        tensors = {k: v.half() if v.is_floating_point() else v for k, v in tensors.items()}
    return tensors


def write_generator_file(path: Path, tensors: dict[str, torch.Tensor], meta: dict) -> None:
    with atomic_file(path) as tmp:
        save_file(tensors, tmp, metadata={"format": FORMAT, "colorgan": json.dumps(meta)})


def save_generator(path: Path, generator: nn.Module, meta: dict, half: bool = False) -> None:
    """The inference file: weights (fp16 with `half`) plus how to rebuild the generator."""
    write_generator_file(path, state_tensors(generator, half), meta)


def read_generator_file(path: str | Path) -> tuple[dict[str, torch.Tensor], dict[str, Any]]:
    """(weights, metadata in the current form); ColorganError for anything else."""
    path = Path(path)
    if path.is_dir():
        raise ColorganError(f"{shown(str(path))} is a folder, not a weights file")
    if not path.is_file():
        raise ColorganError(f"weights file not found: {shown(str(path))}")
    try:
        with safe_open(str(path), framework="pt") as fh:
            metadata = fh.metadata() or {}
        tensors = load_file(str(path))
    except (SafetensorError, OSError, ValueError):
        raise ColorganError(f"{path} is not a safetensors file") from None
    if metadata.get("format") not in READABLE:
        raise ColorganError(
            f"{path} is not a colorgan generator (export one with `colorgan export RUN_DIR`)"
        )
    if len(metadata.get("colorgan", "")) > MAX_META_CHARS:
        raise ColorganError(
            f"{path}: its colorgan metadata is over {MAX_META_CHARS:,} characters; at most "
            f"{MAX_META_CHARS:,} are read"
        )
    try:
        meta = json.loads(metadata["colorgan"])
        meta["model"] = upgrade_old_form({"model": meta["model"]})["model"]
        if not isinstance(meta["model"], dict) or not isinstance(meta.get("priors", {}), dict):
            raise TypeError
    except RecursionError:
        raise ColorganError(f"{path}: its colorgan metadata is nested too deeply") from None
    except (KeyError, TypeError, ValueError, AttributeError):
        raise ColorganError(f"{path}: its colorgan metadata is damaged") from None
    return tensors, meta


@dataclass
class LoadedGenerator:
    generator: Generator
    model: ModelConfig
    priors: PriorConfig
    image_size: int
    meta: dict[str, Any]


def load_generator(path: str | Path) -> LoadedGenerator:
    """Rebuild a generator from its file, weights loaded (fp32), in eval mode."""
    tensors, meta = read_generator_file(path)
    try:  # every value the file says of its model, checked before anything is built
        model = ModelConfig.from_dict(meta["model"])
        priors = build_dataclass(PriorConfig, meta["priors"], "priors")
        image_size = check_size(meta.get("image_size", 256))
        model.options.check(image_size)
        stored_saturation(meta)
        stored_mirror(meta)
    except (ColorganError, KeyError, TypeError, ValueError) as exc:
        detail = f" ({exc})" if isinstance(exc, ColorganError) else ""
        raise ColorganError(f"{path}: its colorgan metadata is damaged{detail}") from None
    if not all(v.isfinite().all() for v in tensors.values() if v.is_floating_point()):
        raise ColorganError(f"{path}: its weights hold NaN or infinite values; it cannot colorize")
    generator = build_generator(model, priors)
    try:
        generator.load_state_dict({k: v.float() for k, v in tensors.items()})
    except RuntimeError:
        raise ColorganError(f"{path} does not match its recorded model") from None
    return LoadedGenerator(generator.eval(), model, priors, image_size, meta)


def rewrite_generator(
    path: Path,
    target: Path,
    half: bool = False,
    saturation: float | None = None,
    temperature: float | None = None,
    mirror: bool | None = None,
) -> None:
    """A generator file again, with fp16 weights (`half`), another default saturation,
    mirror averaging on or off or, for a classifying model, another annealed-mean temperature
    (each chosen on validation photos)."""
    tensors, meta = read_generator_file(path)
    if mirror is not None:
        meta["mirror"] = mirror
    if half:
        tensors = {k: v.half() if v.is_floating_point() else v for k, v in tensors.items()}
    if saturation is not None:
        meta["saturation"] = saturation
    if temperature is not None:
        model = ModelConfig.from_dict(meta["model"])
        if getattr(model.options, "head", None) != "classification":
            raise SettingError(
                "temperature",
                f"{path}: is for a classifying model (model.lite_unet.head: classification)",
            )
        model.options = replace(model.options, temperature=temperature)
        model.options.check(int(meta.get("image_size", 256)))  # the model's own bounds
        meta["model"] = model.to_dict()
    write_generator_file(target, tensors, meta)


def mean_generator_file(paths: list[Path], target: Path) -> None:
    """One generator file averaging these generators' ab, each at its stored saturation (the
    mean's own saturation starts at 1). They must share the training size and the priors."""
    read = [read_generator_file(p) for p in paths]
    metas = [meta for _, meta in read]
    for path, meta in zip(paths, metas, strict=True):
        if meta["model"].get("generator") == "mean":
            count = len(meta["model"].get("mean", {}).get("members", []))
            raise SettingError(
                "mean_with",
                f"{shown(path.stem)} is already a mean (of {count} models); a mean is made of "
                "single generators",
            )
    for what in ("priors", "image_size"):
        if len({json.dumps(m.get(what), sort_keys=True) for m in metas}) > 1:
            raise SettingError("mean_with", f"the models differ in {what.replace('_', ' ')}")
    tensors = {f"members.{i}.{k}": v for i, (t, _) in enumerate(read) for k, v in t.items()}
    options = {
        "members": [m["model"] for m in metas],
        "scales": [stored_saturation(m) for m in metas],
    }
    meta = {
        **metas[0],
        "name": " + ".join(str(m.get("name", "?")) for m in metas),
        "model": {"generator": "mean", "mean": options},
        "saturation": 1.0,
    }
    if len({m.get("mirror", False) for m in metas}) > 1:
        meta.pop("mirror", None)  # the members disagree: off unless --mirror says so
    ModelConfig.from_dict(meta["model"]).options.check(int(meta.get("image_size", 256)))
    write_generator_file(target, tensors, meta)
