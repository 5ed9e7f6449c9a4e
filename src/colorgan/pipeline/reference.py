"""Colour from reference photos: where a photo shows what a reference shows, that colour.

A reference is encoded once (`encode`): the reference encoder's features of its lightness on
the matching grid, its CIE ab averaged over each cell of that grid, and its whole-photo
descriptor. A photo is matched to its references (`match`) by the cosine similarity of its own
features to every cell of every reference: each place of the photo takes the softmax-weighted
mean ab of the cells it resembles (temperature TAU), with a confidence that rises from 0 at
similarity LOW to 1 at HIGH. The Colorizer blends that colour into the model's by the
confidence, so where nothing matches the model colours on its own. TAU, LOW and HIGH were
chosen on validation photos (docs/results/reference-photos.md). A photo's reference also
keeps each cell's lightness, and a cell at another lightness than the place counts as less
similar (LIGHTNESS): features of lightness alone, each normalized, find a smooth road much
like a smooth sky or a car's smooth red body, and the best such cell was trusted fully, which
spread the sky's blue or the car's red over the road; a same-scene colour lies on the same
lightness (docs/results/reference-spread.md). numpy, so both engines share it.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
from PIL import Image

from colorgan.base.errors import ColorganError
from colorgan.base.images import to_rgb
from colorgan.colour import pixels, srgb
from colorgan.spec.references import GRID, SIZE

TAU = 0.01  # the softmax's temperature over cosine similarities
LOW, HIGH = 0.1, 0.5  # the similarity at which confidence starts to rise, and reaches 1
# A cell's similarity to a place, less LIGHTNESS times their distance in CIE L / 100 (after
# the reference's exposure is brought to the photo's): study 28, docs/results/reference-spread.md.
# 0 matches on the features alone, as study 25 did.
LIGHTNESS = 0.5
# normalized L (B, 1, SIZE, SIZE) -> (features (B, C, GRID, GRID), descriptors (B, D))
Features = Callable[[np.ndarray], tuple[np.ndarray, np.ndarray]]


@dataclass(frozen=True, eq=False)
class Reference:
    """A reference photo as matching needs it: features (C, cells), unit norm at each cell;
    normalized ab (2, cells); its whole-photo descriptor (D,). A bank's references
    (pipeline.bank) keep fewer features on fewer cells: `projection` (encoder features ->
    theirs) is how a photo's own features are brought to theirs."""

    features: np.ndarray
    ab: np.ndarray
    descriptor: np.ndarray
    projection: np.ndarray | None = None
    # the similarity at which a match with it starts to be trusted, and is trusted fully
    low: float = LOW
    high: float = HIGH
    # a learned trust in place of that ramp (a bank's, fitted by scripts/research): the
    # weights of gate_inputs' columns; `closeness`: the cosine of its descriptor to the
    # photo's it was retrieved for
    trust: tuple[float, ...] | None = None
    closeness: float = 0.0
    # each cell's mean normalized L (cells,): a photo's reference has it (`encode`) and is
    # matched on it too (LIGHTNESS); a bank's has not, and is matched on its features alone,
    # as its fitted trust (training.trust) was
    lightness: np.ndarray | None = None


def lightness_square(photo: Image.Image) -> np.ndarray:
    """Any photo ("L" or "RGB") -> its normalized L at SIZE x SIZE, as the encoder sees it."""
    small = photo.resize((SIZE, SIZE), Image.Resampling.BILINEAR)
    return pixels.small_lightness(pixels.grey_of(small), SIZE)


def encode(features: Features, photos: Sequence[Image.Image]) -> list[Reference]:
    """Colour photos (8-bit "L" or "RGB", upright) -> References, in one run of the encoder."""
    if not photos:
        return []
    rgbs = [to_rgb(photo) for photo in photos]
    squares = np.stack([lightness_square(rgb) for rgb in rgbs])[:, None]
    local, descriptors = features(squares)
    out = []
    for rgb, feats, descriptor, square in zip(rgbs, local, descriptors, squares, strict=True):
        cells = np.asarray(rgb.resize((GRID, GRID), Image.Resampling.BOX), np.float64) / 255.0
        ab = srgb.ab_of_rgb(cells).astype(np.float32).reshape(-1, 2).T
        shade = cell_lightness(square[0])
        out.append(Reference(feats.reshape(len(feats), -1), ab, descriptor, lightness=shade))
    return out


