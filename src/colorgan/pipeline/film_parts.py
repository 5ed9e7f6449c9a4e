"""A part of a film coloured on its own into a lossless file, and the parts joined into the
film's output: what a cluster's workers and its driver do with a film that film_split planned.

A worker decodes its part's frames (film_split.part_frames) and colours them as the film core
colours a film from a hard cut on: a fresh film.Stabiliser, a fresh shots.FrameSources (the
hints only where the part is the film's start, the key frames counted from the part's first
frame), the Colorizer's frames in batches (one at a time where each coloured frame is a
reference for the next), composed in Lab. It keeps them losslessly (FFV1 in Matroska, 8-bit
RGB), published whole. The driver decodes the parts in order and encodes their frames as
film.colorize_video encodes one machine's (film_io's stream, clock and sound, each frame at
its source timestamp), so the encoder is given the very frames one machine gives it.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import replace
from functools import partial
from itertools import chain
from pathlib import Path

from PIL import Image

from colorgan.base.errors import ColorganError
from colorgan.base.files import atomic_file
from colorgan.base.images import BadImage
from colorgan.pipeline.colorizer import Colorizer
from colorgan.pipeline.film import Stabiliser
from colorgan.pipeline.film_io import Clock, Sound, mp4_video_stream, open_video, stored_point
from colorgan.pipeline.film_split import FilmPlan, film_grey, part_frames
from colorgan.pipeline.request import Request
from colorgan.pipeline.shots import FrameSources
from colorgan.spec.hints import Hint

LOSSLESS = ("ffv1", "bgr0")  # a part's codec and its pixels: RGB kept bit for bit


class _Part:
    """One part's frames coloured in order, as the film core colours them from a cut on."""

    def __init__(self, colorizer: Colorizer, request: Request, plan: FilmPlan, first: int):
        self.colorizer, self.request, self.plan = colorizer, request, plan
        references, key_frames = colorizer.film_references(request)
        retrieve = None  # a bank's references for each shot, from its first frame
        if request.settings.bank is not None:
            retrieve = partial(colorizer.bank_references, request=request)
        hinted = bool(request.settings.hints) and first == 0
        keys = {n - first: ref for n, ref in key_frames.items()}  # outside the part: never met
        self.sources = FrameSources(hinted, references, keys, retrieve)
        self.steady = Stabiliser()
        self.frame_request: Request | None = None

    def colour(self, greys: list[Image.Image]) -> list[Image.Image]:
        """The next grey frames in colour, each alone where each is a reference for the next."""
        if self.sources.propagates:
            return [image for grey in greys for image in self._coloured([grey])]
        return self._coloured(greys)

    def _coloured(self, greys: list[Image.Image]) -> list[Image.Image]:
        hinted, references = zip(*[self.sources(grey) for grey in greys], strict=True)
        request = self._in_frames(greys[0])
        l_small, ab = self.colorizer.frames(greys, request, hinted, references)
        images = [
            self.colorizer.compose_frame(grey, self.steady(l_small[k], ab[k]))
            for k, grey in enumerate(greys)
        ]
        if self.sources.propagates and references[-1]:
            [self.sources.previous] = self.colorizer.encode([images[-1]])
        return images

    def _in_frames(self, grey: Image.Image) -> Request:
        """The request with its points (given as players show the film) in the stored
        frames' pixels, checked against a real frame."""
        if self.frame_request is None:
            request, rotation = self.request, self.plan.rotation
            given = request.settings.hints
            if rotation % 360 and given:
                turned = [stored_point(h.x, h.y, rotation, *grey.size) for h in given]
                hints = [Hint(x, y, h.color) for (x, y), h in zip(turned, given, strict=True)]
                settings = replace(request.settings, hints=hints, key_frames=())
                try:
                    request = replace(request, photo=grey, settings=settings)
                except ColorganError as exc:  # a frame of another size than the stream says
                    raise BadImage(str(exc)) from None
            self.frame_request = request
        return self.frame_request


def colour_part(
    colorizer: Colorizer, request: Request, plan: FilmPlan, part: int, target: Path
) -> int:
    """Part `part` of the film of `request` coloured into `target` (lossless, published whole,
    replacing a stale one); returns its number of frames."""
    import av

    first, _ = plan.parts[part]
    colouring = _Part(colorizer, request, plan, first)
    batch, frames = request.settings.frame_batch, 0
    with atomic_file(target) as tmp, av.open(tmp, "w", format="matroska") as out:
        stream = None
        waiting: list = []
        for frame in chain(part_frames(request.photo, plan, part), [None]):
            if frame is not None:
                waiting.append(film_grey(frame))
                if len(waiting) < batch:
                    continue
            for image in colouring.colour(waiting) if waiting else []:
                if stream is None:
                    stream = out.add_stream(LOSSLESS[0], rate=25)
                    stream.width, stream.height, stream.pix_fmt = *image.size, LOSSLESS[1]
                for packet in stream.encode(av.VideoFrame.from_image(image)):
                    out.mux(packet)
                frames += 1
            waiting = []
        for packet in stream.encode(None) if stream is not None else []:
            out.mux(packet)
    return frames


def join_parts(
    request: Request, plan: FilmPlan, parts: Iterable[Path], target: Path, overwrite: bool
) -> int:
    """The coloured parts (their files, in order, each ready when the iteration gives it)
    encoded into `target` as film.colorize_video encodes a film (H.264 in MP4 at the settings'
    video_quality, each frame at its source timestamp, the sound copied or re-encoded),
    published whole; returns the number of frames. BadImage where a part holds other than
    its frames."""
    import av

    source = request.photo
    with open_video(source) as film, atomic_file(target, exclusive=not overwrite) as tmp:
        video = film.streams.video[0]
        audio = film.streams.audio[0] if film.streams.audio else None
        sounds = film.demux(audio) if audio is not None else iter(())
        with av.open(tmp, "w", format="mp4") as out:
            stream = mp4_video_stream(out, video, request.settings.video_quality, plan.rotation)
            sound, clock, n = Sound(out, audio), Clock(), 0
            pending = next(sounds, None)
            for k, path in enumerate(parts):
                with av.open(str(path)) as part:
                    for frame in part.decode(video=0):
                        if n >= plan.parts[k][1]:
                            raise BadImage(f"part {k} holds more than its frames")
                        rgb = av.VideoFrame.from_ndarray(frame.to_ndarray(format="rgb24"))
                        rgb.pts, rgb.time_base = clock(plan.pts[n]), video.time_base
                        pending = _sound_until(sound, sounds, pending, rgb.time)
                        for packet in stream.encode(rgb):
                            out.mux(packet)
                        n += 1
                if n != plan.parts[k][1]:
                    raise BadImage(f"part {k} holds {n - plan.parts[k][0]} frames, not its own")
            for packet in stream.encode(None):
                out.mux(packet)
            _sound_until(sound, sounds, pending, None)
            sound.finish()
    return n


def _sound_until(sound: Sound, sounds, pending, time: float | None):
    """The source's sound packets up to `time` (seconds; None: all) into the output, the
    sound beside the frames it goes with; returns the first packet not yet muxed."""
    while pending is not None and (time is None or _seconds(pending) <= time):
        sound.add(pending)
        pending = next(sounds, None)
    return pending


def _seconds(packet) -> float:
    stamp = packet.pts if packet.pts is not None else packet.dts
    return float(stamp * packet.time_base) if stamp is not None else 0.0
