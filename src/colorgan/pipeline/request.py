"""One photo or film to colour, and the settings it is coloured with: `Request`.

Every front end (the CLI's photos and films, the page, the Python API) turns what it was given
into Requests, and only Requests reach the model. A Request holds the photo (a PIL image, an
array, or a photo or film file) and its `Settings` (pipeline.settings, which checks each
setting once, when made) as that photo sees them: its own hints, references and key frames.
What needs the photo itself is checked here, once: the hints are points inside it, key frames
are for films and within a film's frames. `plan` turns (source, output) jobs and one Settings
into Requests (an input's alternatives included), the one planning step of the photo and film
loops.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path

import numpy as np
from PIL import ExifTags, Image

from colorgan.base.errors import ColorganError, ColorganTypeError, SettingError, shown
from colorgan.base.images import BadImage, upright_size
from colorgan.pipeline.settings import Settings

Photo = Image.Image | np.ndarray | Path
MAX_SKIP = 10_000  # the nearest banked photos an alternative may skip


@dataclass(frozen=True)
class Request:
    """One photo or film to colour, and how.

    `photo`: a PIL image or numpy array (any mode; alpha is kept), or the path of a photo or
    film file. `settings`: how (pipeline.settings.Settings), as this photo sees them once
    made (its own hints, references and key frames, where they were given by input).
    `bank_skip`: the bank's nearest photos skipped before its `bank_k` (an alternative's own
    choice). `where`: how messages name the photo (a file name)."""

    photo: Photo
    settings: Settings = Settings()
    bank_skip: int = 0
    where: str = field(default="", compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "photo", _checked_photo(self.photo))
        if not isinstance(self.settings, Settings):
            raise ColorganTypeError(
                f"settings must be a pipeline.settings.Settings, not {type(self.settings).__name__}"
            )
        try:
            object.__setattr__(self, "settings", self.settings.for_input(self.photo))
        except SettingError as exc:
            raise type(exc)(exc.setting, f"{self._name()}{exc.rest}") from None
        skip = self.bank_skip
        if isinstance(skip, bool) or not isinstance(skip, int) or not 0 <= skip <= MAX_SKIP:
            raise ColorganError(f"bank_skip must be a whole number, 0 to {MAX_SKIP}")
        if self.settings.key_frames:
            self._check_key_frames()
        if self.settings.restore_mask and self.is_film:  # a mask a frame would be a film
            raise SettingError(
                "restore_mask", f"{self._name()}damage masks are for photos, not films"
            )
        if self.settings.hints:
            self._check_hints()

    @property
    def is_film(self) -> bool:
        """A video file, an image sequence (a folder of frames, a printf pattern), or
        standard input's Y4M stream (film_in.STDIN)."""
        from colorgan.pipeline.film_in import is_film_path

        return isinstance(self.photo, Path) and is_film_path(self.photo)

    def _check_key_frames(self) -> None:
        """Key frames are a film's, and within its frames where the film says how many."""
        if not self.is_film:
            raise SettingError("key_frames", f"{self._name()}key frames are for films")
        from colorgan.pipeline.film_in import frame_count

        count = frame_count(self.photo)
        late = [n for n, _ in self.settings.key_frames if count and n >= count]
        if late:
            raise SettingError(
                "key_frames",
                f"{self._name()}frame {late[0]} is past the film's last ({count - 1}: it has "
                f"{count} frames, numbered from 0)",
            )

    def _check_hints(self) -> None:
        """Each point inside the photo (a film's frame as players show it)."""
        size = self._size()
        if size is None:  # unreadable: it fails when coloured, with its reason
            return
        for k, hint in enumerate(self.settings.hints):
            if not hint.inside(*size):
                raise SettingError(
                    "hints",
                    f"{self._name()}point {k + 1}, ({hint.x:g}, {hint.y:g}), is outside the "
                    f"{size[0]}x{size[1]} {'frame' if self.is_film else 'photo'}",
                )

    def _name(self) -> str:
        if self.where:
            return f"{shown(self.where)}: "
        return f"{shown(str(self.photo))}: " if isinstance(self.photo, Path) else ""

    def _size(self) -> tuple[int, int] | None:
        """The photo's upright (width, height), a film's frame size as players show it; None
        where the file cannot be read."""
        photo = self.photo
        if isinstance(photo, np.ndarray):
            return (photo.shape[1], photo.shape[0]) if photo.ndim >= 2 else None
        if isinstance(photo, Image.Image):
            turned = photo.getexif().get(ExifTags.Base.Orientation, 1) in (5, 6, 7, 8)
            return (photo.height, photo.width) if turned else photo.size
        if self.is_film:
            from colorgan.pipeline.film_in import display_size

            return display_size(photo)
        try:
            return upright_size(photo)
        except BadImage:
            return None


def _checked_photo(photo: object) -> Photo:
    if isinstance(photo, Image.Image | np.ndarray | Path):
        return photo
    if isinstance(photo, str):
        return Path(photo)
    raise ColorganTypeError(
        f"a photo is a PIL image, a numpy array or a file path, not {type(photo).__name__}"
    )


def plan(jobs: Sequence[tuple[Path, Path]], settings: Settings) -> list[tuple[Request, Path]]:
    """(source, output path) jobs -> (Request, output path), each checked now. With
    `settings.alternatives` N above 1, each source N times (outputs NAME-alt1 ...
    NAME-altN), each from one reference alone (alternatives_of)."""
    out = []
    for src, rel in jobs:
        base = Request(Path(src), settings)
        if settings.alternatives == 1:
            out.append((base, rel))
            continue
        for i, alternative in enumerate(alternatives_of(base)):
            out.append((alternative, rel.with_name(f"{rel.stem}-alt{i + 1}{rel.suffix}")))
    return out


def alternatives_of(request: Request) -> list[Request]:
    """The request's `alternatives` requests, each colouring the photo from one reference
    alone: its own references in turn, else its bank's nearest photos in turn (each trusted
    as the user's own would be); SettingError where it has not so many references."""
    settings = request.settings
    count = settings.alternatives
    if not settings.references and settings.bank is None:
        raise SettingError(
            "alternatives", f"{request._name()}alternatives come from references or a bank"
        )
    given = len(settings.references) if settings.references else len(settings.bank)
    if given < count:
        held = "references were given" if settings.references else "photos are in the bank"
        raise SettingError(
            "alternatives",
            f"{request._name()}{count} alternatives need {count} references; {given} {held}",
        )
    one = replace(settings, alternatives=1)
    if settings.references:
        return [
            replace(request, settings=replace(one, references=(ref,), bank=None))
            for ref in settings.references[:count]
        ]
    # each way a whole, from one banked photo trusted as a reference of the user's own: a
    # choice to look at (study 26: trusted as a banked reference, the ways hardly differ)
    from colorgan.pipeline import reference

    bank = replace(settings.bank, low=reference.LOW, high=reference.HIGH, trust=None)
    one = replace(one, bank=bank, bank_k=1)
    return [replace(request, settings=one, bank_skip=i) for i in range(count)]
