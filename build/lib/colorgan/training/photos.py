"""The training photos: found, sampled with a seed, split, and checked once.

Unreadable, truncated or grey files are found once by `scan_images` and skipped with a single
warning that names them. Each photo is keyed by its content hash, so the prior cache survives
renames and notices changed files.
"""

from __future__ import annotations

import json
import logging
import random
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from colorgan.config import DataConfig
from colorgan.errors import ColorganError
from colorgan.files import file_sha256
from colorgan.images import BadImage, find_images, is_grey, load_rgb

log = logging.getLogger("colorgan")


@dataclass
class Photo:
    path: Path
    key: str  # content hash


def content_key(path: str | Path) -> str:
    return file_sha256(path)[:32]


def find_coco_images(root: str | Path, annotations: str | Path | None) -> list[Path]:
    """A COCO layout: an images folder, optionally restricted to an instances_*.json's list."""
    root = Path(root)
    images = root / "images" if (root / "images").is_dir() else root
    if annotations is None:
        return find_images(images)
    ann = Path(annotations)
    if not ann.is_absolute() and not ann.exists():
        ann = root / ann
    try:
        meta = json.loads(ann.read_text())
        names = [entry["file_name"] for entry in meta["images"]]
    except (OSError, ValueError, KeyError, TypeError):
        raise ColorganError(f"cannot read COCO annotations {ann}") from None
    by_name = {p.name: p for p in find_images(images)}
    return sorted(by_name[n] for n in set(names) if n in by_name)


def sample_and_split(
    paths: Sequence[Path], num_images: int | None, val_fraction: float, seed: int
) -> tuple[list[Path], list[Path]]:
    """A seeded random sample of `num_images`, split into train and validation."""
    rng = random.Random(seed)
    chosen = list(paths)
    rng.shuffle(chosen)
    if num_images is not None:
        chosen = chosen[:num_images]
    n_val = round(len(chosen) * val_fraction)
    return sorted(chosen[n_val:]), sorted(chosen[:n_val])


def split_paths(data: DataConfig) -> tuple[list[Path], list[Path]]:
    """A config's training and validation photos (before the unusable ones are skipped): the
    validation ones are where a recipe may be chosen, since none of them is trained on."""
    if not Path(data.root).is_dir():
        raise ColorganError(
            f"data folder not found: {data.root} (point at one with --set data.root=FOLDER)"
        )
    if data.layout == "coco":
        paths = find_coco_images(data.root, data.annotations)
    else:
        paths = find_images(data.root)
    if not paths:
        raise ColorganError(f"no images found under {data.root}")
    if data.num_images is not None and len(paths) < data.num_images:
        log.warning("data.num_images asks for %d photos; %s has %d: using all of them",
                    data.num_images, data.root, len(paths))  # fmt: skip
    return sample_and_split(paths, data.num_images, data.val_fraction, data.seed)


def scan_images(paths: Sequence[Path], size: int, progress: bool = True) -> list[Photo]:
    """Keep the photos that decode and are not grey; warn once, naming the rest."""
    from tqdm import tqdm

    good: list[Photo] = []
    bad: list[str] = []
    for path in tqdm(paths, desc="checking photos", unit="img", disable=not progress or not paths):
        try:
            rgb = load_rgb(path, size)
            if is_grey(rgb):
                raise BadImage("grey, no colour to learn from")
            good.append(Photo(path, content_key(path)))
        except (BadImage, OSError) as exc:
            bad.append(f"{path} ({exc})")
    if bad:
        shown = "; ".join(bad[:10]) + (f"; and {len(bad) - 10} more" if len(bad) > 10 else "")
        log.warning("skipped %d unusable image(s): %s", len(bad), shown)
    return good
