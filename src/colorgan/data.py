"""Photos on disk -> 256 x 256 RGB tensors, with a seeded sample, split and flip (paper 4.4).

Images are decoded and resized here; the Lab conversion happens batched on the training
device (`colorgan.color`), which is faster than per-image conversion in the loader workers.
Unreadable, truncated or grey files are found once by `scan_images` and skipped with a warning
that names them, and a file that breaks later is dropped from its batch instead of crashing.
"""

from __future__ import annotations

import hashlib
import json
import logging
import random
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import torch
from PIL import ExifTags, Image, ImageOps

from colorgan.errors import ColorganError

if TYPE_CHECKING:
    from colorgan.cache import FeatureCache

log = logging.getLogger("colorgan")

IMAGE_EXTENSIONS = (".jpg", ".jpeg", ".png", ".webp", ".bmp", ".tif", ".tiff")
Image.MAX_IMAGE_PIXELS = 200_000_000  # large scans are fine; decompression bombs are not
GREY_TOLERANCE = 2.0  # mean |channel difference| in 0..255 below which a photo counts as grey


class BadImage(Exception):
    """A file that cannot be used as a training photo; the message says why."""


def find_images(root: str | Path) -> list[Path]:
    """All image files under `root` (recursive), sorted for reproducibility."""
    root = Path(root)
    if root.is_file():
        return [root]
    if not root.is_dir():
        raise ColorganError(f"data folder not found: {root}")
    return sorted(
        p for p in root.rglob("*") if p.suffix.lower() in IMAGE_EXTENSIONS and p.is_file()
    )


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


def open_image(source: str | Path | bytes | Image.Image, draft: int | None = None) -> Image.Image:
    """Open any file Pillow reads, upright (EXIF orientation applied); BadImage otherwise.

    With `draft`, a JPEG is decoded at the smallest DCT scale (1/2, 1/4, 1/8) that still
    covers draft x draft pixels: much faster when the photo is far larger than needed.
    """
    try:
        if isinstance(source, Image.Image):
            img = source
        else:
            img = Image.open(source)
            if draft is not None and img.format == "JPEG":
                img.draft(img.mode, (draft, draft))
            img.load()
        if img.getexif().get(ExifTags.Base.Orientation, 1) in (0, 1):
            return img  # upright already: no copy (exif_transpose would copy)
        return ImageOps.exif_transpose(img)
    except (OSError, ValueError, SyntaxError, Image.DecompressionBombError) as exc:
        raise BadImage(f"not a readable image ({exc.__class__.__name__}: {exc})") from None


def to_8bit(img: Image.Image) -> Image.Image:
    """Any mode -> 8-bit "L" for single-channel images, "RGB" for the rest.

    Keeping grey photos in one channel saves two thirds of the decode and colour work.
    """
    if img.mode in ("I;16", "I;16B", "I;16L", "I", "F"):
        arr = np.asarray(img, dtype=np.float64)
        top = 65535.0 if img.mode.startswith("I") and arr.max() > 255 else 255.0
        arr = np.clip(arr / top * 255.0 + 0.5, 0, 255).astype(np.uint8)
        return Image.fromarray(arr, "L")
    mode = "L" if img.mode in ("L", "LA", "1") else "RGB"
    return img if img.mode == mode else img.convert(mode)


def to_rgb(img: Image.Image) -> Image.Image:
    """Any mode (L, LA, RGBA, P, CMYK, I;16, F) -> 8-bit RGB."""
    img = to_8bit(img)
    return img if img.mode == "RGB" else img.convert("RGB")


def load_rgb(path: str | Path, size: int, reduced: bool = True) -> np.ndarray:
    """Decode and resize to size x size (bicubic).

    `reduced`: let a large JPEG decode at reduced scale first (41 dB from the full decode,
    2x faster; BENCHMARKS.md), for training; evaluation decodes in full, as the protocol says.
    """
    img = open_image(path, draft=size if reduced else None)
    if min(img.size) < 2:
        raise BadImage(f"too small ({img.size[0]}x{img.size[1]})")
    try:
        rgb = to_rgb(img).resize((size, size), Image.Resampling.BICUBIC)
    except (OSError, ValueError) as exc:
        raise BadImage(f"cannot decode ({exc.__class__.__name__})") from None
    return np.array(rgb)  # a writable copy


