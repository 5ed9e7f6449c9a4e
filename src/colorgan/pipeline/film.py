"""Video: every frame colorized by either engine, its colour steadied over time, written as
the codec takes it.

A film comes in through film_in (a video file, an image sequence, or a Y4M stream on standard
input), decoded on a thread of its own ahead of the model; its frames go through the model in
batches (or one at a time where each coloured frame is a reference for the next: film_colour,
or, on a cluster's driver, come coloured from the parts its workers made), and each
frame's colour is built and encoded by film_out on another thread, behind it (stages), so the
decoder, the model and the encoder overlap. The output (film_out: H.264, H.265, ProRes, FFV1,
Y4M, PNG or TIFF frames) is written under a temporary name and published whole, so a stopped
run (Ctrl-C included) leaves no partial film; a Y4M stream on standard output is the one
output that goes out as it is made (a failure then exits non-zero). `films_into` is the loop
over a run's films (their names, what is refused, a result each), whoever colours them.

Colorizing each frame alone flickers, so the colour is steadied over time (shots.Stabiliser,
at the model's small size). Each output frame keeps its source's lightness and takes the CIE
Lab colour of its ab at every chroma sample (colour.planes): a steady colour under moving
texture keeps its CIE ab, which a fixed chroma would not (the pan's flicker ratio 0.35 with
the chroma of the small colour, 0.30 in Lab; whole- and sub-pixel motion compensation
measured no better, docs/results/benchmark-history.md). No torch.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from functools import partial
from pathlib import Path

from colorgan.base.errors import SettingError, install_hint
from colorgan.base.images import BadImage
from colorgan.pipeline.batch import FileResult, OutputExists, failed, refuse_input, unclaimed
from colorgan.pipeline.colorizer import Colorizer
from colorgan.pipeline.film_colour import Coloured, Colouring, FilmColour
from colorgan.pipeline.film_in import (
    STDIN,
    form_of,
    is_sequence,
    numbered_frames,
    open_video,
    picture_of,
    rotation_of,
    said,
    timecode_of,
)
from colorgan.pipeline.film_out import STDOUT, Output, Start, published, suffix_of
from colorgan.pipeline.film_restore import restoring
from colorgan.pipeline.request import Request
from colorgan.pipeline.settings import Settings
from colorgan.pipeline.stages import Ahead, Behind


def colorize_video(
    colorizer: Colorizer,
    request: Request,
    target: Path,
    *,
    overwrite: bool = False,
    stabilise: bool = True,
    progress: bool = False,
    colour: Colouring | None = None,
) -> int:
    """Colorize the film of `request` into `target` (film_out.STDOUT: standard output) with
    its settings' codec, its hints on the first shot; returns the number of frames.
    `colour`: what colours its frames, restored where the settings ask (default: the model,
    film_colour.FilmColour, behind film_restore; a cluster's driver gives its parts).
    BadImage for a source that is not a readable film; nothing is published unless the whole
    film was written."""
    check_target(request, target, overwrite)
    try:
        return _colorize(colorizer, request, target, overwrite, (stabilise, progress, colour))
    except BadImage as exc:  # standard output's frames went out as they were made
        if target != STDOUT:
            raise
        raise BadImage(
            str(exc).replace("nothing written", "standard output has what went before")
        ) from None


def check_target(request: Request, target: Path, overwrite: bool) -> None:
    """Whether the film of `request` may go to `target`: standard output takes y4m alone,
    and an output there is kept unless `overwrite` (OutputExists)."""
    if target == STDOUT and request.settings.codec != "y4m":
        raise SettingError("codec", f"standard output takes y4m, not {request.settings.codec}")
    if target != STDOUT and (target.exists() or target.is_symlink()) and not overwrite:
        raise OutputExists(target)


def _colorize(
    colorizer: Colorizer, request: Request, target: Path, overwrite: bool, how: tuple
) -> int:
    """colorize_video's work (`how`: whether to stabilise, to show progress, the colouring)."""
    import av

    settings, source = request.settings, request.photo
    stabilise, progress, colour = how
    rotation = rotation_of(source)
    if colour is None:  # the luma coloured and written: restored where the settings ask
        colour = restoring(
            FilmColour(colorizer, request, rotation, stabilise=stabilise), colorizer, request
        )
    numbered = numbered_frames(source) if source != STDIN and is_sequence(source) else None
    names = numbered.name if numbered else lambda k, suffix: f"{k:06d}{suffix}"
    with open_video(source, settings.frame_rate) as source_file:
        video = source_file.streams.video[0]
        audio = source_file.streams.audio[0] if source_file.streams.audio else None
        expected = numbered.count if numbered else video.frames
        with published(target, settings.codec, overwrite) as place:
            film = _Film(colorizer, request, colour)
            film.open(place, (video, audio), names, (rotation, progress))
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
    """A film's frames on their way through: decoded frames are coloured in order (a
    `Colouring`) and go to the output's thread in order."""

    def __init__(self, colorizer: Colorizer, request: Request, colour: Colouring) -> None:
        self.request, self.colour, self.rotation = request, colour, 0
        self.scale = colorizer.spec.ab_scale
        self.early_sound: list = []
        self.frames = 0
        self.output: Output | None = None
        self.writer = Behind(request.settings.frame_batch)

    def open(self, place, streams: tuple, names, how: tuple) -> None:
        """Where the output goes (`place`: film_out.published's), the source's video and audio
        streams, how frame files are named, (the film's rotation, whether to show progress);
        the output itself opens at the first frame."""
        from tqdm import tqdm

        self.place, (self.video, self.audio), self.names = place, streams, names
        self.rotation, progress = how
        total = self.video.frames or None
        self.bar = tqdm(
            total=total, desc=said(self.request.photo), unit="frame", disable=not progress
        )

    @property
    def decoded(self) -> int:
        return self.frames + self.colour.waiting

    def take(self, kind: str, item) -> None:  # what _decoded yields
        if kind == "start":
            self._start(*item)
        elif kind == "sound":
            if self.output is None:
                self.early_sound.append(item)
            elif self.output.sound is not None:
                self.writer.put(self.output.sound.add, item)
        else:
            self._write(self.colour.add(item))

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

    def _write(self, coloured: Coloured) -> None:
        """Coloured frames to the output's thread, in order."""
        for picture, ab in coloured:
            self.writer.put(self.output.write, picture, ab, self.scale)
        self.frames += len(coloured)
        self.bar.update(len(coloured))

    def finish(self, expected: int) -> None:
        """The last frames, then the encoder's; BadImage where the film held no frames, fewer
        than it says (truncated), or fewer than a key frame's number (check_frames)."""
        self._write(self.colour.flush())
        self.bar.close()
        check_frames(self.request, self.frames, expected)
        self.writer.put(self.output.close)
        self.writer.finish()

    def close(self) -> None:
        """The output's thread let go, whatever became of the film."""
        self.bar.close()
        self.writer.close()


def check_frames(request: Request, frames: int, expected: int) -> None:
    """BadImage where a film of `frames` frames (its stream says `expected`; 0: unsaid)
    held none, fewer than it says (truncated), or fewer than a key frame's number."""
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
    colour = partial(colorize_video, colorizer, overwrite=overwrite, progress=progress)
    return films_into(requests, out_dir, colour)


def films_into(
    requests: Sequence[tuple[Request, Path]],
    out_dir: Path,
    colour: Callable[[Request, Path], object],
) -> Iterator[FileResult]:
    """The loop of colorize_videos, whoever colours each film: each planned (film request,
    relative output path) named, refused and said as colorize_videos says (its doc), and
    `colour(request, target)` (one machine's colorize_video, a cluster's parts) doing the
    film; a result for each."""
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
            colour(request, target)
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
