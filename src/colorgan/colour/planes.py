"""A film frame's colour as a codec takes it: only the planes the output needs, built from the
model's small ab at the output's depth (numpy and OpenCV), never a full-size RGB frame.

A codec stores Y'CbCr: the luma plane at full resolution, the chroma planes at a half or a
quarter of the pixels (4:2:2, 4:2:0). Each chroma sample is the exact CIE colour of the
model's ab on the mean lightness of the luma it covers (Lab to sRGB, then the output's
matrix), so a steady ab over moving texture keeps its CIE colour; the luma is the source's own
at the output's depth and range, moved only where the colour is not grey, by how far that
colour's luma is from its grey's (a smooth correction made at the chroma's size): each pixel
keeps its CIE lightness as well as its ab, as the Lab colour at every pixel (the earlier full
RGB path) would, within rounding (BENCHMARKS.md, "Films"). A grey frame's luma passes
through untouched. Outputs in RGB (PNG and TIFF frames) are the Lab colour at every pixel.

`Levels` says how a plane's integers stand for grey (bits, full or limited range); the tables
from levels to CIE f(Y), linear light and a grey's luma are built once per Levels.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import numpy as np

from colorgan.colour import srgb

# Kr and Kb of each Y'CbCr matrix (Kg = 1 - Kr - Kb)
MATRICES = {"bt601": (0.299, 0.114), "bt709": (0.2126, 0.0722), "bt2020": (0.2627, 0.0593)}
_STEPS = 1 << 16  # linear light in these steps -> sRGB, by table
_SRGB_OF_LINEAR = srgb.to_srgb(np.arange(_STEPS + 1) / _STEPS).clip(0, 1).astype(np.float32)


@dataclass(frozen=True)
class Levels:
    """How a plane's integers stand for grey: `bits` (8 to 16) and `full` range (0 to
    2**bits - 1) or limited (16 to 235, chroma 16 to 240, times 2**(bits - 8))."""

    bits: int
    full: bool

    @property
    def dtype(self) -> type:
        return np.uint8 if self.bits <= 8 else np.uint16

    @property
    def black(self) -> float:
        return 0.0 if self.full else 16.0 * 2 ** (self.bits - 8)

    @property
    def white(self) -> float:
        return 2.0**self.bits - 1 if self.full else 235.0 * 2 ** (self.bits - 8)

    @property
    def top(self) -> int:
        return 2**self.bits - 1

    def chroma(self, c: np.ndarray) -> np.ndarray:
        """Colour differences in [-0.5, 0.5] (float32) -> this depth's chroma integers."""
        import cv2

        scale = self.top if self.full else 224.0 * 2 ** (self.bits - 8)
        depth = cv2.CV_8U if self.bits <= 8 else cv2.CV_16U
        return cv2.addWeighted(c, scale, c, 0.0, 2.0 ** (self.bits - 1), dtype=depth)


@lru_cache(maxsize=16)
def _tables(levels: Levels) -> tuple[np.ndarray, np.ndarray]:
    """Each integer level -> (CIE f(Y) of its grey, its grey's linear light)."""
    grey = ((np.arange(2**levels.bits) - levels.black) / (levels.white - levels.black)).clip(0, 1)
    linear = srgb.to_linear(grey)
    return srgb.lab_f(linear).astype(np.float32), linear.astype(np.float32)


@lru_cache(maxsize=16)
def _grey_luma(levels: Levels, matrix: str) -> np.ndarray:
    """Each integer level -> the luma `frame_planes` makes of its grey (ab 0), by the very
    same operations, so that a grey's luma correction is exactly nothing."""
    every = np.arange(2**levels.bits, dtype=levels.dtype)[None]
    return _luma(_prime(every, levels, np.zeros((2, 1, 1), np.float32), 1.0), matrix)[0]


def _luma(rgb: list, matrix: str) -> np.ndarray:
    kr, kb = MATRICES[matrix]
    y = rgb[0] * np.float32(kr)
    y += rgb[1] * np.float32(1 - kr - kb)
    y += rgb[2] * np.float32(kb)
    return y


def _look_up(table: np.ndarray, plane: np.ndarray) -> np.ndarray:
    """table[plane], in C (OpenCV's for 8-bit planes)."""
    import cv2

    return cv2.LUT(plane, table) if plane.dtype == np.uint8 else np.take(table, plane)


def relevel(plane: np.ndarray, source: Levels, target: Levels) -> np.ndarray:
    """A luma plane at `source`'s levels -> the same grey at `target`'s (itself where they
    are one): the straight line between their black and white, rounded, within the range."""
    import cv2

    if source == target:
        return plane
    scale = (target.white - target.black) / (source.white - source.black)
    offset = target.black - source.black * scale
    depth = cv2.CV_8U if target.bits <= 8 else cv2.CV_16U
    out = cv2.addWeighted(plane, scale, plane, 0.0, offset, dtype=depth)
    if target.bits not in (8, 16):  # within the target's own range, not its type's
        np.minimum(out, target.top, out=out)
    return out


