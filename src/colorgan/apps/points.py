"""The files that key something by input, each read in one place: the colour-points file (the
CLI's `--hints FILE.json`, which the page saves and loads), `{"photo.jpg": [{"x": 120, "y":
48, "color": "#b22222"}, ...], ...}`, and the references file (`--references FILE.json`),
`{"photo.jpg": ["colour.jpg", ...], ...}`, whose relative paths are read from its own folder.
A key names an input by its file name or by a relative path ("album/photo.jpg"), which tells
apart two inputs of one name. Read within bounds (a regular file of at most a megabyte,
nesting and counts limited), each point checked as a spec.hints.Hint."""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path, PurePath

from colorgan.base.errors import ColorganError, short, shown
from colorgan.base.files import read_text
from colorgan.spec.hints import MAX_HINTS, Hint, as_hint

MAX_INPUTS = 100_000  # photos one points file may name


def read_points(path: str | Path, what: str = "--hints") -> dict[str, list[Hint]]:
    """A points file -> hints by key (a file name or relative path); ColorganError (one line,
    naming the file as `what`) for anything else."""
    where = f"{what} {shown(str(path))}"
    data = _keyed(path, what, "points")
    return {name: _points(points, f"{where}: {short(name)}") for name, points in data.items()}


def read_references(path: str | Path, what: str = "--references") -> dict[str, list[Path]]:
    """A references file -> reference photos by key; relative paths from the file's folder."""
    where = f"{what} {shown(str(path))}"
    out = {}
    for name, photos in _keyed(path, what, "reference photos").items():
        if not isinstance(photos, list) or not all(isinstance(p, str) for p in photos):
            raise ColorganError(f"{where}: {short(name)} must be a list of photo file names")
        out[name] = [Path(path).parent / p for p in photos]  # an absolute p stays itself
    return out


def _keyed(path: str | Path, what: str, kind: str) -> dict:
    """A JSON object of input -> something, read within bounds."""
    text = read_text(path, what)
    where = f"{what} {shown(str(path))}"
    try:
        data = json.loads(text)
    except RecursionError:
        raise ColorganError(f"{where}: nested too deeply to be a {kind} file") from None
    except ValueError as exc:  # JSONDecodeError, and an integer of over 4,300 digits
        raise ColorganError(f"{where}: not JSON ({short(str(exc), 80)})") from None
    if not isinstance(data, dict):
        raise ColorganError(f"{where}: expected an object of file name -> {kind}")
    if len(data) > MAX_INPUTS:
        raise ColorganError(f"{where}: at most {MAX_INPUTS:,} photos a file")
    for key in data:
        if "\0" in key:
            raise ColorganError(f"{where}: the key {short(key)} holds a NUL byte; no file has one")
    return data


def _points(points: object, where: str) -> list[Hint]:
    if not isinstance(points, list) or len(points) > MAX_HINTS:
        raise ColorganError(f"{where} must be a list of at most {MAX_HINTS} points")
    hints = []
    for k, p in enumerate(points):
        if not isinstance(p, dict) or set(p) != {"x", "y", "color"}:
            raise ColorganError(f"{where} point {k + 1} must have x, y and color")
        try:
            hints.append(as_hint(p))
        except ColorganError as exc:
            raise ColorganError(f"{where} point {k + 1}: {exc}") from None
    return hints


def points_json(hints: dict[str, Sequence[Hint]]) -> str:
    """The file read_points reads (the page saves its points as this)."""
    table = {
        name: [{"x": h.x, "y": h.y, "color": h.color} for h in points]
        for name, points in hints.items()
    }
    return json.dumps(table, indent=1)


def match_inputs(
    hints: dict[str, list], sources: Sequence[Path], what: str = "--hints"
) -> dict[Path, list]:
    """Keys -> the inputs they name: a file name names every input of that name, a relative
    path the inputs whose path ends with it. ColorganError for a key that names no input, or
    more than one (give its path)."""
    out: dict[Path, list[Hint]] = {}
    for key, points in hints.items():
        found = [src for src in sources if _names(key, src)]
        if not found:
            raise ColorganError(f"{what}: no input is named {short(key)}")
        if len(found) > 1:
            listed = ", ".join(shown(str(src)) for src in found[:3])
            raise ColorganError(
                f"{what}: {short(key)} names {len(found)} inputs ({listed}); key them by their path"
            )
        if found[0] in out:
            raise ColorganError(f"{what}: two keys name {shown(str(found[0]))}")
        out[found[0]] = points
    return out


def _names(key: str, source: Path) -> bool:
    """Whether a points file's key names `source`: its path's last parts are the key's."""
    parts = PurePath(key).parts
    if not parts or PurePath(key).is_absolute() or ".." in parts:
        return Path(key).resolve() == source.resolve()
    return source.parts[-len(parts) :] == parts
