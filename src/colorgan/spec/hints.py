"""Colour hints: "this dress was red". A hint is a point of the photo (x, y in its pixels,
from its top left, upright) and the colour it had. A hint-taking model sees them beside L as
maps at its input size: the hint's ab and a mask channel (1 under a hint, 0 elsewhere; all
zeros is the automatic colorization). The colour is taken in CIE Lab: its ab at the photo's own
lightness there. This module owns that format (CHANNELS, `hint_maps`), which training's
simulated hints, the generators, both engines and the ONNX graph share. numpy only."""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np

from colorgan.base.errors import ColorganError, ColorganTypeError, short
from colorgan.colour import srgb

CHANNELS = 3  # a, b (normalized), mask
RADIUS = 1  # a hint covers (2 * RADIUS + 1) ** 2 pixels at the model's input size
MAX_HINTS = 200  # points on one photo
_COLOUR = re.compile(r"#(?:[0-9a-fA-F]{6}|[0-9a-fA-F]{3})")


@dataclass(frozen=True)
class Hint:
    """A point of the photo (pixels from its top left) and the colour it had there:
    `Hint(120, 48, "#b22222")` (or "#b22"). Checked when made: x and y are finite numbers
    (numpy's too), the colour #rrggbb or #rgb."""

    x: float
    y: float
    color: str  # "#rrggbb", lower case

    def __post_init__(self) -> None:
        for name in ("x", "y"):
            object.__setattr__(self, name, _coordinate(name, getattr(self, name)))
        if not isinstance(self.color, str):
            raise ColorganTypeError(f"color must be a string '#rrggbb', not {short(self.color)}")
        text = self.color.strip()
        if not _COLOUR.fullmatch(text):
            raise ColorganError(f"the colour {short(self.color)} is not #rrggbb or #rgb")
        if len(text) == 4:
            text = "#" + "".join(c * 2 for c in text[1:])
        object.__setattr__(self, "color", text.lower())

    @property
    def rgb(self) -> tuple[int, int, int]:
        return tuple(int(self.color[i : i + 2], 16) for i in (1, 3, 5))  # type: ignore[return-value]

    def inside(self, width: int, height: int) -> bool:
        return 0 <= self.x < width and 0 <= self.y < height


def _coordinate(name: str, value: object) -> float:
    """A point's x or y: a real number (int, float or a numpy scalar), never a bool."""
    if isinstance(value, bool | np.bool_) or not isinstance(value, int | float | np.number):
        raise ColorganTypeError(f"the point's {name} must be a number, not {short(value)}")
    try:
        number = float(value)
    except OverflowError:
        number = math.inf
    if not math.isfinite(number):
        raise ColorganError(f"the point's {name} {short(value)} is not a finite number")
    return number


def as_hint(value: object) -> Hint:
    """A colour point however a user gives it -> a Hint: a Hint, an (x, y, colour) sequence
    (a row of the page's table), a {"x", "y", "color"} mapping (the points file) or the text
    "X,Y,#rrggbb" (the command line); coordinates given as text are read as numbers.
    ColorganError saying what is wrong (ColorganTypeError for a thing that is no point)."""
    if isinstance(value, Hint):
        return value
    if isinstance(value, str):
        parts = [p.strip() for p in value.split(",")]
        if len(parts) != 3:
            raise ColorganError(f"{short(value)} is not X,Y,#rrggbb")
        value = parts
    if isinstance(value, Mapping) and set(value) == {"x", "y", "color"}:
        value = [value["x"], value["y"], value["color"]]
    if isinstance(value, tuple | list) and len(value) == 3:
        x, y, colour = value
        return Hint(_read_number("x", x), _read_number("y", y), colour)
    raise ColorganTypeError(
        f"a hint is a Hint(x, y, '#rrggbb'), an (x, y, colour) tuple, a mapping with x, y "
        f"and color or the text 'X,Y,#rrggbb', not {short(value)}"
    )


def _read_number(name: str, value: object) -> object:
    """A coordinate given as text ("120", " 48.5") as a number; anything else as it is."""
    if not isinstance(value, str):
        return value
    try:
        return float(value)
    except ValueError:
        raise ColorganError(f"the point's {name} {short(value)} is not a number") from None


def hint_ab(rgb: tuple[int, int, int]) -> np.ndarray:
    """An sRGB colour -> its normalized CIE ab (D65)."""
    return srgb.ab_of_rgb(np.asarray(rgb, np.float64) / 255.0)


def hint_maps(hints: list[Hint], width: int, height: int, size: int) -> np.ndarray:
    """Hints on a width x height photo -> (CHANNELS, size, size) float32 at the model's size:
    each hint's ab over a small square around its point, and the mask."""
    maps = np.zeros((CHANNELS, size, size), np.float32)
    for h in hints:
        cx = min(int(h.x * size / width), size - 1)
        cy = min(int(h.y * size / height), size - 1)
        rows = slice(max(cy - RADIUS, 0), cy + RADIUS + 1)
        cols = slice(max(cx - RADIUS, 0), cx + RADIUS + 1)
        maps[:2, rows, cols] = hint_ab(h.rgb)[:, None, None]
        maps[2, rows, cols] = 1.0
    return maps
