"""Films in as restorers keep them: image sequences (a printf pattern, a folder of numbered
frames), 16-bit frames and 10-bit DPX scans with their timecode, each read back from what
was written; and a sequence that is not whole, refused in one line."""

import struct
from fractions import Fraction
from pathlib import Path

import numpy as np
import pytest
from skimage.color import rgb2lab

from colorgan.apps.cli import main
from tests.conftest import write_film

av = pytest.importorskip("av")
pytestmark = pytest.mark.film  # every test writes a film through PyAV


def frames_of(path: Path) -> list:
    with av.open(str(path)) as f:
        return list(f.decode(video=0))


def dpx_with_timecode(folder: Path, count: int, timecode: int) -> None:
    """10-bit RGB DPX scans numbered from 1001 whose TV header holds a SMPTE timecode (BCD
    HHMMSSFF) counting from `timecode`: FFmpeg's DPX encoder writes none, so its files get
    the standard 2048-byte header here."""
    write_film(folder / "scan.%04d.dpx", "dpx", "gbrp10le", count, fmt="image2")
    for k in range(count):
        made = folder / f"scan.{k + 1:04d}.dpx"
        data = made.read_bytes()
        order = ">" if data[:4] == b"SDPX" else "<"
        start = struct.unpack(order + "I", data[4:8])[0]
        head = bytearray(data[:start]) + bytearray(2048 - start)
        head[4:8] = struct.pack(order + "I", 2048)  # where the pixels start
        head[16:20] = struct.pack(order + "I", 2048 + len(data) - start)  # the file's size
        head[808:812] = struct.pack(order + "I", 2048)  # the image element's pixels
        head[1920:1924] = struct.pack(order + "I", timecode + k)
        made.unlink()
        (folder / f"scan.{k + 1001:04d}.dpx").write_bytes(bytes(head) + data[start:])


def test_a_dpx_scan_comes_out_as_ten_bit_prores_with_its_timecode(tmp_path):
    scans = tmp_path / "reel1"
    scans.mkdir()
    dpx_with_timecode(scans, 5, 0x10000000)  # 10:00:00:00
    out = tmp_path / "reel1.mov"
    argv = ["colorize", str(scans / "scan.%04d.dpx"), "--frame-rate", "24", "--codec", "prores"]
    assert main([*argv, "--out", str(out), "-q"]) == 0
    frames = frames_of(out)
    assert len(frames) == 5 and frames[0].format.name == "yuv422p10le"
    with av.open(str(out)) as f:
        assert f.streams.video[0].metadata["timecode"] == "10:00:00:00"
        assert f.streams.video[0].average_rate == 24


@pytest.mark.parametrize(("kind", "pix_fmt"), [("png", "gray16be"), ("tiff", "gray16le")])
def test_a_sixteen_bit_sequence_comes_out_as_sixteen_bit_frames_named_in_order(
    tmp_path, kind, pix_fmt
):
    scans = tmp_path / "scans"
    scans.mkdir()
    suffix = ".png" if kind == "png" else ".tif"
    pattern = scans / f"roll_%06d{suffix}"
    write_film(pattern, kind, pix_fmt, 7, fmt="image2", options={"start_number": "86400"})
    out = tmp_path / "out"
    argv = ["colorize", str(scans), "--frame-rate", "25", "--codec", kind, "--out", str(out)]
    assert main([*argv, "-q"]) == 0  # a folder, given a frame rate, is one film
    written = sorted((out / "scans").iterdir())
    assert [p.name for p in written] == [f"roll_{86400 + k:06d}{suffix}" for k in range(7)]
    sources = sorted(scans.iterdir())
    for made, source in zip(written, sources, strict=True):
        [frame], [grey] = frames_of(made), frames_of(source)
        rgb = frame.to_ndarray()
        assert rgb.dtype == np.uint16 and np.any(rgb % 257)  # 16 bits, not 8 widened
        lightness = rgb2lab(rgb / 65535.0)[..., 0]  # the grey's CIE lightness kept
        scan = rgb2lab(np.repeat(grey.to_ndarray()[..., None] / 65535.0, 3, -1))[..., 0]
        assert np.median(np.abs(lightness - scan)) < 0.05  # of 100
        assert np.abs(rgb[..., 0].astype(int) - rgb[..., 2]).mean() > 100  # in colour


def test_an_image_sequence_keeps_its_clock_and_ffv1_its_sixteen_bits(tmp_path):
    """Grey (saturation 0), the scan's own 16-bit grey is the lossless output's luma."""
    scans = tmp_path / "scans"
    scans.mkdir()
    write_film(scans / "f%03d.png", "png", "gray16be", 4, fmt="image2")
    out = tmp_path / "film.mkv"
    argv = ["colorize", str(scans / "f%03d.png"), "--frame-rate", "24000/1001", "--codec", "ffv1"]
    argv += ["--saturation", "0"]
    assert main([*argv, "--out", str(out), "-q"]) == 0
    frames = frames_of(out)
    assert len(frames) == 4 and frames[0].format.name == "yuv444p16le"
    with av.open(str(out)) as f:
        assert f.streams.video[0].average_rate == Fraction(24000, 1001)
    source = frames_of(scans / "f002.png")[0].to_ndarray()  # the first frame is f001
    luma = np.frombuffer(frames[1].planes[0], np.uint16).reshape(frames[1].height, -1)
    assert np.array_equal(luma[:, : frames[1].width], source)  # the scan's own grey, as luma


def test_a_sequence_with_a_gap_or_two_runs_of_frames_or_none_is_refused_in_one_line(
    tmp_path, capsys
):
    gap, two, bad_rate = (tmp_path / name for name in ("gap", "two", "rate"))
    for folder in (gap, two, bad_rate):
        folder.mkdir()
        write_film(folder / "f%04d.png", "png", "gray", 4, fmt="image2")
    (gap / "f0003.png").unlink()
    write_film(two / "g%04d.png", "png", "gray", 2, fmt="image2")
    out = tmp_path / "out"
    argv = ["colorize", str(gap), str(two), str(tmp_path / "none_%04d.dpx"), "--out", str(out)]
    assert main([*argv, "--frame-rate", "24", "-q"]) == 1
    err = capsys.readouterr().err.splitlines()
    assert len(err) == 3 and not any("Traceback" in line for line in err)
    assert "frame 3 of the sequence is missing" in err[0]
    assert "frames of more than one sequence" in err[1]
    assert "no frame matches this pattern" in err[2]
    for rate, why in [("0", "must be above 0"), ("fast", "must be a number of frames a second")]:
        assert main(["colorize", str(bad_rate), "--out", str(out), "--frame-rate", rate]) == 2
        assert capsys.readouterr().err.startswith(f"colorgan: error: --frame-rate: {why}")
    assert not out.exists() or not any(out.iterdir())


def test_without_a_frame_rate_a_folder_is_photos_as_always(tmp_path):
    scans = tmp_path / "scans"
    scans.mkdir()
    write_film(scans / "f%04d.png", "png", "gray", 3, fmt="image2")
    out = tmp_path / "out"
    assert main(["colorize", str(scans), "--out", str(out), "-q"]) == 0
    assert sorted(p.name for p in out.iterdir()) == ["f0001.png", "f0002.png", "f0003.png"]
