"""Image files in and out: finding, decoding upright, normalising modes, saving atomically.

Training, colorization and evaluation all read photos through here, so a file that decodes
for one decodes the same way for the others. Every input is untrusted: anything Pillow cannot
read, or that would decompress to an absurd size, becomes a `BadImage` with a reason.
"""

from __future__ import annotations

import glob
import io
import threading
import warnings
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

import numpy as np
from PIL import ExifTags, Image, ImageOps

from colorgan.base.errors import ColorganError
from colorgan.base.files import atomic_write_bytes

IMAGE_EXTENSIONS = (".jpg", ".jpeg", ".png", ".webp", ".bmp", ".tif", ".tiff")
VIDEO_SUFFIXES = {".mp4", ".mkv", ".avi", ".webm", ".mov", ".m4v", ".mpg", ".mpeg"}
MEDIA = (*IMAGE_EXTENSIONS, *sorted(VIDEO_SUFFIXES))  # what colorize takes from folders, globs
MAX_PIXELS = 200_000_000  # large scans are fine; decompression bombs are not
# Pillow's limit, and its warnings filtered, are ours only while we hold this (process-wide
# state: one thread at a time)
_PILLOW_STATE = threading.Lock()
GREY_TOLERANCE = 2.0  # mean |channel difference| in 0..255 below which a photo counts as grey
MIN_SIDE = 8  # below this a photo carries no structure to colour
SAVE_FORMATS = {
    ".jpg": "JPEG",
    ".jpeg": "JPEG",
    ".png": "PNG",
    ".webp": "WEBP",
    ".bmp": "BMP",
    ".tif": "TIFF",
    ".tiff": "TIFF",
}


class BadImage(Exception):
    """A file that cannot be used as a photo; the message says why."""


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


def expand_inputs(
    inputs: Sequence[str], out_dir: Path | None = None
) -> tuple[list[tuple[Path, Path]], list[str]]:
    """Files, folders (recursive) and globs -> (source, output path relative to the output
    folder), photos and films alike, and one message per input that matched nothing. A
    folder's files under `out_dir`, where that is inside it, are the run's earlier outputs,
    not inputs."""
    found: list[tuple[Path, Path]] = []
    missing: list[str] = []
    outputs = out_dir.resolve() if out_dir is not None else None
    for item in inputs:
        path = Path(item)
        if path.is_dir():
            # an output folder inside this one: what is in it are the run's earlier outputs
            skip = outputs if outputs is not None and outputs != path.resolve() else None
            media = [
                p
                for p in path.rglob("*")
                if p.suffix.lower() in MEDIA
                and p.is_file()
                and (skip is None or not p.resolve().is_relative_to(skip))
            ]
            if not media:
                missing.append(f"{item}: no photos or films in this folder")
            found += [(p, p.relative_to(path)) for p in sorted(media)]
        elif path.is_file():
            found.append((path, Path(path.name)))
        elif glob.has_magic(item):
            matches = sorted(Path(m) for m in glob.glob(item, recursive=True))
            files = [m for m in matches if m.is_file() and m.suffix.lower() in MEDIA]
            if not files:
                missing.append(f"{item}: no photo or film matches this pattern")
            found += [(m, Path(m.name)) for m in files]
        elif path.exists():
            missing.append(f"{item}: not a file or folder (a pipe or a device?)")
        else:
            missing.append(f"{item}: no such file or folder")
    return found, missing


def open_image(source: str | Path | bytes | Image.Image, draft: int | None = None) -> Image.Image:
    """Open any file Pillow reads, upright (EXIF orientation applied); BadImage otherwise.

    With `draft`, a JPEG is decoded at the smallest DCT scale (1/2, 1/4, 1/8) that still
    covers draft x draft pixels: much faster when the photo is far larger than needed.
    """
    try:
        if isinstance(source, Image.Image):
            img = source
        else:
            img = open_unloaded(source)
            w, h = img.size
            if w * h > MAX_PIXELS:
                raise BadImage(
                    f"{w}x{h} ({w * h / 1e6:.0f} MP) is over the {MAX_PIXELS // 1_000_000} MP limit"
                )
            if draft is not None and img.format == "JPEG":
                img.draft(img.mode, (draft, draft))
            img.load()
        with _quiet():
            if img.getexif().get(ExifTags.Base.Orientation, 1) in (0, 1):
                return img  # upright already: no copy (exif_transpose would copy)
            return ImageOps.exif_transpose(img)
    except (OSError, ValueError, SyntaxError, Image.DecompressionBombError) as exc:
        raise BadImage(f"not a readable image ({exc.__class__.__name__}: {exc})") from None


