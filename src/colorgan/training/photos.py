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

from colorgan.base.errors import ColorganError, shown
from colorgan.base.files import file_sha256, read_text
from colorgan.base.images import BadImage, find_images, is_grey, load_rgb
from colorgan.config import DataConfig

# COCO 2017 train's instances file is 448 MB; a larger one is not an annotations file
MAX_ANNOTATION_BYTES = 1 << 30
log = logging.getLogger("colorgan")


@dataclass
class Photo:
    path: Path
    key: str  # content hash
    weight: float = 1.0  # how often an epoch draws it, relative to a photo of weight 1


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
    text = read_text(ann, "data.annotations", MAX_ANNOTATION_BYTES)
    try:
        meta = json.loads(text)
        names = {entry["file_name"] for entry in meta["images"]}
        if not all(isinstance(name, str) for name in names):
            raise TypeError("a file_name that is not a name")
    except (ValueError, KeyError, TypeError, RecursionError):
        raise ColorganError(f"cannot read COCO annotations {shown(str(ann))}") from None
    by_name = {p.name: p for p in find_images(images)}
    return sorted(by_name[n] for n in names if n in by_name)


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


def source_paths(root: str, layout: str, annotations: str | None) -> list[Path]:
    """The photos of one source folder, in its layout."""
    if not Path(root).is_dir():
        raise ColorganError(
            f"data folder not found: {root} (point at one with --set data.root=FOLDER)"
        )
    paths = find_coco_images(root, annotations) if layout == "coco" else find_images(root)
    if not paths:
        raise ColorganError(f"no images found under {root}")
    return paths


def distinct_photos(roots: list[str], found: list[list[Path]]) -> list[list[Path]]:
    """Each source's photos, each file once (a link to a photo already listed, inside the
    folder, is dropped); ColorganError where two sources share a photo, whatever the paths
    that name it (the same folder twice, a/../a, a symlink, a folder and one inside it):
    each source is split on its own, so a shared photo could be trained on and validated."""
    owner: dict[Path, int] = {}
    out = []
    for i, paths in enumerate(found):
        mine: dict[Path, Path] = {}
        for path in paths:
            real = path.resolve()
            if real in owner and owner[real] != i:
                j = owner[real]
                raise ColorganError(
                    f"data.sources: {shown(roots[j])} and {shown(roots[i])} share photos (such "
                    f"as {shown(path.name)}); name each folder once, and none inside another"
                )
            owner[real] = i
            mine.setdefault(real, path)
        out.append(sorted(mine.values()))
    return out


def split_sources(data: DataConfig) -> list[tuple[list[Path], list[Path], float]]:
    """Each source's (training, validation, weight): every folder is split by the seed on its
    own, so validation holds each source in its share of the pool, whatever the weights."""
    sources = data.pool()
    if not sources:
        raise ColorganError(
            "no photos named: give the folder of your colour photos with --set data.root=FOLDER "
            "(or data.root / data.sources in the config)"
        )
    found = [source_paths(s.root, data.layout, data.annotations) for s in sources]
    found = distinct_photos([s.root for s in sources], found)
    total = sum(len(paths) for paths in found)
    if data.num_images is not None and total < data.num_images:
        log.warning(
            "data.num_images asks for %d photos; %s has %d: using all of them",
            data.num_images,
            ", ".join(s.root for s in sources),
            total,
        )
    out = []
    for i, (source, paths) in enumerate(zip(sources, found, strict=True)):
        # num_images is drawn from the pool in proportion to each source's size
        share = None if data.num_images is None else round(data.num_images * len(paths) / total)
        seed = data.seed if i == 0 else data.seed * 1_000_003 + i  # one source: as before
        fraction = data.val_fraction if source.val_fraction is None else source.val_fraction
        out.append((*sample_and_split(paths, share, fraction, seed), source.weight))
    return out


def split_paths(data: DataConfig) -> tuple[list[Path], list[Path]]:
    """A config's training and validation photos (before the unusable ones are skipped): the
    validation ones are where a recipe may be chosen, since none of them is trained on."""
    parts = split_sources(data)
    return [p for t, _, _ in parts for p in t], [p for _, v, _ in parts for p in v]


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
