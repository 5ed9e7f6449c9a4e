"""How far a colour hint reaches: over its object, not across the photo.

A hint-taking model spreads a point's colour well beyond the object under it (one red point
on a boat's cover turned the pier and the water salmon). So the model's change for the hints is
kept only where the photo's lightness connects a place to a hint: the geodesic distance from
the hints, where each step costs 1 plus STEEPNESS times the change of (slightly blurred)
lightness beyond NOISE, becomes a weight exp(-distance / (SPREAD * side)). Within an object
the weight stays near 1 (far corners of a sky included); across an edge of lightness it falls
to near 0. The same weight keeps a reference's colour from overriding the user's points.
numpy; about 10 ms at a model's 192 px.
"""

from __future__ import annotations

import numpy as np

STEEPNESS = 1000.0  # the cost of one step per unit of normalized L (of 2) beyond NOISE
NOISE = 0.02  # changes of normalized L below this (1 L unit: grain, texture) cost nothing more
SPREAD = 1.0  # the weight's fall-off, as a fraction of the model's side
PASSES = 3  # sweeps of the four raster directions (enough for the paths photos have)


def reach(l_norm: np.ndarray, seeds: np.ndarray) -> np.ndarray:
    """Normalized L (S, S) and where hints are (S, S bool) -> each place's weight in [0, 1]:
    1 at a hint, near 1 where lightness connects it, near 0 across edges."""
    size = l_norm.shape[-1]
    if not seeds.any():
        return np.zeros_like(l_norm, dtype=np.float32)
    smooth = _blur(l_norm.astype(np.float32))
    down = 1.0 + STEEPNESS * np.maximum(np.abs(np.diff(smooth, axis=0)) - NOISE, 0.0)
    across = 1.0 + STEEPNESS * np.maximum(np.abs(np.diff(smooth, axis=1)) - NOISE, 0.0)
    distance = np.where(seeds, 0.0, np.inf).astype(np.float32)
    for _ in range(PASSES):
        _sweep(distance, down)
        _sweep(distance.T, across.T)
    return np.exp(-distance / (SPREAD * size)).astype(np.float32)


def _sweep(distance: np.ndarray, steps: np.ndarray) -> None:
    """Relax `distance` (rows, columns) in place along its rows, top to bottom and back;
    `steps[i]` is the cost between rows i and i + 1."""
    for i in range(1, len(distance)):
        np.minimum(distance[i], distance[i - 1] + steps[i - 1], out=distance[i])
    for i in range(len(distance) - 2, -1, -1):
        np.minimum(distance[i], distance[i + 1] + steps[i], out=distance[i])


def _blur(plane: np.ndarray) -> np.ndarray:
    """A 1-2-1 blur each way: texture's one-pixel changes are not edges."""
    padded = np.pad(plane, 1, mode="edge")
    rows = (padded[:-2] + 2 * padded[1:-1] + padded[2:]) / 4
    return (rows[:, :-2] + 2 * rows[:, 1:-1] + rows[:, 2:]) / 4
