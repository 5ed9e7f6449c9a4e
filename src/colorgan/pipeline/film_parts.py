"""A part of a film coloured on its own, and the colouring the parts give the film's output:
what a cluster's workers and its driver do with a film that film_split planned.

A worker takes its part's frames as the film core takes them (film_split.part_frames) and
colours them as one machine does from that frame on (film_colour.FilmColour); it keeps each
frame's ab at the model's size, the very arrays the film core hands its output, in an .npy
file published whole (2 x S x S floats a frame: less than the frame itself, losslessly). The
driver runs the film core itself (film.colorize_video) with `Parts` for its colouring: it
decodes the film and builds and encodes each frame from its own luma and its part's ab in the
settings' codec, with its timestamps, timecode and sound, so the output is one machine's,
frame for frame. Where the settings ask a film restored, worker and driver alike restore each
frame (film_restore: the worker for the grey it colours, the driver for the luma it writes);
a part starts and ends at a cut, across which no frame is repaired from another, so both
restore its frames as one machine does.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from pathlib import Path

import numpy as np

from colorgan.base.files import atomic_file
from colorgan.base.images import BadImage
from colorgan.pipeline.colorizer import Colorizer
from colorgan.pipeline.film_colour import Coloured, Colouring, FilmColour
from colorgan.pipeline.film_in import Picture
from colorgan.pipeline.film_restore import restoring
from colorgan.pipeline.film_split import FilmPlan, part_frames
from colorgan.pipeline.request import Request

SUFFIX = ".npy"  # a part's file: its frames' ab, (frames, 2, S, S)


def colour_part(
    colorizer: Colorizer, request: Request, plan: FilmPlan, part: int, target: Path
) -> int:
    """Part `part` of the film of `request` coloured into `target` (its frames' ab, published
    whole, replacing a stale one); returns its number of frames."""
    first, end = plan.parts[part]
    colour = restoring(
        FilmColour(colorizer, request, plan.rotation, first=first), colorizer, request
    )
    with atomic_file(target) as tmp:
        kept = None  # the file, written as the frames come (a part's ab may not fit memory)
        coloured = _coloured(colour, part_frames(request.photo, plan, part))
        for k, (_, ab) in enumerate(coloured):
            if kept is None:  # the first frame's ab says the file's shape and type
                kept = np.lib.format.open_memmap(tmp, "w+", ab.dtype, (end - first, *ab.shape))
            kept[k] = ab
        kept.flush()
        del kept  # the memory map let go before the file is published
    return end - first


def _coloured(colour: Colouring, pictures: Iterable[Picture]) -> Iterator[tuple]:
    """The pictures coloured, each with its ab, in order."""
    for picture in pictures:
        yield from colour.add(picture)
    yield from colour.flush()


class Parts:
    """A film's colouring read from its coloured parts (their files, in order, each ready
    when the iteration gives it): film.colorize_video's `colour` on a cluster's driver.
    BadImage where a part holds other than its frames, or the film other than its parts'."""

    def __init__(self, plan: FilmPlan, paths: Iterable[Path]) -> None:
        self.plan, self.paths = plan, iter(paths)
        self.part, self.ab, self.used = -1, np.empty((0,)), 0

    @property
    def waiting(self) -> int:
        return 0  # each frame's colour is given back as it comes

    def add(self, picture: Picture) -> Coloured:
        while self.used == len(self.ab):
            self._next_part()
        self.used += 1
        return [(picture, np.array(self.ab[self.used - 1]))]

    def _next_part(self) -> None:
        path = next(self.paths, None)
        self.part += 1
        if path is None:
            raise BadImage(
                f"it holds more than the {self.plan.frames} frames it held when it was read"
            )
        first, end = self.plan.parts[self.part]
        self.ab, self.used = np.load(path, mmap_mode="r"), 0
        if len(self.ab) != end - first:
            raise BadImage(f"part {self.part} holds {len(self.ab)} frames, not its {end - first}")

    def flush(self) -> Coloured:
        """Nothing waits; BadImage where the film ended before its parts."""
        if self.part != len(self.plan.parts) - 1 or self.used != len(self.ab):
            raise BadImage(f"it ended before its {self.plan.frames} frames read at first")
        return []
