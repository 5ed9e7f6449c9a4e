"""Films out, with PyAV: each codec a restorer's pipeline takes, at the depth the source has.

- `h264` (MP4, 8-bit 4:2:0, x264's CRF `video_quality`), `h265` (MP4, 10-bit where the source
  has more than 8 bits, x265's CRF), `prores` (MOV, 422 HQ, 10-bit), `ffv1` (Matroska,
  lossless, the source's depth and chroma layout), `y4m` (a raw Y4M stream: a file, or
  standard output for the next tool of a pipe), and `png` and `tiff` frames (a folder, 16-bit
  where the source has more than 8 bits, named by the source's frame numbers).
- Each frame is handed to the encoder in its own pixel format, its planes built by
  colour.planes: the source's luma passed through, the chroma at the output's chroma size. No
  converter inside FFmpeg touches it, so the same frames give the same file, run after run.
- Kept from the source: its timestamps (a variable frame rate too; a Y4M stream and frames
  have none but their order), its start timecode, its display rotation (both in MP4, MOV
  and Matroska), its colour tags, and its sound (copied where the container holds its
  codec, else AAC; Y4M and frames carry none).
- A file or folder is written under a temporary name and published whole (base.files); the
  one output that cannot be is standard output, whose reader takes each frame as it comes.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from fractions import Fraction
from functools import lru_cache
from pathlib import Path

import numpy as np

from colorgan.base.files import atomic_file, atomic_folder
from colorgan.colour.planes import Levels, frame_planes, rgb_planes
from colorgan.pipeline.film_in import Form, Picture

STDOUT = Path("-")  # a Y4M stream on standard output
# codec (pipeline.settings.CODECS) -> FFmpeg's encoder, its container (None: a folder of
# frames), the output's suffix (a frame's, for a folder)
CODECS = {
    "h264": ("libx264", "mp4", ".mp4"),
    "h265": ("libx265", "mp4", ".mp4"),
    "prores": ("prores_ks", "mov", ".mov"),
    "ffv1": ("ffv1", "matroska", ".mkv"),
    "y4m": ("rawvideo", "yuv4mpegpipe", ".y4m"),
    "png": ("png", None, ".png"),
    "tiff": ("tiff", None, ".tif"),
}
_MP4_SOUND = {"aac", "mp3", "ac3", "eac3", "opus", "alac", "flac"}
_PCM = {f"pcm_{k}" for k in ("s16le", "s16be", "s24le", "s24be", "s32le", "f32le", "f64le")}
# the sound codecs a container holds as they are (the rest become AAC); None: any
_SOUND = {"mp4": _MP4_SOUND, "mov": _MP4_SOUND | _PCM, "matroska": None}
_LAYOUT_NAMES = {(1, 1): "420", (1, 0): "422", (0, 0): "444"}
_MATRIX_TAGS = {"bt601": 6, "bt709": 1, "bt2020": 9}


def suffix_of(codec: str) -> str:
    """A codec's output suffix; "" for frames (their folder)."""
    _, container, suffix = CODECS[codec]
    return suffix if container else ""


@dataclass(frozen=True)
class Encoding:
    """What an output holds: its codec, its pixel format, its luma's `levels`, its chroma
    `layout` (log2 subsampling, x and y; None for RGB frames) and its Y'CbCr matrix."""

    codec: str
    pix_fmt: str
    levels: Levels
    layout: tuple[int, int] | None
    matrix: str


def encoding_of(codec: str, form: Form, size: tuple[int, int]) -> Encoding:
    """The output a codec makes of a source of `form` and `size` (the module says which)."""
    deeper = form.bits > 8
    if CODECS[codec][1] is None:
        bits = 16 if deeper else 8
        name = {"png": "rgb48be", "tiff": "rgb48le"}[codec] if deeper else "rgb24"
        return Encoding(codec, name, Levels(bits, True), None, form.matrix)
    layout, full = (1, 1), False
    if codec == "h264":
        bits = 8
    elif codec == "h265":
        bits = 10 if deeper else 8
    elif codec == "prores":
        bits, layout = 10, (1, 0)
    else:  # ffv1, y4m: lossless, as the source is
        bits = next(b for b in (8, 10, 12, 16) if b >= form.bits)
        layout, full = form.layout if form.layout in _LAYOUT_NAMES else (0, 0), form.full
    if (size[0] % 2 and layout[0]) or (size[1] % 2 and layout[1]):
        layout = (0, 0)  # odd sides keep their size in 4:4:4
    name = f"yuv{_LAYOUT_NAMES[layout]}p" + (f"{bits}le" if bits > 8 else "")
    return Encoding(codec, name, Levels(bits, full), layout, form.matrix)


def frame_of(encoding: Encoding, picture: Picture, ab: np.ndarray, ab_scale: float):
    """A frame's picture and its ab (2, S, S) -> the av.VideoFrame the encoder takes."""
    import av

    h, w = picture.luma.shape
    frame = av.VideoFrame(w, h, encoding.pix_fmt)
    levels = encoding.levels
    if encoding.layout is None:
        rgb = rgb_planes(picture.luma, picture.levels, (ab, ab_scale), levels.bits)
        _fill(frame.planes[0], rgb.reshape(h, w * 3), encoding.pix_fmt.endswith("be"))
        return frame
    made = frame_planes(
        picture.luma, picture.levels, (ab, ab_scale), encoding.matrix, levels, encoding.layout
    )
    for plane, values in zip(frame.planes, made, strict=True):
        _fill(plane, values)
    frame.color_range = 2 if levels.full else 1
    frame.colorspace = _MATRIX_TAGS[encoding.matrix]
    return frame


