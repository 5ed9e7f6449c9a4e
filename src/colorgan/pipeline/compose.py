"""A batch of photos through a model's prediction and back at full resolution, in one of two
compositions (colour.bands, colour.pixels): "lab", exact CIE Lab in row bands, and "ycbcr",
the model's chroma upsampled in C onto the photo's grey, 3-4x faster and within an 8-bit level
of it. The model predicts ab on its small square; the ab is put back onto the photo's own
full-resolution lightness, so the output keeps the input's size, sharpness and lightness (the
approach of richzhang/colorization)."""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np
from PIL import Image

from colorgan.colour import bands, pixels
from colorgan.spec.meta import ModelSpec

# Up to this many pixels the full-size L (4 bytes a pixel) is kept between the two passes over
# the photo, which saves computing it twice (0.2 s of a 12 MP colour photo); beyond it, L is
# computed again band by band, so memory stays bounded (docs/results/benchmark-history.md).
KEEP_L_PIXELS = 40_000_000

# (normalized L at the model's size, L at the priors' size or None) -> ab times its chroma
Predict = Callable[[np.ndarray, np.ndarray | None], np.ndarray]
# (index of the result, pixels ("L" or "RGB"), alpha or None)
Prepared = tuple[int, Image.Image, Image.Image | None]


def compose_lab(good: Sequence[Prepared], results: list, spec: ModelSpec, predict: Predict) -> None:
    """Each photo's bands pasted straight into its output image: no full-size array."""
    sizes = [spec.size] + ([spec.prior_size] if spec.prior_size not in (None, spec.size) else [])
    prepared = []
    for i, photo, alpha in good:
        read = _band_reader(photo)
        h, w = photo.height, photo.width
        small, full = bands.small_lightness(read, h, w, sizes, h * w <= KEEP_L_PIXELS)
        prepared.append((i, (w, h), read, alpha, small, full))
    l_small = np.stack([p[4][0] for p in prepared])[:, None]
    prior = np.stack([p[4][-1] for p in prepared])[:, None] if spec.prior_size else None
    ab = predict(l_small, prior)
    for k, (i, (w, h), read, alpha, _, full) in enumerate(prepared):
        result = Image.new("RGB", (w, h))
        for top, band in bands.lab_bands(_lightness_reader(read, full), h, w, ab[k]):
            rows = Image.frombuffer("RGB", (w, len(band)), band, "raw", "RGB", 0, 1)
            result.paste(rows, (0, top))
        if alpha is not None:
            result.putalpha(alpha)
        results[i] = result


def _band_reader(photo: Image.Image) -> bands.Rows:
    def read(top: int, rows: int) -> np.ndarray:  # one band of the photo's pixels
        return np.asarray(photo.crop((0, top, photo.width, top + rows)))

    return read


def _lightness_reader(read: bands.Rows, full: np.ndarray | None) -> bands.Rows:
    """The photo's L in rows: from the kept full-size L, or computed again band by band."""
    if full is not None:
        return lambda top, rows: full[top : top + rows]
    return lambda top, rows: bands.lightness_rows(read(top, rows))


def compose_ycbcr(
    good: Sequence[Prepared], results: list, spec: ModelSpec, predict: Predict, keep_ycbcr: bool
) -> None:
    """The fast path: each photo's grey as luma, the model's chroma upsampled onto it. With
    `keep_ycbcr`, the YCbCr image (which JPEG stores directly) rather than RGB."""
    greys = [pixels.grey_of(photo) for _, photo, _ in good]
    l_small, prior = pixels.small_inputs(greys, spec.size, spec.prior_size)
    ab = predict(l_small, prior)
    for k, ((i, _, alpha), grey) in enumerate(zip(good, greys, strict=True)):
        result = pixels.compose_ycbcr(grey, l_small[k, 0], ab[k], spec.ab_scale)
        if alpha is not None or not keep_ycbcr:
            result = result.convert("RGB")
        if alpha is not None:
            result.putalpha(alpha)
        results[i] = result
