"""sRGB (D65) and CIE Lab constants and formulas, in numpy: the one owner of them. The pixel
paths (pixels.py, bands.py) build their lookup tables from them, and the tensor path
(tensors.py, kornia) shares the ab scale and the colourfulness formula. The same formulas and
constants as kornia's, so all paths agree with it.

The networks see L in [0, 100] as L / 50 - 1 and ab divided by AB_SCALE = 110: the sRGB gamut
spans about a in [-86, 98] and b in [-108, 95] (D65), so 110 keeps every reachable colour
inside the tanh range without saturating it, while wasting little of it (128, the int8 range,
would leave a fifth of the output range unused).
"""

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
AB_SCALE = 110.0


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
    cube = f * f
    cube *= f
    return np.where(f > DELTA, cube, (f - 4 / 29) * (3 * DELTA**2))


RGB_TO_XYZ = np.linalg.inv(XYZ_TO_RGB)


def ab_of_rgb(rgb: np.ndarray) -> np.ndarray:
    """sRGB in [0, 1] (..., 3) -> normalized CIE ab (..., 2) (D65; ab / AB_SCALE)."""
    f = lab_f((to_linear(np.asarray(rgb, np.float64)) @ RGB_TO_XYZ.T) / WHITE)
    return np.stack([500.0 * (f[..., 0] - f[..., 1]), 200.0 * (f[..., 1] - f[..., 2])], -1) / (
        AB_SCALE
    )


def opponents(r, g, b):  # numpy arrays or torch tensors alike
    """Hasler and Suesstrunk's opponent channels of RGB in 0..255: red-green, yellow-blue."""
    return r - g, 0.5 * (r + g) - b


def colourfulness(rg_mean, rg_var, yb_mean, yb_var, eps: float = 0.0):
    """Hasler and Suesstrunk (2003), sigma_rgyb + 0.3 mu_rgyb, from the opponent channels'
    means and variances (numpy or torch; `eps` keeps the square roots differentiable)."""
    return (rg_var + yb_var + eps) ** 0.5 + 0.3 * (rg_mean**2 + yb_mean**2 + eps) ** 0.5
