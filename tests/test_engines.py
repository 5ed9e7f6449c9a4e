"""The two engines behind one Colorizer: ONNX graphs that agree with torch, both engines
the same way through every front end, and a colorize that needs no torch."""

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

from colorgan.apps.cli import main
from colorgan.colour.pixels import lightness_grey
from colorgan.engines.onnx_engine import OnnxEngine
from colorgan.engines.torch_engine import TorchEngine
from colorgan.evaluation.metrics import psnr
from colorgan.pipeline.colorizer import Colorizer
from colorgan.pipeline.request import Request
from tests.conftest import WITHOUT_TORCH, make_photo, write_generator

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"


def agreement(onnx: OnnxEngine, engine: TorchEngine) -> float:
    """Largest |ab| difference of the ONNX graph and torch on the same random L."""
    torch.manual_seed(0)
    l_norm = torch.rand(2, 1, engine.spec.size, engine.spec.size) * 2 - 1
    prior = None
    if onnx.spec.prior_size is not None:
        prior = torch.nn.functional.interpolate(
            l_norm, size=(onnx.spec.prior_size,) * 2, mode="bilinear", antialias=True
        )
    prior_np = None if prior is None else prior.numpy()
    ab = onnx.predict(l_norm.numpy(), prior_np)
    return float(np.abs(ab - engine.predict(l_norm.numpy(), prior_np)).max())


@pytest.mark.slow
@pytest.mark.parametrize("model", ["default", "paper"])
def test_the_shipped_onnx_models_agree_with_their_generator_files(model):
    onnx, engine = OnnxEngine(model=model), TorchEngine(model=model, precision="fp32")
    assert onnx.spec.size == engine.spec.size and onnx.spec.prior_size == engine.spec.prior_size
    assert agreement(onnx, engine) < 1e-3


@pytest.mark.slow
def test_a_generator_file_exports_to_onnx_that_agrees_with_torch(tmp_path, capsys):
    generator = write_generator(tmp_path / "g.safetensors", {"generator": "fusion"})  # priors
    target = tmp_path / "g.onnx"
    assert main(["export", str(generator), "--onnx", "--out", str(target)]) == 0
    onnx, engine = OnnxEngine(target), TorchEngine(generator, precision="fp32")
    assert onnx.spec.prior_size == 256 and onnx.spec.size == 32
    assert agreement(onnx, engine) < 1e-3
    before = target.read_bytes()
    assert main(["export", str(generator), "--onnx", "--out", str(target)]) == 2
    assert "exists" in capsys.readouterr().err and target.read_bytes() == before


@pytest.mark.slow
def test_mirror_averaging_is_stored_in_the_file_and_both_engines_honour_it(tmp_path, capsys):
    plain_file, mirrored = tmp_path / "plain.safetensors", tmp_path / "m.safetensors"
    assert main(["export", "default", "--no-mirror", "--out", str(plain_file)]) == 0
    assert main(["export", str(plain_file), "--mirror", "--out", str(mirrored)]) == 0
    plain = TorchEngine(plain_file, precision="fp32")
    engine = TorchEngine(mirrored, precision="fp32")
    assert engine.mirror and not plain.mirror
    torch.manual_seed(1)
    l_norm = torch.rand(2, 1, engine.spec.size, engine.spec.size) * 2 - 1
    hints = torch.zeros(2, 3, engine.spec.size, engine.spec.size)
    hints[:, :, 10:14, 5:9] = torch.tensor([0.4, -0.3, 1.0]).view(1, 3, 1, 1)  # one hint
    ab = engine.predict_tensor(l_norm, hints=hints)
    expected = (
        plain.predict_tensor(l_norm, hints=hints)
        + plain.predict_tensor(l_norm.flip(-1), hints=hints.flip(-1)).flip(-1)
    ) / 2
    assert torch.allclose(ab, expected, atol=1e-5)
    # a mirrored photo gets the mirrored colour, hint and all
    assert torch.allclose(
        engine.predict_tensor(l_norm.flip(-1), hints=hints.flip(-1)), ab.flip(-1), atol=1e-5
    )
    assert not torch.allclose(ab, plain.predict_tensor(l_norm, hints=hints), atol=1e-3)
    target = tmp_path / "m.onnx"
    assert main(["export", str(mirrored), "--onnx", "--out", str(target)]) == 0
    assert agreement(OnnxEngine(target), engine) < 1e-3


def test_a_damaged_mirror_setting_is_refused_in_one_line(tmp_path):
    from colorgan.base.errors import ColorganError
    from colorgan.models.file import read_generator_file, write_generator_file

    tensors, meta = read_generator_file(write_generator(tmp_path / "g.safetensors"))
    write_generator_file(tmp_path / "bad.safetensors", tensors, {**meta, "mirror": "yes"})
    with pytest.raises(ColorganError, match="mirror setting 'yes' is not true or false"):
        TorchEngine(tmp_path / "bad.safetensors")


