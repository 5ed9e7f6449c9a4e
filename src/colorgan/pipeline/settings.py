"""Every per-call setting of a colorization, its default and its check, written once:
`Settings`.

A call of any front end (the CLI, the page, the Python API, a cluster's workers) colours its
photos and films as one Settings says: the colour intensity, the colour hints and how far they
reach, the reference photos, a film's key frames, a reference bank and how many of its photos a
photo takes, how many alternatives each input gets, and how the work is batched and a film
encoded. Hints, references and key frames are given for every input (a list) or by input (a
mapping of input path to its list); `for_input` picks one input's. A value is refused when the
Settings is made, with a `SettingError` that names the setting by its field name, so that the
CLI can say its flag in its place and the page its control; the sentence is the same
everywhere.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, fields, replace
from fractions import Fraction
from pathlib import Path

import numpy as np
from PIL import Image

from colorgan.base.errors import (
    ColorganError,
    ColorganTypeError,
    SettingError,
    SettingTypeError,
    short,
    shown,
)
from colorgan.pipeline.bank import Bank
from colorgan.pipeline.reference import Reference
from colorgan.spec.hints import MAX_HINTS, Hint, as_hint
from colorgan.spec.meta import MAX_SATURATION, is_number
from colorgan.spec.references import MAX_KEY_FRAMES, MAX_REFERENCES

# "object": a hint's colour stays on what lightness connects to it (pipeline.reach); "photo":
# wherever the model carries it (the model's own spread, which can cross edges)
HINT_REACHES = ("object", "photo")
BY_INPUT = ("hints", "references", "key_frames")  # given for every input, or by input
MAX_BATCH = 256  # photos or frames held decoded at once for one run of the model
MAX_FRAME = 10**9  # a key frame's number (over 11 years of film at 25 frames a second)
# a film's output (pipeline.film_out): H.264 (MP4), H.265 (MP4), ProRes 422 HQ (MOV), FFV1
# (Matroska), a Y4M stream, PNG or TIFF frames
CODECS = ("h264", "h265", "prores", "ffv1", "y4m", "png", "tiff")
MAX_RATE = 1000  # frames a second of an image sequence
PhotoLike = Image.Image | np.ndarray | Path | Reference


@dataclass(frozen=True)
class Settings:
    """How a call colours its inputs, checked when made.

    `saturation`: the colour intensity, 1 the model's own, 0 grey, at most MAX_SATURATION.
    `hints`: colour points (spec.hints.Hint, (x, y, "#rrggbb") or {"x", "y", "color"}) in a
    photo's upright pixels (a film's first frame as players show it). `hint_reach`: "object"
    (a hint colours what lightness connects to it) or "photo" (as far as the model carries
    it). `references`: colour photos (images, arrays, files, or encoded References) whose
    colours a photo takes where it shows what they show. `key_frames`: a film's coloured
    frames, (frame number from 0, colour photo) pairs. `bank`: a pipeline.bank.Bank whose
    `bank_k` nearest photos join the references. `alternatives`: each input coloured this
    many ways, each from one reference. `batch`: photos or frames per run of the model (None:
    1 photo, 8 frames). `video_quality`: a film's CRF in H.264 and H.265 (lower is better).
    `codec`: a film's output (CODECS; pipeline.film_out says what each holds). `frame_rate`:
    an image sequence's frames a second (a number or "24000/1001"; None: 24; a film with a
    clock of its own keeps it). `restore`: an
    old print's scratches, cracks, dust and fading repaired before colour (pipeline.restore;
    a film's dust and scratches, pipeline.film_restore); `restore_mask`: where damage was
    found, written beside each output (NAME-damage.png; photos only)."""

    saturation: float = 1.0
    hints: Iterable | Mapping = ()
    hint_reach: str = "object"
    references: Iterable | Mapping = ()
    key_frames: Iterable | Mapping = ()
    bank: Bank | None = None
    bank_k: int = 3
    alternatives: int = 1
    batch: int | None = None
    video_quality: int = 20
    codec: str = "h264"
    frame_rate: Fraction | None = None
    restore: bool = False
    restore_mask: bool = False

    def __post_init__(self) -> None:
        for name, check in _CHECKS.items():
            object.__setattr__(self, name, check(getattr(self, name)))
        for name, each in ((n, _EACH[n]) for n in BY_INPUT):
            object.__setattr__(self, name, _by_input(name, getattr(self, name), each))

    @property
    def photo_batch(self) -> int:
        return 1 if self.batch is None else self.batch

    @property
    def frame_batch(self) -> int:
        return 8 if self.batch is None else self.batch

    def for_input(self, photo: object) -> Settings:
        """These settings as one input sees them: its own hints, references and key frames
        where they are given by input (none where its path is not a key)."""
        mine = {}
        for name in BY_INPUT:
            given = getattr(self, name)
            if isinstance(given, Mapping):
                if not isinstance(photo, Path):
                    raise SettingError(name, "given by input need the inputs' file paths")
                mine[name] = given.get(photo, ())
        return replace(self, **mine) if mine else self


def settings_of(settings: Settings | None, **changes: object) -> Settings:
    """`settings` (default: Settings()) with `changes`; a name that is no setting is a
    ColorganTypeError that lists the settings."""
    if settings is not None and not isinstance(settings, Settings):
        raise ColorganTypeError(
            "settings must be a pipeline.settings.Settings (or give them by name: "
            f"saturation=1.5), not {short(settings)}"
        )
    known = {f.name for f in fields(Settings)}
    unknown = sorted(set(changes) - known)
    if unknown:
        raise SettingTypeError(
            unknown[0], f"no such setting; the settings: {', '.join(sorted(known))}"
        )
    return replace(settings or Settings(), **changes)


def check_saturation(value: object, setting: str = "saturation") -> float:
    """A colour intensity both engines take (a number, numpy's too, in [0,
    MAX_SATURATION])."""
    if not is_number(value):
        raise SettingTypeError(setting, f"must be a number, not {short(value)}")
    number = float(value)  # type: ignore[arg-type]
    if not 0 <= number <= MAX_SATURATION:
        raise SettingError(setting, f"must be in [0, {MAX_SATURATION:g}], not {short(number)}")
    return number


def _whole(setting: str, low: int, high: int) -> Callable[[object], int]:
    def check(value: object) -> int:
        if isinstance(value, float | np.floating) and float(value).is_integer():
            value = int(value)  # a slider's 2.0
        if isinstance(value, bool) or not isinstance(value, int | np.integer):
            raise SettingTypeError(setting, f"must be a whole number, not {short(value)}")
        if not low <= value <= high:
            raise SettingError(setting, f"must be {low} to {high}, not {short(int(value))}")
        return int(value)

    return check


def _reach(value: object) -> str:
    if value not in HINT_REACHES:
        raise SettingError("hint_reach", f"must be {' or '.join(HINT_REACHES)}, not {short(value)}")
    return value  # type: ignore[return-value]


def _bank(value: object) -> Bank | None:
    if value is not None and not isinstance(value, Bank):
        raise SettingTypeError("bank", f"must be a pipeline.bank.Bank, not {short(value)}")
    return value


def _flag(setting: str) -> Callable[[object], bool]:
    def check(value: object) -> bool:
        if not isinstance(value, bool | np.bool_):
            raise SettingTypeError(setting, f"must be True or False, not {short(value)}")
        return bool(value)

    return check


def _batch(value: object) -> int | None:
    return None if value is None else _whole("batch", 1, MAX_BATCH)(value)


def _codec(value: object) -> str:
    if value not in CODECS:
        raise SettingError("codec", f"must be one of {', '.join(CODECS)}, not {short(value)}")
    return value  # type: ignore[return-value]


def _frame_rate(value: object) -> Fraction | None:
    """A frame rate: a number, or a fraction written "24000/1001"."""
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, str | int | float | Fraction | np.number):
        raise SettingTypeError(
            "frame_rate", f"must be a number of frames a second, not {short(value)}"
        )
    try:
        rate = Fraction(str(value).strip()).limit_denominator(1001 * 1000)
    except (ValueError, ZeroDivisionError):
        raise SettingError(
            "frame_rate",
            f"must be a number of frames a second (24, 23.976, 24000/1001), not {short(value)}",
        ) from None
    if not 0 < rate <= MAX_RATE:
        raise SettingError(
            "frame_rate", f"must be above 0 and at most {MAX_RATE}, not {short(value)}"
        )
    return rate


_CHECKS: dict[str, Callable[[object], object]] = {
    "saturation": check_saturation,
    "hint_reach": _reach,
    "bank": _bank,
    "bank_k": _whole("bank_k", 1, MAX_REFERENCES),
    "alternatives": _whole("alternatives", 1, MAX_REFERENCES),
    "batch": _batch,
    "video_quality": _whole("video_quality", 0, 51),
    "codec": _codec,
    "frame_rate": _frame_rate,
    "restore": _flag("restore"),
    "restore_mask": _flag("restore_mask"),
}


def _listed(setting: str, given: object, most: int, what: str) -> list:
    """A list of at most `most` things (any iterable but a string, a mapping or a photo)."""
    if given is None:
        return []
    single = str | bytes | Path | Image.Image | np.ndarray | Mapping
    if isinstance(given, single) or not isinstance(given, Iterable):
        raise SettingTypeError(setting, f"must be a list of {what}, not {short(given)}")
    out = []
    for k, value in enumerate(given):
        if k == most:
            raise SettingError(setting, f"at most {most} {what} an input")
        out.append(value)
    return out


def _hints(given: object, setting: str = "hints") -> tuple[Hint, ...]:
    hints = []
    for k, value in enumerate(_listed(setting, given, MAX_HINTS, "colour points")):
        try:
            hints.append(as_hint(value))
        except ColorganTypeError as exc:  # a Hint's own message, said with which point
            raise SettingTypeError(setting, f"point {k + 1}: {exc}") from None
        except ColorganError as exc:
            raise SettingError(setting, f"point {k + 1}: {exc}") from None
    return tuple(hints)


def reference_photo(value: object, setting: str = "references") -> PhotoLike:
    """A colour photo given as a reference or a key frame: an image, an array, an encoded
    Reference, or the path of an existing regular file."""
    if isinstance(value, Reference | Image.Image | np.ndarray):
        return value
    if not isinstance(value, str | Path):
        raise SettingTypeError(
            setting,
            f"must be PIL images, numpy arrays or file paths, not {type(value).__name__}",
        )
    path = Path(value)
    if "\0" in str(path):
        raise SettingError(setting, f"{short(str(path))} holds a NUL byte: no file has it")
    if not path.is_file():
        if path.is_dir():
            why = "is a folder"
        else:
            why = "is not a regular file" if path.exists() else "does not exist"
        raise SettingError(setting, f"{shown(str(path))} {why}")
    return path


def _references(given: object, setting: str = "references") -> tuple:
    photos = _listed(setting, given, MAX_REFERENCES, "reference photos")
    return tuple(reference_photo(photo, setting) for photo in photos)


def _key_frames(given: object, setting: str = "key_frames") -> tuple:
    out = []
    for pair in _listed(setting, given, MAX_KEY_FRAMES, "key frames"):
        if not isinstance(pair, tuple | list) or len(pair) != 2:
            raise SettingTypeError(
                setting, f"a key frame is (frame number, photo), not {short(pair)}"
            )
        number, photo = pair
        if isinstance(number, bool) or not isinstance(number, int | np.integer):
            raise SettingTypeError(
                setting, f"a frame number is a whole number, not {short(number)}"
            )
        if not 0 <= number <= MAX_FRAME:
            raise SettingError(
                setting, f"a frame number is 0 to {MAX_FRAME:,}, not {short(number)}"
            )
        out.append((int(number), reference_photo(photo, setting)))
    return tuple(out)


_EACH = {"hints": _hints, "references": _references, "key_frames": _key_frames}


def _by_input(setting: str, given: object, each: Callable) -> tuple | dict:
    """One list for every input, or lists by input path (each checked)."""
    if not isinstance(given, Mapping):
        return each(given, setting)
    out = {}
    for key, value in given.items():
        if not isinstance(key, str | Path) or "\0" in str(key):
            raise SettingTypeError(
                setting, f"given by input are keyed by file paths, not {short(key)}"
            )
        try:
            out[Path(key)] = each(value, setting)
        except SettingError as exc:
            raise type(exc)(setting, f"for {shown(str(key))}: {exc.rest}") from None
    return out


DEFAULTS = Settings()  # every setting as a call leaves it; the front ends show these
