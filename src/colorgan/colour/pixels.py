"""The fast pixel paths, in numpy and Pillow: a photo's grey of its CIE lightness, the model's
small inputs from it, and how its output is composed from the model's small ab.

- `compose_ycbcr` (photos on the onnx engine): the model's colour converted exactly (Lab to
  sRGB) at its small size, its chroma (YCbCr's Cb and Cr) upsampled bilinearly in C and
  joined to the photo's own grey levels. Against the exact Lab path (bands.py) this changes
  the output by less than one 8-bit level on average (PSNR in BENCHMARKS.md).

A film's frames are composed as their codec takes them (planes.py).

The saturation is an argument of each composition's caller (the ab is scaled before it is
composed), never state.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from PIL import Image

from colorgan.colour import srgb

_STEPS = 1 << 16

_LINEAR = srgb.to_linear(np.arange(256) / 255.0)
# grey level v (RGB v, v, v) -> normalized L
L_OF_GREY = ((116.0 * srgb.lab_f(_LINEAR) - 16.0) / 50.0 - 1.0).astype(np.float32)
# uint8 level of each channel -> its share of Y in 2**16 steps; Y in steps -> the grey level
# with that luminance, i.e. with that CIE lightness
_Y_SHARE = [np.round(_LINEAR * w * _STEPS).astype(np.int32) for w in srgb.Y_WEIGHTS]
_GREY_OF_Y = np.round(srgb.to_srgb(np.arange(_STEPS + 3) / _STEPS).clip(0, 1) * 255).astype(
    np.uint8
)


def lightness_grey(rgb: Image.Image) -> Image.Image:
    """An RGB photo -> the "L" image of grey levels with each pixel's CIE lightness (what the
    model sees, and what the output keeps)."""
    a = np.asarray(rgb)
    y = _Y_SHARE[0][a[..., 0]]
    y += _Y_SHARE[1][a[..., 1]]
    y += _Y_SHARE[2][a[..., 2]]
    return Image.fromarray(_GREY_OF_Y[y])


def grey_of(pixels: Image.Image) -> Image.Image:
    """A photo ("L" or "RGB") -> its grey of CIE lightness."""
    return pixels if pixels.mode == "L" else lightness_grey(pixels)


def small_lightness(grey: Image.Image, size: int) -> np.ndarray:
    """Grey levels -> normalized L (size, size): resized in C (bilinear, antialiased), then
    looked up (L of the mean grey rather than the mean of L: within 0.1 of 100 but at edges)."""
    small = grey.resize((size, size), Image.Resampling.BILINEAR)
    return L_OF_GREY[np.asarray(small)]


def small_inputs(
    greys: Sequence[Image.Image], size: int, prior_size: int | None
) -> tuple[np.ndarray, np.ndarray | None]:
    """Grey images ("L") of any sizes -> a model's inputs: normalized L (B, 1, S, S) at its
    size, and at the priors' size where it has priors (None where it has none)."""
    l_small = np.stack([small_lightness(grey, size) for grey in greys])[:, None]
    if prior_size is None:
        return l_small, None
    if prior_size == size:
        return l_small, l_small
    return l_small, np.stack([small_lightness(grey, prior_size) for grey in greys])[:, None]


def lab_to_srgb(l_norm: np.ndarray, ab_norm: np.ndarray, ab_scale: float) -> np.ndarray:
    """Normalized L (h, w) and ab (2, h, w) -> uint8 sRGB (h, w, 3), clipped (small images)."""
    fy = ((l_norm.astype(np.float64) + 1.0) * 50.0 + 16.0) / 116.0
    ab = np.clip(ab_norm, -1, 1) * ab_scale
    f = np.stack([fy + ab[0] / 500.0, fy, np.maximum(fy - ab[1] / 200.0, 0.0)], -1)
    xyz = srgb.lab_f_inverse(f) * srgb.WHITE
    linear = xyz @ srgb.XYZ_TO_RGB.T
    return np.round(srgb.to_srgb(linear).clip(0, 1) * 255).astype(np.uint8)


def compose_ycbcr(
    grey: Image.Image, l_small: np.ndarray, ab: np.ndarray, ab_scale: float
) -> Image.Image:
    """The photo's grey ("L", any size) with a model's colour at its own size (normalized L
    (S, S), ab (2, S, S)) -> the YCbCr output: the colour converted exactly at the small size,
    its chroma upsampled in C, the grey as luma."""
    small = Image.fromarray(lab_to_srgb(l_small, ab, ab_scale)).convert("YCbCr")
    chroma = [c.resize(grey.size, Image.Resampling.BILINEAR) for c in small.split()[1:]]
    return Image.merge("YCbCr", (grey, *chroma))


def colourfulness(rgb: np.ndarray) -> float:
    """Hasler and Suesstrunk's colourfulness of a uint8 RGB image (srgb.colourfulness)."""
    rg, yb = srgb.opponents(*(rgb[..., i].astype(np.float64) for i in range(3)))
    return float(srgb.colourfulness(rg.mean(), rg.var(), yb.mean(), yb.var()))
