"""pipeline.settings.Settings: every per-call setting has one default and one check, and the
Python API, the command and the page refuse the same value with the same sentence."""

import ast
import inspect
import json
import pickle
from dataclasses import fields
from pathlib import Path

import numpy as np
import pytest

from colorgan.apps.cli import main
from colorgan.base.errors import ColorganError, ColorganTypeError, SettingError
from colorgan.pipeline.settings import Settings, settings_of
from tests.conftest import make_photo

SRC = Path(__file__).resolve().parents[1] / "src" / "colorgan"


@pytest.fixture(scope="module")
def light():
    from colorgan.engines.onnx_engine import OnnxEngine
    from colorgan.pipeline.colorizer import Colorizer

    return Colorizer(OnnxEngine())


# (setting, a value it refuses, the option that gives it, as the command line writes it)
REFUSED = [
    ("saturation", -1.0, "--saturation", "-1", "must be in [0, 4], not -1.0"),
    ("saturation", 9.0, "--saturation", "9", "must be in [0, 4], not 9.0"),
    ("alternatives", 0, "--alternatives", "0", "must be 1 to 8, not 0"),
    ("alternatives", 9, "--alternatives", "9", "must be 1 to 8, not 9"),
    ("alternatives", -1, "--alternatives", "-1", "must be 1 to 8, not -1"),
    ("bank_k", 0, "--bank-k", "0", "must be 1 to 8, not 0"),
    ("batch", 0, "--batch", "0", "must be 1 to 256, not 0"),
    ("video_quality", 99, "--video-quality", "99", "must be 0 to 51, not 99"),
    (
        "codec",
        "mpeg2",
        "--codec",
        "mpeg2",
        "must be one of h264, h265, prores, ffv1, y4m, png, tiff, not 'mpeg2'",
    ),
    ("frame_rate", "0", "--frame-rate", "0", "must be above 0 and at most 1000, not '0'"),
    (
        "frame_rate",
        "24/0",
        "--frame-rate",
        "24/0",
        "must be a number of frames a second (24, 23.976, 24000/1001), not '24/0'",
    ),
]


@pytest.mark.parametrize(("setting", "value", "flag", "text", "why"), REFUSED)
def test_the_api_and_the_command_refuse_a_setting_with_one_sentence(
    setting, value, flag, text, why, tmp_path, capsys
):
    with pytest.raises(SettingError) as caught:
        Settings(**{setting: value})
    assert str(caught.value) == f"{setting}: {why}"
    make_photo(0).save(tmp_path / "p.png")
    argv = ["colorize", str(tmp_path / "p.png"), "--out", str(tmp_path / "out"), "-q"]
    assert main([*argv, flag, text]) == 2
    assert capsys.readouterr().err == f"colorgan: error: {flag}: {why}\n"
    assert not (tmp_path / "out").exists()


def test_the_page_says_the_same_sentence(tmp_path, light):
    from colorgan.apps.studio import Limits, Studio

    studio = Studio(lambda name: light, ["default"], Limits(), tmp_path)
    for given, sentence in [
        ({"saturation": 9.0}, "saturation: must be in [0, 4], not 9.0"),
        ({"saturation": 1.0, "alternatives": 0}, "alternatives: must be 1 to 8, not 0"),
        ({"saturation": 1.0, "hints": [[1, 2, "red"]]}, "hints: point 1: the colour 'red'"),
    ]:
        with pytest.raises(ColorganError) as caught:
            studio.settings(**given)
        assert str(caught.value).startswith(sentence), caught.value


