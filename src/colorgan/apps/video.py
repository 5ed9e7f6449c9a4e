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
sub-pixel motion compensation measured no better, BENCHMARKS.md). No torch.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from pathlib import Path

import numpy as np
from PIL import Image

from colorgan.batch import FileResult, refuse_input, unclaimed
from colorgan.colorizer import Colorizer
from colorgan.colour.pixels import compose_lab, lightness_grey, small_lightness
from colorgan.errors import ColorganError
from colorgan.files import atomic_file
from colorgan.hints import Hint
from colorgan.images import MAX_PIXELS, MIN_SIDE, BadImage


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


class FirstShot:
    """The user's colour hints for a film's first frame, carried while its first shot lasts:
    up to the first hard cut, measured as the Stabiliser measures it (the mean change of L,
    less the whole frame's change, over `cut`). Points are in the decoded frame's pixels."""

    def __init__(self, hints: Sequence[Hint] | None, size: int, cut: float = 0.12) -> None:
        self.hints, self.size, self.cut = list(hints or []), size, cut
        self.prev: np.ndarray | None = None
        self.over = not self.hints

    def __call__(self, grey: Image.Image) -> list[Hint] | None:
        if self.over:
            return None
        l_small = small_lightness(grey, self.size)
        if self.prev is not None:
            step = l_small - self.prev
            self.over = bool(np.abs(step - step.mean()).mean() > self.cut)
        self.prev = l_small
        return None if self.over else self.hints


def frame_size(source: Path) -> tuple[int, int] | None:
    """A film's frame size (None where it cannot be read: it fails later with its reason)."""
    try:
        with _open_video(source) as f:
            return f.streams.video[0].width, f.streams.video[0].height
    except (BadImage, ImportError):
        return None


def colorize_video(
    colorizer: Colorizer,
    source: Path,
    target: Path,
    overwrite: bool = False,
    quality: int = 20,
    batch: int = 8,
    stabilise: bool = True,
    progress: bool = False,
    saturation: float | None = None,
    hints: Sequence[Hint] | None = None,
) -> int:
    """Colorize the video `source` into `target` (H.264 in MP4, the audio copied); returns
    the number of frames. `quality`: x264's CRF (lower is better; 18-23 look alike).
    BadImage for a file that is not a readable video."""
    import av
    from tqdm import tqdm

    if target.exists() and not overwrite:
        raise BadImage(f"{target} exists (pass --overwrite to replace it)")
    rotation = _rotation(source)
    with _open_video(source) as source_file:
        video = source_file.streams.video[0]
        audio = source_file.streams.audio[0] if source_file.streams.audio else None
        steady = Stabiliser() if stabilise else None
        shot = FirstShot(hints, colorizer.engine.size)
        bar = tqdm(total=video.frames or None, desc=source.name, unit="frame",
                   disable=not progress)  # fmt: skip
        frames = 0
        with atomic_file(target, exclusive=not overwrite) as tmp, bar:
            with av.open(tmp, "w", format="mp4") as out:
                out_video = out.add_stream("libx264", rate=video.average_rate or 25)
                out_video.width, out_video.height = video.width, video.height
                # 4:2:0 wants even sides; an odd-sided film keeps its size in 4:4:4
                even = video.width % 2 == 0 and video.height % 2 == 0
                out_video.pix_fmt = "yuv420p" if even else "yuv444p"
                out_video.options = {"crf": str(quality)}
                # the input's own clock: a variable-rate film's times survive the encoder
                out_video.time_base = out_video.codec_context.time_base = video.time_base
                if rotation:
                    out_video.set_display_rotation(rotation)  # players turn it as the input
                sound = Sound(out, audio)
                waiting: list = []
                clock = Clock()

                def flush() -> None:
                    nonlocal frames
                    for packet in _colour_frames(
                        colorizer, waiting, steady, out_video, clock, saturation, shot
                    ):
                        out.mux(packet)
                    frames += len(waiting)
                    bar.update(len(waiting))
                    waiting.clear()

                streams = [s for s in (video, audio) if s is not None]
                try:
                    for packet in source_file.demux(*streams):
                        if packet.stream is audio:
                            sound.add(packet)
                            continue
                        for frame in packet.decode():
                            waiting.append(frame)
                            if len(waiting) == batch:
                                flush()
                except av.FFmpegError as exc:  # damaged: nothing is published
                    where = frames + len(waiting)
                    raise BadImage(f"damaged after frame {where} ({exc.__class__.__name__}); "
                                   "nothing written") from None  # fmt: skip
                flush()
                if not frames:
                    raise BadImage("its video stream has no frames; nothing written")
                if video.frames and frames < video.frames:  # a truncated file says how many
                    raise BadImage(f"truncated: {frames} of its {video.frames} frames decode; "
                                   "nothing written")  # fmt: skip
                for packet in out_video.encode(None):
                    out.mux(packet)
                sound.finish()
    return frames


def _open_video(source: Path):
    """The source opened for decoding, with a video stream of a size colorgan takes."""
    import av

    try:
        source_file = av.open(str(source))
    except (av.FFmpegError, OSError, ValueError) as exc:
        raise BadImage(f"not a readable video ({exc.__class__.__name__})") from None
    if not source_file.streams.video:
        source_file.close()
        raise BadImage("no video stream in it")
    video = source_file.streams.video[0]
    w, h = video.width, video.height
    if w < MIN_SIDE or h < MIN_SIDE or w * h > MAX_PIXELS:
        source_file.close()
        raise BadImage(f"its frames are {w}x{h}: colorgan takes {MIN_SIDE} px to "
                       f"{MAX_PIXELS // 1_000_000} MP")  # fmt: skip
    return source_file


