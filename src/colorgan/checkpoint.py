"""Checkpoints that survive a kill at any moment, and the exported generator file.

A checkpoint is a folder (generator/discriminator weights as safetensors, optimizer state and
position in a weights-only torch file, the config as YAML), written under a temporary name and
renamed into place; `latest` names the newest complete one and is itself replaced atomically.
The exported generator is one safetensors file whose metadata says how to rebuild the model.
"""

from __future__ import annotations

import json
import shutil
import tempfile
from pathlib import Path
from typing import Any

import torch
from safetensors import SafetensorError, safe_open
from safetensors.torch import load_file, save_file
from torch import nn

from colorgan.atomic import atomic_file, publish
from colorgan.errors import ColorganError

FORMAT = "colorgan-generator/1"


def atomic_write_text(path: Path, text: str) -> None:
    with atomic_file(path) as tmp:
        Path(tmp).write_text(text)


def _state(module: nn.Module) -> dict[str, torch.Tensor]:
    return {k: v.detach().cpu().contiguous() for k, v in module.state_dict().items()}


def save_checkpoint(
    run_dir: Path,
    step: int,
    modules: dict[str, nn.Module],
    state: dict[str, Any],
    config_yaml: str,
    keep: int = 2,
) -> Path:
    root = run_dir / "checkpoints"
    root.mkdir(parents=True, exist_ok=True)
    final = root / f"step-{step:08d}"
    tmp = Path(tempfile.mkdtemp(dir=root, prefix=".tmp-"))
    try:
        for name, module in modules.items():
            save_file(_state(module), str(tmp / f"{name}.safetensors"))
        torch.save(state, tmp / "state.pt")
        (tmp / "config.yaml").write_text(config_yaml)
        if final.exists():
            shutil.rmtree(final)
        publish(tmp, final, directory=True)
    finally:
        if tmp.exists():
            shutil.rmtree(tmp)
    atomic_write_text(root / "latest", final.name + "\n")
    old = sorted(p for p in root.glob("step-*") if p.is_dir())[:-keep]
    for path in old:
        shutil.rmtree(path, ignore_errors=True)
    return final


def latest_checkpoint(run_dir: Path) -> Path | None:
    pointer = run_dir / "checkpoints" / "latest"
    if not pointer.is_file():
        return None
    path = run_dir / "checkpoints" / pointer.read_text().strip()
    return path if path.is_dir() else None


def load_checkpoint(path: Path, modules: dict[str, nn.Module]) -> dict[str, Any]:
    for name, module in modules.items():
        module.load_state_dict(load_file(str(path / f"{name}.safetensors")))
    return torch.load(path / "state.pt", map_location="cpu", weights_only=True)


def export_generator(
    path: Path, generator: nn.Module, meta: dict[str, Any], half: bool = False
) -> None:
    """The inference file: generator weights plus how to rebuild it and its priors."""
    tensors = _state(generator)
    if half:
        tensors = {k: v.half() if v.is_floating_point() else v for k, v in tensors.items()}
    with atomic_file(path) as tmp:
        save_file(tensors, tmp, metadata={"format": FORMAT, "colorgan": json.dumps(meta)})


def read_generator_file(path: str | Path) -> tuple[dict[str, torch.Tensor], dict[str, Any]]:
    path = Path(path)
    if not path.is_file():
        raise ColorganError(f"weights file not found: {path}")
    try:
        with safe_open(str(path), framework="pt") as fh:
            metadata = fh.metadata() or {}
        tensors = load_file(str(path))
    except (SafetensorError, OSError, ValueError):
        raise ColorganError(f"{path} is not a safetensors file") from None
    if metadata.get("format") != FORMAT:
        raise ColorganError(
            f"{path} is not a colorgan generator (export one with `colorgan export RUN_DIR`)"
        )
    return tensors, json.loads(metadata["colorgan"])
