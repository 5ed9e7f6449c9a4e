"""What one colorization asks, checked once, where it enters: `Request`.

Every front end (the CLI's photos and films, the page, the Python API) turns what it was given
into Requests, and only Requests reach the model. A Request holds the photo (a PIL image, an
array, or a photo or film file), the colour intensity and the colour hints; its construction
is the one place each of them is checked, with one message each (a ColorganError, which is a
ValueError, or a ColorganTypeError for a value of the wrong type): the intensity is a number
in [0, MAX_SATURATION], the hints are points inside the photo (at most MAX_HINTS), the photo
is something colorgan can read. What the model then does with a Request is the Colorizer's.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path

import numpy as np
from PIL import ExifTags, Image

from colorgan.base.errors import ColorganError, ColorganTypeError, short, shown
from colorgan.base.images import VIDEO_SUFFIXES, BadImage, upright_size
from colorgan.spec.hints import MAX_HINTS, Hint, as_hint
from colorgan.spec.meta import MAX_SATURATION, is_number
from colorgan.spec.references import MAX_KEY_FRAMES, MAX_REFERENCES

Photo = Image.Image | np.ndarray | Path
# "object": a hint's colour stays on what lightness connects to it (pipeline.reach); "photo":
# wherever the model carries it (the model's own spread, which can cross edges)
HINT_REACHES = ("object", "photo")


@dataclass(frozen=True)
class Request:
    """One photo or film to colour, and how.

    `photo`: a PIL image or numpy array (any mode; alpha is kept), or the path of a photo or
    film file. `saturation`: the colour intensity, 1 the model's own, 0 grey, at most
    MAX_SATURATION. `hints`: colour points (spec.hints.Hint, or (x, y, "#rrggbb") tuples) in
    the photo's pixels, upright; for a film, in its first frame as players show it (its
    display rotation undone). `references`: colour photos
    whose colours the photo takes where it shows what they show (pipeline.reference).
    `hint_reach`: "object" (a hint colours what lightness connects to it) or "photo". `where`:
    how messages name the photo (a file name, "--hint")."""

    photo: Photo
    saturation: float = 1.0
    hints: tuple[Hint, ...] = ()
    references: tuple = ()  # colour photos (images, arrays, paths) or encoded References
    hint_reach: str = "object"  # how far a hint's colour goes: its object, or the photo
    key_frames: tuple = ()  # a film's coloured frames: (frame number, colour photo) pairs
    bank: object = None  # a pipeline.bank.Bank: references found by what the photo shows
    bank_k: int = 3  # how many of the bank's nearest photos it takes as references
    bank_skip: int = 0  # after skipping this many nearest (an alternative's own choice)
    where: str = field(default="", compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "photo", _checked_photo(self.photo))
        object.__setattr__(self, "saturation", check_saturation(self.saturation))
        object.__setattr__(self, "hints", self._checked_hints())
        object.__setattr__(self, "references", self._checked_references())
        object.__setattr__(self, "key_frames", self._checked_key_frames())
        self._check_bank()
        if self.hint_reach not in HINT_REACHES:
            raise ColorganError(
                f"hint_reach must be {' or '.join(HINT_REACHES)}, not {short(self.hint_reach)}"
            )

    def _check_bank(self) -> None:
        from colorgan.pipeline.bank import Bank

        if self.bank is not None and not isinstance(self.bank, Bank):
            raise ColorganTypeError(f"bank must be a pipeline.bank.Bank, not {short(self.bank)}")
        for name, low, high in (("bank_k", 1, MAX_REFERENCES), ("bank_skip", 0, 10_000)):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
                raise ColorganError(f"{name} must be a whole number, {low} to {high}")

    def _checked_key_frames(self) -> tuple:
        """(frame number, colour photo) pairs of a film, numbers whole and at least 0."""
        given = tuple(self.key_frames or ())
        if given and not self.is_film:
            raise ColorganError(f"{self._name()}key frames are for films")
        if len(given) > MAX_KEY_FRAMES:
            raise ColorganError(f"{self._name()}at most {MAX_KEY_FRAMES} key frames a film")
        out = []
        for pair in given:
            if not isinstance(pair, tuple | list) or len(pair) != 2:
                raise ColorganTypeError(f"a key frame is (frame number, photo), not {short(pair)}")
            number, photo = pair
            if isinstance(number, bool) or not isinstance(number, int | np.integer) or number < 0:
                raise ColorganError(
                    f"{self._name()}a key frame's number {short(number)} is not 0 or more"
                )
            out.append((int(number), self._reference_photo(photo)))
        return tuple(out)

    def _reference_photo(self, value: object) -> object:
        """A colour photo given with the request (a reference, a key frame), readable, or
        one the colorizer encoded already."""
        from colorgan.pipeline.reference import Reference

        if isinstance(value, Reference):
            return value
        photo = _checked_photo(value, "a reference")
        if isinstance(photo, Path) and not photo.is_file():
            if photo.is_dir():
                why = "is a folder"
            else:
                why = "is not a regular file" if photo.exists() else "does not exist"
            raise ColorganError(f"{self._name()}reference {shown(str(photo))} {why}")
        return photo

    def _checked_references(self) -> tuple:
        """Each reference a photo colorgan can read (an image, an array, an existing file) or
        one the colorizer encoded, at most MAX_REFERENCES."""
        given = self.references
        if given is None:
            return ()
        if isinstance(given, str | bytes | Path | Image.Image | np.ndarray) or not isinstance(
            given, Iterable
        ):
            raise ColorganTypeError(f"references must be a list of photos, not {short(given)}")
        out = []
        for k, value in enumerate(given):
            if k == MAX_REFERENCES:
                raise ColorganError(f"{self._name()}at most {MAX_REFERENCES} reference photos")
            out.append(self._reference_photo(value))
        return tuple(out)

    @property
    def is_film(self) -> bool:
        return isinstance(self.photo, Path) and self.photo.suffix.lower() in VIDEO_SUFFIXES

    def _checked_hints(self) -> tuple[Hint, ...]:
        given = self.hints
        if given is None:
            return ()
        if isinstance(given, str | bytes | dict) or not isinstance(given, Iterable):
            raise ColorganTypeError(f"hints must be a list of hints, not {short(given)}")
        hints = []
        for k, value in enumerate(given):
            if k == MAX_HINTS:
                raise ColorganError(f"{self._name()}at most {MAX_HINTS} colour hints a photo")
            try:
                hints.append(as_hint(value))
            except ColorganError as exc:  # which point, where
                raise type(exc)(f"{self._name()}hint {k + 1}: {exc}") from None
        if hints:
            size = self._size()
            for k, hint in enumerate(hints):
                if size is not None and not hint.inside(*size):
                    raise ColorganError(
                        f"{self._name()}hint {k + 1}: the point ({hint.x:g}, {hint.y:g}) is "
                        f"outside the {size[0]}x{size[1]} {'frame' if self.is_film else 'photo'}"
                    )
        return tuple(hints)

    def _name(self) -> str:
        if self.where:
            return f"{shown(self.where)}: "
        return f"{shown(str(self.photo))}: " if isinstance(self.photo, Path) else ""

    def _size(self) -> tuple[int, int] | None:
        """The photo's upright (width, height), a film's frame size as players show it; None
        where the file cannot be read (it fails when coloured, with its reason)."""
        photo = self.photo
        if isinstance(photo, np.ndarray):
            return (photo.shape[1], photo.shape[0]) if photo.ndim >= 2 else None
        if isinstance(photo, Image.Image):
            turned = photo.getexif().get(ExifTags.Base.Orientation, 1) in (5, 6, 7, 8)
            return (photo.height, photo.width) if turned else photo.size
        if self.is_film:
            from colorgan.pipeline.film_io import display_size

            return display_size(photo)
        try:
            return upright_size(photo)
        except BadImage:
            return None


def _checked_photo(photo: object, what: str = "a photo") -> Photo:
    if isinstance(photo, Image.Image | np.ndarray | Path):
        return photo
    if isinstance(photo, str):
        return Path(photo)
    raise ColorganTypeError(
        f"{what} is a PIL image, a numpy array or a file path, not {type(photo).__name__}"
    )


def check_saturation(value: object, what: str = "saturation") -> float:
    """A colour intensity both engines take (a number, numpy's too, in [0, MAX_SATURATION]);
    ColorganError (ColorganTypeError for a non-number) otherwise."""
    if not is_number(value):
        raise ColorganTypeError(f"{what} must be a number, not {short(value)}")
    number = float(value)  # type: ignore[arg-type]
    if not 0 <= number <= MAX_SATURATION:
        raise ColorganError(f"{what} must be in [0, {MAX_SATURATION:g}], not {short(number)}")
    return number


def file_requests(
    jobs: Sequence[tuple[Path, Path]],
    saturation: float = 1.0,
    hints: Mapping[Path, Sequence] | None = None,
    references: Sequence | Mapping[Path, Sequence] | None = None,
    key_frames: Mapping[Path, Sequence] | None = None,
    hint_reach: str = "object",
    bank: object = None,
    bank_k: int = 3,
    alternatives: int = 1,
) -> list[tuple[Request, Path]]:
    """(source, output path) jobs -> (Request, output path): `hints`, `key_frames` by source
    path, `references` by source path or one list for every source, a reference `bank` and
    how many of its nearest photos a photo takes. With `alternatives` N above 1, each source
    N times (outputs NAME-alt1 ... NAME-altN), each from one reference alone: its own
    references in turn, else the bank's nearest photos in turn. Each checked now."""
    if isinstance(alternatives, bool) or not isinstance(alternatives, int):
        raise ColorganTypeError(f"alternatives must be a whole number, not {short(alternatives)}")
    if not 1 <= alternatives <= MAX_REFERENCES:
        raise ColorganError(f"alternatives must be 1 to {MAX_REFERENCES}, not {alternatives}")

    def by_source(given: Mapping | None) -> dict[Path, Sequence]:
        return {Path(k): v for k, v in (given or {}).items()}

    points, keys = by_source(hints), by_source(key_frames)
    shared = references if not isinstance(references, Mapping) else None
    own = by_source(references) if isinstance(references, Mapping) else {}
    out = []
    for src, rel in jobs:
        refs = shared if shared is not None else own.get(Path(src))
        source = Path(src)
        given = (points.get(source), refs, hint_reach, keys.get(source, ()), bank, bank_k)
        base = Request(source, saturation, *given)
        if alternatives == 1:
            out.append((base, rel))
            continue
        for i, alternative in enumerate(alternatives_of(base, alternatives)):
            out.append((alternative, rel.with_name(f"{rel.stem}-alt{i + 1}{rel.suffix}")))
    return out


def alternatives_of(request: Request, count: int) -> list[Request]:
    """`count` requests that each colour the photo from one reference alone: its own
    references in turn, else its bank's nearest photos in turn (each trusted as the user's
    own would be); ColorganError where it has not so many references."""
    if not request.references and request.bank is None:
        raise ColorganError(f"{request._name()}alternatives come from references or a bank")
    if request.references and len(request.references) < count:
        raise ColorganError(
            f"{request._name()}{count} alternatives need {count} references "
            f"(given {len(request.references)})"
        )
    if request.references:
        return [
            replace(request, references=(ref,), bank=None) for ref in request.references[:count]
        ]
    # each way a whole, from one banked photo trusted as a reference of the user's own: a
    # choice to look at (study 26: trusted as a banked reference, the ways hardly differ)
    from colorgan.pipeline import reference

    bank = replace(request.bank, low=reference.LOW, high=reference.HIGH, trust=None)
    return [replace(request, bank=bank, bank_k=1, bank_skip=i) for i in range(count)]
