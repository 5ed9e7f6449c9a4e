"""How fast the training loader feeds a step, from the three places photos come from.

1. A synthetic set of N photos at 256 px (JPEG), built here (its disk size said), and the
   same set packed as shards (`colorgan data pack`).
2. Set-up before the first step: scanning the folder (decode and hash every photo), building
   the prior cache (timed on --cache-photos of them, the rate scaled to N), reading the
   shards' manifest.
   The photos were just written, so they sit in the page cache: a cold disk or an object
   store reads slower, and shards suffer least from it (one long read per shard).
3. Photos per second the loader delivers at 256 px with 1, 2 and 4 workers (no training
   step: the loader's ceiling) from a folder with the prior cache, a folder without it, and
   shards; the memory of the loader's processes over one whole epoch of shards.

Run: `.venv/bin/python -m benchmarks.data [--photos 100000] [--out /tmp/data-bench]`.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import time
from pathlib import Path

import numpy as np
import torch
from PIL import Image
from tqdm import tqdm

from benchmarks.common import machine
from colorgan.priors.semantic import SemanticPriors
from colorgan.spec.options import Needs
from colorgan.training.cache import FeatureCache, build_cache
from colorgan.training.datasets import EpochSampler, PhotoDataset, collate
from colorgan.training.pack import pack
from colorgan.training.photos import scan_images
from colorgan.training.shards import ShardStream, read_pack

SIZE = 256
BATCH = 32


def synthetic(folder: Path, count: int) -> None:
    """`count` smooth colour photos (a random 6x6 field of colours, enlarged, with grain),
    256 x 256 JPEGs; kept from an earlier run of the same size."""
    folder.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(0)
    for i in tqdm(range(count), desc="synthetic photos", unit="photo"):
        path = folder / f"{i // 1000:03d}" / f"{i:06d}.jpg"
        if path.exists():
            continue
        path.parent.mkdir(exist_ok=True)
        field = Image.fromarray(rng.integers(0, 256, (6, 6, 3), dtype=np.uint8))
        big = np.asarray(field.resize((SIZE, SIZE), Image.Resampling.BICUBIC), dtype=np.int16)
        grain = rng.integers(-6, 7, big.shape, dtype=np.int16)
        Image.fromarray(np.clip(big + grain, 0, 255).astype(np.uint8)).save(path, quality=90)


def disk_mb(folder: Path) -> float:
    return sum(p.stat().st_size for p in folder.rglob("*") if p.is_file()) / 1e6


def rss_mb(pid: int) -> float:
    """Resident memory of a process and its children (the loader's workers), in MB."""
    total = 0
    pids = [pid]
    children = Path(f"/proc/{pid}/task/{pid}/children")
    if children.exists():
        pids += [int(c) for c in children.read_text().split()]
    for p in pids:
        try:
            for line in Path(f"/proc/{p}/status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    total += int(line.split()[1])
        except OSError:
            pass
    return total / 1024


def rate(dataset, sampler, workers: int, photos: int) -> float:
    """Photos per second over `photos` (after the first batch, which pays the start-up)."""
    loader = torch.utils.data.DataLoader(
        dataset, BATCH, sampler=sampler, num_workers=workers, collate_fn=collate, drop_last=True
    )
    it = iter(loader)
    next(it)
    start, seen = time.perf_counter(), 0
    for batch in it:
        seen += len(batch["rgb"])
        if seen >= photos:
            break
    return seen / (time.perf_counter() - start)


def epoch_memory(stream: ShardStream, workers: int) -> list[float]:
    """The loader's memory every tenth of one whole epoch of shards."""
    loader = torch.utils.data.DataLoader(
        stream, batch_size=BATCH, num_workers=workers, collate_fn=collate, drop_last=True
    )
    total = stream.steps_per_epoch() * BATCH
    marks, seen = [], 0
    for batch in loader:
        seen += len(batch["rgb"])
        if len(marks) < seen * 10 // total:
            marks.append(rss_mb(os.getpid()))
    return marks


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--photos", type=int, default=100_000)
    parser.add_argument("--cache-photos", type=int, default=3_000)
    parser.add_argument("--measure", type=int, default=4_000, help="photos per loader rate")
    parser.add_argument("--out", type=Path, default=Path("/tmp/data-bench"))
    args = parser.parse_args()
    torch.set_num_threads(2)
    print(machine())
    folder, shards = args.out / "photos", args.out / f"shards-{args.photos}"
    synthetic(folder, args.photos)
    print(f"{args.photos} photos at {SIZE} px: {disk_mb(folder):.0f} MB")
    paths = sorted(folder.rglob("*.jpg"))[: args.photos]
    report: dict = {"photos": args.photos}
    if not shards.exists():
        start = time.perf_counter()
        # about 16 shards, so that 4 workers each have several
        pack([folder], shards, size=SIZE, shard_mb=disk_mb(folder) * 1.3 / 16, val_fraction=0.01)
        report["pack seconds"] = time.perf_counter() - start
    print(f"shards: {disk_mb(shards):.0f} MB")
    start = time.perf_counter()
    photos = scan_images(paths, SIZE)
    report["scan seconds"] = time.perf_counter() - start
    start = time.perf_counter()
    train, _ = read_pack(str(shards))
    report["manifest seconds"] = time.perf_counter() - start
    needs = Needs(embedding=True, segmentation=True)
    priors = SemanticPriors.for_generator(needs, "efficientnet_lite0", "efficientnet_lite0_cam")
    shutil.rmtree(args.out / "cache", ignore_errors=True)  # timed from empty
    cache = FeatureCache(args.out / "cache", priors.fingerprint())
    cached = photos[: args.cache_photos]
    start = time.perf_counter()
    build_cache(cached, priors, cache, 32, True)
    per = (time.perf_counter() - start) / len(cached)
    report["cache seconds per photo"] = per
    report["cache seconds at N (scaled)"] = per * args.photos
    rates: dict = {}
    for workers in (1, 2, 4):
        sampler = EpochSampler(len(photos), 0, True, True, BATCH)
        small = EpochSampler(len(cached), 0, True, True, BATCH)
        stream = ShardStream(train, SIZE, 0, BATCH, workers=workers, buffer=1000)
        few = min(args.measure, len(cached) - BATCH)
        rates[workers] = {
            "folder": rate(PhotoDataset(photos, SIZE), sampler, workers, args.measure),
            "folder + cache": rate(PhotoDataset(cached, SIZE, cache), small, workers, few),
            "shards": rate(stream, None, workers, args.measure),
        }
        print(workers, "workers:", {k: round(v) for k, v in rates[workers].items()})
    report["photos per second"] = rates
    stream = ShardStream(train, SIZE, 0, BATCH, workers=2, buffer=1000)
    report["memory over a shard epoch, 2 workers (MB)"] = epoch_memory(stream, 2)
    print(json.dumps(report, indent=1))
    (args.out / "report.json").write_text(json.dumps(report, indent=1) + "\n")


if __name__ == "__main__":
    main()
