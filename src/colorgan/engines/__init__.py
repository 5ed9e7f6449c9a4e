"""Engines: what runs a model. Each takes a photo's small L (and the same L at its priors'
size) and returns the model's small ab; pipeline.Colorizer does everything around that for
every front end, the same way for both. Two implementations: onnx_engine (ONNX Runtime, no
torch) and torch_engine (generator files, GPUs; its device and precision from
models.runtime); choose.py picks one, export.py writes the onnx engine's graph. Outside this
folder an engine is used only through the `Engine` protocol below (`spec`, `predict`,
`predict_full`, `features`, `damage`). Only torch_engine and export import torch at module
level, and nothing imports them until the torch engine or an export is asked for."""

from __future__ import annotations

from typing import Protocol

import numpy as np

from colorgan.spec.meta import ModelSpec


class Engine(Protocol):
    """A model that predicts colour at its own small size."""

    spec: ModelSpec  # its sizes, ab scale, hints, stored saturation and composition

    def predict(
        self, l_small: np.ndarray, l_prior: np.ndarray | None, hints: np.ndarray | None = None
    ) -> np.ndarray:
        """Normalized L (B, 1, size, size) float32, and (B, 1, prior_size, prior_size) where
        it has priors, and where it takes hints their maps (B, CHANNELS, size, size; None:
        none) -> the model's own normalized ab (B, 2, size, size) float32."""
        ...

    def predict_full(self, l_norm: np.ndarray) -> np.ndarray:
        """Normalized L (B, 1, H, W) at any size -> the model's normalized ab upsampled
        bilinearly to (B, 2, H, W): what evaluation scores."""
        ...

    def damage(self, grey: np.ndarray) -> np.ndarray:
        """Grey tiles (B, 1, H, W) in [0, 1], H and W multiples of 16 -> (B, 2, H, W): the
        restorer's network (models.damage, bundled, for any model): the logit of damage at
        each place, and the grey without the damage."""
        ...

    def features(self, l_norm: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Normalized L (B, 1, SIZE, SIZE) (spec.references) -> the reference encoder's local
        features (B, C, GRID, GRID) and whole-photo descriptors (B, D), both unit norm."""
        ...
