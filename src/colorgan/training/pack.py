"""`colorgan data pack`: folders of colour photos -> WebDataset tar shards for training at
scale (training.shards reads them).

Each photo is checked once (it decodes, it is not grey), resized so its short side is `size`
(never enlarged), and stored as a JPEG with its content hash, in a seeded random order so
that a shard holds a fair sample of the whole set and a shuffle buffer mixes it well. A share
of the photos goes to validation shards. Shards are written in a folder beside the target and
the folder is renamed into place at the end (base.files.folder_written_whole): a stopped pack
leaves no half-written set.
"""

from __future__ import annotations

import io
import json
import random
from collections.abc import Sequence
from pathlib import Path

import numpy as np
from PIL import Image
from tqdm import tqdm

from colorgan.base.errors import ColorganError, shown
from colorgan.base.files import folder_written_whole, output_folder
from colorgan.base.images import BadImage, find_images, is_grey, open_image, to_rgb
from colorgan.training.photos import content_key
from colorgan.training.shards import FORMAT, IMAGE_KEY, MANIFEST

MAX_SHARD_MB = 1_000_000  # a terabyte: a shard is meant to be streamed whole, hundreds of MB


def pack(
    sources: Sequence[str | Path],
    out: Path,
    size: int = 288,
    shard_mb: float = 256.0,
    val_fraction: float = 0.02,
    quality: int = 90,
    seed: int = 0,
    progress: bool = True,
    shard_photos: int | None = None,
) -> dict:
    """Write the photos under `sources` as shards in `out` (which must not exist yet);
    returns the manifest."""
    if out.exists():
        raise ColorganError(f"{shown(str(out))} already exists; choose a new --out")
    output_folder(str(out))
    _check(size, shard_mb, val_fraction, quality, shard_photos)
    paths = _photos(sources)
    random.Random(seed).shuffle(paths)
    n_val = round(len(paths) * val_fraction)
    with folder_written_whole(out) as tmp:
        seen: set[str] = set()
        bar = tqdm(total=len(paths), desc="packing", unit="photo", disable=not progress)
        writer = ShardWriter(tmp, int(shard_mb * 1e6), shard_photos)
        for split, part in (("val", paths[:n_val]), ("train", paths[n_val:])):
            writer.split(split)
            for path in part:
                _add(writer, path, size, quality, seen)
                bar.update(1)
        bar.close()
        manifest = writer.close(size, len(paths))
    return manifest


def _check(
    size: int, shard_mb: float, val_fraction: float, quality: int, shard_photos: int | None
) -> None:
    """The packing's settings, each within its range (a NaN or an infinity is in none)."""
    if not size >= 32:
        raise ColorganError(f"--size must be at least 32, not {size}")
    if not 0 < shard_mb <= MAX_SHARD_MB:
        raise ColorganError(
            f"--shard-mb must be above 0 and at most {MAX_SHARD_MB:,}, not {shard_mb}"
        )
    if not 0 <= val_fraction < 1:
        raise ColorganError(f"--val-fraction must be at least 0 and below 1, not {val_fraction}")
    if not 1 <= quality <= 100:
        raise ColorganError(f"--quality must be 1 to 100, not {quality}")
    if shard_photos is not None and shard_photos < 1:
        raise ColorganError(f"--shard-photos must be at least 1, not {shard_photos}")


def _photos(sources: Sequence[str | Path]) -> list[Path]:
    found: list[Path] = []
    for source in sources:
        if not Path(source).is_dir():
            raise ColorganError(f"not a folder of photos: {shown(str(source))}")
        found += find_images(source)
    unique = sorted({p.resolve(): p for p in found}.values())
    if not unique:
        raise ColorganError("no photos found under " + ", ".join(map(str, sources)))
    return unique


def _add(writer: ShardWriter, path: Path, size: int, quality: int, seen: set[str]) -> None:
    """One photo into the current shard, unless it does not decode, is grey or came before
    (a photo that cannot be read is a photo skipped, not a pack that fails)."""
    try:
        key = content_key(path)
        if key in seen:
            writer.skipped["duplicate"] += 1
            return
        img = to_rgb(open_image(path, draft=size))
        small = img.resize((64, max(1, 64 * img.height // img.width)))
        if is_grey(np.asarray(small)):
            raise BadImage("grey")
        scale = size / min(img.size)
        if scale < 1:
            img = img.resize(
                (round(img.width * scale), round(img.height * scale)), Image.Resampling.BICUBIC
            )
    except (BadImage, OSError, ValueError):
        writer.skipped["unusable"] += 1
        return
    buffer = io.BytesIO()
    img.save(buffer, "JPEG", quality=quality)
    seen.add(key)
    meta = {"name": path.name, "sha256": key, "width": img.width, "height": img.height}
    writer.write({"__key__": key, IMAGE_KEY: buffer.getvalue(), "json": meta})


class ShardWriter:
    """Tar shards of at most `max_bytes` and `max_photos` (WebDataset's TarWriter), counted
    for the manifest."""

    def __init__(self, folder: Path, max_bytes: int, max_photos: int | None = None) -> None:
        self.folder, self.max_bytes, self.max_photos = folder, max_bytes, max_photos
        self.shards: dict[str, list[dict]] = {"train": [], "val": []}
        self.skipped = {"unusable": 0, "duplicate": 0}
        self.kind = "train"
        self.tar = None

    def split(self, kind: str) -> None:
        self._end_shard()
        self.kind = kind

    def write(self, sample: dict) -> None:
        import webdataset as wds

        current = self.shards[self.kind][-1] if self.tar else None
        full = current is not None and (
            current["bytes"] >= self.max_bytes or current["photos"] == self.max_photos
        )
        if current is None or full:
            self._end_shard()
            name = f"{self.kind}-{len(self.shards[self.kind]):06d}.tar"
            self.tar = wds.TarWriter(str(self.folder / name))
            self.shards[self.kind].append({"name": name, "photos": 0, "bytes": 0})
            current = self.shards[self.kind][-1]
        self.tar.write(sample)
        current["bytes"] = self.tar.tarstream.fileobj.tell()  # headers and padding too
        current["photos"] += 1

    def _end_shard(self) -> None:
        if self.tar is not None:
            self.tar.close()
            self.tar = None

    def close(self, size: int, found: int) -> dict:
        self._end_shard()
        manifest = {
            "format": FORMAT,
            "short_side": size,
            "found": found,
            "skipped": self.skipped,
            "photos": {k: sum(s["photos"] for s in v) for k, v in self.shards.items()},
            **self.shards,
        }
        (self.folder / MANIFEST).write_text(json.dumps(manifest, indent=1) + "\n")
        return manifest
