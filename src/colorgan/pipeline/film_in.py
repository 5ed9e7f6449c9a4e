"""Films in, with PyAV (FFmpeg in one wheel), as restorers keep them: any video file FFmpeg
reads, an image sequence (a folder of numbered frames, or a printf pattern such as
`scan/%06d.dpx`, read by FFmpeg's image2 demuxer at a frame rate given), or a Y4M stream on
standard input (`-`: what `vspipe` and `ffmpeg -f yuv4mpegpipe` write), 8 to 16 bits, any
chroma layout. A film is opened with a video stream of a size colorgan takes; each decoded
frame becomes a `Picture`: its luma plane at its own depth (a view of the decoded frame, never
converted to RGB where it is Y'CbCr or grey) and the 8-bit grey the model sees. Its display
rotation, frame size and count, and a point of it as players show it are read here too. PyAV
is imported inside the functions: the light install without it still imports this."""

from __future__ import annotations

import math
import re
import sys
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path

import numpy as np
from PIL import Image

from colorgan.base.errors import shown
from colorgan.base.images import MAX_PIXELS, MIN_SIDE, VIDEO_SUFFIXES, BadImage
from colorgan.colour.planes import Levels, grey8, luma_of_rgb

STDIN = Path("-")  # a Y4M stream on standard input
PATTERN = re.compile(r"%(0[1-9][0-9]?)?d")  # a printf pattern's frame number: %d, %06d
FRAME_SUFFIXES = (".dpx", ".tif", ".tiff", ".png", ".jpg", ".jpeg", ".bmp")
SEQUENCE_RATE = Fraction(24)  # an image sequence's frames a second where none is given
_PLANAR = re.compile(r"(yuvj?4[0-4][0-4]p|gray|nv12|nv21)(\d+)?(le|be)?$")
_LAYOUTS = {"420": (1, 1), "422": (1, 0), "444": (0, 0), "440": (0, 1), "411": (2, 0)}


def is_sequence(path: Path) -> bool:
    """Whether `path` names an image sequence: a printf pattern, or a folder of frames."""
    return path != STDIN and (bool(PATTERN.search(path.name)) or path.is_dir())


def is_film_path(path: Path) -> bool:
    """Whether a path is a film's: a video file, an image sequence, or standard input."""
    return path == STDIN or path.suffix.lower() in VIDEO_SUFFIXES or is_sequence(path)


@dataclass(frozen=True)
class Numbered:
    """An image sequence's frames: `prefix` + the number in `digits` (0: as long as it is) +
    `suffix`, from `start`, `count` of them, in `folder`."""

    folder: Path
    prefix: str
    digits: int
    suffix: str
    start: int
    count: int

    @property
    def pattern(self) -> str:
        """The printf pattern FFmpeg's image2 demuxer reads them by."""
        number = f"%0{self.digits}d" if self.digits else "%d"
        return str(self.folder / f"{self.prefix.replace('%', '%%')}{number}{self.suffix}")

    def name(self, k: int, suffix: str) -> str:
        """The name of the k-th frame (from 0) with another suffix: its number kept."""
        return f"{self.prefix}{self.start + k:0{self.digits}d}{suffix}"


def numbered_frames(path: Path) -> Numbered:
    """The frames a folder holds (one run of numbered frames) or a printf pattern names;
    BadImage where there are none, more than one sequence, or a number is missing."""
    if path.is_dir():
        folder, named = path, [p.name for p in path.iterdir() if not p.name.startswith(".")]
        found = [re.fullmatch(r"(.*?)(\d+)(\.[A-Za-z0-9]+)", n) for n in named]
        found = [m for m in found if m and m[3].lower() in FRAME_SUFFIXES]
        runs = {(m[1], m[3]) for m in found}
        if len(runs) != 1:
            what = "no numbered frames" if not runs else "frames of more than one sequence"
            raise BadImage(f"holds {what} ({', '.join(FRAME_SUFFIXES)})")
        [(prefix, suffix)] = runs
        numbers = [m[2] for m in found]
        digits = len(numbers[0]) if len({len(n) for n in numbers}) == 1 else 0
    else:
        folder, number = path.parent, PATTERN.search(path.name)
        prefix, suffix = path.name[: number.start()], path.name[number.end() :]
        digits = int(number[1]) if number[1] else 0
        width = f"{{{digits},}}" if digits else "+"
        shape = re.compile(re.escape(prefix) + rf"(\d{width})" + re.escape(suffix))
        names = [p.name for p in folder.iterdir()] if folder.is_dir() else []
        numbers = [m[1] for m in map(shape.fullmatch, names) if m]
        if not numbers:
            raise BadImage("no frame matches this pattern")
    values = sorted(int(n) for n in numbers)
    missing = next((v + 1 for v, w in zip(values, values[1:], strict=False) if w != v + 1), None)
    if missing is not None:
        raise BadImage(f"frame {missing} of the sequence is missing")
    return Numbered(folder, prefix, digits, suffix, values[0], len(values))


