"""colorgan between a frame server and an encoder: Y4M streams through real pipes. A PyAV
process (standing in for `vspipe script.vpy - -c y4m`) writes a 10-bit stream into
`colorgan colorize - --out - --codec y4m`, whose standard output is read back as it comes; and
FFmpeg's own reader, where it is installed, takes colorgan's stream as `ffmpeg -i -` would."""

import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from tests.conftest import make_photo

av = pytest.importorskip("av")
pytestmark = [pytest.mark.film, pytest.mark.subprocess]  # films through processes' pipes

COLORIZE = [sys.executable, "-m", "colorgan", "colorize"]
# A frame server: N grey 10-bit 4:2:0 frames of a pan (a hard cut half-way), as Y4M on its
# standard output.
SERVER = r"""
import sys, av, numpy as np
from fractions import Fraction
count, w, h = int(sys.argv[1]), 96, 64
rng = np.random.default_rng(0)
scenes = [np.load(sys.argv[2]), np.load(sys.argv[3])]
with av.open(sys.stdout.buffer, "w", format="yuv4mpegpipe", options={"strict": "-1"}) as out:
    stream = out.add_stream("rawvideo", rate=Fraction(25))
    stream.width, stream.height, stream.pix_fmt = w, h, "yuv420p10le"
    for i in range(count):
        frame = av.VideoFrame(w, h, "yuv420p10le")
        scene = scenes[i >= count // 2]
        luma = (64 + scene[:, 3 * i : 3 * i + w] * 876).astype(np.uint16)
        for plane, values in zip(frame.planes, (luma, 512, 512)):
            rows = np.frombuffer(plane, np.uint16).reshape(plane.height, -1)
            rows[:, : plane.width] = values if np.ndim(values) else np.uint16(values)
        frame.pts = i
        out.mux(stream.encode(frame))
    out.mux(stream.encode(None))
"""


def scenes(tmp_path: Path) -> list[str]:
    paths = []
    for k, seed in enumerate((3, 8)):
        grey = np.asarray(make_photo(seed, (200, 64)).convert("L"), np.float64) / 255
        paths.append(str(tmp_path / f"scene{k}.npy"))
        np.save(paths[-1], grey)
    return paths


def read_y4m(data: bytes) -> list:
    """The frames of a Y4M stream (in memory), through FFmpeg's reader in PyAV."""
    import io

    with av.open(io.BytesIO(data), format="yuv4mpegpipe") as f:
        return list(f.decode(video=0))


def lightness(frame) -> np.ndarray:
    """A frame's CIE lightness, decoded as players decode an untagged small frame (BT.601)."""
    from skimage.color import rgb2lab

    return rgb2lab(frame.to_ndarray(format="rgb48le") / 65535.0)[..., 0]


def test_a_ten_bit_y4m_stream_in_is_a_ten_bit_y4m_stream_out_frames_alone(tmp_path):
    server = subprocess.Popen(
        [sys.executable, "-c", SERVER, "12", *scenes(tmp_path)], stdout=subprocess.PIPE
    )
    run = subprocess.run(
        [*COLORIZE, "-", "--out", "-", "--codec", "y4m", "--quiet"],
        stdin=server.stdout,
        capture_output=True,
        check=False,
    )
    server.stdout.close()
    assert server.wait() == 0 and run.returncode == 0, run.stderr.decode()
    original = subprocess.run(
        [sys.executable, "-c", SERVER, "12", *scenes(tmp_path)], capture_output=True, check=True
    ).stdout
    sent, got = read_y4m(original), read_y4m(run.stdout)
    assert len(got) == len(sent) == 12
    assert got[0].format.name == "yuv420p10le"
    for before, after in zip(sent, got, strict=True):
        assert np.abs(lightness(before) - lightness(after)).mean() < 0.5  # of 100: its own
        chroma = np.frombuffer(after.planes[1], np.uint16)
        assert np.abs(chroma.astype(int) - 512).mean() > 2  # in colour
    # nothing but frames on standard output: its header and twelve frames, byte for byte
    header = run.stdout.split(b"\n", 1)[0]
    assert run.stdout.startswith(b"YUV4MPEG2 W96 H64 F25:1")
    frame_bytes = 96 * 64 * 2 * 3 // 2
    assert len(run.stdout) == len(header) + 1 + 12 * (len(b"FRAME\n") + frame_bytes)
    assert b"colorized 1 of 1 file(s) into standard output" in run.stderr


