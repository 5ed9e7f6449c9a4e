"""Video: every frame colorized by either engine, its colour steadied over time, written as
the codec takes it.

A film comes in through film_in (a video file, an image sequence, or a Y4M stream on standard
input), decoded on a thread of its own ahead of the model; its frames go through the model in
batches (or one at a time where each coloured frame is a reference for the next), and each
frame's colour is built and encoded by film_out on another thread, behind it (stages), so the
decoder, the model and the encoder overlap. The output (film_out: H.264, H.265, ProRes, FFV1,
Y4M, PNG or TIFF frames) is written under a temporary name and published whole, so a stopped
run (Ctrl-C included) leaves no partial film; a Y4M stream on standard output is the one
output that goes out as it is made (a failure then exits non-zero).

Colorizing each frame alone flickers, so the colour is steadied over time (shots.Stabiliser,
at the model's small size). Each output frame keeps its source's lightness and takes the CIE
Lab colour of its ab at every chroma sample (colour.planes): a steady colour under moving
texture keeps its CIE ab, which a fixed chroma would not (the pan's flicker ratio 0.35 with
the chroma of the small colour, 0.30 in Lab; whole- and sub-pixel motion compensation
measured no better, docs/results/benchmark-history.md). No torch.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import replace
from functools import partial
from pathlib import Path

import numpy as np
from PIL import Image

from colorgan.base.errors import ColorganError, SettingError, install_hint
from colorgan.base.images import BadImage
from colorgan.colour import planes
from colorgan.pipeline.batch import FileResult, OutputExists, failed, refuse_input, unclaimed
from colorgan.pipeline.colorizer import Colorizer
from colorgan.pipeline.film_in import (
    STDIN,
    Picture,
    form_of,
    is_sequence,
    numbered_frames,
    open_video,
    picture_of,
    rotation_of,
    said,
    stored_point,
    timecode_of,
)
from colorgan.pipeline.film_out import STDOUT, Output, Start, published, suffix_of
from colorgan.pipeline.reference import Reference
from colorgan.pipeline.request import Request
from colorgan.pipeline.settings import Settings
from colorgan.pipeline.shots import FrameSources, Stabiliser
from colorgan.pipeline.stages import Ahead, Behind
from colorgan.spec.hints import Hint
from colorgan.spec.references import SIZE


def colorize_video(
    colorizer: Colorizer,
    request: Request,
    target: Path,
    *,
    overwrite: bool = False,
    stabilise: bool = True,
    progress: bool = False,
) -> int:
    """Colorize the film of `request` into `target` (film_out.STDOUT: standard output) with
    its settings' codec, its hints on the first shot; returns the number of frames.
    BadImage for a source that is not a readable film; nothing is published unless the
    whole film was written."""
    settings = request.settings
    if target == STDOUT and settings.codec != "y4m":
        raise SettingError("codec", f"standard output takes y4m, not {settings.codec}")
    if target != STDOUT and (target.exists() or target.is_symlink()) and not overwrite:
        raise OutputExists(target)
    try:
        return _colorize(colorizer, request, target, overwrite, (stabilise, progress))
    except BadImage as exc:  # standard output's frames went out as they were made
        if target != STDOUT:
            raise
        raise BadImage(
            str(exc).replace("nothing written", "standard output has what went before")
        ) from None


def _colorize(
    colorizer: Colorizer, request: Request, target: Path, overwrite: bool, how: tuple
) -> int:
    """colorize_video's work (`how`: whether to stabilise, whether to show progress)."""
    import av

    settings, source = request.settings, request.photo
    stabilise, progress = how
    rotation = rotation_of(source)
    numbered = numbered_frames(source) if source != STDIN and is_sequence(source) else None
    names = numbered.name if numbered else lambda k, suffix: f"{k:06d}{suffix}"
    with open_video(source, settings.frame_rate) as source_file:
        video = source_file.streams.video[0]
        audio = source_file.streams.audio[0] if source_file.streams.audio else None
        expected = numbered.count if numbered else video.frames
        with published(target, settings.codec, overwrite) as place:
            film = _Film(colorizer, request, stabilise, rotation)
            film.open(place, (video, audio), names, progress)
            try:
                with Ahead(_decoded(source_file, video, audio), settings.frame_batch) as items:
                    for kind, item in items:
                        film.take(kind, item)
                film.finish(expected)
            except av.FFmpegError as exc:  # damaged: nothing is published
                raise BadImage(
                    f"damaged after frame {film.decoded} ({exc.__class__.__name__}); "
                    "nothing written"
                ) from None
            finally:
                film.close()
    return film.frames


def _decoded(source_file, video, audio) -> Iterator[tuple[str, object]]:
    """The source demuxed and decoded, in order: ("start", (its form, timecode)) at its first
    frame, then ("picture", Picture) for each frame and ("sound", packet) for its audio."""
    size, form = (video.width, video.height), None
    streams = [s for s in (video, audio) if s is not None]
    for packet in source_file.demux(*streams):
        if packet.stream is audio:
            yield "sound", packet
            continue
        for frame in packet.decode():
            if form is None:
                form = form_of(video, frame)
                yield "start", (form, timecode_of(source_file, video, frame), frame)
            yield "picture", picture_of(frame, size, form.matrix)


