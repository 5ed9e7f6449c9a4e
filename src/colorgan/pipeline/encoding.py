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
    done: dict[object, Reference] = {}

    def encoded(photo: object) -> Reference:
        if isinstance(photo, Reference):
            return photo
        if _key(photo) not in done:
            [done[_key(photo)]] = encode(features, [photo])
        return done[_key(photo)]

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


def from_bank(features: Features, photo: Image.Image, request: Request) -> list[Reference]:
    """The request's bank's nearest photos to `photo`: its bank_k, after its bank_skip."""
    _, descriptors = features(reference.lightness_square(photo)[None, None])
    settings = request.settings
    return settings.bank.retrieve(descriptors[0], settings.bank_k, request.bank_skip)


def _key(photo: object) -> object:
    """What identifies a reference photo within one call: its file, or the object itself."""
    return photo.resolve() if isinstance(photo, Path) else id(photo)