def test_key_frames_and_cuts_hold_on_a_pipe_as_on_a_file(tmp_path):
    """A key frame by its number, from standard input: its colour holds over its shot (to
    the hard cut half-way), as it does in a file."""
    key = tmp_path / "key.png"
    red = np.zeros((64, 96, 3), np.uint8)
    red[..., 0] = 200
    from PIL import Image

    Image.fromarray(red).save(key)
    outs = []
    for extra in ([], ["--reference-frame", f"0:{key}"]):
        server = subprocess.Popen(
            [sys.executable, "-c", SERVER, "8", *scenes(tmp_path)], stdout=subprocess.PIPE
        )
        run = subprocess.run(
            [*COLORIZE, "-", "--out", "-", "--codec", "y4m", "-q", *extra],
            stdin=server.stdout,
            capture_output=True,
            check=False,
        )
        server.stdout.close()
        assert server.wait() == 0 and run.returncode == 0, run.stderr.decode()
        outs.append(read_y4m(run.stdout))
    cr = [[np.frombuffer(f.planes[2], np.uint16).astype(int).mean() for f in out] for out in outs]
    redder = [keyed - auto for auto, keyed in zip(*cr, strict=True)]
    assert min(redder[:4]) > 5  # the key frame's shot took its red
    assert max(np.abs(redder[4:])) < min(redder[:4]) / 2  # the next shot, after the cut, not


def test_a_broken_stream_in_exits_non_zero_in_one_line(tmp_path):
    run = subprocess.run(
        [*COLORIZE, "-", "--out", "-", "--codec", "y4m", "-q"],
        input=b"YUV4MPEG2 W96 H64 F25:1 C420p10\nFRAME\n" + b"\x00" * 100,
        capture_output=True,
        check=False,
    )
    assert run.returncode == 1
    err = run.stderr.decode().strip().splitlines()
    assert len(err) == 2 and err[0].startswith("colorgan: error: -: ") and "Traceback" not in err[0]
    assert run.stdout == b"" or run.stdout.startswith(b"YUV4MPEG2")


@pytest.mark.skipif(shutil.which("ffmpeg") is None, reason="FFmpeg's command is not installed")
def test_ffmpeg_feeds_colorgan_and_takes_its_stream(tmp_path):
    """`ffmpeg ... -f yuv4mpegpipe - | colorgan colorize - --out film.mov --codec prores`, and
    `colorgan colorize film.mkv --out - --codec y4m | ffmpeg -i - ...`."""
    feed = subprocess.Popen(
        ["ffmpeg", "-loglevel", "error", "-f", "lavfi", "-i", "testsrc=size=96x64:rate=24"]
        + ["-frames:v", "6", "-vf", "format=gray", "-pix_fmt", "yuv422p10le", "-strict", "-1"]
        + ["-f", "yuv4mpegpipe", "-"],
        stdout=subprocess.PIPE,
    )
    film = tmp_path / "film.mov"
    run = subprocess.run(
        [*COLORIZE, "-", "--out", str(film), "--codec", "prores", "-q"],
        stdin=feed.stdout,
        capture_output=True,
        check=False,
    )
    feed.stdout.close()
    assert feed.wait() == 0 and run.returncode == 0, run.stderr.decode()
    with av.open(str(film)) as f:
        frames = list(f.decode(video=0))
    assert len(frames) == 6 and frames[0].format.name == "yuv422p10le"
    colour = subprocess.Popen(
        [*COLORIZE, str(film), "--out", "-", "--codec", "y4m", "-q"], stdout=subprocess.PIPE
    )
    master = tmp_path / "master.mkv"
    ffmpeg = ["ffmpeg", "-loglevel", "error", "-f", "yuv4mpegpipe", "-i", "-", "-c:v", "ffv1"]
    encoded = subprocess.run([*ffmpeg, str(master)], stdin=colour.stdout, check=False)
    colour.stdout.close()
    assert colour.wait() == 0 and encoded.returncode == 0
    with av.open(str(master)) as f:
        again = list(f.decode(video=0))
    assert len(again) == 6 and again[0].format.name == "yuv422p10le"