def _rotation(source: Path) -> int:
    """The first frame's display rotation in degrees (a phone's upright film), 0 if none."""
    import av

    with _open_video(source) as f:
        try:
            for frame in f.decode(f.streams.video[0]):
                return int(round(frame.rotation or 0))
        except av.FFmpegError:
            return 0
    return 0


class Clock:
    """Output timestamps that only go forward: a variable-rate film's repeated or missing
    timestamps would stop the MP4 muxer; each frame keeps its own time where it can."""

    def __init__(self) -> None:
        self.last: int | None = None

    def __call__(self, pts: int | None) -> int:
        pts = (self.last + 1 if self.last is not None else 0) if pts is None else pts
        if self.last is not None and pts <= self.last:
            pts = self.last + 1
        self.last = pts
        return pts


class Sound:
    """The input's audio into the MP4: copied where MP4 holds its codec, else re-encoded as
    AAC (an old camcorder's PCM)."""

    COPIED = {"aac", "mp3", "ac3", "eac3", "opus", "alac", "flac"}

    def __init__(self, out, audio) -> None:
        import av

        self.out, self.audio = out, audio
        self.copy = audio is not None and audio.codec_context.name in self.COPIED
        self.stream = self.resampler = None
        if audio is None:
            return
        if self.copy:
            self.stream = out.add_stream_from_template(audio)
        else:
            rate = audio.codec_context.sample_rate or 48000
            self.stream = out.add_stream("aac", rate=rate)
            self.resampler = av.AudioResampler(format="fltp", layout=self.stream.layout,
                                               rate=rate)  # fmt: skip

    def add(self, packet) -> None:
        if self.copy:
            if packet.dts is not None:
                packet.stream = self.stream
                self.out.mux(packet)
            return
        for frame in packet.decode():
            for part in self.resampler.resample(frame):
                part.pts = None
                self.out.mux(self.stream.encode(part))

    def finish(self) -> None:
        if self.stream is not None and not self.copy:
            self.out.mux(self.stream.encode(None))


def colorize_videos(
    colorizer: Colorizer,
    videos: Sequence[tuple[Path, Path]],
    out_dir: Path,
    overwrite: bool = False,
    batch: int = 8,
    progress: bool = False,
    quality: int = 20,
    saturation: float | None = None,
    hints: dict[str, Sequence[Hint]] | None = None,
) -> Iterator[FileResult]:
    """Each (source, relative output path) into `out_dir` as MP4, a result for each. Films
    that would have one output name (film.mp4, film.avi) become film.mp4 and film-2.mp4; no
    output replaces one of the films, --overwrite or not (a photo's is never an MP4)."""
    if not 0 <= quality <= 51:
        raise ColorganError(f"--video-quality is x264's CRF, 0 to 51 (not {quality})")
    if batch < 1:
        raise ColorganError(f"--batch must be at least 1 (it is {batch})")
    try:
        import av  # noqa: F401 - only to know it is there
    except ModuleNotFoundError:  # the light install: the photos went on, the films say why
        for source, _ in videos:
            yield FileResult(source, error="films need PyAV, which this install leaves out: "
                                           "pip install 'colorgan[video]'")  # fmt: skip
        return
    claimed: set[Path] = set()
    reads = frozenset(source.resolve() for source, _ in videos)
    for source, rel in videos:
        target = unclaimed(out_dir / rel.with_suffix(".mp4"), claimed)
        try:
            refuse_input(target, reads)
            colorize_video(colorizer, source, target, overwrite, quality, batch,
                           progress=progress, saturation=saturation,
                           hints=(hints or {}).get(source.name))  # fmt: skip
        except FileExistsError:
            yield FileResult(source, error=f"{target} exists (pass --overwrite to replace it)")
        except (BadImage, OSError) as exc:
            yield FileResult(source, error=str(exc))
        except Exception as exc:  # noqa: BLE001 - FFmpeg's errors mid-film fail that film only
            if not exc.__class__.__module__.startswith("av"):
                raise
            yield FileResult(source, error=f"FFmpeg could not colour it ({exc})")
        else:
            yield FileResult(source, target)


def _colour_frames(
    colorizer: Colorizer,
    frames: list,
    steady: Stabiliser | None,
    out_video,  # noqa: ANN001 - PyAV's video stream
    clock: Clock,
    saturation: float | None,
    shot: FirstShot,
) -> list:
    """Decoded frames -> the encoded packets of their colorized frames, in order."""
    import av

    if not frames:
        return []
    greys = [lightness_grey(frame.to_image().convert("RGB")) for frame in frames]
    l_small, ab = colorizer.small_colour(greys, saturation, [shot(grey) for grey in greys])
    ab_scale = colorizer.engine.ab_scale
    packets = []
    for k, (frame, grey) in enumerate(zip(frames, greys, strict=True)):
        colour_ab = steady(l_small[k], ab[k]) if steady is not None else ab[k]
        out = av.VideoFrame.from_image(compose_lab(grey, colour_ab, ab_scale))
        out.pts, out.time_base = clock(frame.pts), frame.time_base
        packets += out_video.encode(out)
    return packets
