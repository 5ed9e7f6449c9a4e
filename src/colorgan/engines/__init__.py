"""Engines: what runs a model. Each takes a photo's small L (and the same L at its priors'
size) and returns the model's small ab; `colorizer.Colorizer` does everything around that for
every front end, the same way for both. Two implementations: onnx_engine (ONNX Runtime, no
torch) and torch_engine (generator files, GPUs); choose.py picks one, export.py writes the
onnx engine's graph. Nothing here imports torch."""

from __future__ import annotations

from typing import Protocol

import numpy as np

from colorgan.errors import ColorganError

# The largest colour-intensity factor either engine takes: beyond it everything saturates.
MAX_SATURATION = 4.0


class Engine(Protocol):
    """A model that predicts colour at its own small size."""

    size: int  # the square side the model predicts on
    prior_size: int | None  # the square side its priors see; None: it has no priors
    ab_scale: float  # ab in CIE units = normalized ab * ab_scale
    meta: dict  # the generator file's metadata (its saturation among them)
    composition: str  # how photos are composed from its ab by default ("lab" or "ycbcr")
    hints: bool  # whether it takes colour hints (hints.py)

    def predict(
        self, l_small: np.ndarray, l_prior: np.ndarray | None, hints: np.ndarray | None = None
    ) -> np.ndarray:
        """Normalized L (B, 1, size, size) float32, and (B, 1, prior_size, prior_size) where
        it has priors, and where it takes hints their maps (B, 3, size, size; None: none) ->
        the model's own normalized ab (B, 2, size, size) float32."""
        ...


def model_saturation(meta: dict) -> float:
    """A generator file's default saturation (1 where it has none); ColorganError if damaged."""
    value = meta.get("saturation", 1.0)
    if (
        isinstance(value, bool)
        or not isinstance(value, int | float)
        or not (0 < value <= MAX_SATURATION)
    ):
        raise ColorganError(f"the model's stored saturation {value!r} is not in (0, "
                            f"{MAX_SATURATION}]")  # fmt: skip
    return float(value)


def check_saturation(value: float, what: str = "saturation") -> float:
    """`value` where it is a colour intensity both engines take; ColorganError otherwise."""
    if (
        isinstance(value, bool)
        or not isinstance(value, int | float)
        or not (0 <= value <= MAX_SATURATION)
    ):
        raise ColorganError(f"{what} must be in [0, {MAX_SATURATION:g}], not {value}")
    return float(value)
