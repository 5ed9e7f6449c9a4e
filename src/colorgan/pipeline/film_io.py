"""Films in and out with PyAV (FFmpeg in one wheel): a film opened for decoding (a video
stream of a size colorgan takes), its display rotation and frame size, an H.264 MP4 stream at
the input's size and clock, output timestamps that only go forward, and the audio copied (or
re-encoded where MP4 cannot hold its codec). PyAV is imported inside the functions: the light
install without it still imports this."""

from __future__ import annotations

import math
from pathlib import Path

from colorgan.base.images import MAX_PIXELS, MIN_SIDE, BadImage


def open_video(source: Path):
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
        raise BadImage(
            f"its frames are {w}x{h}: colorgan takes {MIN_SIDE} px to {MAX_PIXELS // 1_000_000} MP"
        )
    return source_file


def rotation_of(source: Path) -> int:
    """The first frame's display rotation in degrees (a phone's upright film), 0 if none."""
    import av

    with open_video(source) as f:
        try:
            for frame in f.decode(f.streams.video[0]):
                return int(round(frame.rotation or 0))
        except av.FFmpegError:
            return 0
    return 0


def frame_size(source: Path) -> tuple[int, int] | None:
    """A film's frame size (None where it cannot be read: it fails later with its reason)."""
    try:
        with open_video(source) as f:
            return f.streams.video[0].width, f.streams.video[0].height
    except (BadImage, ImportError):
        return None


def frame_count(source: Path) -> int | None:
    """The frames a film's video stream says it holds; None where it does not say (some
    containers) or cannot be read (it fails later, with its reason)."""
    try:
        with open_video(source) as f:
            return f.streams.video[0].frames or None
    except (BadImage, ImportError):
        return None


def display_size(source: Path) -> tuple[int, int] | None:
    """A film's frame size as players show it (turned by its display rotation): the size
    its colour points are given in, as a photo's are in its upright pixels."""
    size = frame_size(source)
    if size is not None and rotation_of(source) % 180 == 90:
        return size[1], size[0]
    return size


def stored_point(x: float, y: float, rotation: int, width: int, height: int) -> tuple:
    """A point of a frame as players show it -> the same point of the frame as stored
    (`width` x `height`), for a display rotation of `rotation` degrees counterclockwise
    (FFmpeg's display matrix: -90 is a phone's upright film, turned clockwise to show). A
    matrix's flip (some front cameras) and a non-square pixel aspect are not undone."""
    turn = rotation % 360
    if turn == 270:  # shown turned clockwise: stored (x, y) shows at (height - 1 - y, x)
        return y, _mirror(x, height)
    if turn == 90:  # shown turned counterclockwise: stored (x, y) at (y, width - 1 - x)
        return _mirror(y, width), x
    if turn == 180:
        return _mirror(x, width), _mirror(y, height)
    return x, y


def _mirror(v: float, n: int) -> float:
    """The pixel a coordinate falls in, counted from the other end (its place within the
    pixel kept): pixel i of n becomes pixel n - 1 - i."""
    whole = math.floor(v)
    return n - 1 - whole + (v - whole)


def mp4_video_stream(out, video, quality: int, rotation: int):
    """The H.264 stream of the MP4 `out` for frames of the input stream `video`: its size and
    frame rate, x264's CRF `quality`, the input's own clock (a variable-rate film's times
    survive the encoder) and its display rotation (players turn it as the input)."""
    stream = out.add_stream("libx264", rate=video.average_rate or 25)
    stream.width, stream.height = video.width, video.height
    # 4:2:0 wants even sides; an odd-sided film keeps its size in 4:4:4
    even = video.width % 2 == 0 and video.height % 2 == 0
    stream.pix_fmt = "yuv420p" if even else "yuv444p"
    stream.options = {"crf": str(quality)}
    stream.time_base = stream.codec_context.time_base = video.time_base
    if rotation:
        stream.set_display_rotation(rotation)
    return stream


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
            self.resampler = av.AudioResampler(format="fltp", layout=self.stream.layout, rate=rate)

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
