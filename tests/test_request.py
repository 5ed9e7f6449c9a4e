"""pipeline.Request: every value of a colorization checked once, where it enters, with one
message each; through the Python API as a user calls it, and through the command."""

import json
import os
import subprocess
import sys

import numpy as np
import pytest
from PIL import Image

from colorgan import ColorganError, Colorizer, Hint, Request
from colorgan.apps.cli import main
from colorgan.base.errors import ColorganTypeError
from colorgan.base.images import BadImage
from colorgan.engines.onnx_engine import OnnxEngine
from colorgan.pipeline.settings import Settings
from colorgan.spec.hints import MAX_HINTS
from tests.conftest import make_photo


@pytest.fixture(scope="module")
def light() -> Colorizer:
    return Colorizer(OnnxEngine())


def test_a_hint_takes_what_a_python_user_writes_and_names_what_it_refuses():
    assert Hint(5, 5, "#F00") == Hint(5.0, 5.0, "#ff0000")  # #rgb, any case
    assert Hint(np.int64(5), np.float32(2.5), " #00ff00 ").y == 2.5  # numpy scalars
    for args, kind, words in [
        ((5, 5, "red"), ColorganError, "not #rrggbb or #rgb"),
        ((5, 5, "#ffff"), ColorganError, "not #rrggbb or #rgb"),
        (("100", 5, "#fff"), ColorganTypeError, "x must be a number"),
        ((None, 5, "#fff"), ColorganTypeError, "x must be a number"),
        ((5, True, "#fff"), ColorganTypeError, "y must be a number"),
        ((5, float("nan"), "#fff"), ColorganError, "not a finite number"),
        ((10**400, 5, "#fff"), ColorganError, "not a finite number"),
        ((5, 5, 0xFF0000), ColorganTypeError, "color must be a string"),
    ]:
        with pytest.raises(kind, match=words):
            Hint(*args)
    assert issubclass(ColorganError, ValueError) and issubclass(ColorganTypeError, TypeError)


def test_hints_may_be_tuples_or_mappings_and_anything_else_is_one_sentence():
    photo = make_photo(1, (64, 48))
    given = [(10, 10, "#b22222"), {"x": 20, "y": 5, "color": "#fff"}, Hint(1, 1, "#000")]
    assert Request(photo, Settings(hints=given)).settings.hints == (
        Hint(10, 10, "#b22222"),
        Hint(20, 5, "#ffffff"),
        Hint(1, 1, "#000000"),
    )
    for hints, words in [
        ([None], "hints: point 1: a hint is a Hint"),
        ([(1, 2)], "hints: point 1: a hint is a Hint"),
        (b"#fff", "hints: must be a list"),
        (5, "hints: must be a list"),
    ]:
        with pytest.raises(ColorganTypeError, match=words):
            Settings(hints=hints)
    with pytest.raises(ColorganError, match=f"at most {MAX_HINTS}"):
        Settings(hints=[(1, 1, "#fff")] * (MAX_HINTS + 1))
    with pytest.raises(ColorganError, match="point 2, \\(64, 1\\), is outside the 64x48"):
        Request(photo, Settings(hints=[(1, 1, "#fff"), (64, 1, "#fff")]))


def test_a_photo_and_an_intensity_are_what_a_user_would_pass(light):
    photo = make_photo(2, (64, 48))
    as_numpy = light.colorize(photo, saturation=np.float32(1.5))
    assert np.array_equal(np.asarray(as_numpy), np.asarray(light.colorize(photo, saturation=1.5)))
    for photo_value in ([[0] * 64] * 64, None, 12):
        with pytest.raises(ColorganTypeError, match="a photo is a PIL image, a numpy array"):
            light.colorize(photo_value)
    for value, kind in [("lots", ColorganTypeError), (-1, ColorganError), (9, ColorganError)]:
        with pytest.raises(kind, match="saturation"):
            light.colorize(photo, saturation=value)


