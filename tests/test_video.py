"""Video: what was written is decoded and checked (frames, size, rate, audio, colour, grey)."""

from itertools import pairwise
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from colorgan.apps.cli import main
from colorgan.engines.onnx_engine import OnnxEngine
from colorgan.pipeline.colorizer import Colorizer
from colorgan.pipeline.film import colorize_video
from colorgan.pipeline.request import Request
from colorgan.pipeline.shots import Stabiliser
from tests.conftest import make_clip

av = pytest.importorskip("av")


def decoded(path: Path) -> tuple[list[Image.Image], object, float | None]:
    with av.open(str(path)) as f:
        video = f.streams.video[0]
        rate = video.average_rate
        audio = (
            float(f.streams.audio[0].duration * f.streams.audio[0].time_base)
            if (f.streams.audio)
            else None
        )
        frames = [frame.to_image() for frame in f.decode(video)]
    return frames, rate, audio


@pytest.mark.film
def test_a_video_keeps_its_frames_size_rate_audio_and_grey(tmp_path, capsys):
    clip, out_dir = tmp_path / "film.mp4", tmp_path / "out"
    make_clip(clip)
    assert main(["colorize", str(clip), "--out", str(out_dir), "-q"]) == 0
    written = out_dir / "film.mp4"
    frames, rate, audio = decoded(written)
    source, source_rate, source_audio = decoded(clip)
    assert len(frames) == len(source) == 24 and rate == source_rate == 12
    assert audio == pytest.approx(source_audio, abs=0.05)
    for out, grey in zip(frames, source, strict=True):
        assert out.size == (160, 120)
        assert np.asarray(out.convert("YCbCr"), float)[..., 1:].std() > 1  # colour
        kept = np.abs(np.asarray(out.convert("L"), int) - np.asarray(grey.convert("L"), int))
        assert kept.mean() < 3  # the grey kept, through two lossy encodings
    assert main(["colorize", str(clip), "--out", str(out_dir), "-q"]) == 1  # never replaced
    assert "exists" in capsys.readouterr().err
    (tmp_path / "bad.mp4").write_bytes(b"not a video")
    assert main(["colorize", str(tmp_path / "bad.mp4"), "--out", str(out_dir), "-q"]) == 1
    assert "not a readable video" in capsys.readouterr().err
    assert sorted(p.name for p in out_dir.iterdir()) == ["film.mp4"]  # nothing partial
    assert (
        main(["colorize", str(clip), "--out", str(tmp_path / "o2"), "--video-quality", "60"]) == 2
    )
    assert "0 to 51" in capsys.readouterr().err


def test_the_stabiliser_steadies_still_colour_and_restarts_at_a_cut():
    rng = np.random.default_rng(0)
    l_small = rng.uniform(-1, 1, (32, 32)).astype(np.float32)
    steady = Stabiliser()
    per_frame, smoothed = [], []
    for _ in range(20):  # a still scene whose predicted colour jitters
        ab = 0.3 + rng.normal(0, 0.05, (2, 32, 32))
        per_frame.append(ab)
        smoothed.append(steady(l_small, ab))
    jitter = np.mean(
        [np.abs(a - b).mean() for a, b in zip(per_frame[:-1], per_frame[1:], strict=True)]
    )
    kept = np.mean(
        [np.abs(a - b).mean() for a, b in zip(smoothed[5:-1], smoothed[6:], strict=True)]
    )
    assert kept < jitter / 3
    cut = steady(-l_small, np.full((2, 32, 32), -0.4))  # another scene: no colour carried over
    assert np.allclose(cut, -0.4)


