"""A bank of reference photos: colour chosen from real photos, by what a grey photo shows.

A bank holds, for each of its photos, what the reference path needs and no more: the encoder's
whole-photo descriptor of the photo's lightness (what retrieval compares: a grey photo shows
its lightness only), the encoder's features on a SIDE x SIDE grid reduced to DIMS by a
projection the bank keeps (principal components of its own photos' features), and the photo's
colour on that grid. Nothing in it shows the photo: its colour is 16 x 16 cells. It is one
`bank.npz` (fp16 arrays, read with pickles refused) and a `manifest.json` (the format, the
count, the photos' file names and content hashes). `build_bank.py` writes it.

A photo takes as references the `bank_k` banked photos (pipeline.settings) whose descriptors
are nearest its own (the cosine), its colour then taken where it matches them
(pipeline.reference), as far as the bank trusts a match: by a ramp of similarity (LOW to
HIGH), or by a gate learnt from the bank's own retrievals for training photos, its weights the
manifest's "trust" (study 27's scripts/research/fit_trust.py fits one; a bank that holds one
is used with it).
"""

from __future__ import annotations

import json
import math
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from colorgan.base.errors import ColorganError, short, shown
from colorgan.base.files import ArrayFile, atomic_write_text
from colorgan.base.manifests import read_manifest
from colorgan.pipeline.reference import Reference
from colorgan.spec.references import DESCRIPTOR, FEATURES

FORMAT = "colorgan-bank/1"
SIDE = 16  # a banked photo's cell grid (the encoder's 32 x 32, pooled by 2)
DIMS = 48  # features kept per cell
ARRAYS = "bank.npz"
MANIFEST = "manifest.json"
MAX_PHOTOS = 10_000_000  # what a bank may claim to hold (a loader bound, not a promise)
GATE = 4  # a learned trust's weights (pipeline.reference.gate_inputs)
# a banked reference's match is trusted from this similarity (in the bank's projected
# features) and fully from the next: stricter than a user's own reference, which shows the
# same scene where a banked one shows a similar one
LOW, HIGH = 0.7, 0.95


@dataclass
class Bank:
    """A loaded bank: descriptors (N, D), features (N, DIMS, SIDE * SIDE), ab (N, 2, SIDE *
    SIDE), the projection (C, DIMS) and the manifest."""

    descriptors: np.ndarray
    features: np.ndarray
    ab: np.ndarray
    projection: np.ndarray
    manifest: dict
    low: float = LOW  # its references' match trusted from this similarity
    high: float = HIGH  # and fully from this one
    trust: tuple[float, ...] | None = None  # a learned gate in place of that ramp
    trust_model: str | None = None  # the model it was fitted for (a name or a file's hash)

    def __len__(self) -> int:
        return len(self.descriptors)

    @classmethod
    def load(cls, folder: str | Path) -> Bank:
        """The bank in `folder`; ColorganError (one line) for anything that is not one. The
        manifest is checked first, and each array's header against the count it gives before
        any of the array is read: what is read is what the manifest's photos take."""
        folder = Path(folder)
        where = f"--reference-bank {shown(str(folder))}"
        if not (folder / ARRAYS).is_file():
            raise ColorganError(f"{where}: no {ARRAYS} in it (build one: colorgan bank build)")
        manifest = _manifest_of(folder, where)
        n = manifest["photos"]
        shapes = {  # the encoder's sizes: a bank of another encoder cannot be matched
            "descriptors": (n, DESCRIPTOR),
            "features": (n, DIMS, SIDE * SIDE),
            "ab": (n, 2, SIDE * SIDE),
            "projection": (FEATURES, DIMS),
        }
        with ArrayFile(folder / ARRAYS, where) as arrays:
            parts = {name: arrays.read(name, shape, "f") for name, shape in shapes.items()}
        for name, array in parts.items():
            if not np.isfinite(array).all():
                raise ColorganError(f"{where}: its {name} hold NaN or infinite values")
        fitted_for = manifest.get("trust_model")
        if fitted_for is not None and not (isinstance(fitted_for, str) and len(fitted_for) <= 200):
            raise ColorganError(f"{where}: its manifest's trust_model is not a model's name")
        trust = _trust_of(manifest, where)
        return cls(**parts, manifest=manifest, trust=trust, trust_model=fitted_for)

    def closeness(self, descriptor: np.ndarray) -> np.ndarray:
        """Each banked photo's descriptor cosine to `descriptor` (N,)."""
        return self.descriptors.astype(np.float32) @ descriptor.astype(np.float32)

    def nearest(self, descriptor: np.ndarray, k: int, skip: int = 0) -> np.ndarray:
        """The indices of the `k` photos (after the `skip` nearest) whose descriptors are the
        nearest to `descriptor`, nearest first."""
        scores = self.closeness(descriptor)
        wanted = min(skip + k, len(scores))
        if wanted <= skip:
            return np.zeros(0, int)
        top = np.argpartition(-scores, wanted - 1)[:wanted]
        return top[np.argsort(-scores[top])][skip:]

    def trust_warning(self, model: str) -> str | None:
        """What to tell a user colouring with `model` where the learned trust was fitted for
        another (how far a banked colour beats a model's depends on the model)."""
        if self.trust is None or self.trust_model in (None, model):
            return None
        return (
            f"this bank's trust was fitted for another model ({shown(self.trust_model)[:20]}); "
            "with this one it may trust its matches too much or too little (the repository's "
            "scripts/research/fit_trust.py BANK --model/--weights ... fits it again)"
        )

    def retrieve(self, descriptor: np.ndarray, k: int, skip: int = 0) -> list[Reference]:
        """The references of the `k` banked photos nearest `descriptor` (after `skip`)."""
        return self.references(self.nearest(descriptor, k, skip), descriptor)

    def references(self, indices: np.ndarray, query: np.ndarray) -> list[Reference]:
        """The banked photos `indices` as references for the photo whose descriptor is
        `query` (how close each is to it is what a learned trust weighs)."""
        projection, query = self.projection.astype(np.float32), query.astype(np.float32)
        out = []
        for i in indices:
            descriptor = self.descriptors[i].astype(np.float32)
            features, ab = self.features[i].astype(np.float32), self.ab[i].astype(np.float32)
            trust = (self.low, self.high, self.trust, float(descriptor @ query))
            out.append(Reference(features, ab, descriptor, projection, *trust))
        return out


