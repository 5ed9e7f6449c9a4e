"""The exact Lab path of full-resolution photos, in numpy, in row bands that stay in the CPU's
cache: the photo's own CIE lightness, resized down for the model, and its L joined to the
model's ab upsampled bilinearly, converted back to sRGB.

The same sRGB / D65 formulas and constants as kornia's (srgb.py), so they agree with it, but
on uint8 in and out. The two power functions (the cube root of L and the sRGB gamma) become
table lookups on a 2**16-step grid, which moves L by under 0.01 and the output by at most one
8-bit level, for about half the time of computing them (benchmarks/colorize_fullres.py).
Nothing is held at full size but what the caller asks to keep: a 100-megapixel photo would
need 400 MB for its float L and 800 MB for a full-size ab.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence

import numpy as np
from PIL import Image

from colorgan.colour import srgb

_STEPS = 1 << 16  # grid of the lookup tables over [0, 1]
_BAND = 32  # rows per band of the colour conversion
_REDUCE_BAND = 64  # rows per band read to resize L down (more: more memory, no faster)

_GRID = np.arange(_STEPS + 1) / _STEPS
# uint8 level of each channel -> its share of Y in grid steps; one table per channel
_Y_SHARE = np.stack(
    [srgb.to_linear(np.arange(256) / 255.0) * w * _STEPS for w in srgb.Y_WEIGHTS]
).astype(np.float32)
# Y -> normalized L
_L_OF_Y = (srgb.lab_f(_GRID) * (116.0 / 50.0) - (16.0 / 50.0 + 1.0)).astype(np.float32)
# linear RGB -> uint8 sRGB
_GAMMA = np.round(srgb.to_srgb(_GRID).clip(0, 1) * 255.0).astype(np.uint8)
# XYZ -> linear RGB in grid steps, the white point folded in
_XYZ_TO_STEPS = ((srgb.XYZ_TO_RGB * srgb.WHITE).T * _STEPS).astype(np.float32)

# (top, rows) -> those rows of a photo: uint8 (rows, W, 3) or (rows, W), or float L (rows, W)
Rows = Callable[[int, int], np.ndarray]


def lightness_rows(pixels: np.ndarray) -> np.ndarray:
    """uint8 rows, colour (n, W, 3) or grey (n, W) -> normalized L (n, W) float32, as
    kornia's rgb_to_lab computes it; a grey level is one 256-entry lookup."""
    if pixels.ndim == 2:
        return _L_OF_GREY[pixels]
    steps = _Y_SHARE[0][pixels[..., 0]]
    steps += _Y_SHARE[1][pixels[..., 1]]
    steps += _Y_SHARE[2][pixels[..., 2]]
    steps += 0.5
    return _L_OF_Y[np.clip(steps.astype(np.int32), 0, _STEPS)]


_L_OF_GREY = lightness_rows(np.repeat(np.arange(256, dtype=np.uint8)[None, :, None], 3, 2))[0]


def lightness(pixels: np.ndarray) -> np.ndarray:
    """uint8 colour (H, W, 3) or grey (H, W) -> normalized L (H, W), band by band."""
    out = np.empty(pixels.shape[:2], np.float32)
    for top in range(0, pixels.shape[0], _BAND):
        out[top : top + _BAND] = lightness_rows(pixels[top : top + _BAND])
    return out


def _resize(values: np.ndarray, width: int, height: int) -> np.ndarray:
    """float32 (h, w) resized to (height, width) in C: bilinear, antialiased when it shrinks
    (Pillow runs only the passes whose side changes)."""
    image = Image.fromarray(np.ascontiguousarray(values, np.float32), "F")
    return np.asarray(image.resize((width, height), Image.Resampling.BILINEAR))