@contextmanager
def _quiet() -> Iterator[None]:
    """Pillow's warnings unsaid: damaged EXIF ("Truncated File Read", "Corrupt EXIF data"),
    a decompression bomb of 1x to 2x the limit (refused on size where it matters). A photo that
    decodes is a photo, and one that does not is a BadImage with its reason: Python's warning
    lines, with a library's source path, are no message of colorgan's."""
    with _PILLOW_STATE, warnings.catch_warnings():
        warnings.simplefilter("ignore")
        yield


def open_unloaded(source: str | Path | bytes) -> Image.Image:
    """Image.open (the header read, the pixels not yet) with MAX_PIXELS as Pillow's
    decompression-bomb limit for this call only: a program that imports colorgan keeps its
    own limit."""
    with _quiet():
        saved, Image.MAX_IMAGE_PIXELS = Image.MAX_IMAGE_PIXELS, MAX_PIXELS
        try:
            return Image.open(io.BytesIO(source) if isinstance(source, bytes) else source)
        finally:
            Image.MAX_IMAGE_PIXELS = saved


def upright_size(source: str | Path) -> tuple[int, int]:
    """A photo's (width, height) as open_image gives it (EXIF orientation applied), from its
    header alone; BadImage where it cannot be read."""
    try:
        with open_unloaded(source) as img, _quiet():
            w, h = img.size
            turned = img.getexif().get(ExifTags.Base.Orientation, 1) in (5, 6, 7, 8)
    except (OSError, ValueError, SyntaxError, Image.DecompressionBombError) as exc:
        raise BadImage(f"not a readable image ({exc.__class__.__name__}: {exc})") from None
    return (h, w) if turned else (w, h)


def has_alpha(img: Image.Image) -> bool:
    return img.mode in ("RGBA", "LA", "PA") or "transparency" in img.info


def to_8bit(img: Image.Image) -> Image.Image:
    """Any mode -> 8-bit "L" for single-channel images, "RGB" for the rest.

    Keeping grey photos in one channel saves two thirds of the decode and colour work.
    """
    if img.mode in ("I;16", "I;16B", "I;16L", "I", "F"):
        # Integers are 8-bit values unless larger ones show they are 16-bit; floats (mode F:
        # a float TIFF, or Pillow's own convert("F") of a grey photo) take the range their
        # values show, as floating-point arrays do in `image_from_array`.
        arr = np.asarray(img, dtype=np.float64)
        if img.mode == "F":
            top = float_range(arr)
        else:
            top = 65535.0 if arr.max() > 255 else 255.0
        arr = np.clip(np.nan_to_num(arr) / top * 255.0 + 0.5, 0, 255).astype(np.uint8)
        return Image.fromarray(arr, "L")
    mode = "L" if img.mode in ("L", "LA", "1") else "RGB"
    return img if img.mode == mode else convert(img, mode)


def convert(img: Image.Image, mode: str) -> Image.Image:
    """img.convert(mode), without Pillow's warning on a palette's transparency given in bytes
    (colorgan keeps the alpha itself: prepare_image)."""
    if img.mode != "P":
        return img.convert(mode)
    with _quiet():
        return img.convert(mode)


def to_rgb(img: Image.Image) -> Image.Image:
    """Any mode (L, LA, RGBA, P, CMYK, I;16, F) -> 8-bit RGB."""
    img = to_8bit(img)
    return img if img.mode == "RGB" else img.convert("RGB")


def load_rgb(
    path: str | Path,
    size: int,
    reduced: bool = True,
    box: tuple[float, float, float, float] | None = None,
) -> np.ndarray:
    """Decode and resize to size x size (bicubic), uint8 (size, size, 3); with `box`
    (x0, y0, x1, y1 as fractions of the photo), only that region.

    `reduced`: let a large JPEG decode at reduced scale first (close to the full decode and
    faster: benchmarks/training.py), for training; evaluation decodes in full, as the
    protocol says.
    """
    side = 1.0 if box is None else min(box[2] - box[0], box[3] - box[1])
    img = open_image(path, draft=int(np.ceil(size / side)) if reduced else None)
    if min(img.size) < 2:
        raise BadImage(f"too small ({img.size[0]}x{img.size[1]})")
    region = None
    if box is not None:
        region = (box[0] * img.width, box[1] * img.height, box[2] * img.width, box[3] * img.height)
    try:
        rgb = to_rgb(img).resize((size, size), Image.Resampling.BICUBIC, box=region)
    except (OSError, ValueError) as exc:
        raise BadImage(f"cannot decode ({exc.__class__.__name__})") from None
    return np.array(rgb)  # a writable copy


