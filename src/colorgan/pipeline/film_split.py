"""Where a film may be cut into parts that workers colour apart, each part exactly as one
machine colours those frames: `FilmPlan`, `plan_film`.

One machine colours a film in order, and what a frame gets depends on the frames before it in
its shot only: the steadying (film.Stabiliser) starts afresh where the frame's lightness at
the model's size changes as a whole beyond its cut, and what colours a frame
(shots.FrameSources: the hints over the first shot, a key frame to the next cut, a bank's
photos for a shot, the frame before as one more reference) starts afresh at a hard cut
(shots.Shots, on an 8x8 thumbnail). So a part may start only at a frame where both start
afresh: there a worker that starts fresh colours it as one machine does. The film is read
once, here: each frame's timestamp (where a part starts, where the join puts its frames) and
a thumbnail of its luma, cheap to take; where the thumbnail changes enough to be a cut, the
two frames are made grey as the film core makes them and both tests are run as they are
written. Parts join consecutive shots to about the same number of frames. A film whose
timestamps are missing or do not go forward is one part. No torch; PyAV inside the functions.
"""

from __future__ import annotations

from dataclasses import dataclass
from itertools import pairwise
from pathlib import Path

import numpy as np
from PIL import Image

from colorgan.base.images import BadImage
from colorgan.colour.pixels import lightness_grey, small_lightness
from colorgan.pipeline.colorizer import Colorizer
from colorgan.pipeline.film import Stabiliser
from colorgan.pipeline.film_io import open_video, rotation_of
from colorgan.pipeline.request import Request
from colorgan.pipeline.shots import CUT, SIDE, Shots

NEAR = 0.5  # a luma thumbnail's change above NEAR * CUT is tested as a cut, as written


@dataclass(frozen=True)
class FilmPlan:
    """A film read once: its frames' timestamps (None where it has none), its parts (first
    frame, frame after the last) in order, and its display rotation."""

    pts: tuple[int | None, ...]
    parts: tuple[tuple[int, int], ...]
    rotation: int

    @property
    def frames(self) -> int:
        return len(self.pts)


def film_grey(frame) -> Image.Image:  # PyAV's decoded frame
    """A decoded frame as the film core sees it: the grey of its CIE lightness."""
    return lightness_grey(frame.to_image().convert("RGB"))


def plan_film(colorizer: Colorizer, request: Request, parts: int) -> FilmPlan:
    """The film of `request` read once and cut into at most `parts` parts, each starting
    where one machine's colouring starts afresh (the module's doc). BadImage where the film
    is damaged, holds no frames or fewer than it says, or fewer than a key frame's number,
    as the film core says it: nothing is coloured then."""
    import av

    source = request.photo
    pts: list[int | None] = []
    cuts: list[int] = []
    with open_video(source) as film:
        video = film.streams.video[0]
        video.thread_type = "AUTO"  # decoding's threads change no frame
        before = thumb_before = None
        try:
            for frame in film.decode(video):
                thumb = _luma_thumbnail(frame)
                near = thumb_before is not None and _change(thumb_before, thumb) > NEAR * CUT
                if near and _starts_afresh(colorizer, before, frame):
                    cuts.append(len(pts))
                pts.append(frame.pts)
                before, thumb_before = frame, thumb
        except av.FFmpegError as exc:
            raise BadImage(
                f"damaged after frame {len(pts)} ({exc.__class__.__name__}); nothing written"
            ) from None
        expected = video.frames
    _check_frames(request, len(pts), expected)
    forward = all(p is not None for p in pts) and all(a < b for a, b in pairwise(pts))
    return FilmPlan(
        tuple(pts), _parts(len(pts), cuts if forward else [], parts), rotation_of(source)
    )


def _check_frames(request: Request, frames: int, expected: int) -> None:
    """The film core's refusals, made before anything is coloured."""
    if not frames:
        raise BadImage("its video stream has no frames; nothing written")
    last_key = max((n for n, _ in request.settings.key_frames), default=-1)
    if last_key >= frames:
        raise BadImage(
            f"key frame {last_key} is past the film's last ({frames} frames, numbered from 0); "
            "nothing written"
        )
    if expected and frames < expected:
        raise BadImage(f"truncated: {frames} of its {expected} frames decode; nothing written")


def _luma_thumbnail(frame) -> np.ndarray:
    """The frame's luma on the shots' thumbnail (an estimate of its lightness's)."""
    luma = Image.fromarray(frame.to_ndarray(format="gray"))
    return small_lightness(luma, SIDE)


def _change(before: np.ndarray, after: np.ndarray) -> float:
    step = after - before
    return float(np.abs(step - step.mean()).mean())


def _starts_afresh(colorizer: Colorizer, before, frame) -> bool:
    """Whether one machine's colouring starts afresh at `frame` after `before`: a hard cut
    of shots.Shots, and a restart of film.Stabiliser at the model's size (each run as it is,
    on the frames' greys)."""
    greys = [film_grey(before), film_grey(frame)]
    shots = Shots()
    if [shots(grey) for grey in greys] != [0, 1]:
        return False
    small = [small_lightness(grey, colorizer.spec.size) for grey in greys]
    steady = Stabiliser()
    steady(small[0], np.zeros((2, *small[0].shape), np.float32))
    fresh = np.ones((2, *small[1].shape), np.float32)
    return bool(np.array_equal(steady(small[1], fresh), fresh))  # any past weight shows


def _parts(frames: int, cuts: list[int], parts: int) -> tuple[tuple[int, int], ...]:
    """Consecutive shots joined into parts of about frames / parts frames each."""
    share, first, out = frames / max(parts, 1), 0, []
    for cut in cuts:
        if cut - first >= share:
            out.append((first, cut))
            first = cut
    out.append((first, frames))
    return tuple(out)


def part_frames(source: Path, plan: FilmPlan, part: int):  # -> Iterator of PyAV's frames
    """The decoded frames of one part of the film, in order: from a seek to the key frame
    before its first frame (where the seek lands past it, from the film's start), each
    checked against the timestamp the plan read. BadImage where the film changed since."""
    first, end = plan.parts[part]
    with open_video(source) as film:
        video = film.streams.video[0]
        video.thread_type = "AUTO"
        frames = iter(film.decode(video))
        if first:
            film.seek(plan.pts[first], stream=video)  # the key frame at or before it
            frames = _skip_to(film, video, frames, plan.pts[first], first)
        for n, frame in zip(range(first, end), frames, strict=False):
            if frame.pts != plan.pts[n]:
                raise BadImage(f"frame {n} is not where it was when the film was read")
            yield frame
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
