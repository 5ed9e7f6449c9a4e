"""The light engine: a model's ONNX graph (priors and generator, `colorgan export --onnx`) on
ONNX Runtime, with numpy and Pillow around it and no torch, so `pip install colorgan` alone
colorizes photos.

The model sees the photo's CIE lightness at its own small size, as in the torch engine. The
output is composed where Pillow works in C rather than through CIE Lab at every pixel: the
model's colour is converted exactly (Lab to sRGB) at the small size, its chroma (the Cb and Cr
of YCbCr) upsampled bilinearly to the photo's size and joined to the photo's own grey levels
(for a colour photo, the grey of its CIE lightness). Against the torch engine's Lab path this
changes the output by less than one 8-bit level on average (PSNR in BENCHMARKS.md). Runtime's
threads sleep rather than spin when idle, so a busy machine does not slow it tenfold.
"""

from __future__ import annotations

import json
import os
from collections.abc import Sequence
from pathlib import Path

import numpy as np
from PIL import Image

from colorgan import srgb
from colorgan.bundled import bundled_weights
from colorgan.errors import ColorganError
from colorgan.images import BadImage, prepare_images
from colorgan.jobs import BatchColorizer, model_saturation

_STEPS = 1 << 16

_LINEAR = srgb.to_linear(np.arange(256) / 255.0)
# grey level v (RGB v, v, v) -> normalized L
L_OF_GREY = ((116.0 * srgb.lab_f(_LINEAR) - 16.0) / 50.0 - 1.0).astype(np.float32)
# uint8 level of each channel -> its share of Y in 2**16 steps; Y in steps -> the grey level
# with that luminance, i.e. with that CIE lightness
_Y_SHARE = [np.round(_LINEAR * w * _STEPS).astype(np.int32) for w in srgb.Y_WEIGHTS]
_GREY_OF_Y = np.round(srgb.to_srgb(np.arange(_STEPS + 3) / _STEPS).clip(0, 1) * 255).astype(
    np.uint8
)


# for `compose_lab`: grey level -> Lab's f(Y) and Y (a grey's Y is its linear level); linear
# light in _STEPS_RGB steps -> sRGB
_FY_OF_GREY = srgb.lab_f(_LINEAR).astype(np.float32)
_Y_OF_GREY = _LINEAR.astype(np.float32)
_STEPS_RGB = 1 << 14
_SRGB_OF_LINEAR = np.round(srgb.to_srgb(np.arange(_STEPS_RGB + 1) / _STEPS_RGB) * 255).astype(
    np.uint8
)


def lightness_grey(rgb: Image.Image) -> Image.Image:
    """An RGB photo -> the "L" image of grey levels with each pixel's CIE lightness (what the
    model sees, and what the output keeps)."""
    a = np.asarray(rgb)
    y = _Y_SHARE[0][a[..., 0]]
    y += _Y_SHARE[1][a[..., 1]]
    y += _Y_SHARE[2][a[..., 2]]
    return Image.fromarray(_GREY_OF_Y[y])


def small_lightness(grey: Image.Image, size: int) -> np.ndarray:
    """Grey levels -> normalized L (size, size): resized in C (bilinear, antialiased), then
    looked up (L of the mean grey rather than the mean of L: within 0.1 of 100 but at edges)."""
    small = grey.resize((size, size), Image.Resampling.BILINEAR)
    return L_OF_GREY[np.asarray(small)]


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


def small_inputs(
    greys: Sequence[Image.Image], size: int, prior_size: int | None
) -> tuple[np.ndarray, np.ndarray | None]:
    """Grey images ("L") of any sizes -> the model's inputs: normalized L (B, S, S) at its
    size, and at the priors' size where it has priors (None where it has none)."""
    l_small = np.stack([small_lightness(grey, size) for grey in greys])
    if prior_size is None:
        return l_small, None
    if prior_size == size:
        return l_small, l_small
    return l_small, np.stack([small_lightness(grey, prior_size) for grey in greys])


def lab_to_srgb(l_norm: np.ndarray, ab_norm: np.ndarray, ab_scale: float) -> np.ndarray:
    """Normalized L (h, w) and ab (2, h, w) -> uint8 sRGB (h, w, 3), clipped (small images)."""
    fy = ((l_norm.astype(np.float64) + 1.0) * 50.0 + 16.0) / 116.0
    ab = np.clip(ab_norm, -1, 1) * ab_scale
    f = np.stack([fy + ab[0] / 500.0, fy, np.maximum(fy - ab[1] / 200.0, 0.0)], -1)
    xyz = srgb.lab_f_inverse(f) * srgb.WHITE
    linear = xyz @ srgb.XYZ_TO_RGB.T
    return np.round(srgb.to_srgb(linear).clip(0, 1) * 255).astype(np.uint8)


