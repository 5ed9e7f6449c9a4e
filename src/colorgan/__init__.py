"""colorgan: colorize black-and-white photos and films with a semantic-prior conditional GAN.

The public API, loaded when first used so that `import colorgan` stays cheap:
`Colorizer` (pipeline.colorizer), `Request` (pipeline.request), `Hint` (spec.hints),
`Bank` (pipeline.bank), `expand_inputs` (base.images) and `ColorganError` (base.errors).
"""

from importlib import import_module

from colorgan.base import __version__

_HOMES = {
    "Bank": "colorgan.pipeline.bank",
    "ColorganError": "colorgan.base.errors",
    "Colorizer": "colorgan.pipeline.colorizer",
    "Hint": "colorgan.spec.hints",
    "Request": "colorgan.pipeline.request",
    "Settings": "colorgan.pipeline.settings",
    "expand_inputs": "colorgan.base.images",
}
__all__ = [*sorted(_HOMES), "__version__"]


def __getattr__(name: str):
    if name not in _HOMES:
        raise AttributeError(name)
    return getattr(import_module(_HOMES[name]), name)