def sequence_name(path: Path) -> str:
    """An image sequence's name for its output: its pattern's prefix (scan_ of scan_%06d.dpx),
    else its folder's."""
    prefix = path.name[: PATTERN.search(path.name).start()] if PATTERN.search(path.name) else ""
    return prefix.rstrip("._- ") or (path if path.is_dir() else path.parent).resolve().name


def open_video(source: Path, rate: Fraction | None = None):  # PyAV's container
    """The source opened for decoding (a file, an image sequence at `rate` frames a second,
    or standard input's Y4M), with a video stream of a size colorgan takes."""
    import av

    try:
        if source == STDIN:
            if sys.stdin.isatty():
                raise BadImage("standard input is a terminal: pipe a Y4M stream into it")
            source_file = av.open(sys.stdin.buffer, format="yuv4mpegpipe")
        elif is_sequence(source):
            frames = numbered_frames(source)
            options = {"framerate": str(rate or SEQUENCE_RATE), "start_number": str(frames.start)}
            source_file = av.open(frames.pattern, format="image2", options=options)
        else:
            source_file = av.open(str(source))
    except (av.FFmpegError, OSError, ValueError) as exc:
        what = "a Y4M stream" if source == STDIN else "a readable video"
        raise BadImage(f"not {what} ({exc.__class__.__name__})") from None
    if not source_file.streams.video:
        source_file.close()
        raise BadImage("no video stream in it")
    video = source_file.streams.video[0]
    video.thread_type = "AUTO"  # frames decode on every core
    w, h = video.width, video.height
    if w < MIN_SIDE or h < MIN_SIDE or w * h > MAX_PIXELS:
        source_file.close()
        raise BadImage(
            f"its frames are {w}x{h}: colorgan takes {MIN_SIDE} px to {MAX_PIXELS // 1_000_000} MP"
        )
    return source_file


def rotation_of(source: Path) -> int:
    """The first frame's display rotation in degrees (a phone's upright film), 0 if none
    (an image sequence's, standard input's: read once, so not here)."""
    import av

    if source == STDIN or is_sequence(source):
        return 0
    with open_video(source) as f:
        try:
            for frame in f.decode(f.streams.video[0]):
                return int(round(frame.rotation or 0))
        except av.FFmpegError:
            return 0
    return 0


def frame_size(source: Path) -> tuple[int, int] | None:
    """A film's frame size (None where it cannot be read: it fails later with its reason)."""
    if source == STDIN:
        return None
    try:
        with open_video(source) as f:
            return f.streams.video[0].width, f.streams.video[0].height
    except (BadImage, ImportError):
        return None


def frame_count(source: Path) -> int | None:
    """The frames a film says it holds (an image sequence: its numbered files); None where
    it does not say (some containers, standard input) or cannot be read (it fails later)."""
    if source == STDIN:
        return None
    try:
        if is_sequence(source):
            return numbered_frames(source).count
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


@dataclass
class Picture:
    """One decoded frame: its luma plane (h, w) at its own `levels`, the 8-bit grey the
    model sees, its timestamp (`pts` in `time_base`, None where it has none)."""

    luma: np.ndarray
    levels: Levels
    grey: Image.Image
    pts: int | None
    time_base: Fraction | None


