"""Reference photos and key frames encoded for matching (pipeline.reference.Reference): each
distinct photo decoded and run through the reference encoder once, whatever the number of
requests that name it; and a bank's nearest photos to a photo (pipeline.bank)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path

from PIL import Image

from colorgan.base.errors import ColorganError, shown
from colorgan.base.images import BadImage, prepare_image
from colorgan.pipeline import reference
from colorgan.pipeline.reference import Features, Reference
from colorgan.pipeline.request import Request
from colorgan.pipeline.settings import Settings


def encode(features: Features, photos: Sequence) -> list[Reference]:
    """Reference photos (images, arrays, files; encoded ones are kept) -> References, in one
    run of the encoder; ColorganError naming one that cannot be read."""
    decoded = []
    for k, photo in enumerate(photos):
        if isinstance(photo, Reference):
            continue
        if isinstance(photo, str):
            photo = Path(photo)
        try:
            decoded.append(prepare_image(photo)[0])
        except BadImage as exc:
            name = shown(str(photo)) if isinstance(photo, Path) else f"{k + 1} (an image)"
            raise ColorganError(f"reference {name}: {exc}") from None
    fresh = iter(reference.encode(features, decoded))
    return [p if isinstance(p, Reference) else next(fresh) for p in photos]


def encode_requests(features: Features, requests: Sequence[Request]) -> list[Request]:
    """The requests with each reference photo and key frame encoded, each distinct one (a
    file, or an image object) once; ColorganError naming a reference that cannot be read."""
    encoded = _Encoded(features)
    out = []
    for request in requests:
        settings = request.settings
        if settings.references or settings.key_frames:
            references = tuple(encoded(p) for p in settings.references)
            keys = tuple((n, encoded(p)) for n, p in settings.key_frames)
            settings = replace(settings, references=references, key_frames=keys)
            request = replace(request, settings=settings)
        out.append(request)
    return out


def encode_settings(features: Features, settings: Settings) -> Settings:
    """The settings with every reference photo and key frame encoded, each distinct one once,
    whether given for every input or by input: what a cluster's driver ships to its workers,
    so that none decodes or encodes them again."""
    encoded = _Encoded(features)
    ways = {
        "references": lambda given: tuple(encoded(p) for p in given),
        "key_frames": lambda given: tuple((n, encoded(p)) for n, p in given),
    }
    changes = {}
    for name, each in ways.items():
        given = getattr(settings, name)
        by_input = isinstance(given, dict)
        changes[name] = {p: each(v) for p, v in given.items()} if by_input else each(given)
    return replace(settings, **changes)


class _Encoded:
    """Reference photos encoded once each within one call (a file by its resolved path, an
    image by the object)."""

    def __init__(self, features: Features) -> None:
        self.features, self.done = features, {}

    def __call__(self, photo: object) -> Reference:
        if isinstance(photo, Reference):
            return photo
        if _key(photo) not in self.done:
            [self.done[_key(photo)]] = encode(self.features, [photo])
        return self.done[_key(photo)]


def from_bank(features: Features, photo: Image.Image, request: Request) -> list[Reference]:
    """The request's bank's nearest photos to `photo`: its bank_k, after its bank_skip."""
    _, descriptors = features(reference.lightness_square(photo)[None, None])
    settings = request.settings
    return settings.bank.retrieve(descriptors[0], settings.bank_k, request.bank_skip)


def _key(photo: object) -> object:
    """What identifies a reference photo within one call: its file, or the object itself."""
    return photo.resolve() if isinstance(photo, Path) else id(photo)