def is_grey(rgb: np.ndarray) -> bool:
    arr = rgb.astype(np.int16)
    spread = np.abs(arr[..., 0] - arr[..., 1]) + np.abs(arr[..., 1] - arr[..., 2])
    return float(spread.mean()) < GREY_TOLERANCE


def file_sha256(path: str | Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def content_key(path: str | Path) -> str:
    """The file's content hash: the cache key survives renames and changes with the content."""
    return file_sha256(path)[:32]


@dataclass
class Photo:
    path: Path
    key: str


def scan_images(paths: Sequence[Path], size: int, progress: bool = True) -> list[Photo]:
    """Keep the photos that decode and are not grey; warn once, naming the rest."""
    from tqdm import tqdm

    good: list[Photo] = []
    bad: list[str] = []
    for path in tqdm(paths, desc="checking photos", unit="img", disable=not progress):
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


class EpochSampler(torch.utils.data.Sampler):
    """Yields (index, flip) pairs; the order and flips are a pure function of (seed, epoch).

    Being stateless makes a resumed run draw exactly the batches an uninterrupted one would.
    Under data parallelism every rank draws the same global order and takes its slice of each
    global batch (`batch_size` items, `batch_size // world` per rank), so N processes see the
    batches one process would, and a run resumes at any world size. Only whole global batches
    are drawn; `start` counts items of the global order.
    """

    def __init__(
        self, n: int, seed: int, shuffle: bool, flip: bool,
        batch_size: int = 1, rank: int = 0, world: int = 1,
    ) -> None:  # fmt: skip
        self.n, self.seed, self.shuffle, self.flip = n, seed, shuffle, flip
        self.batch_size = batch_size
        if self.batch_size % world:
            raise ValueError(f"batch size {self.batch_size} does not split over {world} ranks")
        self.rank, self.world = rank, world
        self.epoch = 0
        self.start = 0

    def set_epoch(self, epoch: int, start: int = 0) -> None:
        self.epoch, self.start = epoch, start

    def _slots(self) -> range:
        """The global batches still to draw this epoch."""
        first = self.start // self.batch_size
        whole = self.n // self.batch_size
        return range(first, whole)

    def __iter__(self) -> Iterator[tuple[int, bool]]:
        g = torch.Generator().manual_seed(self.seed * 100_003 + self.epoch)
        order = torch.randperm(self.n, generator=g) if self.shuffle else torch.arange(self.n)
        flips = (
            torch.rand(self.n, generator=g) < 0.5
            if self.flip
            else torch.zeros(self.n, dtype=torch.bool)
        )
        per_rank = self.batch_size // self.world
        for b in self._slots():
            first = b * self.batch_size + self.rank * per_rank
            for i in range(first, first + per_rank):
                yield int(order[i]), bool(flips[i])

    def __len__(self) -> int:
        return len(self._slots()) * (self.batch_size // self.world)


class PhotoDataset(torch.utils.data.Dataset):
    """Items are (index, flip); returns the RGB tensor and, with a cache, the cached priors."""

    def __init__(
        self, photos: Sequence[Photo], size: int, cache: FeatureCache | None = None
    ) -> None:
        self.photos = list(photos)
        self.size = size
        self.cache = cache

    def __len__(self) -> int:
        return len(self.photos)

    def __getitem__(self, item: tuple[int, bool] | int) -> dict | None:
        index, flip = item if isinstance(item, tuple) else (item, False)
        photo = self.photos[index]
        try:
            rgb = load_rgb(photo.path, self.size)
        except (BadImage, OSError) as exc:
            log.warning("skipping %s in this batch: %s", photo.path, exc)
            return None
        if flip:
            rgb = rgb[:, ::-1]
        sample = {"rgb": torch.from_numpy(np.ascontiguousarray(rgb)).permute(2, 0, 1)}
        if self.cache is not None:
            feats = self.cache.get(photo.key, flip)
            if feats is None:
                log.warning("no cached priors for %s; skipping it", photo.path)
                return None
            sample.update(feats)
        return sample


def collate(samples: list[dict | None]) -> dict[str, torch.Tensor] | None:
    """Stack a batch, dropping the items that failed to load."""
    kept = [s for s in samples if s is not None]
    if not kept:
        return None
    return {k: torch.stack([s[k] for s in kept]) for k in kept[0]}