@dataclass(frozen=True)
class Form:
    """What a film's frames are: `bits` (8 to 16), their chroma layout (log2 of the chroma
    planes' subsampling, x and y; None for grey and RGB frames), whether the luma takes the
    full range, the Y'CbCr matrix (planes.MATRICES) and the colour tags to keep
    (FFmpeg's numbers: primaries, transfer, matrix; 2 where unsaid)."""

    bits: int
    layout: tuple[int, int] | None
    full: bool
    matrix: str
    tags: tuple[int, int, int]


def form_of(video, frame) -> Form:  # PyAV's stream and first frame
    """A film's form, from its first frame and what its stream says."""
    context, fmt = video.codec_context, frame.format
    tags = tuple(_tag(context, name) or _tag(frame, name) or 2 for name in _TAGS)
    planar = _PLANAR.match(fmt.name)
    bits = max(c.bits for c in fmt.components)
    if planar and not fmt.name.startswith("gray"):
        name = planar[1][-4:-1] if not planar[1].startswith("nv") else "420"
        layout = _LAYOUTS.get(name)
        matrix = _MATRIX_OF.get(tags[2]) or ("bt709" if video.height >= 720 else "bt601")
        return Form(bits, layout, _full(frame), matrix, tags)
    return Form(bits, None, True, _MATRIX_OF.get(tags[2], "bt709"), tags)


_TAGS = ("color_primaries", "color_trc", "colorspace")


def _tag(where, name: str) -> int | None:  # PyAV's codec context or frame
    """A colour tag where it is said (FFmpeg's 0 and 2 are unsaid)."""
    value = getattr(where, name, None)
    return None if value in (None, 0, 2) else int(value)


_MATRIX_OF = {1: "bt709", 5: "bt601", 6: "bt601", 9: "bt2020", 10: "bt2020"}


def _full(frame) -> bool:
    """Whether a Y'CbCr or grey frame's luma takes the full range: JPEG's yuvj, or said so;
    a grey frame unless it says limited."""
    if frame.format.name.startswith("gray"):
        return frame.color_range != 1
    return frame.format.name.startswith("yuvj") or frame.color_range == 2


def picture_of(frame, size: tuple[int, int], matrix: str) -> Picture:
    """A decoded frame -> its Picture; BadImage where it is not the film's `size`. Y'CbCr and
    grey frames give their own luma plane; others (RGB, palettes, packed layouts) their luma
    in `matrix`, at 16 bits."""
    if (frame.width, frame.height) != size:
        raise BadImage(
            f"a frame of {frame.width}x{frame.height} in a film of {size[0]}x{size[1]}; "
            "nothing written"
        )
    planar = _PLANAR.match(frame.format.name)
    if planar:
        bits = frame.format.components[0].bits
        plane = frame.planes[0]
        dtype = np.dtype(np.uint8) if bits <= 8 else np.dtype(">u2" if planar[3] == "be" else "<u2")
        rows = np.frombuffer(plane, dtype)[: plane.height * plane.line_size // dtype.itemsize]
        luma = rows.reshape(plane.height, -1)[:, : plane.width]
        if dtype.byteorder == ">":
            luma = luma.astype(np.uint16)
        levels = Levels(bits, _full(frame))
    else:
        luma, levels = luma_of_rgb(frame.to_ndarray(format="rgb48le"), matrix), Levels(16, True)
    grey = Image.fromarray(grey8(luma, levels), "L")
    return Picture(luma, levels, grey, frame.pts, frame.time_base)


def timecode_of(source_file, video, frame) -> str | None:  # PyAV's
    """The film's start timecode (HH:MM:SS:FF, ';' for drop-frame): a MOV's or MXF's
    timecode track, a Matroska tag, a DPX frame's header; None where it has none or one
    malformed."""
    places = [source_file.metadata, video.metadata, getattr(frame, "metadata", {}) or {}]
    places += [s.metadata for s in source_file.streams if s.type == "data"]
    for place in places:
        for key, value in place.items():
            if key.lower() == "timecode" and re.fullmatch(r"\d\d:\d\d:\d\d[:;.]\d\d", value):
                return value
    return None


def said(source: Path) -> str:
    """How messages name a film's source."""
    return "standard input" if source == STDIN else shown(str(source))
