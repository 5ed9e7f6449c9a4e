"""CIE Lab conversion and the [-1, 1] scaling the networks see.

L in [0, 100] maps to [-1, 1] as L / 50 - 1. The ab channels are divided by AB_SCALE = 110:
the sRGB gamut spans about a in [-86, 98] and b in [-108, 95] (D65), so 110 keeps every
reachable colour inside the tanh range without saturating it, while wasting little of it
(128, the int8 range, would leave a fifth of the output range unused).
Conversions run in fp32 through kornia, on any device, batched.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence

import kornia.color
import numpy as np
import torch
import torch.nn.functional as F

from colorgan import srgb

AB_SCALE = 110.0


def rgb_to_lab(rgb: torch.Tensor) -> torch.Tensor:
    """sRGB in [0, 1], (..., 3, H, W) -> Lab with L in [0, 100]."""
    return kornia.color.rgb_to_lab(rgb.float())


def lab_to_rgb(lab: torch.Tensor) -> torch.Tensor:
    """Lab -> sRGB in [0, 1], clipped to the displayable range."""
    return kornia.color.lab_to_rgb(lab.float(), clip=True)


def normalize_l(l_channel: torch.Tensor) -> torch.Tensor:
    return l_channel / 50.0 - 1.0


def denormalize_l(l_norm: torch.Tensor) -> torch.Tensor:
    return (l_norm + 1.0) * 50.0


def normalize_ab(ab: torch.Tensor) -> torch.Tensor:
    return ab / AB_SCALE


def denormalize_ab(ab_norm: torch.Tensor) -> torch.Tensor:
    return ab_norm * AB_SCALE


def rgb_to_lab_normalized(rgb: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """sRGB batch (B, 3, H, W) in [0, 1] -> (L, ab) each scaled to [-1, 1]."""
    lab = rgb_to_lab(rgb)
    return normalize_l(lab[:, :1]), normalize_ab(lab[:, 1:])


def lab_normalized_to_rgb(l_norm: torch.Tensor, ab_norm: torch.Tensor) -> torch.Tensor:
    """Inverse of rgb_to_lab_normalized; ab is clamped to the valid range first."""
    lab = torch.cat(
        [denormalize_l(l_norm.float()), denormalize_ab(ab_norm.float().clamp(-1, 1))], 1
    )
    return lab_to_rgb(lab)


def uint8_to_float(images: torch.Tensor) -> torch.Tensor:
    """(B, 3, H, W) uint8 -> float in [0, 1]."""
    return images.float().div_(255.0)


def grey_from_l(l_norm: torch.Tensor) -> torch.Tensor:
    """Normalized L (B, 1, H, W) -> the sRGB grey image of that lightness, in [0, 1].

    This is what the frozen priors see: the L channel "stacked three times" as an image.
    """
    lab = torch.cat([denormalize_l(l_norm.float()), torch.zeros_like(l_norm).repeat(1, 2, 1, 1)], 1)
    return lab_to_rgb(lab)[:, :1]


# Full-resolution paths for colorization: the same sRGB / D65 formulas and constants as
# kornia's, so they agree with it, but on uint8 in and out, in row bands that stay in the
# CPU's cache. The two power functions (the cube root of L and the sRGB gamma) become table
# lookups on a 2**16-step grid, which moves L by under 0.01 and the output by at most one
# 8-bit level, for about half the time of computing them (benchmarks/colorize_fullres.py).
_STEPS = 1 << 16  # grid of the lookup tables over [0, 1]
_BAND = 32  # rows per band of the colour conversion
_REDUCE_BAND = 64  # rows per band read to resize L down (more: more memory, no faster)


def _tables() -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    grid = np.arange(_STEPS + 1) / _STEPS
    # uint8 level of each channel -> its share of Y in grid steps; one table per channel
    levels = srgb.to_linear(np.arange(256) / 255.0)
    y_share = np.stack([levels * w * _STEPS for w in srgb.Y_WEIGHTS])
    # Y -> normalized L
    l_of_y = srgb.lab_f(grid) * (116.0 / 50.0) - (16.0 / 50.0 + 1.0)
    # linear RGB -> uint8 sRGB
    gamma = np.round(srgb.to_srgb(grid).clip(0, 1) * 255.0).astype(np.uint8)
    return (torch.from_numpy(y_share).float(), torch.from_numpy(l_of_y).float(),
            torch.from_numpy(gamma))  # fmt: skip


_Y_SHARE, _L_OF_Y, _GAMMA = _tables()
# XYZ -> linear RGB in grid steps, the white point folded in
_XYZ_TO_STEPS = torch.from_numpy((srgb.XYZ_TO_RGB * srgb.WHITE).T * _STEPS).float().contiguous()


def _lookup(table: torch.Tensor, index: torch.Tensor) -> torch.Tensor:
    return torch.index_select(table, 0, index.reshape(-1)).view(index.shape)


def lightness_rows(pixels: torch.Tensor) -> torch.Tensor:
    """uint8 rows, colour (n, W, 3) or grey (n, W) -> normalized L (n, W), as rgb_to_lab
    computes it; a grey level is one 256-entry lookup."""
    if pixels.ndim == 2:
        return _lookup(_L_OF_GREY, pixels.to(torch.int32))
    steps = _lookup(_Y_SHARE[0], pixels[..., 0].to(torch.int32))
    steps += _lookup(_Y_SHARE[1], pixels[..., 1].to(torch.int32))
    steps += _lookup(_Y_SHARE[2], pixels[..., 2].to(torch.int32))
    return _lookup(_L_OF_Y, steps.add_(0.5).to(torch.int32).clamp_(0, _STEPS))


_GREY_LEVELS = torch.arange(256, dtype=torch.uint8).view(1, 256, 1).expand(1, 256, 3)
_L_OF_GREY = lightness_rows(_GREY_LEVELS)[0]  # grey level v = RGB (v, v, v)


def lightness_from_uint8(pixels: torch.Tensor) -> torch.Tensor:
    """uint8 colour (H, W, 3) or grey (H, W) -> normalized L (1, 1, H, W)."""
    y = torch.empty(pixels.shape[:2])
    for top in range(0, pixels.shape[0], _BAND):
        y[top : top + _BAND] = lightness_rows(pixels[top : top + _BAND])
    return y[None, None]


# (top, rows) -> those rows of a photo: uint8 (rows, W, 3) or (rows, W), or float L (rows, W)
Rows = Callable[[int, int], torch.Tensor]


def small_lightness(
    read: Rows, h: int, w: int, sizes: Sequence[int], keep: bool = False
) -> tuple[list[torch.Tensor], torch.Tensor | None]:
    """The L of an (h, w) uint8 photo, read in row bands, resized (bilinear, antialiased) to
    each size x size: (1, 1, size, size) each; and with `keep`, the full L (h, w) as well.
    Each band is narrowed to the size first, then the narrow (h, size) columns are shortened:
    the two passes of the separable filter that resizing the full L runs, so without `keep`
    that L (400 MB for 100 megapixels) is never held."""
    narrow = [torch.empty(1, 1, h, s) for s in sizes]
    full = torch.empty(h, w) if keep else None
    for top in range(0, h, _REDUCE_BAND):
        rows = min(_REDUCE_BAND, h - top)
        band = lightness_rows(read(top, rows))[None, None]
        if full is not None:
            full[top : top + rows] = band[0, 0]
        for n, s in zip(narrow, sizes, strict=True):
            n[..., top : top + rows, :] = F.interpolate(
                band, size=(rows, s), mode="bilinear", align_corners=False, antialias=True
            )
    small = [
        F.interpolate(n, size=(s, s), mode="bilinear", align_corners=False, antialias=True)
        for n, s in zip(narrow, sizes, strict=True)
    ]
    return small, full


def _linear_taps(size_in: int, size_out: int, start: int, count: int):
    """Source indices and weights of bilinear resizing (align_corners=False, as
    F.interpolate computes them) for output positions start .. start + count - 1."""
    src = ((torch.arange(start, start + count, dtype=torch.float64) + 0.5) * (size_in / size_out)
           - 0.5).clamp_(min=0.0)  # fmt: skip
    low = src.floor().long().clamp_(max=size_in - 1)
    high = (low + 1).clamp_(max=size_in - 1)
    return low, high, (src - low).float()


def _ab_rows(ab_norm: torch.Tensor, top: int, rows: int, h: int, w: int) -> torch.Tensor:
    """Rows top .. top + rows of ab resized bilinearly to (h, w): (2, rows, w). A full-size
    ab is sliced; a small one is resized for these rows alone, so no full-size float ab is
    ever held (a 100-megapixel photo would need 800 MB for it)."""
    if ab_norm.shape[-2:] == (h, w):
        return ab_norm[0, :, top : top + rows].float()
    small = ab_norm[0].float()
    y0, y1, wy = _linear_taps(small.shape[1], h, top, rows)
    x0, x1, wx = _linear_taps(small.shape[2], w, 0, w)
    band = small[:, y0].mul_(1 - wy[:, None]).add_(small[:, y1].mul_(wy[:, None]))
    return band[..., x0].mul_(1 - wx).add_(band[..., x1].mul_(wx))


def lab_normalized_to_uint8(l_norm: torch.Tensor, ab_norm: torch.Tensor) -> torch.Tensor:
    """Normalized L (1, 1, H, W) and ab (1, 2, h, w) -> uint8 sRGB (H, W, 3), clipped; ab of
    another size than L is resized bilinearly, band by band."""
    h, w = l_norm.shape[-2:]
    out = torch.empty(h, w, 3, dtype=torch.uint8)
    for top, band in colour_bands(lambda top, rows: l_norm[0, 0, top : top + rows], h, w, ab_norm):
        out[top : top + len(band)] = band
    return out


def colour_bands(
    read_l: Rows, h: int, w: int, ab_norm: torch.Tensor
) -> Iterator[tuple[int, torch.Tensor]]:
    """Normalized L of an (h, w) photo, read in row bands (float (rows, W)), and ab
    (1, 2, h', w') -> (top row, uint8 sRGB (rows, w, 3)) band after band, clipped. Nothing is
    held at full size, the output included: the caller puts each band where it belongs."""
    f = torch.empty(_BAND, w, 3)
    for top in range(0, h, _BAND):
        rows = min(_BAND, h - top)
        fb, ab = f[:rows], _ab_rows(ab_norm, top, rows, h, w).clamp_(-1, 1)
        # f(Y) from L, then f(X) and f(Z) from a and b (L / 116 + 16 / 116 on the normalized L)
        torch.add(read_l(top, rows).float(), 1.0, out=fb[..., 1]).mul_(50.0 / 116.0)
        fb[..., 1].add_(16.0 / 116.0)
        torch.add(fb[..., 1], ab[0], alpha=AB_SCALE / 500.0, out=fb[..., 0])
        torch.sub(fb[..., 1], ab[1], alpha=AB_SCALE / 200.0, out=fb[..., 2]).clamp_(min=0.0)
        # inverse f without branches: cube above DELTA, the tangent line below it
        xyz = fb.sub(srgb.DELTA).clamp_(max=0.0).mul_(3 * srgb.DELTA**2)
        cube = fb.clamp_(min=srgb.DELTA)
        xyz.addcmul_(cube.mul(cube), cube)
        steps = (xyz @ _XYZ_TO_STEPS).clamp_(0.0, _STEPS).add_(0.5).to(torch.int32)
        yield top, _lookup(_GAMMA, steps)