@pytest.mark.film
@pytest.mark.parametrize("stage", ["Stabiliser.__call__", "Output.write"])
def test_a_killed_run_leaves_no_partial_video(tmp_path, monkeypatch, stage):
    """Ctrl-C mid-film, on the model's side or the encoder's thread: nothing is left, and no
    thread goes on."""
    import threading

    from colorgan.pipeline import film_out, shots

    clip = tmp_path / "film.mp4"
    make_clip(clip, audio=False)
    colorizer = Colorizer(OnnxEngine())
    name, method = stage.split(".")
    owner = {"Stabiliser": shots.Stabiliser, "Output": film_out.Output}[name]
    original, calls = getattr(owner, method), []

    def interrupted(self, *args):
        calls.append(1)
        if len(calls) == 10:
            raise KeyboardInterrupt
        return original(self, *args)

    monkeypatch.setattr(owner, method, interrupted)
    before = threading.active_count()
    with pytest.raises(KeyboardInterrupt):
        colorize_video(colorizer, Request(clip), tmp_path / "out" / "film.mp4")
    assert not any((tmp_path / "out").iterdir())
    assert threading.active_count() == before


@pytest.mark.film
def test_the_torch_engine_colours_video_as_the_onnx_engine_does(tmp_path, tiny_weights):
    """A generator file (the torch engine) colours video too; the bundled model on both
    engines gives nearly the same frames."""
    clip = tmp_path / "film.mp4"
    make_clip(clip, audio=False)
    for engine in ("onnx", "torch"):
        args = ["colorize", str(clip), "--out", str(tmp_path / engine), "--engine", engine]
        # fp32 pinned: `auto` picks bf16 on CPUs with AMX, which parts the engines by more
        assert main([*args, "--precision", "fp32", "-q"]) == 0
    onnx, _, _ = decoded(tmp_path / "onnx" / "film.mp4")
    torch_frames, _, _ = decoded(tmp_path / "torch" / "film.mp4")
    gaps = [
        np.abs(np.asarray(a, float) - np.asarray(b, float)).mean()
        for a, b in zip(onnx, torch_frames, strict=True)
    ]
    # one composition for films, whichever the engine: only the model's float paths differ
    assert len(gaps) == 24 and max(gaps) < 0.5
    own = ["colorize", str(clip), "--out", str(tmp_path / "own"), "-w", str(tiny_weights), "-q"]
    assert main(own) == 0 and len(decoded(tmp_path / "own" / "film.mp4")[0]) == 24


@pytest.mark.parametrize(
    ("suffix", "codec", "pix_fmt"),
    [
        (".mkv", "libx264", "yuv420p"),
        (".avi", "mpeg4", "yuv420p"),
        (".webm", "libvpx-vp9", "yuv420p"),
        (".mov", "libx264", "yuv444p"),
    ],
)
@pytest.mark.film
def test_other_containers_and_colour_footage_come_out_as_mp4(tmp_path, suffix, codec, pix_fmt):
    """Colour footage in other containers and codecs (4:4:4 too): an MP4 of the same size,
    frame count and rate, with the input's lightness."""
    from fractions import Fraction

    from tests.conftest import make_photo

    source = tmp_path / f"clip{suffix}"
    photo = make_photo(5, (200, 96))
    with av.open(str(source), "w") as out:
        stream = out.add_stream(codec, rate=10)
        stream.width, stream.height, stream.pix_fmt = 96, 64, pix_fmt
        for t in range(12):
            frame = av.VideoFrame.from_image(photo.crop((4 * t, 0, 4 * t + 96, 64)))
            frame.pts, frame.time_base = t, Fraction(1, 10)
            out.mux(stream.encode(frame))
        out.mux(stream.encode(None))
    assert main(["colorize", str(source), "--out", str(tmp_path / "out"), "-q"]) == 0
    frames, rate, _ = decoded(tmp_path / "out" / "clip.mp4")
    source_frames, _, _ = decoded(source)
    assert len(frames) == len(source_frames) == 12 and rate == 10
    for out, colour in zip(frames, source_frames, strict=True):
        assert out.size == (96, 64)
        gap = np.abs(np.asarray(out.convert("L"), int) - np.asarray(colour.convert("L"), int))
        assert gap.mean() < 6  # the lightness kept (Rec.601 luma of each, two lossy codecs)