def test_the_python_api_refuses_what_the_command_refuses(light):
    """Once, the API took alternatives 0 (an empty list), -1 (two of three), 2.5 (a raw
    TypeError) and 9 with a bank: each is now the command's sentence."""
    grey = make_photo(1, (64, 48)).convert("L")
    refs = [make_photo(k, (64, 48)) for k in (2, 3, 4)]
    for count, kind in [(0, SettingError), (-1, SettingError), (9, SettingError)]:
        with pytest.raises(kind, match="alternatives: must be 1 to 8"):
            light.alternatives(grey, count, references=refs)
    with pytest.raises(ColorganTypeError, match="alternatives: must be a whole number, not 2.5"):
        light.alternatives(grey, 2.5, references=refs)
    assert len(light.alternatives(grey, 3, references=refs)) == 3
    assert len(light.alternatives(grey, 2.0, references=refs)) == 2  # a slider's 2.0
    with pytest.raises(ColorganError, match="alternatives: 4 alternatives need 4 references; 3"):
        light.alternatives(grey, 4, references=refs)
    with pytest.raises(ColorganTypeError, match="sharpness: no such setting"):
        light.colorize(grey, sharpness=2)
    with pytest.raises(ColorganTypeError, match="settings must be a pipeline.settings.Settings"):
        light.colorize(grey, 1.5)  # an intensity is given by name: saturation=1.5


def test_a_setting_error_survives_a_trip_between_processes():
    """Worker processes (a pool, a cluster) send errors back pickled: the setting and its
    sentence arrive whole."""
    with pytest.raises(SettingError) as caught:
        Settings(bank_k=0)
    again = pickle.loads(pickle.dumps(caught.value))
    assert type(again) is type(caught.value) and again.setting == "bank_k"
    assert str(again) == str(caught.value) and again.named("--bank-k").startswith("--bank-k: ")


def test_settings_by_input_are_each_inputs_own(tmp_path):
    a, b = tmp_path / "a.png", tmp_path / "b.png"
    settings = Settings(hints={str(a): [(1, 2, "#fff")]}, references=[])
    assert settings.for_input(a).hints[0].color == "#ffffff"
    assert settings.for_input(b).hints == ()
    with pytest.raises(ColorganError, match="hints: given by input need the inputs' file paths"):
        settings.for_input(np.zeros((8, 8), np.uint8))
    with pytest.raises(ColorganTypeError, match="keyed by file paths, not 5"):
        Settings(hints={5: []})
    with pytest.raises(ColorganTypeError, match="keyed by file paths"):
        Settings(references={"a\0b.png": []})
    with pytest.raises(ColorganError, match="key_frames: a frame number is 0 to"):
        Settings(key_frames=[(10**30, tmp_path)])
    with pytest.raises(ColorganTypeError, match="key_frames: a frame number is a whole number"):
        Settings(key_frames=[("1", tmp_path)])


# other ideas of one name: the bank build's encoder batch, the packer's JPEG quality
OTHER_IDEAS = {"build_bank.py": {"batch"}, "bank.py": {"batch"}, "data.py": {"quality"}}


def _literal(node: ast.AST | None) -> bool:
    return isinstance(node, ast.Constant) and node.value not in (None, ())


def test_the_default_of_each_setting_is_written_once():
    """No function parameter, class field or command-line option of the colorizing layers
    (pipeline, evaluation, apps) writes a setting's default again (bank_k=3 stood in eight
    places)."""
    names = {f.name for f in fields(Settings)} | {"quality"}
    found = []
    front = [
        p for folder in ("pipeline", "evaluation", "apps") for p in (SRC / folder).rglob("*.py")
    ]
    for path in front:
        if path.name == "settings.py":
            continue
        mine = names - OTHER_IDEAS.get(path.name, set())
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                a = node.args
                positional = [*a.posonlyargs, *a.args]
                with_default = positional[len(positional) - len(a.defaults) :]
                pairs = [*zip(with_default, a.defaults, strict=True)]
                pairs += zip(a.kwonlyargs, a.kw_defaults, strict=True)
                found += [
                    f"{path.name}:{node.name}({arg.arg}=...)"
                    for arg, default in pairs
                    if arg.arg in mine and _literal(default)
                ]
            if isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name):
                if node.target.id in mine and _literal(node.value):
                    found.append(f"{path.name}: {node.target.id} = ...")
            if isinstance(node, ast.Call) and getattr(node.func, "attr", "") == "add_argument":
                flags = [a.value for a in node.args if isinstance(a, ast.Constant)]
                dests = {str(f).lstrip("-").replace("-", "_") for f in flags}
                default = [k.value for k in node.keywords if k.arg == "default"]
                if dests & mine and default and _literal(default[0]):
                    found.append(f"{path.name}: {flags[0]} default")
    assert not found, found


