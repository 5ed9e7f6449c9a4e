"""A film's outputs, each decoded back: its depth, its frame count, its timecode and colour
tags, the source's luma kept, and the same frames giving the same file."""

from pathlib import Path

import numpy as np
import pytest

from colorgan.apps.cli import main
from tests.conftest import write_film

av = pytest.importorskip("av")
pytestmark = pytest.mark.film  # every test writes a film through PyAV


def planes(path: Path) -> tuple[list[np.ndarray], list[np.ndarray], str]:
    """Each frame's luma and chroma planes as stored, and the pixel format."""
    lumas, chromas = [], []
    with av.open(str(path)) as f:
        for frame in f.decode(video=0):
            name = frame.format.name
            dtype = np.uint16 if frame.format.components[0].bits > 8 else np.uint8
            rows = [
                np.frombuffer(p, dtype).reshape(p.height, -1)[:, : p.width] for p in frame.planes
            ]
            lumas.append(rows[0].copy())
            chromas.append(np.stack([r.copy() for r in rows[1:3]]) if len(rows) > 1 else None)
    return lumas, chromas, name


def stream_of(path: Path) -> dict:
    with av.open(str(path)) as f:
        video = f.streams.video[0]
        tags = {k.lower(): v for s in f.streams for k, v in s.metadata.items()}
        context = video.codec_context
        return {
            "codec": context.name,
            "timecode": tags.get("timecode"),
            "tags": (context.color_primaries, context.color_trc, context.colorspace),
            "rate": video.average_rate,
        }


@pytest.fixture(scope="module")
def master(tmp_path_factory) -> Path:
    """A 10-bit ProRes 422 HQ master with a start timecode and BT.709 tags."""
    path = tmp_path_factory.mktemp("master") / "reel.mov"
    write_film(path, "prores_ks", "yuv422p10le", frames=6, timecode="01:00:00:00")
    return path


@pytest.mark.parametrize(
    ("codec", "suffix", "name", "pix_fmt"),
    [
        ("h264", ".mp4", "h264", "yuv420p"),
        ("h265", ".mp4", "hevc", "yuv420p10le"),
        ("prores", ".mov", "prores", "yuv422p10le"),
        ("ffv1", ".mkv", "ffv1", "yuv422p10le"),
        ("y4m", ".y4m", "rawvideo", "yuv422p10le"),
    ],
)
def test_each_codec_writes_the_masters_frames_at_their_depth_with_its_timecode(
    tmp_path, master, codec, suffix, name, pix_fmt
):
    out = tmp_path / f"reel{suffix}"
    assert main(["colorize", str(master), "--out", str(out), "--codec", codec, "-q"]) == 0
    lumas, chromas, written = planes(out)
    source, _, _ = planes(master)
    assert written == pix_fmt and len(lumas) == len(source) == 6
    said = stream_of(out)
    assert said["codec"] == name
    if codec != "y4m":  # a raw stream has no place for a timecode
        assert said["timecode"] == "01:00:00:00"
    middle = 2 ** (9 if pix_fmt.endswith("10le") else 7)
    assert np.abs(chromas[3].astype(int) - middle).mean() > 1  # in colour
    scale = 1 if pix_fmt.endswith("10le") else 4  # an 8-bit output: a quarter of the levels
    gap = [
        np.abs(a.astype(int) * scale - b.astype(int)).mean()
        for a, b in zip(lumas, source, strict=True)
    ]
    if pix_fmt.endswith("10le"):
        assert np.any(lumas[0] % 4)  # 10 bits used, not 8 shifted
        if codec in ("ffv1", "y4m"):
            assert max(gap) < 2  # the master's luma, moved only where the colour needs it
        else:
            assert max(gap) < 8  # through a lossy codec (of 1023 levels)
    else:
        assert max(gap) < 6  # 8-bit, through a lossy codec


@pytest.mark.parametrize(
    ("codec", "pix_fmt", "suffix"), [("png", "rgb48be", ".png"), ("tiff", "rgb48le", ".tif")]
)
def test_frames_out_are_sixteen_bit_from_a_deeper_source_numbered_in_order(
    tmp_path, master, codec, pix_fmt, suffix
):
    out = tmp_path / "out"
    assert main(["colorize", str(master), "--out", str(out), "--codec", codec, "-q"]) == 0
    files = sorted((out / "reel").iterdir())
    assert [p.name for p in files] == [f"{k:06d}{suffix}" for k in range(6)]
    with av.open(str(files[2])) as f:
        frame = next(f.decode(video=0))
    assert frame.format.name == pix_fmt
    rgb = frame.to_ndarray()
    assert rgb.dtype == np.uint16 and np.any(rgb % 257)  # 16 bits, not 8 widened
    assert np.abs(rgb[..., 0].astype(int) - rgb[..., 2]).mean() > 100  # in colour


