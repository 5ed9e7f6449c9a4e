"""Checkpoints that survive a kill at any moment, and damage.

A checkpoint is a folder (each module's weights as safetensors, optimizer state and position
in a weights-only torch file, the config as YAML), written under a temporary name and renamed
into place under a name no other checkpoint has (a second save of the same step goes in as
step-N.1), so an existing checkpoint is never removed before its successor is complete; then
`latest` is replaced atomically to name the new one, and only then are the superseded and older
ones removed; a second save then takes its step's own name, step-N.
Reading falls back from a missing or damaged checkpoint to the newest one before it that
reads, saying which and why; a run folder whose checkpoints all fail is an error, never a
silent fresh start.
"""

from __future__ import annotations

import logging
import pickle
import re
import shutil
import tempfile
from pathlib import Path
from typing import Any

import torch
from safetensors import SafetensorError
from safetensors.torch import load_file, save_file
from torch import nn

from colorgan.base.errors import ColorganError, short
from colorgan.base.files import atomic_write_text, publish
from colorgan.training.position import Position, checked_rng

log = logging.getLogger("colorgan")

_NAME = re.compile(r"^step-(\d{8})(?:\.(\d+))?$")


class DamagedCheckpoint(ColorganError):
    """A checkpoint folder whose files do not read."""


def _order(path: Path) -> tuple[int, int]:
    match = _NAME.match(path.name)
    assert match is not None
    return int(match[1]), int(match[2] or 0)


def checkpoints(run_dir: Path) -> list[Path]:
    """The run's complete checkpoint folders, oldest first."""
    root = run_dir / "checkpoints"
    if not root.is_dir():
        return []
    found = [p for p in root.iterdir() if _NAME.match(p.name) and (p / "state.pt").is_file()]
    return sorted(found, key=_order)


def save_checkpoint(
    run_dir: Path,
    step: int,
    modules: dict[str, nn.Module],
    state: dict[str, Any],
    config_yaml: str,
    keep: int = 2,
) -> Path:
    if keep < 1:
        raise ColorganError("train.keep_checkpoints must be 1 or more")
    root = run_dir / "checkpoints"
    root.mkdir(parents=True, exist_ok=True)
    for stale in root.glob(".tmp-*"):  # left by a killed writer: the run lock allows one writer
        shutil.rmtree(stale, ignore_errors=True)
    name, copy = f"step-{step:08d}", 0
    while (root / name).exists():
        copy += 1
        name = f"step-{step:08d}.{copy}"
    final = root / name
    tmp = Path(tempfile.mkdtemp(dir=root, prefix=".tmp-"))
    try:
        for module_name, module in modules.items():
            tensors = {k: v.detach().cpu().contiguous() for k, v in module.state_dict().items()}
            save_file(tensors, str(tmp / f"{module_name}.safetensors"))
        torch.save(state, tmp / "state.pt")
        (tmp / "config.yaml").write_text(config_yaml)
        publish(tmp, final, directory=True)
    finally:
        if tmp.exists():
            shutil.rmtree(tmp)
    atomic_write_text(root / "latest", final.name + "\n")
    complete = checkpoints(run_dir)
    superseded = [p for p in complete if _order(p)[0] == step and p != final]
    older = [p for p in complete if p not in superseded and p != final]
    for path in superseded + older[: max(0, len(older) - (keep - 1))]:
        shutil.rmtree(path, ignore_errors=True)
    return _named_for_its_step(final, root / f"step-{step:08d}")


def _named_for_its_step(final: Path, canonical: Path) -> Path:
    """A second save of a step, once the first is gone, renamed to the step's own name. A
    kill between the rename and `latest` leaves `latest` naming a missing folder, and the
    newest complete one (this) is taken instead."""
    if final == canonical or canonical.exists():
        return final
    final.rename(canonical)
    atomic_write_text(canonical.parent / "latest", canonical.name + "\n")
    return canonical


def checkpoint_candidates(run_dir: Path) -> list[Path]:
    """The checkpoints to resume from, best first: the one `latest` names, then the others,
    newest first (`latest` may be missing, or name one that was removed)."""
    complete = checkpoints(run_dir)[::-1]
    pointer = run_dir / "checkpoints" / "latest"
    if pointer.is_file():
        named = run_dir / "checkpoints" / pointer.read_text(errors="replace").strip()
        if named in complete:
            complete.remove(named)
            complete.insert(0, named)
    return complete


def latest_checkpoint(run_dir: Path) -> Path | None:
    candidates = checkpoint_candidates(run_dir)
    return candidates[0] if candidates else None


def read_checkpoint(path: Path, names: list[str]) -> tuple[dict[str, dict], dict[str, Any]]:
    """The weights of each named module the checkpoint holds (its state lists them under
    "modules", some of `names`; an older one, all of `names`) and the rest of the state, its
    position (a Position) and random states checked, or DamagedCheckpoint. Nothing in it is
    unpickled: the state is read with weights_only; no file outside it is opened."""
    try:
        state = torch.load(path / "state.pt", map_location="cpu", weights_only=True)
        if not isinstance(state, dict):
            raise ValueError("its state is not a dict")
        held = state.get("modules", names)
        if not isinstance(held, list) or not all(isinstance(n, str) and n in names for n in held):
            raise ValueError(f"its modules are {short(held)}, not some of {names}")
        if "position" in state:
            state["position"] = Position.of(state["position"])
        if "rng" in state:
            state["rng"] = checked_rng(state["rng"])
        weights = {name: load_file(str(path / f"{name}.safetensors")) for name in held}
    except (
        OSError,
        RuntimeError,
        ValueError,
        EOFError,
        pickle.UnpicklingError,
        SafetensorError,
    ) as exc:
        reason = str(exc).splitlines()[0][:120] if str(exc) else exc.__class__.__name__
        raise DamagedCheckpoint(f"checkpoint {path} is damaged ({reason})") from None
    return weights, state


def load_latest(run_dir: Path, modules: dict[str, nn.Module]) -> tuple[Path, dict[str, Any]]:
    """Load the best readable checkpoint into `modules`; returns it and the rest of its state.
    A damaged one is reported and the one before it tried; none readable is an error."""
    problems = []
    for path in checkpoint_candidates(run_dir):
        try:
            weights, state = read_checkpoint(path, list(modules))
        except DamagedCheckpoint as exc:
            log.warning("%s; trying the one before it", exc)
            problems.append(str(exc))
            continue
        for name, module in modules.items():
            if name in weights:  # one a phase's checkpoint leaves out stays as it was made
                module.load_state_dict(weights[name])
        return path, state
    if problems:
        raise ColorganError(f"no readable checkpoint in {run_dir}: " + "; ".join(problems))
    raise ColorganError(f"no checkpoint in {run_dir}")
