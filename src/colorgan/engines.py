"""Which engine colorizes, shared by `colorgan colorize` and `colorgan serve`.

"onnx" (light.LightColorizer: ONNX Runtime, no torch) wherever it can do what was asked;
"torch" (pipeline.Colorizer) for a generator file, a GPU, another prediction size or prior
weight files. Nothing here imports torch unless the torch engine is chosen.
"""

from __future__ import annotations

import argparse

from colorgan.errors import ColorganError
from colorgan.jobs import BatchColorizer


def _option(args: argparse.Namespace, name: str, default=None):
    """Commands offer different subsets of the engine options (serve has no --size)."""
    return getattr(args, name, default)


def pick_engine(args: argparse.Namespace) -> str:
    """ "onnx" or "torch" for the options of a parsed command line (see the module's doc)."""
    weights, engine = _option(args, "weights"), _option(args, "engine", "auto")
    device, precision = _option(args, "device", "auto"), _option(args, "precision", "auto")
    onnx_file = bool(weights) and weights.lower().endswith(".onnx")
    torch_only = {
        "a generator file": bool(weights) and not onnx_file,
        "--size": _option(args, "size") is not None,
        "--embedding-weights": bool(_option(args, "embedding_weights")),
        "--segmentation-weights": bool(_option(args, "segmentation_weights")),
        f"--device {device}": device not in ("auto", "cpu"),
        f"--precision {precision}": precision not in ("auto", "fp32"),
    }
    needs = [what for what, asked in torch_only.items() if asked]
    if engine == "onnx" and needs:
        raise ColorganError(f"{needs[0]} needs --engine torch")
    if engine == "torch" and onnx_file:
        raise ColorganError(f"{weights} is an ONNX model: it runs with --engine onnx")
    if engine != "auto":
        return engine
    if onnx_file:
        return "onnx"
    if needs:
        return "torch"
    try:
        import onnxruntime  # noqa: F401
    except ImportError:
        return "torch"
    return "onnx"


def open_colorizer(
    args: argparse.Namespace, model: str | None = None, weights: str | None = None
) -> BatchColorizer:
    """The colorizer a command line asks for; `model` / `weights` in place of its own."""
    if model is not None or weights is not None:
        args = argparse.Namespace(**{**vars(args), "model": model, "weights": weights})
    saturation = _option(args, "saturation", 1.0)
    if pick_engine(args) == "onnx":
        from colorgan.light import LightColorizer

        return LightColorizer(args.weights, model=args.model or "default", saturation=saturation)
    from colorgan.pipeline import Colorizer

    return Colorizer(
        args.weights,
        model=args.model or "default",
        device=_option(args, "device", "auto"),
        precision=_option(args, "precision", "auto"),
        embedding_weights=_option(args, "embedding_weights"),
        segmentation_weights=_option(args, "segmentation_weights"),
        size=_option(args, "size"),
        saturation=saturation,
    )
