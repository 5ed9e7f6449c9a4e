"""Data-parallel training under torchrun: one process per device, PyTorch's own engine.

`torchrun --nproc_per_node N -m colorgan train CONFIG` sets RANK, WORLD_SIZE and LOCAL_RANK;
`setup` reads them and joins the process group (NCCL on CUDA, gloo on the CPU). Without them
every helper here is a no-op for one process, so the single-process trainer is the same code.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import timedelta
from typing import Any, TypeVar

import torch
import torch.distributed as dist

from colorgan.base.errors import ColorganError
from colorgan.models.runtime import pick_device

log = logging.getLogger("colorgan")

T = TypeVar("T")


@dataclass(frozen=True)
class World:
    rank: int = 0
    size: int = 1
    local_rank: int = 0

    @property
    def main(self) -> bool:
        """Rank 0 alone writes checkpoints, logs, samples and the exported generator."""
        return self.rank == 0

    @property
    def distributed(self) -> bool:
        return self.size > 1 or dist.is_initialized()


def launched_by_torchrun() -> bool:
    return "RANK" in os.environ and "WORLD_SIZE" in os.environ


def setup(device_name: str = "auto", timeout_minutes: float = 30.0) -> tuple[World, torch.device]:
    """Join the process group torchrun describes (if any) and pick this process's device."""
    if not launched_by_torchrun():
        return World(), pick_device(device_name)
    rank, size = int(os.environ["RANK"]), int(os.environ["WORLD_SIZE"])
    local_rank = int(os.environ.get("LOCAL_RANK", 0))
    world = World(rank, size, local_rank)
    device = pick_device(device_name)
    if device.type == "cuda":
        if device.index is None:
            device = torch.device("cuda", local_rank)
        if device.index >= torch.cuda.device_count():
            raise ColorganError(
                f"local rank {local_rank} has no GPU ({torch.cuda.device_count()} visible); "
                "use --nproc_per_node at most the number of GPUs"
            )
        torch.cuda.set_device(device)
    if not dist.is_initialized():
        backend = "nccl" if device.type == "cuda" else "gloo"
        kwargs: dict[str, Any] = {"timeout": timedelta(minutes=timeout_minutes)}
        if device.type == "cuda":
            kwargs["device_id"] = device
        dist.init_process_group(backend, rank=rank, world_size=size, **kwargs)
    if not world.main:  # one voice in the log: the other ranks only warn
        log.setLevel(logging.WARNING)
    return world, device


def shutdown() -> None:
    if dist.is_initialized():
        dist.destroy_process_group()


def barrier(world: World) -> None:
    if world.distributed:
        dist.barrier()


def shard(items: Sequence[T], world: World) -> list[T]:
    """This rank's share of a list (every size-th item from its rank)."""
    return list(items[world.rank :: world.size])


def gather(part: list[T], world: World) -> list[T]:
    """Every rank's list, concatenated in rank order, on every rank."""
    if not world.distributed:
        return part
    parts: list[list[T] | None] = [None] * world.size
    dist.all_gather_object(parts, part)
    return [item for p in parts for item in (p or [])]


def all_mean(values: dict[str, float], world: World, device: torch.device) -> dict[str, float]:
    """Average per-rank scalars (losses) so every rank logs, and checks, the same numbers."""
    if not world.distributed or not values:
        return values
    keys = sorted(values)
    sums = all_sum([values[k] for k in keys], world, device)
    return {k: v / world.size for k, v in zip(keys, sums, strict=True)}


def all_sum(values: Sequence[float], world: World, device: torch.device) -> list[float]:
    if not world.distributed:
        return list(values)
    t = torch.tensor(list(values), dtype=torch.float64, device=device)
    dist.all_reduce(t)
    return t.tolist()


def any_rank(flags: Sequence[bool], world: World, device: torch.device) -> list[bool]:
    """Each flag true on every rank when it is true on one (a batch to skip, time up), so
    ranks stay in step."""
    if not world.distributed:
        return list(flags)
    t = torch.tensor([1.0 if f else 0.0 for f in flags], device=device)
    dist.all_reduce(t, op=dist.ReduceOp.MAX)
    return [bool(v) for v in t.tolist()]