def cell_lightness(square: np.ndarray) -> np.ndarray:
    """Normalized L at SIZE x SIZE -> its mean over each cell of the matching grid (cells,)."""
    side = SIZE // GRID
    return square.reshape(GRID, side, GRID, side).mean((1, 3)).reshape(-1).astype(np.float32)


def match(
    query: np.ndarray, references: Sequence[Reference], lightness: np.ndarray | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """A photo's features (C, GRID, GRID) and its references -> the references' colour at each
    place of the photo (2, GRID, GRID) and the confidence in it (GRID, GRID), in [0, 1].
    `lightness`: the photo's normalized L on the grid (cells,); without it, or for a
    reference without its own, the features alone decide."""
    values = np.concatenate([r.ab for r in references], 1)
    each = _similarities(query.reshape(len(query), -1), references)  # (places, its cells)
    each = [_with_lightness(s, ref, lightness) for s, ref in zip(each, references, strict=True)]
    weights = _softmax(np.concatenate(each, 1), TAU)
    ab = (weights @ values.T).T.reshape(2, GRID, GRID)
    trusted = [_trust(s.max(1), r) for s, r in zip(each, references, strict=True)]
    confidence = np.clip(np.max(trusted, 0), 0.0, 1.0).reshape(GRID, GRID)
    return ab.astype(np.float32), confidence.astype(np.float32)


def _softmax(similarity: np.ndarray, temperature: float) -> np.ndarray:
    weights = np.exp((similarity - similarity.max(1, keepdims=True)) / temperature)
    return weights / weights.sum(1, keepdims=True)


def _with_lightness(s: np.ndarray, ref: Reference, lightness: np.ndarray | None) -> np.ndarray:
    """A reference's similarities (places, cells) less LIGHTNESS times each cell's distance in
    lightness from the place, so that among cells whose features fit a place equally, the one
    at its lightness gives the colour, and a place no cell at its lightness resembles is
    trusted less. The reference's lightness is first brought to the photo's by their median
    difference at the best matches (another exposure of the scene is not another scene)."""
    if not LIGHTNESS or lightness is None or ref.lightness is None:
        return s
    place = lightness.reshape(-1, 1) * 50.0  # CIE L
    cells = ref.lightness.reshape(1, -1) * 50.0
    offset = np.median(place[:, 0] - cells[0, s.argmax(1)])
    return s - LIGHTNESS * np.abs(place - offset - cells) / 100.0


def gate_inputs(similarity: np.ndarray, closeness: float) -> np.ndarray:
    """What a learned trust sees at each place (places, 4): a constant, the place's best
    similarity to the reference, the reference's closeness to the whole photo, and their
    product (a near scene's match is worth more than a far one's)."""
    s = similarity.astype(np.float64)
    return np.stack([np.ones_like(s), s, np.full_like(s, closeness), s * closeness], -1)


def _trust(similarity: np.ndarray, ref: Reference) -> np.ndarray:
    """The confidence in a reference's colour at each place, from its best similarity there:
    the learned gate where the reference has one, else the ramp from `low` to `high`."""
    if ref.trust is None:
        return (similarity - ref.low) / (ref.high - ref.low)
    logit = gate_inputs(similarity, ref.closeness) @ np.asarray(ref.trust, np.float64)
    return 1.0 / (1.0 + np.exp(-logit))


def similarity(query: np.ndarray, ref: Reference) -> np.ndarray:
    """The cosine similarity of each place of a photo (its features (C, GRID, GRID)) to
    each cell of one reference: (places, cells)."""
    return _similarities(query.reshape(len(query), -1), [ref])[0]


def _similarities(query: np.ndarray, references: Sequence[Reference]) -> list[np.ndarray]:
    """Cosine similarities of the photo's places (C, places) to each reference's cells, each
    reference's in its own features (a projected query, computed once per projection)."""
    projected: dict[int, np.ndarray] = {}
    out = []
    for ref in references:
        if ref.projection is None:
            out.append(query.T @ ref.features)
            continue
        if id(ref.projection) not in projected:
            p = ref.projection.T @ query
            projected[id(ref.projection)] = p / np.maximum(np.linalg.norm(p, axis=0), 1e-6)
        out.append(projected[id(ref.projection)].T @ ref.features)
    return out


def at_size(grid: np.ndarray, size: int) -> np.ndarray:
    """(..., GRID, GRID) -> (..., size, size), bilinear (Pillow, float32 planes)."""
    planes = grid.reshape(-1, GRID, GRID).astype(np.float32)
    resized = [
        np.asarray(Image.fromarray(p, "F").resize((size, size), Image.Resampling.BILINEAR))
        for p in planes
    ]
    return np.stack(resized).reshape(*grid.shape[:-2], size, size)


def colour_maps(
    features: Features,
    photos: Sequence[Image.Image | np.ndarray],
    references: Sequence[Sequence[Reference]],
    size: int,
    ab_scale: float = srgb.AB_SCALE,
    banks: Sequence[tuple | None] | None = None,
) -> list[tuple[np.ndarray, np.ndarray] | None]:
    """Each photo's colour from its references at the model's size (ab (2, size, size) in
    the model's own units, CIE ab / `ab_scale`; confidence (size, size)), or None for a photo
    without references; `banks`: each photo's (bank, k, skip) or None, whose nearest photos
    join its references. A photo is an image, or its normalized L at SIZE x SIZE (the
    square the encoder sees) already. The photos that have some go through the encoder in
    one run."""
    banks = banks or [None] * len(photos)
    wanted = [k for k, refs in enumerate(references) if refs or banks[k] is not None]
    out: list[tuple[np.ndarray, np.ndarray] | None] = [None] * len(photos)
    if not wanted:
        return out
    squares = np.stack([_square(photos[k]) for k in wanted])[:, None]
    local, descriptors = features(squares)
    for k, query, descriptor, square in zip(wanted, local, descriptors, squares, strict=True):
        found = []
        if banks[k] is not None:
            bank, count, skip = banks[k]
            found = bank.retrieve(descriptor, count, skip)
        if not references[k] and not found:  # a bank with fewer photos than were skipped
            continue
        ab, confidence = match(query, [*references[k], *found], cell_lightness(square[0]))
        out[k] = (at_size(ab, size) * (srgb.AB_SCALE / ab_scale), at_size(confidence, size))
    return out


def _square(photo: Image.Image | np.ndarray) -> np.ndarray:
    """A photo's normalized L at SIZE x SIZE: an image's, or the array as it is."""
    if isinstance(photo, np.ndarray):
        if photo.shape != (SIZE, SIZE):
            raise ColorganError(f"a square of normalized L is {SIZE}x{SIZE}, not {photo.shape}")
        return photo.astype(np.float32)
    return lightness_square(photo)


def blend(model_ab: np.ndarray, maps: tuple[np.ndarray, np.ndarray] | None) -> np.ndarray:
    """The model's ab (2, S, S) with the references' colour where they are confident."""
    if maps is None:
        return model_ab
    ab, confidence = maps
    return confidence * ab + (1.0 - confidence) * model_ab


def follow_edges(colour: tuple[np.ndarray, np.ndarray], l_norm: np.ndarray) -> tuple:
    """The references' colour and confidence (at the model's size) fitted to the photo's own
    edges: a guided filter (He et al. 2013) with the photo's lightness as the guide, so the
    colour's borders are the photo's, not the matching grid's (which a pan would drag across
    still content, frame by frame)."""
    ab, confidence = colour
    guide = l_norm.astype(np.float32)
    radius = max(1, l_norm.shape[-1] // (2 * GRID))  # a grid cell each way
    refined = [_guided(guide, plane, radius) for plane in (*ab, confidence)]
    return np.stack(refined[:2]), np.clip(refined[2], 0.0, 1.0)


def _guided(guide: np.ndarray, source: np.ndarray, radius: int, eps: float = 1e-3) -> np.ndarray:
    mean = _box(guide, radius)
    mean_p = _box(source, radius)
    a = (_box(guide * source, radius) - mean * mean_p) / (
        _box(guide * guide, radius) - mean * mean + eps
    )
    b = mean_p - a * mean
    return _box(a, radius) * guide + _box(b, radius)


def _box(plane: np.ndarray, radius: int) -> np.ndarray:
    """The mean over a (2r + 1)-square window, the border replicated beyond the edges."""
    padded = np.pad(plane, radius, mode="edge").astype(np.float64)
    total = padded.cumsum(0).cumsum(1)
    total = np.pad(total, ((1, 0), (1, 0)))
    side = 2 * radius + 1
    h, w = plane.shape
    window = (
        total[side : side + h, side : side + w]
        - total[:h, side : side + w]
        - total[side : side + h, :w]
        + total[:h, :w]
    )
    return (window / side**2).astype(np.float32)
