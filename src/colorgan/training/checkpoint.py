"""Checkpoints that survive a kill at any moment.

A checkpoint is a folder (each module's weights as safetensors, optimizer state and position
in a weights-only torch file, the config as YAML), written under a temporary name and renamed
into place; `latest` names the newest complete one and is itself replaced atomically.
"""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path
from typing import Any

import torch
from safetensors.torch import load_file, save_file
from torch import nn

from colorgan.files import atomic_write_text, publish


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
            tensors = {k: v.detach().cpu().contiguous() for k, v in module.state_dict().items()}
            save_file(tensors, str(tmp / f"{name}.safetensors"))
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
    """Load each module's weights from the folder; returns the rest of the state."""
    for name, module in modules.items():
        module.load_state_dict(load_file(str(path / f"{name}.safetensors")))
    return torch.load(path / "state.pt", map_location="cpu", weights_only=True)
