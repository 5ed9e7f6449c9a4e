"""CIE Lab on tensors, for training and evaluation: kornia's conversions in fp32, on any
device, batched, and the [-1, 1] scaling the networks see (srgb.AB_SCALE)."""

from __future__ import annotations

import kornia.color
import torch

from colorgan.colour import srgb
from colorgan.colour.srgb import AB_SCALE


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


def colourfulness(rgb: torch.Tensor, eps: float = 1e-6) -> torch.Tensor:
    """Colourfulness of each image of a batch (B, 3, H, W) in 0..255, differentiable."""
    rg, yb = srgb.opponents(*rgb.float().unbind(1))
    dims = (1, 2)
    return srgb.colourfulness(rg.mean(dims), rg.var(dims), yb.mean(dims), yb.var(dims), eps)