@pytest.mark.slow
def test_the_ycbcr_output_stays_within_40_db_of_the_lab_path():
    """On the bundled example photos (grey, as old photos are), as BENCHMARKS.md reports on
    the eval photos; the photo's own grey levels are kept as the output's luma."""
    light, colorizer = Colorizer(OnnxEngine()), Colorizer(TorchEngine(precision="fp32"))
    assert (light.composition, colorizer.composition) == ("ycbcr", "lab")
    examples = sorted((Path(__file__).resolve().parents[1] / "examples").glob("*.jpg"))
    assert len(examples) >= 5
    scores = []
    for path in examples:
        source = Image.open(path)
        out = light.colorize(source)
        assert out.mode == "RGB" and out.size == source.size
        scores.append(psnr(np.asarray(out), np.asarray(colorizer.colorize(source))))
        # the grey of the output (its luma, as Pillow and JPEG take it) is the photo's own
        kept = np.abs(np.asarray(out.convert("L"), int) - np.asarray(source.convert("L"), int))
        assert kept.mean() < 1.0  # rounding; the Lab path, keeping CIE L instead, is 5 off
    assert np.mean(scores) >= 40.0, scores


@pytest.mark.subprocess
def test_colorize_needs_no_torch_and_training_says_which_extra(tmp_path, photo_dir):
    out = tmp_path / "out"
    run = subprocess.run(
        [sys.executable, "-c", WITHOUT_TORCH, "colorize", str(photo_dir), "--out", str(out), "-q"],
        capture_output=True,
        text=True,
    )
    assert run.returncode == 0, run.stderr
    written = sorted(out.rglob("*.*"))
    assert len(written) == 12
    for path in written:
        image = Image.open(path)
        assert image.mode == "RGB"  # PNGs converted from YCbCr; JPEGs stored as YCbCr
        assert np.asarray(image, int).std(-1).mean() > 1  # colour, not grey
    run = subprocess.run(
        [sys.executable, "-c", WITHOUT_TORCH, "train", "configs/default.yaml"],
        capture_output=True,
        text=True,
    )
    assert run.returncode == 2
    assert run.stderr.strip().splitlines() == [
        "colorgan: error: `colorgan train` needs torch, which this install leaves out: "
        "from a clone of colorgan, pip install '.[train]'"
    ]


def test_the_engine_is_chosen_by_what_was_asked(tmp_path, tiny_weights, capsys):
    photo = tmp_path / "p.png"
    make_photo(1).save(photo)
    bad = tmp_path / "bad.onnx"
    bad.write_bytes(b"not a model at all")
    for args, message in [
        (["--engine", "onnx", "--size", "64"], "--size: a prediction size of 64 needs the torch"),
        (["--engine", "onnx", "-w", str(tiny_weights)], "--weights: a generator file needs the"),
        (["--engine", "torch", "-w", str(bad)], "is an ONNX model"),
        (["-w", str(bad)], "not a readable ONNX model"),
    ]:
        assert main(["colorize", str(photo), "--out", str(tmp_path / "o"), *args]) == 2
        err = capsys.readouterr().err
        assert message in err and len(err.strip().splitlines()) == 1, err
    assert not (tmp_path / "o").exists()
    # a generator file goes to torch by itself
    assert (
        main(["colorize", str(photo), "--out", str(tmp_path / "o"), "-w", str(tiny_weights), "-q"])
        == 0
    )
    assert (tmp_path / "o" / "p.png").is_file()


@pytest.mark.slow
@pytest.mark.parametrize("engine", ["onnx", "torch"])
def test_a_batch_colours_each_photo_as_alone_and_isolates_bad_ones(engine, tmp_path, capsys):
    colorizer = Colorizer(OnnxEngine() if engine == "onnx" else TorchEngine(precision="fp32"))
    photos = [make_photo(1, (300, 200)), Image.new("L", (4, 4)), make_photo(2, (150, 170))]
    batch = colorizer.run([Request(photo) for photo in photos])
    assert "too small" in str(batch[1])
    for photo, result in zip(photos[::2], batch[::2], strict=True):
        alone = np.asarray(colorizer.colorize(photo), int)
        assert result.size == photo.size and np.abs(np.asarray(result, int) - alone).max() <= 1
    # the command: three photos a batch, a truncated file among them fails alone
    folder = tmp_path / "in"
    folder.mkdir()
    for i in range(5):
        make_photo(i).save(folder / f"p{i}.jpg")
    (folder / "p5.jpg").write_bytes((folder / "p0.jpg").read_bytes()[:300])
    args = ["colorize", str(folder), "--out", str(tmp_path / "out"), "--engine", engine, "-q"]
    assert main([*args, "--batch", "3"]) == 1
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == [f"p{i}.jpg" for i in range(5)]
    assert "p5.jpg" in capsys.readouterr().err
    assert main([*args, "--batch", "0"]) == 2


