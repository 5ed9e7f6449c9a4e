"""Which engine runs a model, shared by `colorgan colorize`, `colorgan serve` and
`Colorizer.open`.

"onnx" (ONNX Runtime, no torch; photos composed in YCbCr) wherever it can do what was asked;
"torch" (exact CIE Lab) for a generator file, a GPU, another prediction size or prior weight
files. Nothing here imports torch unless the torch engine is chosen.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass, fields, replace

from colorgan.base.errors import SettingError
from colorgan.engines import Engine


@dataclass(frozen=True)
class EngineOptions:
    """What a user may ask of an engine (the CLI's options of the same names)."""

    model: str | None = None  # a bundled model; None: "default"
    weights: str | None = None  # a generator file or ONNX model, in place of `model`
    engine: str = "auto"  # "auto", "onnx" or "torch"
    device: str = "auto"
    precision: str = "auto"
    size: int | None = None  # the square the torch engine predicts on
    embedding_weights: str | None = None
    segmentation_weights: str | None = None
    # ONNX Runtime's threads (None: one per core); a cluster's worker takes its CPUs' share
    threads: int | None = None

    @classmethod
    def of(cls, values: object) -> EngineOptions:
        """The options an object (a parsed command line) has; the defaults for the rest."""
        return cls(**{f.name: getattr(values, f.name, f.default) for f in fields(cls)})

    def with_model(self, model: str | None, weights: str | None) -> EngineOptions:
        return replace(self, model=model, weights=weights)


def pick_engine(options: EngineOptions) -> str:
    """ "onnx" or "torch" for these options (see the module's doc)."""
    o = options
    onnx_file = bool(o.weights) and o.weights.lower().endswith(".onnx")
    torch_only = {  # option: (what it asks, whether it was asked)
        "weights": ("a generator file", bool(o.weights) and not onnx_file),
        "size": (f"a prediction size of {o.size}", o.size is not None),
        "embedding_weights": ("a prior weight file", bool(o.embedding_weights)),
        "segmentation_weights": ("a prior weight file", bool(o.segmentation_weights)),
        "device": (f"device {o.device}", o.device not in ("auto", "cpu")),
        "precision": (f"precision {o.precision}", o.precision not in ("auto", "fp32")),
    }
    needs = [(name, what) for name, (what, asked) in torch_only.items() if asked]
    if o.engine == "onnx" and needs:
        raise SettingError(needs[0][0], f"{needs[0][1]} needs the torch engine, not onnx")
    if o.engine == "torch" and onnx_file:
        raise SettingError("weights", f"{o.weights} is an ONNX model: it runs on the onnx engine")
    if o.engine != "auto":
        return o.engine
    if onnx_file:
        return "onnx"
    if needs:
        return "torch"
    try:
        importlib.import_module("onnxruntime")  # installed and importable
    except ImportError:
        return "torch"
    return "onnx"


def open_engine(options: EngineOptions) -> Engine:
    """The engine these options ask for."""
    model = options.model or "default"
    if pick_engine(options) == "onnx":
        from colorgan.engines.onnx_engine import OnnxEngine

        return OnnxEngine(options.weights, model=model, threads=options.threads)
    from colorgan.engines.torch_engine import TorchEngine

    return TorchEngine(
        options.weights,
        model=model,
        device=options.device,
        precision=options.precision,
        embedding_weights=options.embedding_weights,
        segmentation_weights=options.segmentation_weights,
        size=options.size,
    )
