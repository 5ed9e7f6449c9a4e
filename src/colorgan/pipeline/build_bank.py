"""`colorgan bank build`: colour photos into a reference bank (pipeline.bank), in batches,
resumable.

First the projection: the encoder's features of up to SAMPLE photos (drawn by a seed),
pooled to the bank's grid, and their principal components (DIMS of them). Then every photo,
in chunks of CHUNK written whole under `.chunks/` (a chunk already there is not redone, so a
stopped build continues where it stopped). Last, the chunks are joined into `bank.npz` and the
manifest, each written whole, and the chunks removed. A photo that cannot be read is skipped
and named; photos whose content is a byte-for-byte copy of one already in are kept once.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Sequence
from pathlib import Path

import numpy as np
from PIL import Image

from colorgan.base.errors import ColorganError, shown
from colorgan.base.files import ArrayFile, atomic_file, atomic_write_text, file_sha256, same_plan
from colorgan.base.images import BadImage, open_image, to_rgb
from colorgan.colour import srgb
from colorgan.pipeline.bank import ARRAYS, DIMS, FORMAT, MANIFEST, SIDE
from colorgan.pipeline.reference import Features, lightness_square
from colorgan.spec.references import DESCRIPTOR, FEATURES, SIZE

log = logging.getLogger("colorgan")

SAMPLE = 512  # photos the projection is learnt from
CHUNK = 256  # photos a chunk holds
# a chunk's arrays: their kind ("U": text, "f": floats) and their shape after the photos'
CHUNK_ARRAYS = {
    "names": ("U", ()),
    "hashes": ("U", ()),
    "descriptors": ("f", (DESCRIPTOR,)),
    "features": ("f", (DIMS, SIDE * SIDE)),
    "ab": ("f", (2, SIDE * SIDE)),
}


def build_bank(
    features: Features,
    paths: Sequence[Path],
    out: Path,
    progress: bool = False,
    batch: int = 32,
    seed: int = 0,
    select: int | None = None,
) -> dict:
    """A bank of the photos `paths` in the folder `out`; returns its manifest. `select`: keep
    only this many, spread over what the photos show (farthest-point sampling on their
    descriptors), for a bank of a given size. A build that fails before its first chunk
    leaves nothing behind; an OSError writing it (a full disk, a place this user may not
    write) is one line."""
    if not paths:
        raise ColorganError("no photos to bank")
    chunks = out / ".chunks"
    made = [p for p in (out, chunks) if not p.exists()]
    try:
        return _build(features, paths, chunks, progress, batch, seed, select)
    except OSError as exc:
        raise ColorganError(
            f"cannot write the bank {shown(str(out))} ({exc.strerror or exc})"
        ) from None
    finally:
        _remove_if_bare(made)


def _build(
    features: Features,
    paths: Sequence[Path],
    chunks: Path,
    progress: bool,
    batch: int,
    seed: int,
    select: int | None,
) -> dict:
    from tqdm import tqdm

    chunks.mkdir(parents=True, exist_ok=True)
    _same_plan(chunks, paths, seed)
    projection = _projection(features, paths, chunks, seed, batch)
    with tqdm(total=len(paths), desc="banking", unit="photo", disable=not progress) as bar:
        for c, start in enumerate(range(0, len(paths), CHUNK)):
            part = chunks / f"{c:06d}.npz"
            if not part.is_file():
                _write_chunk(features, paths[start : start + CHUNK], projection, part, batch)
            bar.update(len(paths[start : start + CHUNK]))
    sizes = [len(paths[start : start + CHUNK]) for start in range(0, len(paths), CHUNK)]
    return _join(chunks, projection, sizes, select)


def _remove_if_bare(made: list[Path]) -> None:
    """The folders a failed build made (`made`, the bank's, then its chunks'), where they hold
    nothing but the plan of the photos: nothing of a build that did nothing stays."""
    for folder in reversed(made):
        plan = folder / "plan.txt"
        if folder.is_dir() and {p.name for p in folder.iterdir()} <= {plan.name}:
            plan.unlink(missing_ok=True)
            folder.rmdir()


def _same_plan(chunks: Path, paths: Sequence[Path], seed: int) -> None:
    """A stopped build goes on only with the photos (and seed) it was started with: its
    chunks are by position in that list."""
    refusal = (
        f"{shown(str(chunks.parent))} holds a stopped build of other photos; build in "
        "another folder, or remove its .chunks to start again"
    )
    same_plan(chunks, [str(seed), *map(str, paths)], refusal)


def read_photo(path: Path) -> tuple[str, Image.Image]:
    """A colour photo file as a bank knows it: its content hash (the first 16 hex digits of
    its SHA-256) and the photo at SIZE x SIZE; BadImage or OSError where it cannot be read."""
    digest = file_sha256(path)[:16]
    return digest, to_rgb(open_image(path, draft=SIZE)).resize((SIZE, SIZE), Image.BICUBIC)


def _encoded(features: Features, paths: Sequence[Path], batch: int, quiet: bool = False):
    """(name, content hash, rgb at SIZE, local features, descriptor) of each readable photo;
    one that is not is named (unless `quiet`: the projection's sample, read again later)."""
    for start in range(0, len(paths), batch):
        photos = []
        for path in paths[start : start + batch]:
            try:
                photos.append((Path(path).name, *read_photo(path)))
            except (BadImage, OSError) as exc:
                if not quiet:
                    log.warning("skipped %s: %s", shown(str(path)), shown(str(exc)))
        if not photos:
            continue
        squares = np.stack([lightness_square(rgb) for _, _, rgb in photos])[:, None]
        local, descriptors = features(squares)
        for (name, digest, rgb), feats, descriptor in zip(photos, local, descriptors, strict=True):
            yield name, digest, rgb, feats, descriptor


def _pooled(local: np.ndarray) -> np.ndarray:
    """(C, GRID, GRID) -> (C, SIDE * SIDE): the grid's cells averaged 2 x 2."""
    c, g, _ = local.shape
    return local.reshape(c, SIDE, g // SIDE, SIDE, g // SIDE).mean((2, 4)).reshape(c, -1)


def _projection(features: Features, paths: Sequence[Path], chunks: Path, seed: int, batch: int):
    """The principal components of the sample's pooled features (C, DIMS), kept in `chunks`
    so a resumed build uses the same."""
    saved = chunks / "projection.npy"
    if saved.is_file():
        with ArrayFile(saved, f"{shown(str(chunks.parent))}'s stopped build") as kept:
            return kept.read("projection", (FEATURES, DIMS), "f")
    rng = np.random.default_rng(seed)
    sample = [paths[i] for i in sorted(rng.permutation(len(paths))[:SAMPLE])]
    pooled = [_pooled(f).T for *_, f, _ in _encoded(features, sample, batch, quiet=True)]
    if not pooled:
        drawn = "" if len(sample) == len(paths) else " drawn to learn its projection"
        raise ColorganError(f"none of the {len(sample)} photos{drawn} reads as a photo; no bank")
    cells = np.concatenate(pooled)
    cells -= cells.mean(0)
    _, _, vt = np.linalg.svd(cells.astype(np.float64), full_matrices=False)
    projection = vt[:DIMS].T.astype(np.float32)
    with atomic_file(saved) as tmp, open(tmp, "wb") as fh:
        np.save(fh, projection)
    return projection


def banked(local: np.ndarray, rgb: Image.Image, projection: np.ndarray) -> tuple:
    """A photo as a bank keeps it, from its encoder features (C, GRID, GRID) and its colour
    at SIZE: the features pooled to the bank's grid and projected, unit at each cell (DIMS,
    SIDE * SIDE), and its normalized ab on that grid (2, SIDE * SIDE)."""
    projected = projection.T @ _pooled(local)
    projected /= np.maximum(np.linalg.norm(projected, axis=0), 1e-6)
    cells = np.asarray(rgb.resize((SIDE, SIDE), Image.BOX), np.float64) / 255.0
    return projected, srgb.ab_of_rgb(cells).reshape(-1, 2).T


def _write_chunk(
    features: Features, paths: Sequence[Path], projection: np.ndarray, target: Path, batch: int
) -> None:
    rows: dict[str, list] = {k: [] for k in CHUNK_ARRAYS}
    for name, digest, rgb, local, descriptor in _encoded(features, paths, batch):
        projected, ab = banked(local, rgb, projection)
        rows["names"].append(name)
        rows["hashes"].append(digest)
        rows["descriptors"].append(descriptor.astype(np.float16))
        rows["features"].append(projected.astype(np.float16))
        rows["ab"].append(ab.astype(np.float16))
    arrays = {}
    for key, (kind, rest) in CHUNK_ARRAYS.items():  # each, empty too: no photo of it read
        values = rows[key]
        if kind == "U":
            arrays[key] = np.array(values, str)
        else:
            arrays[key] = np.array(values, np.float16).reshape(len(values), *rest)
    with atomic_file(target) as tmp, open(tmp, "wb") as fh:
        np.savez(fh, **arrays)


def _read_chunk(part: Path, most: int) -> dict[str, np.ndarray]:
    """A chunk a stopped build wrote, of at most `most` photos, each array's header checked
    before it is read; ColorganError (one line) for one that is not, naming it."""
    where = f"{shown(str(part))} (a chunk of a stopped build: remove it to build it again)"
    with ArrayFile(part, where) as chunk:
        shape = chunk.header("descriptors")[0]
        if len(shape) != 2 or shape[0] > most:
            raise ColorganError(f"{where}: its descriptors are {shape}, not of {most} photos")
        n = shape[0]
        return {k: chunk.read(k, (n, *rest), kind) for k, (kind, rest) in CHUNK_ARRAYS.items()}


def spread_out(descriptors: np.ndarray, count: int) -> list[int]:
    """`count` rows, each the farthest (least cosine-similar) from those already chosen,
    starting from the one nearest the mean: photos that cover what the set shows."""
    unit = descriptors.astype(np.float32)
    chosen = [int(np.argmax(unit @ unit.mean(0)))]
    nearest = unit @ unit[chosen[0]]
    while len(chosen) < min(count, len(unit)):
        chosen.append(int(np.argmin(nearest)))
        nearest = np.maximum(nearest, unit @ unit[chosen[-1]])
    return sorted(chosen)


def _join(chunks: Path, projection: np.ndarray, sizes: list[int], select: int | None) -> dict:
    """The chunks (of at most `sizes` photos each) joined into the bank's arrays and manifest,
    each written whole; then the chunks are removed."""
    out = chunks.parent
    parts = [_read_chunk(chunks / f"{c:06d}.npz", most) for c, most in enumerate(sizes)]
    names = [str(n) for part in parts for n in part["names"]]
    hashes = [str(h) for part in parts for h in part["hashes"]]
    if not hashes:
        raise ColorganError("none of the photos could be read; no photos to bank")
    keep = sorted({h: i for i, h in reversed(list(enumerate(hashes)))}.values())
    arrays = {
        k: np.concatenate([part[k] for part in parts])[keep]
        for k in ("descriptors", "features", "ab")
    }
    if select is not None and select < len(keep):
        picked = spread_out(arrays["descriptors"], select)
        keep = [keep[i] for i in picked]
        arrays = {k: v[picked] for k, v in arrays.items()}
    with atomic_file(out / ARRAYS) as tmp, open(tmp, "wb") as fh:
        np.savez(fh, **arrays, projection=projection)
    manifest = {
        "format": FORMAT,
        "photos": len(keep),
        "side": SIDE,
        "dims": DIMS,
        "names": [names[i] for i in keep],
        "hashes": [hashes[i] for i in keep],
    }
    atomic_write_text(out / MANIFEST, json.dumps(manifest, indent=0) + "\n")
    for part in chunks.iterdir():
        part.unlink()
    chunks.rmdir()
    return manifest
