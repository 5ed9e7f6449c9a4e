"""The onnx engine: a model's ONNX graph (priors and generator, `colorgan export --onnx`) on
ONNX Runtime, with numpy and no torch, so the light install (`pip install .`) alone
colorizes photos. Runtime's threads sleep rather than spin when idle, so a busy machine does
not slow it tenfold.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
from PIL import Image

from colorgan.base.errors import ColorganError, shown
from colorgan.engines.sessions import open_session, session_options
from colorgan.spec.bundled import bundled_weights, damage_network_file, reference_encoder_file
from colorgan.spec.hints import CHANNELS
from colorgan.spec.meta import ModelSpec, check_size

MAX_META_CHARS = 1 << 20  # what an export writes is a few kB


def checked_meta(meta: dict) -> tuple[int, int | None, float, dict]:
    """An ONNX model's colorgan metadata -> (size, prior size, ab scale, generator metadata);
    ColorganError, TypeError or ValueError where a value is not what an export writes."""
    size, prior = check_size(meta["size"], "size"), meta["prior_size"]
    if prior is not None:
        prior = check_size(prior, "prior_size")
    scale = float(meta["ab_scale"])
    generator = meta.get("generator", {})
    if not np.isfinite(scale) or scale <= 0 or not isinstance(generator, dict):
        raise ValueError("ab_scale or generator metadata")
    return size, prior, scale, generator


class OnnxEngine:
    """A model's ONNX graph on ONNX Runtime (engines.Engine); no torch."""

    def __init__(
        self, weights: str | Path | None = None, model: str = "default", threads: int | None = None
    ) -> None:
        """`weights`: an ONNX file `colorgan export --onnx` wrote; without one, the bundled
        `model`. `threads`: Runtime's threads (default: one per core)."""
        import onnxruntime as ort

        path = Path(weights) if weights else bundled_weights(model, "onnx")
        if path.is_dir():
            raise ColorganError(f"{shown(str(path))} is a folder, not a model file")
        if not path.is_file():
            raise ColorganError(f"model file not found: {shown(str(path))}")
        options = session_options(threads)
        try:
            # onnxruntime-gpu's CUDA provider where it is installed; the CPU's otherwise
            wanted = ["CUDAExecutionProvider", "CPUExecutionProvider"]
            providers = [p for p in wanted if p in ort.get_available_providers()]
            self.session = open_session(path, threads, providers)
            self._options, self._providers = options, providers
            self._reference = self._damage = None
            text = self.session.get_modelmeta().custom_metadata_map["colorgan"]
            if len(text) > MAX_META_CHARS:
                raise ValueError(f"metadata over {MAX_META_CHARS:,} characters")
            meta = json.loads(text)
            size, prior_size, ab_scale, generator = checked_meta(meta)
        except (KeyError, TypeError, ValueError, AttributeError) as exc:  # ColorganError too
            raise ColorganError(f"{path}: not an ONNX model colorgan exported ({exc})") from None
        except Exception as exc:  # Runtime's own errors: a file it cannot read as a model
            reason = str(exc).splitlines()[0][:150] if str(exc) else exc.__class__.__name__
            raise ColorganError(f"{path}: not a readable ONNX model ({reason})") from None
        # photos: the fast path, within an 8-bit level of the exact one
        self.spec = ModelSpec.of(
            generator,
            size,
            prior_size,
            ab_scale,
            meta.get("hints", False) is True,
            composition="ycbcr",
        )
        self._probe(path, run=weights is not None)

    def _probe(self, path: Path, run: bool) -> None:
        """A graph whose inputs or output are not what colorgan exports is refused here,
        before any photo, with one line; and, `run` (a file of the user's, not a bundled
        model, which the tests run), one whose colour on a grey square is not finite (NaN
        weights) or not of its size."""
        names = {i.name for i in self.session.get_inputs()}
        spec = self.spec
        wanted = {"l", *["l_prior"] * (spec.prior_size is not None), *["hints"] * spec.hints}
        if names != wanted or "ab" not in {o.name for o in self.session.get_outputs()}:
            raise ColorganError(
                f"{path}: not an ONNX model colorgan exported (its inputs are "
                f"{sorted(names)}, not {sorted(wanted)}, or it has no output ab)"
            )
        if not run:
            return
        try:
            square = np.zeros((1, 1, spec.size, spec.size), np.float32)
            prior = None
            if spec.prior_size is not None:
                prior = np.zeros((1, 1, spec.prior_size, spec.prior_size), np.float32)
            ab = self.predict(square, prior)
        except Exception as exc:  # the runtime's errors on a malformed graph
            reason = str(exc).splitlines()[0][:150] if str(exc) else exc.__class__.__name__
            raise ColorganError(f"{path}: the model does not run ({reason})") from None
        if ab.shape != (1, 2, spec.size, spec.size):
            raise ColorganError(
                f"{path}: the model gives ab of shape {ab.shape[1:]}, not "
                f"(2, {spec.size}, {spec.size})"
            )
        if not np.isfinite(ab).all():
            raise ColorganError(
                f"{path}: the model's colour is not finite (NaN or infinite "
                "weights?); it cannot colorize"
            )

    def predict(
        self, l_small: np.ndarray, l_prior: np.ndarray | None, hints: np.ndarray | None = None
    ) -> np.ndarray:
        """Normalized L (B, 1, S, S), at the priors' size where it has priors, and the hint
        maps where it takes hints (None: none) -> its normalized ab (B, 2, S, S): one run of
        the graph."""
        spec = self.spec
        feeds = {"l": np.ascontiguousarray(l_small, np.float32)}
        if spec.prior_size is not None:
            feeds["l_prior"] = np.ascontiguousarray(l_prior, np.float32)
        if spec.hints:
            if hints is None:
                hints = np.zeros((len(l_small), CHANNELS, spec.size, spec.size), np.float32)
            feeds["hints"] = np.ascontiguousarray(hints, np.float32)
        return self.session.run(["ab"], feeds)[0]

    def features(self, l_norm: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """engines.Engine: the bundled reference encoder's graph (loaded when first asked for)."""
        if self._reference is None:
            import onnxruntime as ort

            path = reference_encoder_file()
            self._reference = ort.InferenceSession(str(path), self._options, self._providers)
        feeds = {"l": np.ascontiguousarray(l_norm, np.float32)}
        local, descriptor = self._reference.run(["features", "descriptor"], feeds)
        return local, descriptor

    def damage(self, grey: np.ndarray) -> np.ndarray:
        """engines.Engine: the bundled restorer's network (loaded when first asked for)."""
        if self._damage is None:
            import onnxruntime as ort

            path = damage_network_file("onnx")
            self._damage = ort.InferenceSession(str(path), self._options, self._providers)
        return self._damage.run(["out"], {"grey": np.ascontiguousarray(grey, np.float32)})[0]

    def predict_full(self, l_norm: np.ndarray) -> np.ndarray:
        """engines.Engine: normalized L (B, 1, H, W) -> its ab upsampled bilinearly to (B, 2,
        H, W); L is resized to the model's squares with Pillow's antialiased bilinear filter
        (the torch engine's is torch's: the two differ by rounding)."""
        spec = self.spec
        height, width = l_norm.shape[-2:]

        def resized(planes: np.ndarray, w: int, h: int) -> np.ndarray:
            return np.stack(
                [
                    np.asarray(
                        Image.fromarray(plane, "F").resize((w, h), Image.Resampling.BILINEAR)
                    )
                    for plane in planes
                ]
            )

        l_small = np.stack([resized(x, spec.size, spec.size) for x in l_norm.astype(np.float32)])
        l_prior = None
        if spec.prior_size is not None:
            side = spec.prior_size
            l_prior = np.stack([resized(x, side, side) for x in l_norm.astype(np.float32)])
        ab = self.predict(l_small, l_prior)
        return np.stack([resized(x, width, height) for x in ab]).astype(np.float32)
