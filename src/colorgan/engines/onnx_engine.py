"""The onnx engine: a model's ONNX graph (priors and generator, `colorgan export --onnx`) on
ONNX Runtime, with numpy and no torch, so `pip install colorgan` alone colorizes photos.
Runtime's threads sleep rather than spin when idle, so a busy machine does not slow it
tenfold.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import numpy as np

from colorgan.bundled import bundled_weights
from colorgan.engines import model_saturation
from colorgan.errors import ColorganError

MAX_SIZE = 2048  # the largest square a model may predict on


def checked_meta(meta: dict) -> tuple[int, int | None, float, dict]:
    """An ONNX model's colorgan metadata -> (size, prior size, ab scale, generator metadata);
    ValueError or TypeError where a value is not what an export writes."""
    size, prior = meta["size"], meta["prior_size"]
    for name, value in (("size", size), ("prior_size", prior)):
        if value is None and name == "prior_size":
            continue
        if isinstance(value, bool) or not isinstance(value, int) or not 8 <= value <= MAX_SIZE:
            raise ValueError(f"{name} {value!r} is not a whole number of pixels, 8 to {MAX_SIZE}")
    scale = float(meta["ab_scale"])
    generator = meta.get("generator", {})
    if not np.isfinite(scale) or scale <= 0 or not isinstance(generator, dict):
        raise ValueError("ab_scale or generator metadata")
    return size, prior, scale, generator


class OnnxEngine:
    """A model's ONNX graph on ONNX Runtime (engines.Engine); no torch."""

    composition = "ycbcr"  # photos: the fast path, within an 8-bit level of the exact one

    def __init__(
        self, weights: str | Path | None = None, model: str = "default", threads: int | None = None
    ) -> None:
        """`weights`: an ONNX file `colorgan export --onnx` wrote; without one, the bundled
        `model`. `threads`: Runtime's threads (default: one per core)."""
        import onnxruntime as ort

        path = Path(weights) if weights else bundled_weights(model, "onnx")
        if not path.is_file():
            raise ColorganError(f"model file not found: {path}")
        options = ort.SessionOptions()
        options.intra_op_num_threads = threads or os.cpu_count() or 1
        options.inter_op_num_threads = 1
        options.add_session_config_entry("session.intra_op.allow_spinning", "0")
        options.add_session_config_entry("session.inter_op.allow_spinning", "0")
        options.log_severity_level = 3  # errors only: its warnings are not the user's
        try:
            # onnxruntime-gpu's CUDA provider where it is installed; the CPU's otherwise
            wanted = ["CUDAExecutionProvider", "CPUExecutionProvider"]
            providers = [p for p in wanted if p in ort.get_available_providers()]
            self.session = ort.InferenceSession(str(path), options, providers)
            meta = json.loads(self.session.get_modelmeta().custom_metadata_map["colorgan"])
            self.size, self.prior_size, self.ab_scale, self.meta = checked_meta(meta)
            self.hints = meta.get("hints", False) is True
        except (KeyError, TypeError, ValueError, AttributeError) as exc:
            raise ColorganError(f"{path}: not an ONNX model colorgan exported ({exc})") from None
        except Exception as exc:  # Runtime's own errors: a file it cannot read as a model
            reason = str(exc).splitlines()[0][:150] if str(exc) else exc.__class__.__name__
            raise ColorganError(f"{path}: not a readable ONNX model ({reason})") from None
        model_saturation(self.meta)  # a damaged value is refused when the file is opened
        self._probe(path)

    def _probe(self, path: Path) -> None:
        """Run the model once on a grey square: a graph whose inputs or output are not what
        colorgan exports, or whose colour is not finite (NaN weights), is refused here, before
        any photo, with one line."""
        names = {i.name for i in self.session.get_inputs()}
        wanted = {"l", *["l_prior"] * (self.prior_size is not None), *["hints"] * self.hints}
        if names != wanted or "ab" not in {o.name for o in self.session.get_outputs()}:
            raise ColorganError(
                f"{path}: not an ONNX model colorgan exported (its inputs are "
                f"{sorted(names)}, not {sorted(wanted)}, or it has no output ab)"
            )
        try:
            square = np.zeros((1, 1, self.size, self.size), np.float32)
            prior = None if self.prior_size is None else np.zeros(
                (1, 1, self.prior_size, self.prior_size), np.float32)  # fmt: skip
            ab = self.predict(square, prior)
        except Exception as exc:  # noqa: BLE001 - the runtime's errors on a malformed graph
            reason = str(exc).splitlines()[0][:150] if str(exc) else exc.__class__.__name__
            raise ColorganError(f"{path}: the model does not run ({reason})") from None
        if ab.shape != (1, 2, self.size, self.size):
            raise ColorganError(f"{path}: the model gives ab of shape {ab.shape[1:]}, not "
                                f"(2, {self.size}, {self.size})")  # fmt: skip
        if not np.isfinite(ab).all():
            raise ColorganError(f"{path}: the model's colour is not finite (NaN or infinite "
                                "weights?); it cannot colorize")  # fmt: skip

    def predict(
        self, l_small: np.ndarray, l_prior: np.ndarray | None, hints: np.ndarray | None = None
    ) -> np.ndarray:
        """Normalized L (B, 1, S, S), at the priors' size where it has priors, and the hint
        maps where it takes hints (None: none) -> its normalized ab (B, 2, S, S): one run of
        the graph."""
        feeds = {"l": np.ascontiguousarray(l_small, np.float32)}
        if self.prior_size is not None:
            feeds["l_prior"] = np.ascontiguousarray(l_prior, np.float32)
        if self.hints:
            shape = (len(l_small), 3, self.size, self.size)
            feeds["hints"] = np.zeros(shape, np.float32) if hints is None else (
                np.ascontiguousarray(hints, np.float32))  # fmt: skip
        return self.session.run(["ab"], feeds)[0]
