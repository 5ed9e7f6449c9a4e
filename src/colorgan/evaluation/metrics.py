"""Image-quality metrics of the field's evaluation protocol: PSNR over the three channels at
data range 255, SSIM per channel with an 11x11 Gaussian window (sigma 1.5) averaged over
channels; and what a user sees first, the photo's overall colour: its mean ab in CIE Lab,
whose error is the colour cast (colourfulness is colour.pixels.colourfulness)."""

from __future__ import annotations

import numpy as np
from skimage.color import rgb2lab
from skimage.metrics import peak_signal_noise_ratio, structural_similarity


def psnr(pred: np.ndarray, target: np.ndarray) -> float:
    return float(peak_signal_noise_ratio(target, pred, data_range=255))


def ssim(pred: np.ndarray, target: np.ndarray) -> float:
    """Channel-wise SSIM, as in Wang et al. 2004 (Gaussian 11x11, sigma 1.5)."""
    return float(
        structural_similarity(
            target,
            pred,
            data_range=255,
            channel_axis=2,
            gaussian_weights=True,
            sigma=1.5,
            use_sample_covariance=False,
        )
    )


def mean_ab(rgb: np.ndarray) -> np.ndarray:
    """The mean a and b (CIE Lab, D65) of a uint8 RGB image: its overall colour."""
    return rgb2lab(rgb).reshape(-1, 3)[:, 1:].mean(0)