def test_the_loops_take_the_settings_bundle_and_few_parameters():
    from colorgan.pipeline.colorizer import Colorizer
    from colorgan.pipeline.film import colorize_videos

    for function in (Colorizer.colorize_files, colorize_videos):
        parameters = [p for p in inspect.signature(function).parameters if p != "self"]
        assert len(parameters) <= 6 and "settings" in parameters, function
    too_many = []
    for folder in ("pipeline", "apps"):
        for path in (SRC / folder).rglob("*.py"):
            for node in ast.walk(ast.parse(path.read_text())):
                if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                    a = node.args
                    names = [x.arg for x in [*a.posonlyargs, *a.args, *a.kwonlyargs]]
                    count = len([n for n in names if n not in ("self", "cls")])
                    if count > 8:
                        too_many.append(f"{path.name}:{node.name} ({count})")
    assert not too_many, too_many


@pytest.mark.film
def test_key_frames_are_whole_ascii_numbers_within_the_film(tmp_path, capsys):
    pytest.importorskip("av")
    from colorgan import Request
    from tests.conftest import make_clip

    make_clip(tmp_path / "reel.mp4", frames=12, audio=False)
    make_photo(5).save(tmp_path / "key.png")
    base = ["colorize", str(tmp_path / "reel.mp4"), "--out", str(tmp_path / "out"), "-q"]
    for number, why in [
        ("²", "expected N:PHOTO, N a frame number from 0"),  # str.isdigit took it, int() not
        ("①", "expected N:PHOTO"),
        ("9" * 5000, "expected N:PHOTO"),
        ("12", "frame 12 is past the film's last (11: it has 12 frames, numbered from 0)"),
        (str(10**30), "expected N:PHOTO"),
    ]:
        assert main([*base, "--reference-frame", f"{number}:{tmp_path / 'key.png'}"]) == 2
        err = capsys.readouterr().err
        assert err.startswith("colorgan: error: --reference-frame") and why in err, err
        assert len(err.splitlines()) == 1
    assert not (tmp_path / "out").exists()
    with pytest.raises(SettingError, match="past the film's last"):
        Request(tmp_path / "reel.mp4", Settings(key_frames=[(1000, tmp_path / "key.png")]))
    assert main([*base, "--reference-frame", f"11:{tmp_path / 'key.png'}"]) == 0


def test_a_nul_byte_in_a_points_or_references_key_is_one_line(tmp_path, capsys):
    make_photo(6).save(tmp_path / "p.png")
    make_photo(7).save(tmp_path / "ref.png")
    base = ["colorize", str(tmp_path / "p.png"), "--out", str(tmp_path / "out"), "-q"]
    (tmp_path / "h.json").write_text(json.dumps({"p\0.png": [{"x": 1, "y": 1, "color": "#f00"}]}))
    (tmp_path / "r.json").write_text(json.dumps({"p\0.png": ["ref.png"], "p.png": ["r\0.png"]}))
    for option, file in (("--hints", "h.json"), ("--references", "r.json")):
        assert main([*base, option, str(tmp_path / file)]) == 2
        err = capsys.readouterr().err
        assert "holds a NUL byte" in err and len(err.splitlines()) == 1, err
    (tmp_path / "r.json").write_text(json.dumps({"p.png": ["r\0.png"]}))
    assert main([*base, "--references", str(tmp_path / "r.json")]) == 2
    assert "--reference/--references: " in capsys.readouterr().err
    assert not (tmp_path / "out").exists()


def test_settings_of_changes_only_what_it_is_given():
    base = Settings(saturation=1.5, bank_k=2)
    changed = settings_of(base, alternatives=1, saturation=0.5)
    assert (changed.saturation, changed.bank_k) == (0.5, 2) and base.saturation == 1.5