@pytest.mark.slow
@pytest.mark.parametrize("engine", ["onnx", "torch"])
def test_saturation_scales_the_colour_and_keeps_the_grey(engine, capsys, tmp_path):
    def colourfulness(image: Image.Image) -> float:  # mean chroma of the output
        return float(np.asarray(image.convert("YCbCr"), float)[..., 1:].std())

    photo = Image.open(Path(__file__).resolve().parents[1] / "examples" / "chelsea.jpg")
    model = OnnxEngine() if engine == "onnx" else TorchEngine(precision="fp32")
    colorizer = Colorizer(model)
    outs = [colorizer.colorize(photo, saturation=s) for s in (0.0, 1.0, 2.0)]
    # one colorizer serves calls at different intensities: a call leaves nothing behind
    again = colorizer.colorize(photo)
    assert np.array_equal(np.asarray(again), np.asarray(outs[1]))
    chroma = np.asarray(outs[0].convert("YCbCr"), int)[..., 1:]
    assert np.abs(chroma - 128).max() <= 2  # 0: grey
    assert colourfulness(outs[2]) > 1.5 * colourfulness(outs[1]) > 0
    for out in outs:  # the photo's grey is kept at every intensity: as luma, or as CIE lightness
        grey = out.convert("L") if engine == "onnx" else lightness_grey(out)
        kept = np.abs(np.asarray(grey, int) - np.asarray(photo, int)).mean()
        assert kept < (1.0 if engine == "onnx" else 0.1)  # rounding (onnx), clipping (torch)
    args = [
        "colorize",
        str(Path(__file__).resolve().parents[1] / "examples" / "chelsea.jpg"),
        "--out",
        str(tmp_path),
        "--engine",
        engine,
    ]
    assert main([*args, "--saturation", "-1"]) == 2
    assert "--saturation: must be in [0, 4], not -1" in capsys.readouterr().err


@pytest.mark.film
@pytest.mark.subprocess
def test_the_light_install_colours_the_photos_and_says_films_need_pyav(tmp_path):
    pytest.importorskip("av")  # to make the film; the run below cannot import it
    from tests.conftest import make_clip

    folder = tmp_path / "box"
    folder.mkdir()
    make_photo(4).save(folder / "still.jpg")
    make_clip(folder / "film.mp4", frames=4, audio=False)
    without_av = WITHOUT_TORCH.replace('"onnx"}', '"onnx", "av"}')
    run = subprocess.run(
        [
            sys.executable,
            "-c",
            without_av,
            "colorize",
            str(folder),
            "--out",
            str(tmp_path / "out"),
            "-q",
        ],
        capture_output=True,
        text=True,
    )
    assert run.returncode == 1
    assert run.stderr.strip().splitlines() == [
        f"colorgan: error: {folder / 'film.mp4'}: films need PyAV, which this install leaves "
        "out: from a clone of colorgan, pip install '.[video]'"
    ]
    assert "colorized 1 of 2 file(s)" in run.stdout
    assert [p.name for p in (tmp_path / "out").iterdir()] == ["still.jpg"]


def test_the_graph_optimized_once_is_kept_and_colours_as_the_graph_does(tmp_path, monkeypatch):
    """engines.sessions: the optimized graph is written to the cache folder on first use and
    opened from it later, giving the same colour, bit for bit; a damaged copy is passed over
    and written again; an empty COLORGAN_CACHE keeps none."""
    grey = np.random.default_rng(0).uniform(-1, 1, (2, 1, 192, 192)).astype(np.float32)
    monkeypatch.setenv("COLORGAN_CACHE", "")
    plain = OnnxEngine().predict(grey, None)
    monkeypatch.setenv("COLORGAN_CACHE", str(tmp_path))
    first = OnnxEngine().predict(grey, None)
    [kept] = list(tmp_path.glob("default-*.onnx"))
    again = OnnxEngine().predict(grey, None)
    assert np.array_equal(plain, first) and np.array_equal(plain, again)
    kept.write_bytes(b"not a graph")
    assert np.array_equal(OnnxEngine().predict(grey, None), plain)
    assert kept.stat().st_size > 1_000_000 and not list(tmp_path.glob(".*.tmp"))
