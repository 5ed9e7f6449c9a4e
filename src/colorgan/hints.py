"""Colour hints: "this dress was red". A user's points (x, y in the photo's pixels, a colour
as #rrggbb) become what a hint-taking model sees beside L: at its input size, the hint's ab
and a mask channel (1 under a hint, 0 elsewhere; all zeros is the automatic colorization).
The colour is taken in CIE Lab: its ab at the photo's own lightness there. numpy only, so
both engines and every front end use the same maps."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from colorgan.colour import srgb
from colorgan.errors import ColorganError

CHANNELS = 3  # a, b (normalized), mask
RADIUS = 1  # a hint covers (2 * RADIUS + 1) ** 2 pixels at the model's input size
MAX_HINTS = 200
_RGB_TO_XYZ = np.linalg.inv(srgb.XYZ_TO_RGB)
_COLOUR = re.compile(r"#[0-9a-fA-F]{6}")


@dataclass(frozen=True)
class Hint:
    """A point of the photo (pixels from its top left) and the colour it had."""

    x: float
    y: float
    color: str  # "#rrggbb"

    @property
    def rgb(self) -> tuple[int, int, int]:
        return tuple(int(self.color[i : i + 2], 16) for i in (1, 3, 5))  # type: ignore[return-value]


def make_hint(x: object, y: object, color: object, where: str = "hint") -> Hint:
    """A checked Hint; ColorganError (one line) for a point or colour that does not parse."""
    if not isinstance(color, str) or not _COLOUR.fullmatch(color.strip()):
        raise ColorganError(f"{where}: the colour {color!r} is not #rrggbb")
    try:
        fx, fy = float(x), float(y)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        raise ColorganError(f"{where}: the point ({x!r}, {y!r}) is not two numbers") from None
    if not (np.isfinite(fx) and np.isfinite(fy)):
        raise ColorganError(f"{where}: the point ({x!r}, {y!r}) is not two numbers")
    return Hint(fx, fy, color.strip().lower())


def parse_hint(text: str) -> Hint:
    """ "X,Y,#rrggbb" (the CLI's --hint) -> a Hint."""
    parts = [p.strip() for p in text.split(",")]
    if len(parts) != 3:
        raise ColorganError(f"--hint {text!r}: expected X,Y,#rrggbb")
    return make_hint(*parts, where=f"--hint {text!r}")


def read_hints_file(path: str | Path) -> dict[str, list[Hint]]:
    """A JSON file {"photo.jpg": [{"x": 120, "y": 48, "color": "#b22222"}, ...], ...} ->
    hints by input file name; ColorganError (one line) for anything else."""
    path = Path(path)
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise ColorganError(f"--hints {path}: {exc.strerror or exc}") from None
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ColorganError(f"--hints {path}: not JSON ({exc})") from None
    if not isinstance(data, dict):
        raise ColorganError(f"--hints {path}: expected an object of file name -> points")
    out = {}
    for name, points in data.items():
        if not isinstance(points, list) or len(points) > MAX_HINTS:
            raise ColorganError(f"--hints {path}: {name!r} must be a list of at most "
                                f"{MAX_HINTS} points")  # fmt: skip
        hints = []
        for k, p in enumerate(points):
            if not isinstance(p, dict) or set(p) != {"x", "y", "color"}:
                raise ColorganError(f"--hints {path}: {name!r} point {k + 1} must have x, y "
                                    "and color")  # fmt: skip
            hints.append(make_hint(p["x"], p["y"], p["color"], f"--hints {path}: {name!r}"))
        out[name] = hints
    return out


def hints_json(hints: dict[str, list[Hint]]) -> str:
    """The file read_hints_file reads (the page saves its points as this)."""
    return json.dumps({name: [{"x": h.x, "y": h.y, "color": h.color} for h in points]
                       for name, points in hints.items()}, indent=1)  # fmt: skip


def check_inside(hints: list[Hint], width: int, height: int, where: str) -> None:
    """ColorganError (one line) for a point outside a width x height photo."""
    for h in hints:
        if not (0 <= h.x < width and 0 <= h.y < height):
            raise ColorganError(f"{where}: the point ({h.x:g}, {h.y:g}) is outside the "
                                f"{width}x{height} photo")  # fmt: skip


def hint_ab(rgb: tuple[int, int, int], ab_scale: float = srgb.AB_SCALE) -> np.ndarray:
    """An sRGB colour -> its normalized CIE ab (D65)."""
    linear = srgb.to_linear(np.asarray(rgb, np.float64) / 255.0)
    f = srgb.lab_f((_RGB_TO_XYZ @ linear) / srgb.WHITE)
    return np.array([500.0 * (f[0] - f[1]), 200.0 * (f[1] - f[2])]) / ab_scale


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


def hints_for_inputs(
    points: list[str] | None,
    hints_file: str | None,
    sources: list[Path],
    film_size: Callable[[Path], tuple[int, int] | None] = lambda path: None,
) -> dict[str, list[Hint]] | None:
    """The CLI's --hint X,Y,COLOUR (repeatable, one photo or film) or --hints FILE.json ->
    hints by input file name, each point checked against its photo's (upright) size or its
    film's frame size (`film_size`); None without either. ColorganError (one line) for
    anything a user should fix."""
    from colorgan.images import VIDEO_SUFFIXES, BadImage, upright_size

    if points and hints_file:
        raise ColorganError("give --hint or --hints FILE.json, not both")
    if not points and not hints_file:
        return None
    if points:
        if len(sources) != 1:
            raise ColorganError("--hint is for one photo or film; for several, --hints FILE.json")
        hints = {sources[0].name: [parse_hint(p) for p in points]}
    else:
        hints = read_hints_file(hints_file)
    names = {src.name: src for src in sources}
    unknown = sorted(set(hints) - set(names))
    if unknown:
        raise ColorganError(f"--hints: no input is named {unknown[0]!r}")
    for name, given in hints.items():
        source = names[name]
        try:
            size = film_size(source) if source.suffix.lower() in VIDEO_SUFFIXES else (
                upright_size(source))  # fmt: skip
        except BadImage:
            size = None
        if size is None:
            continue  # the file fails on its own, with its reason
        w, h = size
        check_inside(given, w, h, f"{'--hint' if points else '--hints'} {name}")
    return hints
