"""A part of a film coloured on its own, and the colouring the parts give the film's output:
what a cluster's workers and its driver do with a film that film_split planned.

A worker takes its part's frames as the film core takes them (film_split.part_frames) and
colours them as one machine does from that frame on (film_colour.FilmColour); it keeps each
frame's ab at the model's size, the very arrays the film core hands its output, in an .npy
file published whole (2 x S x S floats a frame: less than the frame itself, losslessly). The
driver runs the film core itself (film.colorize_video) with `Parts` for its colouring: it
decodes the film and builds and encodes each frame from its own luma and its part's ab in the
settings' codec, with its timestamps, timecode and sound, so the output is one machine's,
frame for frame. Where the settings ask a film restored, the worker restores each frame before
it colours it (film_restore; a part starts and ends at a cut, across which no frame is
repaired from another, so it restores its frames as one machine does) and keeps what the
repair changed beside the ab (REPAIRS: each changed luma sample's frame, place and value,
usually a small share of the frame); the driver puts those back into the luma it decodes and
writes, so a frame is restored once, on a worker.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import replace
from pathlib import Path
from typing import BinaryIO

import numpy as np
from PIL import Image

from colorgan.base.files import atomic_file
from colorgan.base.images import BadImage
from colorgan.colour.planes import grey8
from colorgan.pipeline.colorizer import Colorizer
from colorgan.pipeline.film_colour import Coloured, Colouring, FilmColour
from colorgan.pipeline.film_in import Picture
from colorgan.pipeline.film_restore import restoring
from colorgan.pipeline.film_split import FilmPlan, part_frames
from colorgan.pipeline.request import Request

SUFFIX = ".npy"  # a part's file: its frames' ab, (frames, 2, S, S)
REPAIRS = ".repairs.npy"  # beside it, where restored: each luma sample a repair changed
REPAIR = np.dtype([("frame", "<u4"), ("at", "<u4"), ("to", "<u2")])  # frame of the part, flat
CHUNK = 1 << 20  # repairs copied this many at a time into their published file


def colour_part(
    colorizer: Colorizer, request: Request, plan: FilmPlan, part: int, target: Path
) -> int:
    """Part `part` of the film of `request` coloured into `target` (its frames' ab, published
    whole, replacing a stale one), and where its settings restore it, its repairs beside it
    (published first: a part whose ab exists is finished); returns its number of frames."""
    first, end = plan.parts[part]
    colour = restoring(
        FilmColour(colorizer, request, plan.rotation, first=first), colorizer, request
    )
    decoded: deque[Picture] = deque()  # each frame as decoded, until it comes back restored
    with atomic_file(target) as tmp, _repairs(target, request.settings.restore) as changes:
        kept = None  # the file, written as the frames come (a part's ab may not fit memory)
        coloured = _coloured(colour, part_frames(request.photo, plan, part), decoded)
        for k, (picture, ab) in enumerate(coloured):
            if kept is None:  # the first frame's ab says the file's shape and type
                kept = np.lib.format.open_memmap(tmp, "w+", ab.dtype, (end - first, *ab.shape))
            kept[k] = ab
            before = decoded.popleft()
            if changes is not None:
                changes.write(_changed(k, before.luma, picture.luma).tobytes())
        kept.flush()
        del kept  # the memory map let go before the file is published
    return end - first


def repairs_of(part: Path) -> Path:
    """The repairs' file beside a part's ab file."""
    return part.with_name(part.name.removesuffix(SUFFIX) + REPAIRS)


@contextmanager
def _repairs(part: Path, restore: bool) -> Iterator[BinaryIO | None]:
    """Where a part's repairs are written as they come (None where it is not restored): raw
    REPAIR records, made a .npy file and published once the part is whole."""
    if not restore:
        yield None
        return
    with atomic_file(repairs_of(part)) as tmp:
        raw = Path(f"{tmp}.raw")
        try:
            with open(raw, "wb") as changes:
                yield changes
            count = raw.stat().st_size // REPAIR.itemsize
            kept = np.lib.format.open_memmap(tmp, "w+", REPAIR, (count,))
            with open(raw, "rb") as changes:
                for start in range(0, count, CHUNK):
                    chunk = changes.read(CHUNK * REPAIR.itemsize)
                    kept[start : start + CHUNK] = np.frombuffer(chunk, REPAIR)
            kept.flush()
            del kept
        finally:
            raw.unlink(missing_ok=True)


def _changed(frame: int, before: np.ndarray, after: np.ndarray) -> np.ndarray:
    """The luma samples a frame's repair changed, as REPAIR records."""
    at = np.flatnonzero(before != after)
    records = np.empty(len(at), REPAIR)
    records["frame"], records["at"], records["to"] = frame, at, after.reshape(-1)[at]
    return records


def _coloured(
    colour: Colouring, pictures: Iterable[Picture], decoded: deque[Picture]
) -> Iterator[tuple]:
    """The pictures coloured, each with its ab, in order; each as decoded is put in `decoded`
    as it goes in."""
    for picture in pictures:
        decoded.append(picture)
        yield from colour.add(picture)
    yield from colour.flush()


class Parts:
    """A film's colouring read from its coloured parts (their files, in order, each ready
    when the iteration gives it): film.colorize_video's `colour` on a cluster's driver. Where
    `restored`, each frame's luma takes its part's repairs before it is written. BadImage
    where a part holds other than its frames, or the film other than its parts'."""

    def __init__(self, plan: FilmPlan, paths: Iterable[Path], restored: bool = False) -> None:
        self.plan, self.paths, self.restored = plan, iter(paths), restored
        self.part, self.ab, self.used = -1, np.empty((0,)), 0
        self.repairs, self.bounds = np.empty(0, REPAIR), np.zeros(1, np.int64)

    @property
    def waiting(self) -> int:
        return 0  # each frame's colour is given back as it comes

    def add(self, picture: Picture) -> Coloured:
        while self.used == len(self.ab):
            self._next_part()
        self.used += 1
        if self.restored:
            picture = self._repaired(picture, self.used - 1)
        return [(picture, np.array(self.ab[self.used - 1]))]

    def _repaired(self, picture: Picture, k: int) -> Picture:
        """The part's k-th frame with its repairs put back, as the worker restored it."""
        records = np.asarray(self.repairs[self.bounds[k] : self.bounds[k + 1]])
        luma = np.array(picture.luma)
        top = picture.levels.top
        if len(records) and (records["at"].max() >= luma.size or records["to"].max() > top):
            raise BadImage(f"part {self.part}'s repairs fall outside frame {k}")
        luma.reshape(-1)[records["at"]] = records["to"].astype(luma.dtype)
        grey = Image.fromarray(grey8(luma, picture.levels), "L")
        return replace(picture, luma=luma, grey=grey)

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
        if self.restored:
            self.repairs = np.load(repairs_of(path), mmap_mode="r")
            if self.repairs.dtype != REPAIR:
                raise BadImage(f"part {self.part}'s repairs are not repairs")
            frames = np.asarray(self.repairs["frame"])
            self.bounds = np.searchsorted(frames, np.arange(end - first + 1), side="left")

    def flush(self) -> Coloured:
        """Nothing waits; BadImage where the film ended before its parts."""
        if self.part != len(self.plan.parts) - 1 or self.used != len(self.ab):
            raise BadImage(f"it ended before its {self.plan.frames} frames read at first")
        return []
