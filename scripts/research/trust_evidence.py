"""The evidence a bank's trust is learnt from (trust_gate fits it; fit_trust runs both):
what the bank really returns for training photos. Study 27's (docs/results/learned-trust.md).

A retrieved photo shows a similar scene, not the same one: where it matches a place of the
grey photo, its colour there is one plausible colour, sometimes the photo's and often not. So,
for training photos (the bank's own pool; never validation or eval ones), each place of the
matching grid is coloured three ways (KINDS):

- from the photo the bank returns for it, the nearest that is neither the photo itself (its
  content hash) nor a near copy (descriptor cosine at least NEAR): what inference will see;
- from the photo itself, banked as any photo is (a reference that is always right);
- from a banked photo drawn from the farther half of the rest (a reference that is almost
  always wrong);

and kept with what the gate sees there (reference.gate_inputs), the model's colour and the
true colour. Collecting is the slow part (the model and the encoder on every photo): it is
done in chunks written whole under the bank's `.trust/`, so a stopped collection continues
where it stopped. A chunk with a photo that could not be read is used but not kept, so that
the photo, once repaired, is read on the next run. numpy, so either engine serves.
"""

from __future__ import annotations

import hashlib
import shutil
import sys
import zipfile
from collections.abc import Iterator, Sequence
from pathlib import Path

import numpy as np
from PIL import Image

from colorgan.base.errors import ColorganError, shown
from colorgan.base.files import atomic_file, same_plan
from colorgan.base.images import BadImage
from colorgan.colour import srgb
from colorgan.pipeline import reference
from colorgan.pipeline.bank import Bank
from colorgan.pipeline.build_bank import banked, read_photo
from colorgan.pipeline.colorizer import Colorizer
from colorgan.spec.references import GRID, SIZE

# the references a bank's trust is learnt from, for each training photo: the one the bank
# returns for it, the photo itself, and an unrelated one
KINDS = ("retrieved", "self", "unrelated")
NEAR = 0.97  # a banked photo this close (descriptor cosine) is taken for a copy of the photo
CHUNK = 64  # photos a chunk of evidence holds
FOLDER = ".trust"  # the chunks' folder, in the bank's


def gather(
    colorizer: Colorizer,
    bank_dir: Path,
    paths: Sequence[Path],
    model: str,
    progress: bool = False,
    seed: int = 0,
) -> dict[str, np.ndarray]:
    """The evidence of `paths` for the bank in `bank_dir`, collected (or found) chunk by
    chunk, then joined: arrays of (photos x kinds, places, ...). `model` names the colorizer's
    model (a bundled name, or its file's content hash): a stopped collection goes on only with
    the same model, bank, photos and seed."""
    from tqdm import tqdm

    if not paths:
        raise ColorganError("no training photos to fit the trust on")
    bank = Bank.load(bank_dir)
    folder = bank_dir / FOLDER
    refusal = (
        f"{shown(str(folder))} holds the evidence of another model, bank or photos; remove "
        "it to fit on these"
    )
    same_plan(folder, [model, _fingerprint(bank), str(seed), *map(str, paths)], refusal)
    parts, unreadable = [], []
    with tqdm(total=len(paths), desc="fitting trust", unit="photo", disable=not progress) as bar:
        for chunk, arrays, missed in collect(colorizer, bank, paths, folder, seed):
            parts.append(arrays)
            unreadable += missed
            bar.update(len(chunk))
    return _joined(parts, unreadable, len(paths))


def discard(bank_dir: Path) -> None:
    """The evidence, once the trust is written (about 120 kB a photo): gone."""
    shutil.rmtree(bank_dir / FOLDER, ignore_errors=True)


def _fingerprint(bank: Bank) -> str:
    """What identifies a bank's photos and projection."""
    digest = hashlib.sha256("\n".join(bank.manifest["hashes"]).encode())
    digest.update(bank.projection.astype(np.float32).tobytes())
    return digest.hexdigest()


def collect(
    colorizer: Colorizer, bank: Bank, paths: Sequence[Path], folder: Path, seed: int = 0
) -> Iterator[tuple[Sequence[Path], dict[str, np.ndarray], list[Path]]]:
    """Yields each chunk's photos, its evidence (per photo and kind, each place's gate
    inputs, the reference's, the model's and the true ab, normalized CIE ab) and the photos of
    it that could not be read. A chunk is read from `folder` where an earlier run wrote it;
    else collected, and written there only where every photo of it was read."""
    folder.mkdir(parents=True, exist_ok=True)
    for c, start in enumerate(range(0, len(paths), CHUNK)):
        chunk, part = paths[start : start + CHUNK], folder / f"{c:06d}.npz"
        if part.is_file():
            yield chunk, _load_chunk(part), []
            continue
        photos = {path: _read(path) for path in chunk}
        readable = [photo for photo in photos.values() if photo is not None]
        arrays = _evidence(colorizer, bank, readable, np.random.default_rng([seed, c]))
        if len(readable) == len(chunk):
            with atomic_file(part) as tmp, open(tmp, "wb") as fh:
                np.savez(fh, **arrays)
        yield chunk, arrays, [path for path, photo in photos.items() if photo is None]


