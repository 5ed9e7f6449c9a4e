"""How far a bank's references deserve trust, learnt from what the bank really returns for
training photos (trust_evidence collects it; fit_trust runs both). Study 27's
(docs/results/learned-trust.md): the gate it fits is what pipeline.reference applies.

The gate (pipeline.reference.gate_inputs: a logistic of a place's best similarity to the
reference, the reference's closeness to the whole photo, and their product) is fitted so that
the model's colour with the reference's blended in by it comes nearest the photo's true colour
(squared error in CIE ab, L-BFGS), on the photos of the fit; HELD_OUT of them are kept out to
report it, kind by kind.
"""

from __future__ import annotations

import numpy as np
import torch

from colorgan.base.errors import ColorganError
from colorgan.colour import srgb
from scripts.research.trust_evidence import KINDS

HELD_OUT = 0.2  # of the photos, kept out of the fit to report it


def fit_and_report(evidence: dict[str, np.ndarray], low: float, high: float, seed: int = 0) -> dict:
    """Fit on all but HELD_OUT of the photos of `evidence` and report on those, against the
    ramp from `low` to `high`: {photos, held_out, weights, held_out_error}."""
    photos = len(evidence["kind"]) // len(KINDS)
    held = np.random.default_rng(seed).permutation(photos) < max(1, round(photos * HELD_OUT))
    if held.all():
        raise ColorganError(f"{photos} readable photo(s) are too few to fit and report a trust")
    rows = np.repeat(held, len(KINDS))
    weights = fit({k: v[~rows] for k, v in evidence.items()})
    return {
        "photos": photos,
        "held_out": int(held.sum()),
        "weights": [float(w) for w in weights],
        "held_out_error": report({k: v[rows] for k, v in evidence.items()}, weights, low, high),
    }


def fit(evidence: dict[str, np.ndarray], steps: int = 400) -> np.ndarray:
    """The gate's weights that bring the blend nearest the true colour over `evidence`."""
    x, ref, model, true = (
        torch.from_numpy(evidence[k]).double() for k in ("inputs", "ref", "model", "true")
    )
    weights = torch.zeros(x.shape[-1], dtype=torch.float64, requires_grad=True)
    optimizer = torch.optim.LBFGS([weights], max_iter=steps, line_search_fn="strong_wolfe")

    def loss() -> torch.Tensor:
        optimizer.zero_grad()
        value = blend_error(x, ref, model, true, weights)
        value.backward()
        return value

    optimizer.step(loss)
    return weights.detach().numpy()


def blend_error(
    x: torch.Tensor,
    ref: torch.Tensor,
    model: torch.Tensor,
    true: torch.Tensor,
    weights: torch.Tensor,
) -> torch.Tensor:
    """The mean squared error (normalized CIE ab, per place) of the model's colour with the
    reference's blended in by the gate `weights`."""
    confidence = torch.sigmoid(x @ weights)[..., None]
    blended = confidence * ref + (1 - confidence) * model
    return ((blended - true) ** 2).sum(-1).mean()


def report(evidence: dict[str, np.ndarray], weights: np.ndarray, low: float, high: float) -> dict:
    """On `evidence`, per kind: the error (CIE ab, root mean square) of the model alone, of
    the ramp and of the learned gate, and the gate's mean confidence."""
    out = {}
    for k, kind in enumerate(KINDS):
        mask = evidence["kind"][:, 0] == k
        ref, model, true = (evidence[n][mask].astype(np.float64) for n in ("ref", "model", "true"))
        s, closeness = evidence["inputs"][mask][..., 1], evidence["inputs"][mask][..., 2]
        ramp = np.clip((s - low) / (high - low), 0, 1)[..., None]
        gate = 1 / (1 + np.exp(-(evidence["inputs"][mask] @ weights)))[..., None]
        out[kind] = {
            "model": _rms(model, true),
            "ramp": _rms(ramp * ref + (1 - ramp) * model, true),
            "learned": _rms(gate * ref + (1 - gate) * model, true),
            "confidence": float(gate.mean()),
            "closeness": float(closeness.mean()),
        }
    return out


def _rms(ab: np.ndarray, true: np.ndarray) -> float:
    """The root mean square distance (CIE ab units) of normalized ab to the true."""
    return float(np.sqrt(((ab - true) ** 2).sum(-1).mean()) * srgb.AB_SCALE)
