"""colorgan: colorize black-and-white photos with a semantic-prior conditional GAN."""

from colorgan.errors import ColorganError

__version__ = "0.1.0"

__all__ = ["ColorganError", "Colorizer", "__version__"]


def __getattr__(name: str):
    # Lazy so that `import colorgan` stays cheap (an engine loads only when the API is used).
    if name == "Colorizer":
        from colorgan.colorizer import Colorizer

        return Colorizer
    raise AttributeError(name)