def test_float_photos_take_the_range_their_values_show(light):
    """A 0..255 float array and Pillow's convert("F") (0..255) colour as the 8-bit photo
    does, not white; 0..1 floats too; values beyond 255 are refused with the ranges taken."""
    grey = make_photo(3, (80, 64)).convert("L")
    want = np.asarray(light.colorize(grey), int)
    for source in (
        np.asarray(grey, np.float64),
        grey.convert("F"),
        np.asarray(grey, np.float32) / 255.0,
    ):
        got = np.asarray(light.colorize(source), int)
        assert np.abs(got - want).max() <= 1, type(source)
    with pytest.raises(BadImage, match="colorgan takes 0 to 1, or 0 to 255"):
        light.colorize(np.asarray(grey, np.float64) * 4)


def test_hints_keyed_by_a_relative_path_tell_two_photos_of_one_name_apart(tmp_path, capsys):
    """Two inputs named p.png: each gets the points of its own path's key; a bare name would
    name both, and is refused before anything is written."""
    from colorgan.pipeline.colorizer import Colorizer as PipelineColorizer

    for side, seed in (("a", 4), ("b", 5)):
        (tmp_path / "dup" / side).mkdir(parents=True)
        make_photo(seed, (96, 64)).save(tmp_path / "dup" / side / "p.png")
    points = {"a/p.png": [{"x": 10, "y": 10, "color": "#00ff00"}]}
    (tmp_path / "h.json").write_text(json.dumps(points))
    out = tmp_path / "out"
    base = ["colorize", str(tmp_path / "dup"), "--out", str(out), "-q"]
    assert main([*base, "--hints", str(tmp_path / "h.json")]) == 0
    plain = PipelineColorizer(OnnxEngine())
    for side, hinted in (("a", True), ("b", False)):
        written = np.asarray(Image.open(out / side / "p.png"), int)
        auto = np.asarray(plain.colorize(Image.open(tmp_path / "dup" / side / "p.png")), int)
        assert bool(np.abs(written - auto).max() > 3) is hinted, side
    (tmp_path / "bare.json").write_text(json.dumps({"p.png": points["a/p.png"]}))
    assert main([*base, "--overwrite", "--hints", str(tmp_path / "bare.json")]) == 2
    assert "names 2 inputs" in capsys.readouterr().err


@pytest.mark.subprocess
def test_a_points_file_that_is_a_pipe_is_refused_not_waited_on(tmp_path):
    """A FIFO would block a plain read forever: the command refuses it at once."""
    fifo = tmp_path / "points.json"
    os.mkfifo(fifo)
    make_photo(6).save(tmp_path / "p.png")
    run = subprocess.run(
        [
            sys.executable,
            "-m",
            "colorgan",
            "colorize",
            str(tmp_path / "p.png"),
            "--out",
            str(tmp_path / "out"),
            "--hints",
            str(fifo),
            "-q",
        ],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert run.returncode == 2 and "not a regular file" in run.stderr, run.stderr
    assert not (tmp_path / "out").exists()


@pytest.mark.film
def test_a_films_hints_on_a_model_without_hints_stop_the_run_before_any_output(tmp_path, capsys):
    pytest.importorskip("av")
    from tests.conftest import make_clip

    make_photo(7, (64, 48)).save(tmp_path / "a.png")
    make_clip(tmp_path / "reel.mp4", frames=4, audio=False)
    (tmp_path / "h.json").write_text(json.dumps({"reel.mp4": [{"x": 5, "y": 5, "color": "#f00"}]}))
    argv = [
        "colorize",
        str(tmp_path / "a.png"),
        str(tmp_path / "reel.mp4"),
        "--model",
        "paper",
        "--hints",
        str(tmp_path / "h.json"),
        "--out",
        str(tmp_path / "out"),
        "-q",
    ]
    assert main(argv) == 2
    assert "takes no colour hints" in capsys.readouterr().err
    assert not (tmp_path / "out").exists()
