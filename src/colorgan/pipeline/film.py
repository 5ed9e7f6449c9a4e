"""Video: every frame colorized by either engine, its colour steadied over time.

Frames are decoded with PyAV (any container and codec FFmpeg reads), go through the model in
batches, and are written as H.264 in MP4 at the input's size and frame rate with the input's
frame timestamps; the audio stream is copied as it is. The file is written under a temporary
name and published whole, so a stopped run (Ctrl-C included) leaves no partial video.

Colorizing each frame alone flickers: the colour of a wall changes from frame to frame. The
`Stabiliser` keeps a running average of the predicted colour (at the model's small size),
pixel by pixel, where the frame's lightness there has not changed (beyond the whole frame's
change of exposure, which old film has from frame to frame): it follows moving objects
(where lightness changes, the new prediction wins) and starts afresh at a hard cut (where the
whole frame's lightness changes). Frames are composed in CIE Lab (`compose_lab`), not in
YCbCr as photos are: a steady colour under moving texture (a pan) must keep its CIE ab, which
YCbCr's fixed chroma does not (the pan's flicker ratio 0.35 in YCbCr, 0.30 in Lab; whole- and
sub-pixel motion compensation measured no better, docs/results/benchmark-history.md). No torch.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import replace
from functools import partial
from pathlib import Path

import numpy as np
from PIL import Image

from colorgan.base.errors import ColorganError, install_hint
from colorgan.base.files import atomic_file
from colorgan.base.images import BadImage
from colorgan.colour.pixels import lightness_grey
from colorgan.pipeline.batch import FileResult, OutputExists, failed, refuse_input, unclaimed
from colorgan.pipeline.colorizer import Colorizer
from colorgan.pipeline.film_io import (
    Clock,
    Sound,
    mp4_video_stream,
    open_video,
    rotation_of,
    stored_point,
)
from colorgan.pipeline.request import Request
from colorgan.pipeline.settings import Settings
from colorgan.pipeline.shots import FrameSources
from colorgan.spec.hints import Hint


class Stabiliser:
    """Running average of the small ab over frames, per pixel, where lightness holds still.

    Changes of L are taken less the whole frame's mean change, so a frame brightening or
    darkening as a whole (the exposure flicker of old film) counts as still. `keep`: the
    weight of the past where nothing moved (0: per-frame colour). `motion`: a change of
    normalized L (of 2) at which the past's weight has fallen to a third. `cut`: the frame's
    mean change of L that starts the average afresh. The defaults were chosen on clips
    made from training photos (benchmarks/video.py).
    """

    def __init__(self, keep: float = 0.95, motion: float = 0.15, cut: float = 0.12) -> None:
        self.keep, self.motion, self.cut = keep, motion, cut
        self.l_prev: np.ndarray | None = None
        self.ab: np.ndarray | None = None

    def __call__(self, l_small: np.ndarray, ab: np.ndarray) -> np.ndarray:
        change = None
        if self.l_prev is not None:
            step = l_small - self.l_prev
            change = np.abs(step - step.mean())  # the whole frame's exposure change is not motion
        if change is None or change.mean() > self.cut:
            self.ab = ab.copy()
        else:  # where the past does not match (moving things) the new prediction wins
            weight = self.keep * np.exp(-change / self.motion)
            self.ab = weight * self.ab + (1 - weight) * ab
        self.l_prev = l_small
        return self.ab


def colorize_video(
    colorizer: Colorizer,
    request: Request,
    target: Path,
    *,
    overwrite: bool = False,
    stabilise: bool = True,
    progress: bool = False,
) -> int:
    """Colorize the film of `request` into `target` (H.264 in MP4 at the settings'
    video_quality, x264's CRF; the audio copied), as its settings say, its hints on the
    first shot; returns the number of frames. BadImage for a file that is not a readable
    video; nothing is published unless the whole film was written."""
    import av
    from tqdm import tqdm

    if target.exists() and not overwrite:
        raise OutputExists(target)
    source = request.photo
    rotation = rotation_of(source)
    quality = request.settings.video_quality
    with open_video(source) as source_file, atomic_file(target, exclusive=not overwrite) as tmp:
        video = source_file.streams.video[0]
        audio = source_file.streams.audio[0] if source_file.streams.audio else None
        with av.open(tmp, "w", format="mp4") as out:
            total = video.frames or None
            bar = tqdm(total=total, desc=source.name, unit="frame", disable=not progress)
            film = _Film(
                colorizer,
                request,
                (out, mp4_video_stream(out, video, quality, rotation)),
                rotation,
                Stabiliser() if stabilise else None,
                bar,  # a tqdm bar
            )
            sound = Sound(out, audio)
            try:
                for packet in source_file.demux(*[s for s in (video, audio) if s is not None]):
                    if packet.stream is audio:
                        sound.add(packet)
                    else:
                        film.add(packet.decode())
            except av.FFmpegError as exc:  # damaged: nothing is published
                raise BadImage(
                    f"damaged after frame {film.decoded} "
                    f"({exc.__class__.__name__}); nothing written"
                ) from None
            film.finish(video.frames)
            sound.finish()
    return film.frames


class _Film:
    """A film's frames on their way through: decoded frames wait for a batch, go through the
    model, are steadied over time, composed in Lab and encoded in order."""

    def __init__(
        self,
        colorizer: Colorizer,
        request: Request,
        output: tuple,
        rotation: int,
        steady: Stabiliser | None,
        bar,
    ) -> None:
        self.colorizer, self.request = colorizer, request
        self.out, self.stream = output  # PyAV's container and its video stream
        self.rotation, self.steady, self.bar = rotation, steady, bar
        self.frame_request: Request | None = None
        references, key_frames = colorizer.film_references(request)
        self.last_key = max(key_frames, default=-1)
        retrieve = None  # a bank's references for each shot, from its first frame
        if request.settings.bank is not None:
            retrieve = partial(colorizer.bank_references, request=request)
        self.sources = FrameSources(bool(request.settings.hints), references, key_frames, retrieve)
        self.clock = Clock()
        self.waiting: list = []
        self.frames = 0

    @property
    def decoded(self) -> int:
        return self.frames + len(self.waiting)

    def add(self, frames) -> None:  # PyAV's decoded frames
        for frame in frames:
            self.waiting.append(frame)
            if len(self.waiting) == self.request.settings.frame_batch:
                self.flush()

    def flush(self) -> None:
        """The waiting frames through the model and into the MP4."""
        if not self.waiting:
            return
        import av

        greys = [lightness_grey(frame.to_image().convert("RGB")) for frame in self.waiting]
        if self.sources.propagates:  # each frame needs the one before it, in colour
            coloured = [self._coloured([grey]) for grey in greys]
        else:
            coloured = [self._coloured(greys)]
        images = [image for batch in coloured for image in batch]
        for frame, image in zip(self.waiting, images, strict=True):
            out = av.VideoFrame.from_image(image)
            out.pts, out.time_base = self.clock(frame.pts), frame.time_base
            for packet in self.stream.encode(out):
                self.out.mux(packet)
        self.frames += len(self.waiting)
        self.bar.update(len(self.waiting))
        self.waiting.clear()

    def _coloured(self, greys: list[Image.Image]) -> list[Image.Image]:
        """Grey frames, the next of the film, in colour: through the model in one run,
        steadied, composed; each coloured frame then serves the next as a reference, where
        the film has any (FrameSources.follow)."""
        hinted, references = zip(*[self.sources(grey) for grey in greys], strict=True)
        l_small, ab = self.colorizer.frames(greys, self._in_frames(greys[0]), hinted, references)
        images = []
        for k, grey in enumerate(greys):
            colour_ab = self.steady(l_small[k], ab[k]) if self.steady is not None else ab[k]
            images.append(self.colorizer.compose_frame(grey, colour_ab))
        if self.sources.propagates and references[-1]:
            [self.sources.previous] = self.colorizer.encode([images[-1]])
        return images

    def _in_frames(self, grey: Image.Image) -> Request:
        """The request as the stored frames see it: its points (given as players show the
        film) turned into the frames' own pixels, checked against a real frame."""
        if self.frame_request is None:
            request = self.request
            given = request.settings.hints
            if self.rotation % 360 and given:
                size = grey.size
                turned = [stored_point(h.x, h.y, self.rotation, *size) for h in given]
                hints = [Hint(x, y, h.color) for (x, y), h in zip(turned, given, strict=True)]
                settings = replace(request.settings, hints=hints, key_frames=())
                try:
                    request = replace(request, photo=grey, settings=settings)
                except ColorganError as exc:  # a frame of another size than the stream says
                    raise BadImage(str(exc)) from None
            self.frame_request = request
        return self.frame_request

    def finish(self, expected: int) -> None:
        """The last frames, then the encoder's; BadImage where the film held no frames, fewer
        than it says (truncated), or fewer than a key frame's number."""
        self.flush()
        self.bar.close()
        if not self.frames:
            raise BadImage("its video stream has no frames; nothing written")
        if self.last_key >= self.frames:
            raise BadImage(
                f"key frame {self.last_key} is past the film's last ({self.frames} frames, "
                "numbered from 0); nothing written"
            )
        if expected and self.frames < expected:
            raise BadImage(
                f"truncated: {self.frames} of its {expected} frames decode; nothing written"
            )
        for packet in self.stream.encode(None):
            self.out.mux(packet)


def colorize_videos(
    colorizer: Colorizer,
    videos: Sequence[tuple[Path, Path]],
    out_dir: Path,
    settings: Settings | None = None,
    *,
    overwrite: bool = False,
    progress: bool = False,
) -> Iterator[FileResult]:
    """Each (source, relative output path) into `out_dir` as MP4, as `settings` say, a
    result for each: its hints on its first frame, held over its first shot; its references
    on every frame; its key frames (frame number from 0, colour photo) each held from that
    frame to the next hard cut. Every request is checked now, before anything is written.
    Films that would have one output name (film.mp4, film.avi) become film.mp4 and
    film-2.mp4; no output replaces one of the films, overwrite or not (a photo's is never an
    MP4)."""
    requests = colorizer.plan(videos, settings or Settings())
    return _colorize_videos(colorizer, requests, out_dir, overwrite, progress)


def _colorize_videos(
    colorizer: Colorizer,
    requests: Sequence[tuple[Request, Path]],
    out_dir: Path,
    overwrite: bool,
    progress: bool,
) -> Iterator[FileResult]:
    try:
        import av  # noqa: F401 - only to know it is there
    except ModuleNotFoundError:  # the light install: the photos went on, the films say why
        for request, _ in requests:
            yield FileResult(
                request.photo,
                error=f"films need PyAV, which this install leaves out: {install_hint('video')}",
            )
        return
    claimed: set[Path] = set()
    reads = frozenset(request.photo.resolve() for request, _ in requests)
    for request, rel in requests:
        source = request.photo
        target = unclaimed(out_dir / rel.with_suffix(".mp4"), claimed)
        try:
            refuse_input(target, reads)
            colorize_video(colorizer, request, target, overwrite=overwrite, progress=progress)
        except FileExistsError:
            yield failed(source, OutputExists(target))
        except (BadImage, OSError) as exc:
            yield failed(source, exc)
        except Exception as exc:  # FFmpeg's errors mid-film fail that film only
            if not exc.__class__.__module__.startswith("av"):
                raise
            yield FileResult(source, error=f"FFmpeg could not colour it ({exc})")
        else:
            yield FileResult(source, target)