def _evidence(
    colorizer: Colorizer,
    bank: Bank,
    photos: list[tuple[str, Image.Image]],
    rng: np.random.Generator,
) -> dict[str, np.ndarray]:
    """The evidence of `photos` (content hash, the photo at SIZE): see `collect`."""
    if not photos:
        return {}
    squares = np.stack([reference.lightness_square(rgb) for _, rgb in photos])[:, None]
    model = colorizer.lightness_colour(squares) * (colorizer.spec.ab_scale / srgb.AB_SCALE)
    local, descriptors = colorizer.engine.features(squares)
    rows: dict[str, list] = {k: [] for k in ("inputs", "ref", "model", "true", "kind")}
    for (digest, rgb), ab, query, descriptor in zip(photos, model, local, descriptors, strict=True):
        references = _references(bank, digest, rgb, query, descriptor, rng)
        if references is None:  # the bank holds nothing but the photo (or copies of it)
            continue
        true = srgb.ab_of_rgb(np.asarray(rgb.resize((GRID, GRID), Image.BOX)) / 255.0)
        pooled = ab.reshape(2, GRID, SIZE // GRID, GRID, SIZE // GRID).mean((2, 4))
        for kind, ref in enumerate(references):
            colour, _ = reference.match(query, [ref])
            best = reference.similarity(query, ref).max(1)
            rows["inputs"].append(reference.gate_inputs(best, ref.closeness).astype(np.float32))
            rows["ref"].append(colour.reshape(2, -1).T)
            rows["model"].append(pooled.reshape(2, -1).T.astype(np.float32))
            rows["true"].append(true.reshape(-1, 2).astype(np.float32))
            rows["kind"].append(np.full(GRID * GRID, kind, np.int8))
    return {k: np.stack(v) for k, v in rows.items() if v}


def _read(path: Path) -> tuple[str, Image.Image] | None:
    """(content hash, the photo at SIZE) as the bank knows it, or None if unreadable."""
    try:
        return read_photo(path)
    except (BadImage, OSError):
        return None


def _references(
    bank: Bank,
    digest: str,
    rgb: Image.Image,
    query: np.ndarray,
    descriptor: np.ndarray,
    rng: np.random.Generator,
) -> list[reference.Reference] | None:
    """The photo's three references, in KINDS' order; None where the bank holds fewer
    than two photos that are neither it nor near copies of it."""
    scores = bank.closeness(descriptor)
    order = np.argsort(-scores)
    apart = (np.asarray(bank.manifest["hashes"]) != digest) & (scores < NEAR)
    others = order[apart[order]]  # nearest first
    if len(others) < 2:
        return None
    retrieved = others[0]
    unrelated = rng.choice(others[len(others) // 2 :])  # from the farther half
    projection = bank.projection.astype(np.float32)
    features, ab = banked(query, rgb, projection)  # the photo as the bank would keep it
    own = reference.Reference(
        features,
        ab.astype(np.float32),
        descriptor,
        projection,
        trust=bank.trust,
        closeness=float(descriptor @ descriptor),
    )
    found = bank.references(np.array([retrieved, unrelated]), descriptor)
    return [found[0], own, found[1]]


def _load_chunk(path: Path) -> dict[str, np.ndarray]:
    """A chunk an earlier run wrote: plain arrays only (a pickle is never loaded), else one
    line saying what to do."""
    try:
        with np.load(path, allow_pickle=False) as chunk:
            return {k: chunk[k] for k in chunk.files}
    except (ValueError, OSError, EOFError, zipfile.BadZipFile) as exc:
        raise ColorganError(
            f"{shown(str(path))} is not evidence this fit wrote ({exc}); remove "
            f"{shown(str(path.parent))} and run again"
        ) from None


def _joined(parts: list[dict], unreadable: list[Path], asked: int) -> dict[str, np.ndarray]:
    """Every chunk's evidence, joined: (photos x kinds, places, ...) arrays. The photos that
    could not be read are said in one line, in the error where nothing else was left."""
    parts = [p for p in parts if p]
    unread = ""
    if unreadable:
        unread = (
            f"{len(unreadable)} of the {asked} photos could not be read (the first: "
            f"{shown(str(unreadable[0]))}): repair or replace them and run again"
        )
    if not parts:
        nothing = "the bank holds nothing but these photos and near copies of them"
        raise ColorganError(f"no photo to fit the trust on: {unread or nothing}")
    if unread:
        print(f"fit_trust: warning: {unread}; this fit goes on without them", file=sys.stderr)
    return {k: np.concatenate([p[k] for p in parts]) for k in parts[0]}
