"""Where a film may be cut into parts that workers colour apart, each part exactly as one
machine colours those frames: `FilmPlan`, `plan_film`.

One machine colours a film in order, and what a frame gets depends on the frames before it in
its shot only: the steadying (shots.Stabiliser) starts afresh where the frame's lightness at
the model's size changes as a whole beyond its cut, and what colours a frame
(shots.FrameSources: the hints over the first shot, a key frame to the next cut, a bank's
photos for a shot, the frame before as one more reference) starts afresh at a hard cut
(shots.Shots, on an 8x8 thumbnail). So a part may start only at a frame where both start
afresh: there a worker that starts fresh (film_colour.FilmColour from that frame) colours it
as one machine does. The film is read once, here: each frame's timestamp (where a part
starts) and its grey as the film core makes it (film_in.picture_of), on which both tests are
run as one machine runs them (shots.moved). Parts join consecutive shots to about the same
number of frames. A film whose timestamps are missing or do not go forward is one part. No
torch; PyAV inside the functions.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from itertools import pairwise
from pathlib import Path

from colorgan.base.images import BadImage
from colorgan.colour.pixels import small_lightness
from colorgan.pipeline.colorizer import Colorizer
from colorgan.pipeline.film import check_frames
from colorgan.pipeline.film_in import Picture, form_of, open_video, picture_of, rotation_of
from colorgan.pipeline.request import Request
from colorgan.pipeline.shots import Shots, Stabiliser, moved


@dataclass(frozen=True)
class FilmPlan:
    """A film read once: its frames' timestamps (None where it has none), its parts (first
    frame, frame after the last) in order, its display rotation, and the Y'CbCr matrix its
    frames' grey is taken in (film_in.Form's)."""

    pts: tuple[int | None, ...]
    parts: tuple[tuple[int, int], ...]
    rotation: int
    matrix: str

    @property
    def frames(self) -> int:
        return len(self.pts)


def plan_film(colorizer: Colorizer, request: Request, parts: int) -> FilmPlan:
    """The film of `request` (a video file) read once and cut into at most `parts` parts,
    each starting where one machine's colouring starts afresh (the module's doc). BadImage
    where the film is damaged, holds no frames or fewer than it says, or fewer than a key
    frame's number, as the film core says it: nothing is coloured then."""
    import av

    source = request.photo
    pts: list[int | None] = []
    cuts: list[int] = []
    shots, matrix = Shots(), None
    with open_video(source) as film:
        video = film.streams.video[0]
        size, before = (video.width, video.height), None
        try:
            for frame in film.decode(video):
                matrix = matrix or form_of(video, frame).matrix
                grey = picture_of(frame, size, matrix).grey
                shot = shots.shot
                if shots(grey) != shot and _restarts(colorizer.spec.size, before, grey):
                    cuts.append(len(pts))
                pts.append(frame.pts)
                before = grey
        except av.FFmpegError as exc:
            raise BadImage(
                f"damaged after frame {len(pts)} ({exc.__class__.__name__}); nothing written"
            ) from None
        expected = video.frames
    check_frames(request, len(pts), expected)
    forward = all(p is not None for p in pts) and all(a < b for a, b in pairwise(pts))
    cut_at = cuts if forward else []
    return FilmPlan(tuple(pts), _parts(len(pts), cut_at, parts), rotation_of(source), matrix)


def _restarts(size: int, before, grey) -> bool:  # greys ("L")
    """Whether the Stabiliser starts afresh at `grey` after `before`, at the model's size."""
    change = moved(small_lightness(before, size), small_lightness(grey, size))
    return bool(change.mean() > Stabiliser().cut)


def _parts(frames: int, cuts: list[int], parts: int) -> tuple[tuple[int, int], ...]:
    """Consecutive shots joined into parts of about frames / parts frames each."""
    share, first, out = frames / max(parts, 1), 0, []
    for cut in cuts:
        if cut - first >= share:
            out.append((first, cut))
            first = cut
    out.append((first, frames))
    return tuple(out)


def part_frames(source: Path, plan: FilmPlan, part: int) -> Iterator[Picture]:
    """The frames of one part of the film, in order, as the film core takes them: from a
    seek to the key frame before its first frame (where the seek lands past it, from the
    film's start), each checked against the timestamp the plan read. BadImage where the
    film changed since."""
    first, end = plan.parts[part]
    with open_video(source) as film:
        video = film.streams.video[0]
        size = (video.width, video.height)
        frames = iter(film.decode(video))
        if first:
            film.seek(plan.pts[first], stream=video)  # the key frame at or before it
            frames = _skip_to(film, video, frames, plan.pts[first], first)
        for n, frame in zip(range(first, end), frames, strict=False):
            if frame.pts != plan.pts[n]:
                raise BadImage(f"frame {n} is not where it was when the film was read")
            yield picture_of(frame, size, plan.matrix)
            if n == end - 1:
                return
    raise BadImage(f"truncated: part {part} ends before frame {end}; nothing written")


def _skip_to(film, video, frames, pts: int, first: int):
    """The frames from the one with timestamp `pts` on; from the film's start where the seek
    landed past it (`first` frames skipped)."""
    for frame in frames:
        if frame.pts is not None and frame.pts >= pts:
            if frame.pts == pts:
                yield frame
                yield from frames
                return
            break
    film.seek(0, stream=video)  # landed past it: decode from the start
    for n, frame in enumerate(film.decode(video)):
        if n >= first:
            yield frame