def _fill(plane, values: np.ndarray, big_endian: bool = False) -> None:
    """Rows of values into a frame's plane (whose rows may be padded)."""
    dtype = values.dtype.newbyteorder(">") if big_endian else values.dtype
    rows = np.frombuffer(plane, dtype)[: plane.height * plane.line_size // dtype.itemsize]
    rows.reshape(plane.height, -1)[:, : values.shape[1]] = values


@dataclass(frozen=True)
class Start:
    """What an output takes from its source once its first frame is decoded."""

    form: Form
    size: tuple[int, int]
    rate: Fraction
    time_base: Fraction
    rotation: int
    timecode: str | None
    names: Callable[[int, str], str]  # a frame file's name, from its index and suffix


class Output:
    """A film's output being written: frames as the codec takes them, and its sound."""

    def __init__(self, place, codec: str, quality: int, start: Start, audio) -> None:
        import av

        self.encoding = encoding_of(codec, start.form, start.size)
        encoder, container, suffix = CODECS[codec]
        self.time_base, self.clock, self.count = start.time_base, Clock(), 0
        self.folder, self.names, self.suffix = None, start.names, suffix
        self.sound = None
        if container is None:  # frames: each its own file in the folder
            self.folder, self.out = Path(place), None
            self.stream = av.CodecContext.create(encoder, "w")
            self.stream.width, self.stream.height = start.size
            self.stream.pix_fmt, self.stream.time_base = self.encoding.pix_fmt, Fraction(1, 25)
            return
        options = {"strict": "-1"} if codec == "y4m" else {}
        self.out = av.open(place, "w", format=container, options=options)
        stream = self.out.add_stream(encoder, rate=start.rate)
        stream.width, stream.height = start.size
        stream.pix_fmt = self.encoding.pix_fmt
        stream.options = encoder_options(self.encoding, quality)
        if codec == "y4m":  # its header says the rate by the time base: frames in order
            self.time_base = Fraction(1) / start.rate
        stream.time_base = stream.codec_context.time_base = self.time_base
        context = stream.codec_context
        context.color_primaries, context.color_trc = start.form.tags[:2]
        context.colorspace = _MATRIX_TAGS[self.encoding.matrix]
        context.color_range = 2 if self.encoding.levels.full else 1
        if start.rotation and container != "yuv4mpegpipe":
            stream.set_display_rotation(start.rotation)
        if start.timecode and codec != "y4m":
            stream.metadata["timecode"] = start.timecode
        if audio is not None and codec != "y4m":
            self.sound = Sound(self.out, audio, _SOUND[container])
        self.stream = stream

    def write(self, picture: Picture, ab: np.ndarray, ab_scale: float) -> None:
        """One frame, in order."""
        frame = frame_of(self.encoding, picture, ab, ab_scale)
        if self.folder is not None:
            for packet in self.stream.encode(frame):
                (self.folder / self.names(self.count, self.suffix)).write_bytes(bytes(packet))
        else:
            stamp = self.count if self.out.format.name == "yuv4mpegpipe" else picture.pts
            frame.pts, frame.time_base = self.clock(stamp), self.time_base
            for packet in self.stream.encode(frame):
                self.out.mux(packet)
        self.count += 1

    def close(self) -> None:
        """The encoder's last frames and the sound's; the container closed."""
        if self.out is None:
            return
        for packet in self.stream.encode(None):
            self.out.mux(packet)
        if self.sound is not None:
            self.sound.finish()
        self.out.close()


# x264's SIMD below AVX-512, by its own names: its AVX-512 macroblock-tree code reads memory it
# never wrote, so the same frames gave another file from run to run (1 run in 6 on an Intel
# Xeon); below it, every run gives the same bytes, on AVX2 and AVX-512 machines alike
_X264_AVX2 = "MMX2,SSE,SSE2,SSE3,SSSE3,SSE4.1,SSE4.2,LZCNT,AVX,FMA3,BMI1,BMI2,AVX2,Cache64"


@lru_cache(maxsize=1)
def _has_avx512() -> bool:
    try:
        with open("/proc/cpuinfo") as info:
            return "avx512f" in info.read().split()
    except OSError:
        return False


def encoder_options(encoding: Encoding, quality: int) -> dict[str, str]:
    """FFmpeg's options for the output's encoder (`quality`: the settings' video_quality)."""
    codec = encoding.codec
    if codec == "h264":
        capped = {"x264-params": f"asm={_X264_AVX2}"} if _has_avx512() else {}
        return {"crf": str(quality), **capped}
    if codec == "h265":
        return {"crf": str(quality), "x265-params": "log-level=error"}
    if codec == "prores":  # 422 HQ; 4444 where odd sides keep 4:4:4
        return {"profile": "3" if encoding.layout == (1, 0) else "4"}
    if codec == "ffv1":
        return {"level": "3", "slicecrc": "1"}
    return {}


@contextmanager
def published(target: Path, codec: str, overwrite: bool) -> Iterator:
    """Where an output is written: a temporary file or folder that becomes `target` when
    whole (never replacing a file unless `overwrite`), or standard output's stream."""
    if target == STDOUT:
        yield sys.stdout.buffer
        sys.stdout.buffer.flush()
    elif CODECS[codec][1] is None:
        with atomic_folder(target, exclusive=not overwrite) as folder:
            yield folder
    else:
        with atomic_file(target, exclusive=not overwrite) as tmp:
            yield tmp


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
    """The input's audio into the output: copied where its container holds the codec (`kept`;
    None: any), else re-encoded as AAC (an old camcorder's PCM in an MP4)."""

    def __init__(self, out, audio, kept: set[str] | None) -> None:  # PyAV's
        import av

        self.out, self.audio = out, audio
        self.copy = kept is None or audio.codec_context.name in kept
        self.resampler = None
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
        if not self.copy:
            self.out.mux(self.stream.encode(None))