def is_grey(rgb: np.ndarray) -> bool:
    arr = rgb.astype(np.int16)
    spread = np.abs(arr[..., 0] - arr[..., 1]) + np.abs(arr[..., 1] - arr[..., 2])
    return float(spread.mean()) < GREY_TOLERANCE


def float_range(values: np.ndarray) -> float:
    """The top of the range floating-point pixels are in, as their values show: 1 (0..1)
    where none is above 1, else 255 (0..255, as Pillow's convert("F") gives); BadImage for
    values beyond 255 or not finite, which fit neither."""
    finite = np.isfinite(values)
    if not finite.all():
        raise BadImage("its float pixels hold NaN or infinite values")
    top = float(values.max()) if values.size else 0.0
    if top > 255.0:
        raise BadImage(f"float pixels up to {top:g}: colorgan takes 0 to 1, or 0 to 255")
    return 1.0 if top <= 1.0 else 255.0


def image_from_array(array: np.ndarray) -> Image.Image:
    """(H, W), (H, W, 1), (H, W, 3) or (H, W, 4) arrays; uint8, uint16, or floats in 0..1
    or 0..255 (float_range)."""
    arr = np.asarray(array)
    if arr.ndim == 3 and arr.shape[2] == 1:
        arr = arr[..., 0]
    if arr.ndim not in (2, 3) or (arr.ndim == 3 and arr.shape[2] not in (3, 4)):
        raise ColorganError(f"expected an (H, W), (H, W, 3) or (H, W, 4) array, got {arr.shape}")
    if arr.dtype == np.uint16:
        arr = (arr.astype(np.float64) / 257.0).round().astype(np.uint8)
    elif np.issubdtype(arr.dtype, np.floating):
        top = float_range(arr)
        arr = (np.clip(np.nan_to_num(arr) / top, 0.0, 1.0) * 255.0).round().astype(np.uint8)
    elif arr.dtype != np.uint8:
        raise ColorganError(f"unsupported array dtype {arr.dtype}")
    return Image.fromarray(np.ascontiguousarray(arr))


def output_path(out_dir: Path, rel: Path, alpha: bool) -> Path:
    """Where a colorized photo goes: the input's name and format, PNG where the format is not
    one Pillow writes or cannot hold the alpha (JPEG)."""
    suffix = rel.suffix.lower()
    if suffix not in SAVE_FORMATS or (alpha and SAVE_FORMATS[suffix] == "JPEG"):
        rel = rel.with_suffix(".png")
    return out_dir / rel


def save_image(image: Image.Image, target: Path, overwrite: bool = False) -> None:
    """Encode in memory, then write whole through a temporary file: an encoder error or a
    full disk fails here and publishes nothing. Without `overwrite` an existing file (even one
    another process wrote meanwhile) is never replaced: FileExistsError."""
    fmt = SAVE_FORMATS.get(target.suffix.lower(), "PNG")
    if fmt == "JPEG" and image.mode == "RGBA":
        fmt = "PNG"
    if image.mode == "YCbCr" and fmt != "JPEG":  # JPEG stores YCbCr itself; the rest want RGB
        image = image.convert("RGB")
    encoded = io.BytesIO()
    image.save(encoded, format=fmt, **({"quality": 95} if fmt in ("JPEG", "WEBP") else {}))
    atomic_write_bytes(target, encoded.getvalue(), exclusive=not overwrite)


def prepare_image(image: Image.Image | np.ndarray) -> tuple[Image.Image, Image.Image | None]:
    """Any PIL image or array -> its 8-bit "L" or "RGB" pixels, upright, and its alpha (or
    None); BadImage for one too small to colorize. Both engines start here."""
    if isinstance(image, np.ndarray):
        image = image_from_array(image)
    image = open_image(image)
    if min(image.size) < MIN_SIDE:
        raise BadImage(f"too small to colorize ({image.size[0]}x{image.size[1]})")
    alpha = None
    if has_alpha(image):
        bands = image.getbands()
        alpha = image.getchannel("A") if "A" in bands else convert(image, "RGBA").getchannel("A")
    return to_8bit(image), alpha


def prepare_images(
    images: Sequence[Image.Image | np.ndarray],
) -> tuple[list, list[tuple[int, Image.Image, Image.Image | None]]]:
    """`prepare_image` of each photo of a batch: a results list holding each bad photo's
    BadImage at its place, and (index, pixels, alpha) of the good ones."""
    results: list = [BadImage("not colorized")] * len(images)
    good = []
    for i, image in enumerate(images):
        try:
            good.append((i, *prepare_image(image)))
        except BadImage as exc:
            results[i] = exc
    return results, good
