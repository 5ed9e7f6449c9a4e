"""CIE Lab conversion and the [-1, 1] scaling the networks see.

L in [0, 100] maps to [-1, 1] as L / 50 - 1. The ab channels are divided by AB_SCALE = 110:
the sRGB gamut spans about a in [-86, 98] and b in [-108, 95] (D65), so 110 keeps every
reachable colour inside the tanh range without saturating it, while wasting little of it
(128, the int8 range, would leave a fifth of the output range unused).
Conversions run in fp32 through kornia, on any device, batched.
"""

from __future__ import annotations

import kornia.color
import torch

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
# CPU's cache, with sRGB decoding by table lookup (256 levels) and only L computed on the way in.
_Y_WEIGHTS = (0.212671, 0.715160, 0.072169)  # the Y row of sRGB -> XYZ (D65); sums to 1
_XYZ_TO_RGB = torch.tensor(
    [
        [3.2404813432005266, -1.5371515162713185, -0.4985363261688878],
        [-0.9692549499965682, 1.8759900014898907, 0.0415559265582928],
        [0.0556466391351772, -0.2040413383665112, 1.0573110696453443],
    ]
)
_WHITE = torch.tensor([0.95047, 1.0, 1.08883])
_BAND = 64  # rows per band


def _srgb_to_linear(v: torch.Tensor) -> torch.Tensor:
    return torch.where(v > 0.04045, ((v + 0.055) / 1.055).pow(2.4), v / 12.92)


def _linear_to_srgb(v: torch.Tensor) -> torch.Tensor:
    return torch.where(
        v > 0.0031308, 1.055 * v.clamp(min=0.0031308).pow(1 / 2.4) - 0.055, 12.92 * v
    )


_LINEAR_LUT = _srgb_to_linear(torch.arange(256) / 255.0)  # uint8 sRGB level -> linear value


def lightness_from_uint8(rgb: torch.Tensor) -> torch.Tensor:
    """uint8 (H, W, 3) -> normalized L (1, 1, H, W), as rgb_to_lab computes it."""
    weighted = [(_LINEAR_LUT * w) for w in _Y_WEIGHTS]
    y = torch.empty(rgb.shape[:2])
    for top in range(0, rgb.shape[0], _BAND):
        band = rgb[top : top + _BAND].long()
        yb = weighted[0][band[..., 0]] + weighted[1][band[..., 1]] + weighted[2][band[..., 2]]
        f = torch.where(yb > 0.008856, yb.clamp(min=0.008856).pow(1 / 3), 7.787 * yb + 4 / 29)
        y[top : top + _BAND] = f.mul_(116.0 / 50.0).sub_(16.0 / 50.0 + 1.0)
    return y[None, None]


def lab_normalized_to_uint8(l_norm: torch.Tensor, ab_norm: torch.Tensor) -> torch.Tensor:
    """Normalized L (1, 1, H, W) and ab (1, 2, H, W) -> uint8 sRGB (H, W, 3), clipped."""
    h, w = l_norm.shape[-2:]
    out = torch.empty(h, w, 3, dtype=torch.uint8)
    matrix = (_XYZ_TO_RGB * _WHITE).T.contiguous()  # XYZ white scaling folded into the matrix
    for top in range(0, h, _BAND):
        lightness = denormalize_l(l_norm[0, 0, top : top + _BAND].float())
        ab = denormalize_ab(ab_norm[0, :, top : top + _BAND].float().clamp(-1, 1))
        fy = (lightness + 16.0) / 116.0
        f = torch.stack([ab[0] / 500.0 + fy, fy, (fy - ab[1] / 200.0).clamp(min=0.0)], -1)
        xyz = torch.where(f > 0.2068966, f * f * f, (f - 4.0 / 29.0) / 7.787)
        srgb = _linear_to_srgb(xyz @ matrix).clamp_(0.0, 1.0)
        out[top : top + _BAND] = srgb.mul_(255.0).round_().to(torch.uint8)
    return out