def test_a_grey_colour_passes_the_masters_luma_through_bit_for_bit(tmp_path, master):
    """At saturation 0 nothing is added: a lossless output holds the master's own luma, at
    its depth, and neutral chroma."""
    out = tmp_path / "grey.mkv"
    argv = ["colorize", str(master), "--out", str(out), "--codec", "ffv1", "--saturation", "0"]
    assert main([*argv, "-q"]) == 0
    lumas, chromas, written = planes(out)
    source, _, _ = planes(master)
    assert written == "yuv422p10le"
    assert all(np.array_equal(a, b) for a, b in zip(lumas, source, strict=True))
    assert all(np.abs(c.astype(int) - 512).max() <= 1 for c in chromas)


def test_the_colour_tags_and_range_of_the_source_are_kept(tmp_path):
    source = tmp_path / "tagged.mkv"
    import av as pyav

    with pyav.open(str(source), "w") as out:
        stream = out.add_stream("ffv1", rate=24)
        stream.width, stream.height, stream.pix_fmt = 64, 48, "yuv420p"
        context = stream.codec_context
        context.color_primaries, context.color_trc, context.colorspace = 9, 14, 9  # BT.2020
        context.color_range = 2  # full
        for i in range(3):
            frame = pyav.VideoFrame(64, 48, "yuv420p")
            for plane, value in zip(frame.planes, (40 * i + 60, 128, 128), strict=True):
                np.frombuffer(plane, np.uint8)[:] = value
            frame.pts = i
            out.mux(stream.encode(frame))
        out.mux(stream.encode(None))
    for codec, suffix in (("ffv1", ".mkv"), ("h264", ".mp4")):
        out = tmp_path / f"out{suffix}"
        assert main(["colorize", str(source), "--out", str(out), "--codec", codec, "-q"]) == 0
        assert stream_of(out)["tags"] == (9, 14, 9)
        with av.open(str(out)) as f:
            frame = next(f.decode(video=0))
        assert frame.color_range == (2 if codec == "ffv1" else 1)  # lossless keeps it full


def test_the_same_frames_give_the_same_file(tmp_path):
    """Run twice, one after the other, the film is the same, byte for byte: the frames are
    built in the encoder's own format, and x264's AVX-512 code (which read memory it never
    wrote) is not used."""
    from tests.conftest import make_clip

    clip = tmp_path / "clip.mp4"
    make_clip(clip, frames=24, audio=False)
    outs = []
    for k in range(2):
        out = tmp_path / f"run{k}.mp4"
        assert main(["colorize", str(clip), "--out", str(out), "-q"]) == 0
        outs.append(out.read_bytes())
    assert outs[0] == outs[1]


def test_a_film_into_a_file_of_another_codec_or_several_into_one_file_is_refused(
    tmp_path, master, capsys
):
    argv = ["colorize", str(master), "-q", "--out"]
    assert main([*argv, str(tmp_path / "x.mp4"), "--codec", "prores"]) == 2
    assert "--codec prores writes .mov" in capsys.readouterr().err
    assert main(["colorize", str(master), str(master), "--out", str(tmp_path / "x.mov")]) == 2
    assert "is for one film" in capsys.readouterr().err
    assert main([*argv, "-"]) == 2
    assert "--out - (standard output) takes --codec y4m" in capsys.readouterr().err
    assert main([*argv, str(tmp_path / "x.mov"), "--codec", "mpeg2"]) == 2
    assert capsys.readouterr().err.startswith("colorgan: error: --codec: must be one of h264,")
    assert not list(tmp_path.iterdir())


def test_frames_killed_part_way_leave_no_folder(tmp_path, master, monkeypatch):
    """A folder of frames is published whole, as a film file is: a run stopped after some
    frames leaves neither the folder nor its temporary one."""
    from colorgan.pipeline import film_out

    original, calls = film_out.Output.write, []

    def interrupted(self, *args):
        calls.append(1)
        if len(calls) == 3:
            raise KeyboardInterrupt
        return original(self, *args)

    monkeypatch.setattr(film_out.Output, "write", interrupted)
    out = tmp_path / "out"
    assert main(["colorize", str(master), "--out", str(out), "--codec", "png", "-q"]) == 130
    assert not out.exists() or not list(out.iterdir())
