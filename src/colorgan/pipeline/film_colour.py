"""What colours a film's frames, in order, from a frame where colouring starts afresh (the
film's first, or a cut where both the shots and the steadying start afresh): `FilmColour`.

One owner for one machine's film (pipeline.film) and a cluster's parts (pipeline.film_parts):
the frames wait for a batch (counted from the film's first frame, so a part's batches are the
ones one machine runs), go through the model, are steadied over time (shots.Stabiliser), and
each coloured frame is a reference for the next where the film has any (shots.FrameSources).
A part that starts at frame N gets what one machine's frame N gets: the hints only on the
film's first shot, the key frames by their number in the film. No torch.
"""

from __future__ import annotations

from dataclasses import replace
from functools import partial
from typing import Protocol

import numpy as np
from PIL import Image

from colorgan.base.errors import ColorganError
from colorgan.base.images import BadImage
from colorgan.colour import planes
from colorgan.pipeline.colorizer import Colorizer
from colorgan.pipeline.film_in import Picture, stored_point
from colorgan.pipeline.reference import Reference
from colorgan.pipeline.request import Request
from colorgan.pipeline.shots import FrameSources, Stabiliser
from colorgan.spec.hints import Hint
from colorgan.spec.references import SIZE

Coloured = list[tuple[Picture, np.ndarray]]  # frames, each with its ab at the model's size


class Colouring(Protocol):
    """What gives a film's decoded frames their colour, in order: the model (FilmColour), or
    a cluster's coloured parts (film_parts.Parts)."""

    @property
    def waiting(self) -> int: ...  # frames taken and not yet given back

    def add(self, picture: Picture) -> Coloured: ...  # the frames coloured by now, if any

    def flush(self) -> Coloured: ...  # the rest, at the film's end


class FilmColour:
    """A film's frames coloured by the model from frame `first` on (`rotation`: the film's
    display rotation, which its points are given in; `stabilise`: whether the colour is
    steadied over time)."""

    def __init__(
        self,
        colorizer: Colorizer,
        request: Request,
        rotation: int,
        *,
        stabilise: bool = True,
        first: int = 0,
    ) -> None:
        self.colorizer, self.request, self.rotation = colorizer, request, rotation
        self.frame_request: Request | None = None
        references, key_frames = colorizer.film_references(request)
        retrieve = None  # a bank's references for each shot, from its first frame
        if request.settings.bank is not None:
            retrieve = partial(colorizer.bank_references, request=request)
        hinted = bool(request.settings.hints) and first == 0
        keys = {n - first: ref for n, ref in key_frames.items()}  # before `first`: never met
        self.sources = FrameSources(hinted, references, keys, retrieve)
        anchored = Stabiliser.ANCHORED if self.sources.propagates else {}
        self.steady = Stabiliser(**anchored) if stabilise else None
        self.pictures: list[Picture] = []
        self.taken = first  # frames of the film taken, counted from its first

    @property
    def waiting(self) -> int:
        return len(self.pictures)

    def add(self, picture: Picture) -> Coloured:
        """The film's next frame; the frames of its batch once the batch is full."""
        self.pictures.append(picture)
        self.taken += 1
        return [] if self.taken % self.request.settings.frame_batch else self.flush()

    def flush(self) -> Coloured:
        """The waiting frames through the model, in order."""
        if not self.pictures:
            return []
        greys = [picture.grey for picture in self.pictures]
        if self.sources.propagates:  # each frame needs the one before it, in colour
            coloured = [ab for grey in greys for ab in self._coloured([grey])]
        else:
            coloured = self._coloured(greys)
        done, self.pictures = list(zip(self.pictures, coloured, strict=True)), []
        return done

    def _coloured(self, greys: list) -> list[np.ndarray]:
        """Grey frames, the next of the film, -> their ab at the model's size: through the
        model in one run, steadied; each coloured frame then serves the next as a reference,
        where the film has any (FrameSources.follow)."""
        hinted, references = zip(*[self.sources(grey) for grey in greys], strict=True)
        l_small, ab = self.colorizer.frames(greys, self._in_frames(greys[0]), hinted, references)
        out = []
        for k in range(len(greys)):
            out.append(self.steady(l_small[k], ab[k]) if self.steady is not None else ab[k])
        if self.sources.propagates and references[-1]:
            self.sources.previous = self._reference(greys[-1], out[-1])
        return out

    def _reference(self, grey: Image.Image, ab: np.ndarray) -> Reference:
        """A frame, as coloured, encoded as a reference for the next: its grey's CIE Lab
        colour with its ab, at the reference encoder's size (all it sees of a photo)."""
        square = np.asarray(grey.resize((SIZE, SIZE), Image.Resampling.BILINEAR))
        scale = self.colorizer.spec.ab_scale
        rgb = planes.rgb_planes(square, planes.Levels(8, True), (ab, scale), 8)
        return self.colorizer.encode([Image.fromarray(rgb)])[0]

    def _in_frames(self, grey: Image.Image) -> Request:
        """The request as the stored frames see it: its points (given as players show the
        film) turned into the frames' own pixels, checked against a real frame."""
        if self.frame_request is None:
            request = self.request
            given = request.settings.hints
            if given:
                size = grey.size
                turned = [stored_point(h.x, h.y, self.rotation, *size) for h in given]
                hints = [Hint(x, y, h.color) for (x, y), h in zip(turned, given, strict=True)]
                settings = replace(request.settings, hints=hints, key_frames=())
                try:
                    request = replace(request, photo=grey, settings=settings)
                except ColorganError as exc:  # points outside the frames the film holds
                    raise BadImage(str(exc)) from None
            self.frame_request = request
        return self.frame_request