class _Film:
    """A film's frames on their way through: decoded frames wait for a batch, go through the
    model, are steadied over time, and go to the output's thread in order."""

    def __init__(
        self, colorizer: Colorizer, request: Request, stabilise: bool, rotation: int
    ) -> None:
        self.colorizer, self.request, self.rotation = colorizer, request, rotation
        self.frame_request: Request | None = None
        references, key_frames = colorizer.film_references(request)
        self.last_key = max(key_frames, default=-1)
        retrieve = None  # a bank's references for each shot, from its first frame
        if request.settings.bank is not None:
            retrieve = partial(colorizer.bank_references, request=request)
        self.sources = FrameSources(bool(request.settings.hints), references, key_frames, retrieve)
        anchored = Stabiliser.ANCHORED if self.sources.propagates else {}
        self.steady = Stabiliser(**anchored) if stabilise else None
        self.waiting: list[Picture] = []
        self.early_sound: list = []
        self.frames = 0
        self.output: Output | None = None
        self.writer = Behind(request.settings.frame_batch)

    def open(self, place, streams: tuple, names, progress: bool) -> None:
        """Where the output goes (`place`: film_out.published's), the source's video and audio
        streams, how frame files are named; the output itself opens at the first frame."""
        from tqdm import tqdm

        self.place, (self.video, self.audio), self.names = place, streams, names
        total = self.video.frames or None
        self.bar = tqdm(
            total=total, desc=said(self.request.photo), unit="frame", disable=not progress
        )

    @property
    def decoded(self) -> int:
        return self.frames + len(self.waiting)

    def take(self, kind: str, item) -> None:  # what _decoded yields
        if kind == "start":
            self._start(*item)
        elif kind == "sound":
            if self.output is None:
                self.early_sound.append(item)
            elif self.output.sound is not None:
                self.writer.put(self.output.sound.add, item)
        else:
            self.waiting.append(item)
            if len(self.waiting) == self.request.settings.frame_batch:
                self.flush()

    def _start(self, form, timecode, frame) -> None:
        video = self.video
        rate = video.average_rate or video.guessed_rate or 25
        rotation = self.rotation or int(round(frame.rotation or 0))
        time_base = video.time_base or frame.time_base or 1 / rate
        start = Start(
            form, (video.width, video.height), rate, time_base, rotation, timecode, self.names
        )
        settings = self.request.settings
        self.output = Output(self.place, settings.codec, settings.video_quality, start, self.audio)
        for packet in self.early_sound if self.output.sound is not None else ():
            self.writer.put(self.output.sound.add, packet)
        self.early_sound = []

    def flush(self) -> None:
        """The waiting frames through the model, then to the output's thread."""
        if not self.waiting:
            return
        greys = [picture.grey for picture in self.waiting]
        if self.sources.propagates:  # each frame needs the one before it, in colour
            coloured = [ab for grey in greys for ab in self._coloured([grey])]
        else:
            coloured = self._coloured(greys)
        scale = self.colorizer.spec.ab_scale
        for picture, ab in zip(self.waiting, coloured, strict=True):
            self.writer.put(self.output.write, picture, ab, scale)
        self.frames += len(self.waiting)
        self.bar.update(len(self.waiting))
        self.waiting = []

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

    def _in_frames(self, grey) -> Request:  # a frame's grey
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
        self.writer.put(self.output.close)
        self.writer.finish()

    def close(self) -> None:
        """The output's thread let go, whatever became of the film."""
        self.bar.close()
        self.writer.close()


def colorize_videos(
    colorizer: Colorizer,
    videos: Sequence[tuple[Path, Path]],
    out_dir: Path,
    settings: Settings | None = None,
    *,
    overwrite: bool = False,
    progress: bool = False,
) -> Iterator[FileResult]:
    """Each (source, relative output path) into `out_dir` with the settings' codec (the
    path's suffix becomes the codec's: film.mp4, film.mov, a folder `film` of frames; the
    path film_out.STDOUT: standard output), as `settings` say, a result for each: its hints
    on its first frame, held over its first shot; its references on every frame; its key
    frames (frame number from 0, colour photo) each held from that frame to the next hard
    cut. A source is a video file, an image sequence (a folder of numbered frames or a
    printf pattern, at the settings' frame_rate) or film_in.STDIN. Every request is checked
    now, before anything is written. Films that would have one output name (film.mp4,
    film.avi) become film.mp4 and film-2.mp4; no output replaces one of the films or their
    folders, overwrite or not (a photo's output is never a film's)."""
    requests = colorizer.plan(videos, settings or Settings())
    return _colorize_videos(colorizer, requests, out_dir, overwrite, progress)


def _colorize_videos(
    colorizer: Colorizer,
    requests: Sequence[tuple[Request, Path]],
    out_dir: Path,
    overwrite: bool,
    progress: bool,
) -> Iterator[FileResult]:
    if not requests:  # photos alone: PyAV is not even imported
        return
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
    reads = frozenset(
        path.resolve()
        for request, _ in requests
        for path in (request.photo, *[request.photo.parent] * is_sequence(request.photo))
    )
    for request, rel in requests:
        source = request.photo
        if rel == STDOUT:
            target = STDOUT
        else:
            suffix = suffix_of(request.settings.codec)
            target = unclaimed(out_dir / rel.with_suffix(suffix), claimed)
        try:
            if target != STDOUT:
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