def compose_lab(grey: Image.Image, ab: np.ndarray, ab_scale: float) -> Image.Image:
    """The photo's grey ("L", any size) with a model's normalized ab (2, S, S) upsampled
    onto it, converted from CIE Lab at every pixel (float32, lookup tables for the transfer
    curves): what the torch engine computes, 3-4x slower than `LightColorizer.compose`.
    Video uses it: a fixed colour over moving texture keeps its CIE ab here, where YCbCr's
    does not."""
    w, h = grey.size
    ab = np.clip(ab, -1, 1).astype(np.float32) * np.float32(ab_scale)
    # a / 500 and -b / 200: what Lab adds to f(Y) for f(X) and f(Z), upsampled in C
    a, b = (np.asarray(Image.fromarray(c).resize((w, h), Image.Resampling.BILINEAR))
            for c in (ab[0] / 500, ab[1] / -200))  # fmt: skip
    levels = np.asarray(grey)
    fy = _FY_OF_GREY[levels]
    x = srgb.lab_f_inverse(a + fy)
    x *= np.float32(srgb.WHITE[0])
    z = srgb.lab_f_inverse(np.maximum(b + fy, 0))
    z *= np.float32(srgb.WHITE[2])
    y = _Y_OF_GREY[levels]
    out = np.empty((h, w, 3), np.uint8)
    for c, row in enumerate((srgb.XYZ_TO_RGB * _STEPS_RGB).astype(np.float32)):
        steps = row[0] * x
        steps += row[1] * y
        steps += row[2] * z
        steps += 0.5
        np.clip(steps, 0, _STEPS_RGB, out=steps)
        out[..., c] = _SRGB_OF_LINEAR[steps.astype(np.intp)]
    return Image.fromarray(out)


class LightColorizer(BatchColorizer):
    """Colorize PIL images, arrays or files with a model's ONNX graph; no torch.

    >>> LightColorizer().colorize(Image.open("old.jpg")).save("old_colour.jpg")
    """

    file_options = {"keep_ycbcr": True}  # JPEGs are written straight from YCbCr

    def __init__(
        self,
        weights: str | Path | None = None,
        model: str = "default",
        threads: int | None = None,
        saturation: float = 1.0,
    ) -> None:
        """`weights`: an ONNX file `colorgan export --onnx` wrote; without one, the bundled
        `model`. `threads`: Runtime's threads (default: one per core). `saturation`: the
        predicted chroma scaled by this (1: the model's own; 0: grey)."""
        import onnxruntime as ort

        self.saturation = saturation  # checked by BatchColorizer
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
        wanted = {"l"} if self.prior_size is None else {"l", "l_prior"}
        if names != wanted or "ab" not in {o.name for o in self.session.get_outputs()}:
            raise ColorganError(
                f"{path}: not an ONNX model colorgan exported (its inputs are "
                f"{sorted(names)}, not {sorted(wanted)}, or it has no output ab)"
            )
        try:
            ab = self.predict_small_ab([Image.new("L", (self.size, self.size), 128)])[1]
        except Exception as exc:  # noqa: BLE001 - the runtime's errors on a malformed graph
            reason = str(exc).splitlines()[0][:150] if str(exc) else exc.__class__.__name__
            raise ColorganError(f"{path}: the model does not run ({reason})") from None
        if ab.shape != (1, 2, self.size, self.size):
            raise ColorganError(f"{path}: the model gives ab of shape {ab.shape[1:]}, not "
                                f"(2, {self.size}, {self.size})")  # fmt: skip
        if not np.isfinite(ab).all():
            raise ColorganError(f"{path}: the model's colour is not finite (NaN or infinite "
                                "weights?); it cannot colorize")  # fmt: skip

    def predict_small_ab(self, greys: Sequence[Image.Image]) -> tuple[np.ndarray, np.ndarray]:
        """Grey images ("L") of any sizes -> normalized L (B, S, S) and ab (B, 2, S, S) at the
        model's size S, one run of the model; ab times `chroma` (the user's and the model's)."""
        l_small, prior = small_inputs(greys, self.size, self.prior_size)
        feeds = {"l": l_small[:, None]}
        if prior is not None:
            feeds["l_prior"] = prior[:, None]
        return l_small, self.session.run(["ab"], feeds)[0] * self.chroma

    def compose(self, grey: Image.Image, l_small: np.ndarray, ab: np.ndarray) -> Image.Image:
        """The photo's grey ("L", any size) with the model's colour at its own size (normalized
        L (S, S), ab (2, S, S)) -> the YCbCr output: the colour converted exactly at the small
        size, its chroma upsampled in C, the grey as luma."""
        small = Image.fromarray(lab_to_srgb(l_small, ab, self.ab_scale)).convert("YCbCr")
        chroma = [c.resize(grey.size, Image.Resampling.BILINEAR) for c in small.split()[1:]]
        return Image.merge("YCbCr", (grey, *chroma))

    def colorize_batch(
        self, images: Sequence[Image.Image | np.ndarray], keep_ycbcr: bool = False
    ) -> list[Image.Image | BadImage]:
        """Several photos through the model in one run (any sizes): a colorized RGB image for
        each (or with `keep_ycbcr` the YCbCr image it is converted from, which JPEG stores
        directly), or the BadImage that says why not."""
        results, good = prepare_images(images)
        prepared = [(i, pixels if pixels.mode == "L" else lightness_grey(pixels), alpha)
                    for i, pixels, alpha in good]  # fmt: skip
        if not prepared:
            return results
        l_small, ab = self.predict_small_ab([grey for _, grey, _ in prepared])
        for k, (i, grey, alpha) in enumerate(prepared):
            result = self.compose(grey, l_small[k], ab[k])
            if alpha is not None or not keep_ycbcr:
                result = result.convert("RGB")
            if alpha is not None:
                result.putalpha(alpha)
            results[i] = result
        return results
