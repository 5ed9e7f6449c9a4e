"""The models that ship inside the package (colorgan/weights/), by name; docs/models/ has a
card for each. Each ships twice: as a safetensors generator file (for training on, and for
the torch engine) and as ONNX (priors and generator in one graph, for the onnx engine, which
needs no torch). Nothing here imports torch."""

from __future__ import annotations

from importlib import resources
from pathlib import Path

from colorgan.base.errors import ColorganError, short, shown

BUNDLED = ("default", "paper")  # "default" is the one used when none is asked for


def bundled_weights(name: str = "default", kind: str = "safetensors") -> Path:
    """The bundled model `name` as a generator file (kind "safetensors") or ONNX ("onnx")."""
    if name not in BUNDLED:
        raise ColorganError(f"no bundled model {short(name)}; bundled: {', '.join(BUNDLED)}")
    return Path(str(resources.files("colorgan") / "weights" / f"{name}.{kind}"))


def reference_encoder_file() -> Path:
    """The reference encoder (priors.reference) as ONNX, for the light install."""
    return Path(str(resources.files("colorgan") / "weights" / "reference.onnx"))


def damage_network_file(kind: str = "onnx") -> Path:
    """The restorer's network (models.damage) as ONNX (the light install's) or safetensors
    (the torch engine's)."""
    return Path(str(resources.files("colorgan") / "weights" / f"damage.{kind}"))


def stored_generator(source: str) -> Path:
    """A generator file, or a bundled model's name -> its file; ColorganError otherwise (a
    folder is named as one)."""
    path = Path(source)
    if path.is_file():
        return path
    if source in BUNDLED:
        return bundled_weights(source)
    if path.is_dir():
        raise ColorganError(f"{shown(source)} is a folder, not a generator file")
    raise ColorganError(
        f"{shown(source)}: not a generator file or bundled model ({', '.join(BUNDLED)})"
    )