def grey8(plane: np.ndarray, levels: Levels) -> np.ndarray:
    """A luma plane -> its 8-bit full-range grey, contiguous (what the model and the
    reference encoder see)."""
    return np.ascontiguousarray(relevel(plane, levels, Levels(8, True)))


def luma_of_rgb(rgb: np.ndarray, matrix: str) -> np.ndarray:
    """uint16 R'G'B' (h, w, 3), full range -> its luma (h, w), uint16 full range."""
    kr, kb = MATRICES[matrix]
    weights = np.array([kr, 1 - kr - kb, kb], np.float32)
    return (rgb.astype(np.float32) @ weights + np.float32(0.5)).astype(np.uint16)


def _prime(luma: np.ndarray, levels: Levels, ab: np.ndarray, ab_scale: float) -> list:
    """A luma plane and the model's ab (2, S, S), normalized -> sRGB R', G', B' planes in
    [0, 1] (float32) of the Lab colour with each luma's lightness and the ab upsampled
    bilinearly to the plane's size (the sRGB gamut's outside clipped in linear light)."""
    import cv2

    h, w = luma.shape
    ab = np.clip(ab, -1, 1).astype(np.float32) * np.float32(ab_scale)
    # a / 500 and -b / 200: what Lab adds to f(Y) for f(X) and f(Z)
    a, b = (
        cv2.resize(c, (w, h), interpolation=cv2.INTER_LINEAR) for c in (ab[0] / 500, ab[1] / -200)
    )
    fy_of, y_of = _tables(levels)
    fy = _look_up(fy_of, luma)
    a += fy
    x = srgb.lab_f_inverse(a)
    x *= np.float32(srgb.WHITE[0])
    b += fy
    np.maximum(b, 0, out=b)
    z = srgb.lab_f_inverse(b)
    z *= np.float32(srgb.WHITE[2])
    y = _look_up(y_of, luma)
    out = []
    for row in (srgb.XYZ_TO_RGB * _STEPS).astype(np.float32):
        steps = row[0] * x
        steps += row[1] * y
        steps += row[2] * z
        steps += 0.5
        np.clip(steps, 0, _STEPS, out=steps)
        out.append(_SRGB_OF_LINEAR[steps.astype(np.intp)])
    return out


def frame_planes(
    luma: np.ndarray,
    levels: Levels,
    colour: tuple[np.ndarray, float],
    matrix: str,
    target: Levels,
    layout: tuple[int, int],
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """A frame's luma (`levels` its own) and `colour`, the model's ab (2, S, S) and its ab
    scale -> its Y', Cb and Cr planes in `matrix` at `target`'s depth and range, the chroma
    subsampled by `layout` (log2, x and y). Each chroma sample is the CIE Lab colour of the
    ab on the mean lightness of the luma it covers; the luma is the source's, moved by how
    far that colour's luma is from its grey's (computed at the chroma's size and upsampled:
    nothing where the colour is grey), so that each pixel keeps its CIE lightness as well as
    its ab, as the Lab colour at every pixel would."""
    import cv2

    h, w = luma.shape
    sx, sy = layout
    small = luma
    if layout != (0, 0):
        small = cv2.resize(luma, (-(-w >> sx), -(-h >> sy)), interpolation=cv2.INTER_AREA)
    r, g, b = _prime(small, levels, *colour)
    kr, kb = MATRICES[matrix]
    y = _luma([r, g, b], matrix)
    b -= y
    b *= np.float32(0.5 / (1 - kb))
    r -= y
    r *= np.float32(0.5 / (1 - kr))
    y -= _look_up(_grey_luma(levels, matrix), small)  # the colour's luma less its grey's
    if layout != (0, 0):
        y = cv2.resize(y, (w, h), interpolation=cv2.INTER_LINEAR)
    span = target.white - target.black
    scale = span / (levels.white - levels.black)
    depth = cv2.CV_8U if target.bits <= 8 else cv2.CV_16U
    grey = luma.astype(np.float32)
    out = cv2.addWeighted(grey, scale, y, span, target.black - levels.black * scale, dtype=depth)
    if target.bits not in (8, 16):  # within the target's own range, not its type's
        np.minimum(out, target.top, out=out)
    return out, target.chroma(b), target.chroma(r)


def rgb_planes(
    luma: np.ndarray, levels: Levels, colour: tuple[np.ndarray, float], bits: int
) -> np.ndarray:
    """The full-size luma and `colour` (the model's ab, its ab scale) -> R'G'B' (h, w, 3) at
    `bits` (8 or 16), full range: the CIE Lab colour at every pixel (its lightness the
    grey's, its ab the model's, where the sRGB gamut holds it)."""
    planes = _prime(luma, levels, *colour)
    top = 2**bits - 1
    out = np.empty((*luma.shape, 3), np.uint8 if bits == 8 else np.uint16)
    for k, plane in enumerate(planes):
        plane *= np.float32(top)
        plane += np.float32(0.5)
        np.clip(plane, 0, top, out=plane)
        out[..., k] = plane
    return out