def write_trust(folder: Path, weights: Sequence[float], model: str) -> None:
    """Give the bank in `folder` a learned trust, fitted for `model` (a bundled name or a
    generator file's content hash): its manifest rewritten whole with them."""
    bank = Bank.load(folder)
    manifest = {**bank.manifest, "trust": [float(w) for w in weights], "trust_model": model}
    _trust_of(manifest, f"--reference-bank {shown(str(folder))}")
    atomic_write_text(folder / MANIFEST, json.dumps(manifest, indent=0) + "\n")


def _manifest_of(folder: Path, where: str) -> dict:
    """The bank's manifest: of the format, its count of photos within bounds, and a name and a
    content hash for each."""
    manifest = read_manifest(
        folder / MANIFEST, f"{where}: its manifest", FORMAT, "a colorgan bank's", 1 << 28
    )
    n = manifest.get("photos")
    if isinstance(n, bool) or not isinstance(n, int) or not 0 < n <= MAX_PHOTOS:
        raise ColorganError(
            f"{where}: its manifest counts {short(n)} photos, not 1 to {MAX_PHOTOS:,}"
        )
    names, hashes = manifest.get("names"), manifest.get("hashes")
    if not (
        isinstance(names, list) and isinstance(hashes, list) and len(names) == len(hashes) == n
    ):
        raise ColorganError(f"{where}: its manifest does not list its {n} photos")
    return manifest


def _trust_of(manifest: dict, where: str) -> tuple[float, ...] | None:
    """The manifest's learned trust: absent, or GATE finite numbers."""
    trust = manifest.get("trust")
    if trust is None:
        return None
    bad = ColorganError(f"{where}: its manifest's trust is not {GATE} finite numbers")
    if not isinstance(trust, list) or len(trust) != GATE:
        raise bad
    weights = []
    for w in trust:
        if isinstance(w, bool) or not isinstance(w, int | float):
            raise bad
        try:
            weights.append(float(w))  # a JSON integer may be too large for a float
        except OverflowError:
            raise bad from None
    if not all(math.isfinite(w) for w in weights):
        raise bad
    return tuple(weights)
