"""sRGB (D65) and CIE Lab constants and transfer functions, in numpy, shared by both
engines: color.py (torch) builds its lookup tables from them, light.py (no torch) uses them
directly. The same formulas and constants as kornia's, so both agree with it."""

from __future__ import annotations

import numpy as np

Y_WEIGHTS = np.array([0.212671, 0.715160, 0.072169])  # the Y row of sRGB -> XYZ; sums to 1
XYZ_TO_RGB = np.array(
    [
        [3.2404813432005266, -1.5371515162713185, -0.4985363261688878],
        [-0.9692549499965682, 1.8759900014898907, 0.0415559265582928],
        [0.0556466391351772, -0.2040413383665112, 1.0573110696453443],
    ]
)
WHITE = np.array([0.95047, 1.0, 1.08883])
DELTA = 6.0 / 29.0  # where the Lab f() switches from linear to the cube


def to_linear(v: np.ndarray) -> np.ndarray:
    """sRGB in [0, 1] -> linear."""
    return np.where(v > 0.04045, ((v + 0.055) / 1.055) ** 2.4, v / 12.92)


def to_srgb(v: np.ndarray) -> np.ndarray:
    """Linear -> sRGB (not clipped)."""
    return np.where(v > 0.0031308, 1.055 * np.maximum(v, 0.0031308) ** (1 / 2.4) - 0.055, 12.92 * v)


def lab_f(t: np.ndarray) -> np.ndarray:
    """CIE Lab's f(): the cube root, linear near 0 (kornia's thresholds)."""
    return np.where(t > 0.008856, np.maximum(t, 0.008856) ** (1 / 3), 7.787 * t + 4 / 29)


def lab_f_inverse(f: np.ndarray) -> np.ndarray:
    """The inverse of `lab_f` on an array: the cube above DELTA, the tangent line below it.
    Keeps f's dtype (float32 stays float32)."""
    out = f * f
    out *= f
    low = f <= DELTA
    out[low] = (f[low] - 4 / 29) * (3 * DELTA**2)
    return out