def small_lightness(
    read: Rows, h: int, w: int, sizes: Sequence[int], keep: bool = False
) -> tuple[list[np.ndarray], np.ndarray | None]:
    """The L of an (h, w) uint8 photo, read in row bands, resized (bilinear, antialiased) to
    each size x size: (size, size) each; and with `keep`, the full L (h, w) as well. Each band
    is narrowed to the size first, then the narrow (h, size) columns are shortened: the two
    passes of the separable filter, so without `keep` the full L is never held."""
    narrow = [np.empty((h, s), np.float32) for s in sizes]
    full = np.empty((h, w), np.float32) if keep else None
    for top in range(0, h, _REDUCE_BAND):
        rows = min(_REDUCE_BAND, h - top)
        band = lightness_rows(read(top, rows))
        if full is not None:
            full[top : top + rows] = band
        for n, s in zip(narrow, sizes, strict=True):
            n[top : top + rows] = _resize(band, s, rows)
    return [_resize(n, s, s) for n, s in zip(narrow, sizes, strict=True)], full


def _linear_taps(size_in: int, size_out: int, start: int, count: int):
    """Source indices and weights of bilinear resizing (half-pixel centres, as
    F.interpolate's align_corners=False) for output positions start .. start + count - 1."""
    src = (
        (np.arange(start, start + count, dtype=np.float64) + 0.5) * (size_in / size_out) - 0.5
    ).clip(min=0.0)
    low = np.minimum(np.floor(src).astype(np.intp), size_in - 1)
    high = np.minimum(low + 1, size_in - 1)
    return low, high, (src - low).astype(np.float32)


def _ab_rows(ab: np.ndarray, top: int, rows: int, h: int, w: int) -> np.ndarray:
    """Rows top .. top + rows of ab (2, h', w') resized bilinearly to (h, w): (2, rows, w);
    a full-size ab is sliced, a small one resized for these rows alone."""
    if ab.shape[-2:] == (h, w):
        return ab[:, top : top + rows].astype(np.float32)
    y0, y1, wy = _linear_taps(ab.shape[1], h, top, rows)
    x0, x1, wx = _linear_taps(ab.shape[2], w, 0, w)
    band = ab[:, y0] * (1 - wy[:, None]) + ab[:, y1] * wy[:, None]
    return band[..., x0] * (1 - wx) + band[..., x1] * wx


def lab_bands(read_l: Rows, h: int, w: int, ab: np.ndarray) -> Iterator[tuple[int, np.ndarray]]:
    """Normalized L of an (h, w) photo, read in row bands (float (rows, w)), and normalized ab
    (2, h', w') -> (top row, uint8 sRGB (rows, w, 3)) band after band, clipped. Nothing is
    held at full size, the output included: the caller puts each band where it belongs."""
    f = np.empty((_BAND, w, 3), np.float32)
    for top in range(0, h, _BAND):
        rows = min(_BAND, h - top)
        fb, ab_rows = f[:rows], np.clip(_ab_rows(ab, top, rows, h, w), -1, 1)
        # f(Y) from L, then f(X) and f(Z) from a and b (L / 116 + 16 / 116 on the normalized L)
        fy = fb[..., 1]
        np.add(read_l(top, rows), 1.0, out=fy, dtype=np.float32)
        fy *= np.float32(50.0 / 116.0)
        fy += np.float32(16.0 / 116.0)
        fb[..., 0] = fy + ab_rows[0] * np.float32(srgb.AB_SCALE / 500.0)
        fb[..., 2] = np.maximum(fy - ab_rows[1] * np.float32(srgb.AB_SCALE / 200.0), 0.0)
        # inverse f without branches: cube above DELTA, the tangent line below it
        xyz = np.minimum(fb - np.float32(srgb.DELTA), 0.0) * np.float32(3 * srgb.DELTA**2)
        cube = np.maximum(fb, np.float32(srgb.DELTA))
        xyz += cube * cube * cube
        steps = xyz @ _XYZ_TO_STEPS
        np.clip(steps, 0.0, _STEPS, out=steps)
        steps += 0.5
        yield top, _GAMMA[steps.astype(np.int32)]


def lab_to_uint8(l_norm: np.ndarray, ab: np.ndarray) -> np.ndarray:
    """Normalized L (H, W) and ab (2, h, w) -> uint8 sRGB (H, W, 3), clipped; ab of another
    size than L is resized bilinearly, band by band."""
    h, w = l_norm.shape
    out = np.empty((h, w, 3), np.uint8)
    for top, band in lab_bands(lambda top, rows: l_norm[top : top + rows], h, w, ab):
        out[top : top + len(band)] = band
    return out