def test_the_stabiliser_treats_a_flicker_of_exposure_as_stillness():
    """Old film brightens and darkens as a whole from frame to frame: the colour of a still
    scene must stay steady through it, as through sensor noise."""
    rng = np.random.default_rng(1)
    l_small = rng.uniform(-0.8, 0.8, (32, 32)).astype(np.float32)
    steady = Stabiliser()
    per_frame, smoothed = [], []
    for _ in range(20):
        ab = 0.3 + rng.normal(0, 0.05, (2, 32, 32))
        per_frame.append(ab)
        smoothed.append(steady(l_small + rng.uniform(-0.08, 0.08), ab))  # exposure flicker
    jitter = np.mean([np.abs(a - b).mean() for a, b in pairwise(per_frame)])
    kept = np.mean([np.abs(a - b).mean() for a, b in pairwise(smoothed[5:])])
    assert kept < jitter / 6  # (0.04 of it; taken as motion, the flicker left 0.33)


@pytest.mark.film
def test_folders_and_globs_take_films_and_two_with_one_name_are_both_kept(tmp_path):
    from tests.conftest import make_photo

    folder = tmp_path / "box"
    folder.mkdir()
    make_photo(2).save(folder / "still.jpg")
    make_clip(folder / "film.mp4", frames=6, audio=False)
    make_clip(folder / "film.mkv", frames=8, audio=False)
    out = tmp_path / "out"
    assert main(["colorize", str(folder), "--out", str(out), "-q", "--overwrite"]) == 0
    assert sorted(p.name for p in out.iterdir()) == ["film-2.mp4", "film.mp4", "still.jpg"]
    # each film kept its own frames: the mkv (8 frames) did not replace the mp4 (6)
    assert sorted(len(decoded(out / n)[0]) for n in ("film.mp4", "film-2.mp4")) == [6, 8]
    globbed = tmp_path / "globbed"
    assert main(["colorize", str(folder / "*.mkv"), "--out", str(globbed), "-q"]) == 0
    assert [p.name for p in globbed.iterdir()] == ["film.mp4"]


@pytest.mark.film
def test_a_film_is_never_written_over_itself(tmp_path, capsys):
    clip = tmp_path / "film.mp4"
    make_clip(clip, frames=6, audio=False)
    before = clip.read_bytes()
    assert main(["colorize", str(clip), "--out", str(tmp_path), "--overwrite", "-q"]) == 1
    assert "is an input of this run" in capsys.readouterr().err
    assert clip.read_bytes() == before


def write_clip(
    path: Path,
    size=(96, 64),
    pts=range(12),
    time_base=None,
    codec="libx264",
    pix_fmt="yuv420p",
    audio: str | None = None,
    rotation: int = 0,
    options: dict | None = None,
    fmt: str | None = None,
) -> None:
    """A grey clip of noise frames with the given timestamps, codec, size, display rotation
    and audio codec (a second of a tone)."""
    from fractions import Fraction

    time_base = time_base or Fraction(1, 12)
    with av.open(str(path), "w", format=fmt, options=options or {}) as out:
        stream = out.add_stream(codec, rate=12)
        stream.width, stream.height, stream.pix_fmt = *size, pix_fmt
        stream.time_base = stream.codec_context.time_base = time_base
        if rotation:
            stream.set_display_rotation(rotation)
        sound = out.add_stream(audio, rate=16000) if audio else None
        rng = np.random.default_rng(0)
        for t in pts:
            grey = Image.fromarray((rng.random(size[::-1]) * 255).astype(np.uint8)).convert("RGB")
            frame = av.VideoFrame.from_image(grey)
            frame.pts, frame.time_base = t, time_base
            out.mux(stream.encode(frame))
        out.mux(stream.encode(None))
        if sound is not None:
            tone = np.sin(2 * np.pi * 440 * np.arange(16000) / 16000)[None]
            pcm = sound.codec_context.name.startswith("pcm_s16")
            data = (tone * 8000).astype(np.int16) if pcm else (0.2 * tone).astype(np.float32)
            for start in range(0, 16000, 1024):
                chunk = av.AudioFrame.from_ndarray(
                    np.ascontiguousarray(data[:, start : start + 1024]),
                    format="s16" if pcm else "fltp",
                    layout="mono",
                )
                chunk.sample_rate, chunk.pts = 16000, start
                out.mux(sound.encode(chunk))
            out.mux(sound.encode(None))


def timestamps(path: Path) -> list[float]:
    with av.open(str(path)) as f:
        return [float(frame.pts * frame.time_base) for frame in f.decode(f.streams.video[0])]


@pytest.mark.film
def test_odd_sides_variable_rate_pcm_sound_and_rotation_come_through(tmp_path):
    from fractions import Fraction

    clips = tmp_path / "clips"
    clips.mkdir()
    write_clip(clips / "odd.mkv", size=(101, 77), pix_fmt="yuv444p")
    write_clip(
        clips / "vfr.mp4", pts=[0, 40, 80, 200, 210, 220, 400, 900], time_base=Fraction(1, 1000)
    )
    write_clip(clips / "camcorder.avi", codec="mpeg4", audio="pcm_s16le", fmt="avi")
    write_clip(clips / "phone.mp4", size=(96, 64), rotation=-90)
    out = tmp_path / "out"
    assert main(["colorize", str(clips), "--out", str(out), "-q"]) == 0
    frames, _, _ = decoded(out / "odd.mp4")
    assert len(frames) == 12 and frames[0].size == (101, 77)  # the size kept, 4:4:4
    assert timestamps(out / "vfr.mp4") == pytest.approx(timestamps(clips / "vfr.mp4"), abs=1e-3)
    _, _, sound = decoded(out / "camcorder.mp4")
    assert sound == pytest.approx(1.0, abs=0.1)  # PCM became AAC, as long as it was
    with av.open(str(out / "camcorder.mp4")) as f:
        assert f.streams.audio[0].codec_context.name == "aac"
    with av.open(str(out / "phone.mp4")) as f:
        first = next(f.decode(f.streams.video[0]))
        assert (first.width, first.height, first.rotation) == (96, 64, -90)  # turned on play


@pytest.mark.film
def test_a_damaged_empty_or_enormous_film_is_refused_and_nothing_written(tmp_path, capsys):
    clips = tmp_path / "clips"
    clips.mkdir()
    write_clip(clips / "whole.mp4", pts=range(40), options={"movflags": "faststart"})
    data = (clips / "whole.mp4").read_bytes()
    (clips / "cut.mp4").write_bytes(data[: len(data) * 6 // 10])  # moov kept, frames cut
    write_clip(clips / "empty.mp4", pts=[], audio="aac")
    from tests.test_bad_inputs import png_claiming

    (clips / "huge.mp4").write_bytes(png_claiming((16000, 16000)))
    (clips / "whole.mp4").unlink()
    out = tmp_path / "out"
    assert main(["colorize", str(clips), "--out", str(out), "-q"]) == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 3 and "Traceback" not in "".join(err)
    said = {line.split(": ")[2].split("/")[-1]: line for line in err}
    assert "truncated" in said["cut.mp4"] or "damaged" in said["cut.mp4"], said
    assert "no frames" in said["empty.mp4"] or "no video stream" in said["empty.mp4"], said
    assert "16000x16000" in said["huge.mp4"], said
    assert not out.exists() or not list(out.iterdir())


@pytest.mark.parametrize(
    ("rotation", "turn"),
    [
        (-90, Image.Transpose.ROTATE_270),
        (90, Image.Transpose.ROTATE_90),
        (180, Image.Transpose.ROTATE_180),
    ],
)
def test_a_point_as_players_show_a_film_is_its_stored_frames_point(rotation, turn):
    """Every pixel of a 5x3 frame, shown turned (Pillow turns counterclockwise, as FFmpeg's
    display matrix counts), maps back to the stored pixel it came from."""
    from colorgan.pipeline.film_in import stored_point

    stored = np.arange(15, dtype=np.uint8).reshape(3, 5)
    shown = np.asarray(Image.fromarray(stored).transpose(turn))
    for yd, xd in np.ndindex(shown.shape):
        x, y = stored_point(xd + 0.25, yd + 0.5, rotation, 5, 3)
        assert stored[int(y), int(x)] == shown[yd, xd]
