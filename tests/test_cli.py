import argparse
import json
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

from colorgan.apps.cli import build_parser, main
from colorgan.pipeline.request import Request
from colorgan.pipeline.settings import Settings
from tests.conftest import make_photo


def run_cli(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "colorgan", *args], capture_output=True, text=True, timeout=300
    )


def test_help_lists_the_subcommands(capsys):
    """`colorgan --help` lists every command, each once, and no other: the ones a user is
    told of (written out here) are the ones the parser takes."""
    with pytest.raises(SystemExit) as done:
        main(["--help"])
    assert done.value.code == 0
    listing = capsys.readouterr().out.split("positional arguments:")[1].split("options:")[0]
    listed = re.findall(r"^ {4}(\w[\w-]*)", listing, re.M)  # a command's name: 4 spaces in
    expected = [
        "colorize",
        "restore",
        "serve",
        "train",
        "train-restorer",
        "data",
        "evaluate",
        "experiment",
        "export",
        "bank",
    ]
    assert listed == expected
    parser = build_parser()
    [commands] = [a for a in parser._actions if isinstance(a, argparse._SubParsersAction)]
    assert list(commands.choices) == expected


@pytest.mark.subprocess
def test_user_errors_are_one_line_without_traceback(tmp_path):
    out = run_cli("train", str(tmp_path / "missing.yaml"))
    assert out.returncode == 2
    assert out.stderr.strip().count("\n") == 0 and "Traceback" not in out.stderr
    assert "config file not found" in out.stderr
    make_photo(0).save(tmp_path / "x.jpg")
    out = run_cli(
        "colorize",
        str(tmp_path / "x.jpg"),
        "--out",
        str(tmp_path / "o"),
        "-w",
        str(tmp_path / "no.st"),
    )
    assert out.returncode == 2 and "Traceback" not in out.stderr
    assert "weights file not found" in out.stderr


def test_bad_inputs_each_get_one_line_and_write_nothing(tmp_path, tiny_weights, capsys):
    src = tmp_path / "in"
    src.mkdir()
    make_photo(0).save(src / "good.jpg")
    (src / "empty.jpg").write_bytes(b"")
    (src / "notes.jpg").write_text("this is text, not a JPEG")
    whole = (src / "good.jpg").read_bytes()
    (src / "truncated.jpg").write_bytes(whole[: len(whole) // 2])
    Image.new("RGB", (1, 1), (10, 20, 30)).save(src / "dot.png")
    out = tmp_path / "out"
    code = main(
        [
            "colorize",
            str(src),
            str(tmp_path / "missing.png"),
            "--out",
            str(out),
            "-w",
            str(tiny_weights),
            "-q",
        ]
    )
    err = capsys.readouterr().err.strip().splitlines()
    assert code == 1
    assert sorted(p.name for p in out.iterdir()) == ["good.jpg"]
    assert len(err) == 5
    for name in ("empty.jpg", "notes.jpg", "truncated.jpg", "dot.png", "missing.png"):
        assert sum(name in line for line in err) == 1, (name, err)
    assert all(line.startswith("colorgan: error:") for line in err)


@pytest.mark.slow
def test_colorize_folders_globs_and_no_overwrite(tmp_path, tiny_weights, capsys):
    src = tmp_path / "in"
    (src / "nested").mkdir(parents=True)
    make_photo(1, (120, 90)).convert("L").save(src / "a.png")
    make_photo(2, (64, 64)).save(src / "nested" / "b.jpg")
    make_photo(3, (50, 70)).convert("RGBA").save(src / "c.png")
    out = tmp_path / "out"
    assert main(["colorize", str(src), "--out", str(out), "-w", str(tiny_weights), "-q"]) == 0
    a = Image.open(out / "a.png")
    assert a.size == (120, 90) and a.mode == "RGB"
    assert (out / "a.png").stat().st_mode & 0o044  # readable by others, not mkstemp's 0600
    assert (out / "nested" / "b.jpg").is_file()
    assert Image.open(out / "c.png").mode == "RGBA"
    before = (out / "a.png").read_bytes()
    assert main(["colorize", str(src / "a.png"), "--out", str(out), "-w", str(tiny_weights)]) == 1
    assert "--overwrite" in capsys.readouterr().err
    assert (out / "a.png").read_bytes() == before
    assert (
        main(
            [
                "colorize",
                str(src / "a.png"),
                "--out",
                str(out),
                "-w",
                str(tiny_weights),
                "--overwrite",
                "-q",
            ]
        )
        == 0
    )
    glob_out = tmp_path / "glob"
    assert (
        main(
            ["colorize", str(src / "*.png"), "--out", str(glob_out), "-w", str(tiny_weights), "-q"]
        )
        == 0
    )
    assert sorted(p.name for p in glob_out.iterdir()) == ["a.png", "c.png"]
    assert not list(out.rglob("*.tmp"))


def test_two_inputs_with_one_name_are_both_kept(tmp_path, tiny_weights, capsys):
    for folder, seed in (("a", 1), ("b", 2)):
        (tmp_path / folder).mkdir()
        make_photo(seed, (64, 48)).save(tmp_path / folder / "p.png")
    out = tmp_path / "out"
    args = [
        "colorize",
        str(tmp_path / "a" / "p.png"),
        str(tmp_path / "b" / "p.png"),
        "--out",
        str(out),
        "-w",
        str(tiny_weights),
        "-q",
    ]
    assert main(args) == 0
    assert "colorized 2 of 2" in capsys.readouterr().out
    assert sorted(p.name for p in out.iterdir()) == ["p-2.png", "p.png"]
    first, second = (np.asarray(Image.open(out / n)) for n in ("p.png", "p-2.png"))
    assert not np.array_equal(first, second)  # two photos, two outputs


@pytest.mark.subprocess
def test_concurrent_runs_into_one_folder_write_each_output_once(tmp_path, tiny_weights):
    src = tmp_path / "in"
    src.mkdir()
    for i in range(6):
        make_photo(i, (160, 120)).save(src / f"p{i}.png")
    out = tmp_path / "out"
    cmd = [
        sys.executable,
        "-m",
        "colorgan",
        "colorize",
        str(src),
        "--out",
        str(out),
        "-w",
        str(tiny_weights),
        "-q",
    ]
    runs = [
        subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        for _ in range(2)
    ]
    outputs = [run.communicate(timeout=300) for run in runs]
    written = sum(int(o.split("colorized ")[1].split(" of")[0]) for o, _ in outputs)
    assert written == 6  # each photo written by exactly one run; the other says it exists
    refused = "".join(err for _, err in outputs)
    assert refused.count("exists") == 6 and "Traceback" not in refused
    assert sorted(p.name for p in out.iterdir()) == [f"p{i}.png" for i in range(6)]
    for path in out.iterdir():
        Image.open(path).load()  # whole files


@pytest.mark.subprocess
def test_a_full_disk_fails_each_photo_it_hits_and_publishes_no_partial_file(
    tmp_path, tiny_weights, capsys
):
    from tests.test_files import small_disk

    src = tmp_path / "in"
    src.mkdir()
    for i in range(8):
        make_photo(i, (300, 200)).save(src / f"p{i}.png")  # about 150 KB each as PNG
    with small_disk(tmp_path / "disk", "400k") as disk:
        code = main(
            ["colorize", str(src), "--out", str(disk / "out"), "-w", str(tiny_weights), "-q"]
        )
        captured = capsys.readouterr()
        written = sorted((disk / "out").iterdir())
        assert code == 1 and 0 < len(written) < 8
        assert f"colorized {len(written)} of 8" in captured.out
        assert captured.err.count("No space left on device") == 8 - len(written)
        for path in written:
            assert not path.name.startswith(".")  # no temporary left behind
            Image.open(path).load()  # every published file is whole


def test_an_empty_folder_says_so(tmp_path, tiny_weights, capsys):
    (tmp_path / "empty").mkdir()
    code = main(
        ["colorize", str(tmp_path / "empty"), "--out", str(tmp_path / "o"), "-w", str(tiny_weights)]
    )
    assert code == 1
    assert "no photos or films in this folder" in capsys.readouterr().err


@pytest.mark.slow
def test_colorize_size_changes_the_prediction_not_the_output_size(tmp_path, tiny_weights, capsys):
    src = tmp_path / "a.png"
    make_photo(4, (120, 90)).convert("L").save(src)
    outputs = {}
    for size in (32, 16):
        out = tmp_path / f"out{size}"
        args = ["colorize", str(src), "--out", str(out), "-w", str(tiny_weights), "-q"]
        assert main([*args, "--size", str(size)]) == 0
        outputs[size] = np.asarray(Image.open(out / "a.png"), dtype=np.int16)
    assert outputs[32].shape == outputs[16].shape == (90, 120, 3)
    assert np.abs(outputs[32] - outputs[16]).max() > 0
    bad = ["colorize", str(src), "--out", str(tmp_path / "bad"), "-w", str(tiny_weights)]
    assert main([*bad, "--size", "12"]) == 2
    assert "multiple of 8" in capsys.readouterr().err


def own_scores(weights: Path, folder: Path) -> dict[str, float]:
    """Mean PSNR over the folder's photos at 256 x 256 of the model (through the Colorizer's
    full-resolution Lab path) and of the grey floor (scikit-image's Lab, ab set to 0)."""
    from skimage.color import lab2rgb, rgb2lab

    from colorgan.base.images import find_images, load_rgb
    from colorgan.engines.torch_engine import TorchEngine
    from colorgan.evaluation.metrics import psnr
    from colorgan.pipeline.colorizer import Colorizer

    colorizer = Colorizer(TorchEngine(weights))
    scores: dict[str, list[float]] = {"model": [], "grey": []}
    for path in find_images(folder):
        photo = load_rgb(path, 256, reduced=False)
        lab = rgb2lab(photo)
        lab[..., 1:] = 0
        grey = np.round(lab2rgb(lab).clip(0, 1) * 255)
        scores["grey"].append(psnr(grey, photo))
        scores["model"].append(psnr(np.asarray(colorizer.colorize(photo)), photo))
    return {k: float(np.mean(v)) for k, v in scores.items()}


@pytest.mark.training
def test_train_export_colorize_evaluate_end_to_end(tmp_path, photo_dir, capsys):
    config = tmp_path / "tiny.yaml"
    config.write_text(
        f"data:\n  root: {photo_dir}\n  image_size: 32\n  val_fraction: 0.25\n"
        "model:\n  fusion: {use_segmentation: false}\n"
        f"priors:\n  cache_dir: {tmp_path / 'cache'}\n"
        "train:\n  batch_size: 4\n  pretrain_epochs: 1\n  adversarial_epochs: 1\n"
    )
    runs = tmp_path / "runs"
    assert main(["train", str(config), "--out-dir", str(runs), "-q"]) == 0
    generator = runs / "tiny" / "generator.safetensors"
    assert generator.is_file()
    assert main(["train", str(config), "--out-dir", str(runs), "-q"]) == 2  # would clobber
    assert "--resume" in capsys.readouterr().err
    half = tmp_path / "half.safetensors"
    assert main(["export", str(runs / "tiny"), "--out", str(half), "--half"]) == 0
    assert half.stat().st_size < generator.stat().st_size * 0.6
    out = tmp_path / "colour"
    assert main(["colorize", str(photo_dir), "--out", str(out), "-w", str(half), "-q"]) == 0
    assert len(list(out.rglob("*.*"))) == 12
    report = tmp_path / "report"
    assert main(["evaluate", str(photo_dir), "-w", str(half), "--out", str(report), "-q"]) == 0
    metrics = json.loads((report / "metrics.json").read_text())
    res = metrics["results"]
    assert metrics["images"] == 12
    assert res["grey"]["colourfulness"] < 1.0 < res["original"]["colourfulness"]
    # the scores are those of the photos as a user gets them, computed here on their own
    mine = own_scores(half, photo_dir)
    assert res["model"]["psnr"] == pytest.approx(mine["model"], abs=0.1)
    assert res["grey"]["psnr"] == pytest.approx(mine["grey"], abs=0.05)
    assert res["model"]["psnr"] != res["grey"]["psnr"] and 0 < res["model"]["ssim"] <= 1
    assert "grey floor" in (report / "metrics.md").read_text()
    # the config's validation photos, where recipes are compared: the table printed, and
    # written with --out (one run for both: the table is printed whether or not it is written)
    capsys.readouterr()
    val = tmp_path / "val-report"
    assert (
        main(
            [
                "evaluate",
                "--val-of",
                str(config),
                "-w",
                str(half),
                "--no-fid",
                "-q",
                "--out",
                str(val),
            ]
        )
        == 0
    )
    assert "| grey floor (L kept" in capsys.readouterr().out
    assert json.loads((val / "metrics.json").read_text())["images"] == 3
    for both_or_neither in (["--val-of", str(config), str(photo_dir)], []):
        assert main(["evaluate", *both_or_neither, "-w", str(half), "-q"]) == 2
        assert "--val-of" in capsys.readouterr().err


@pytest.mark.slow
def test_colorize_with_the_papers_backbones_from_local_files(tmp_path):
    """The paper's configuration end to end: Inception + DeepLabV3 weights named on the CLI."""
    import timm
    import torch
    from safetensors.torch import save_file
    from torchvision.models.segmentation import deeplabv3_resnet50

    from colorgan.config import Config
    from colorgan.models.file import build_generator, generator_meta, save_generator

    torch.manual_seed(0)
    irv2 = tmp_path / "irv2.safetensors"
    net = timm.create_model("inception_resnet_v2", pretrained=False)
    save_file({k: v.contiguous() for k, v in net.state_dict().items()}, str(irv2))
    deeplab = tmp_path / "deeplab.pth"
    torch.save(deeplabv3_resnet50(weights=None, weights_backbone=None).state_dict(), deeplab)
    cfg = Config()
    cfg.priors.embedding, cfg.priors.segmentation = "inception_resnet_v2", "deeplabv3_resnet50"
    cfg.priors.embedding_weights = str(tmp_path / "gone.safetensors")  # as on another machine
    cfg.data.image_size = 64
    weights = tmp_path / "paper.safetensors"
    save_generator(weights, build_generator(cfg.model, cfg.priors), generator_meta(cfg))
    make_photo(7, (90, 60)).save(tmp_path / "in.png")
    args = [
        "colorize",
        str(tmp_path / "in.png"),
        "--out",
        str(tmp_path / "out"),
        "-w",
        str(weights),
        "-q",
    ]
    assert main(args) == 2  # the recorded weight file is missing here: one clear error
    extra = ["--embedding-weights", str(irv2), "--segmentation-weights", str(deeplab)]
    assert main(args + extra) == 0
    assert Image.open(tmp_path / "out" / "in.png").size == (90, 60)


@pytest.mark.subprocess
def test_bundled_models_are_chosen_by_name(tmp_path, capsys):
    make_photo(5, (64, 48)).save(tmp_path / "in.png")
    out = tmp_path / "out"
    assert (
        main(["colorize", str(tmp_path / "in.png"), "--out", str(out), "--model", "paper", "-q"])
        == 0
    )
    paper = np.asarray(Image.open(out / "in.png"))
    assert main(["colorize", str(tmp_path / "in.png"), "--out", str(out), "--overwrite", "-q"]) == 0
    default = np.asarray(Image.open(out / "in.png"))
    assert default.shape == paper.shape == (48, 64, 3)
    assert np.abs(default.astype(int) - paper).max() > 8  # two different models
    assert (
        main(
            [
                "colorize",
                str(tmp_path / "in.png"),
                "--out",
                str(out),
                "--overwrite",
                "--model",
                "default",
                "-q",
            ]
        )
        == 0
    )
    assert np.array_equal(np.asarray(Image.open(out / "in.png")), default)
    result = run_cli("colorize", str(tmp_path / "in.png"), "--out", str(out), "--model", "nope")
    assert result.returncode == 2 and "invalid choice" in result.stderr
    assert "Traceback" not in result.stderr


@pytest.mark.slow
def test_a_models_stored_saturation_is_its_default_on_both_engines(tmp_path, tiny_weights):

    from colorgan.engines.onnx_engine import OnnxEngine
    from colorgan.engines.torch_engine import TorchEngine
    from colorgan.models.file import read_generator_file
    from colorgan.pipeline.colorizer import Colorizer

    half = tmp_path / "half-colour.safetensors"
    assert main(["export", str(tiny_weights), "--out", str(half), "--saturation", "0.5"]) == 0
    assert read_generator_file(half)[1]["saturation"] == 0.5
    onnx = tmp_path / "half-colour.onnx"
    assert main(["export", str(half), "--onnx", "--out", str(onnx)]) == 0
    greys = [make_photo(3).convert("L")]
    assert main(["export", str(tiny_weights), "--onnx", "--out", str(tmp_path / "full.onnx")]) == 0
    for engine, model in ((TorchEngine, tiny_weights), (OnnxEngine, tmp_path / "full.onnx")):
        halved_file = half if engine is TorchEngine else onnx
        full, halved = Colorizer(engine(model)), Colorizer(engine(halved_file))
        ab_full = full.frames(greys)[1]
        assert np.allclose(halved.frames(greys)[1], 0.5 * ab_full, atol=1e-5)
        # the user's intensity is relative to the model's own
        assert np.allclose(
            halved.frames(greys, Request(greys[0], Settings(saturation=2.0)))[1], ab_full, atol=1e-5
        )
    for bad in ("0", "9", "-1"):
        assert (
            main(
                [
                    "export",
                    str(tiny_weights),
                    "--out",
                    str(tmp_path / f"x{bad}.safetensors"),
                    "--saturation",
                    bad,
                ]
            )
            == 2
        )
        assert not (tmp_path / f"x{bad}.safetensors").exists()


@pytest.mark.slow
def test_a_classifying_models_temperature_is_stored_by_export_and_used(tmp_path, tiny_weights):
    """export --temperature rewrites a classifying model's annealed mean: at 1 it is the plain
    mean of the bins (duller than at 0.38); a regression model refuses it in one line."""
    from colorgan.engines.torch_engine import TorchEngine
    from colorgan.models.file import read_generator_file
    from tests.conftest import write_generator

    lite = {
        "use_embedding": False,
        "use_segmentation": False,
        "out_stride": 4,
        "head": "classification",
    }
    sharp = write_generator(
        tmp_path / "c.safetensors", {"generator": "lite_unet", "lite_unet": lite}, 64
    )
    soft = tmp_path / "soft.safetensors"
    assert main(["export", str(sharp), "--out", str(soft), "--temperature", "1"]) == 0
    options = read_generator_file(soft)[1]["model"]["lite_unet"]
    assert options["temperature"] == 1.0 and options["head"] == "classification"
    l_norm = torch.rand(1, 1, 64, 64) * 2 - 1
    with torch.no_grad():
        a, b = (TorchEngine(f, channels_last=False).generator.eval() for f in (sharp, soft))
        torch.manual_seed(1)
        weight = torch.randn_like(a.to_ab.weight)  # confident, varied bins
        for net in (a, b):
            net.to_ab.weight.copy_(weight)
        sharp_ab, soft_ab = a(l_norm), b(l_norm)
    assert not torch.allclose(sharp_ab, soft_ab)
    assert soft_ab.abs().mean() < sharp_ab.abs().mean()  # the mean of a spread is duller
    out = tmp_path / "x.safetensors"
    assert main(["export", str(tiny_weights), "--out", str(out), "--temperature", "1"]) == 2
    assert not out.exists()
    assert main(["export", str(sharp), "--out", str(out), "--temperature", "0"]) == 2
    assert not out.exists()


@pytest.mark.slow
def test_evaluate_compares_models_and_sweeps_their_saturation(tmp_path, photo_dir, tiny_weights):
    from tests.conftest import write_generator

    other = write_generator(tmp_path / "other.safetensors", image_size=64)
    out = tmp_path / "sweep"
    assert (
        main(
            [
                "evaluate",
                str(photo_dir),
                "-w",
                str(tiny_weights),
                "--compare",
                str(other),
                "--saturation-sweep",
                "--limit",
                "3",
                "--no-fid",
                "-q",
                "--out",
                str(out),
            ]
        )
        == 0
    )
    res = json.loads((out / "metrics.json").read_text())["results"]
    labels = [f"{m} @ {s}" for m in ("tiny", "other") for s in (0.25, 0.5, 0.75, 1, 1.25, 1.5)]
    assert list(res) == [*labels, "grey", "original"]
    assert res["tiny @ 1.5"]["colourfulness"] > res["tiny @ 0.25"]["colourfulness"]
    plot = Image.open(out / "saturation_sweep.png")
    assert plot.size[0] > 400 and len(np.unique(np.asarray(plot.convert("L")))) > 10  # drawn
    assert main(["evaluate", str(photo_dir), "-w", str(tiny_weights), "--saturation-sweep"]) == 2


def test_a_photo_whose_name_fills_the_disks_limit_is_colorized(tmp_path, tiny_weights):
    name = "p" * 251 + ".jpg"  # 255 bytes: the longest name a file may have
    make_photo(1).save(tmp_path / name)
    out = tmp_path / "out"
    assert (
        main(["colorize", str(tmp_path / name), "--out", str(out), "-w", str(tiny_weights), "-q"])
        == 0
    )
    assert [p.name for p in out.iterdir()] == [name]
    assert Image.open(out / name).size == make_photo(1).size


@pytest.mark.slow
def test_no_output_replaces_an_input_and_earlier_outputs_are_not_inputs(
    tmp_path, photo_dir, tiny_weights, capsys
):
    originals = {p: p.read_bytes() for p in photo_dir.rglob("*.*")}
    # --out is the input folder itself: --overwrite still never replaces an original
    assert (
        main(
            [
                "colorize",
                str(photo_dir),
                "--out",
                str(photo_dir),
                "--overwrite",
                "-q",
                "-w",
                str(tiny_weights),
            ]
        )
        == 1
    )
    err = capsys.readouterr().err
    assert err.count("is an input of this run") == 12
    assert {p: p.read_bytes() for p in photo_dir.rglob("*.*")} == originals
    # --out inside the input folder: the second run colours the 12 photos, not their outputs
    inside = photo_dir / "colour"
    for _ in range(2):
        assert (
            main(
                [
                    "colorize",
                    str(photo_dir),
                    "--out",
                    str(inside),
                    "--overwrite",
                    "-q",
                    "-w",
                    str(tiny_weights),
                ]
            )
            == 0
        )
        assert "colorized 12 of 12" in capsys.readouterr().out
    assert len(list(inside.rglob("*.*"))) == 12 and not (inside / "colour").exists()


def test_every_mistake_on_the_command_line_is_one_line(tmp_path, capsys):
    """argparse's own refusals (a missing option, a value of the wrong type, an unknown
    command) are one `colorgan: error:` line naming the command's --help, exit 2."""
    photo = tmp_path / "p.png"
    make_photo(1).save(photo)
    for argv, why in [
        (["colorize", str(photo)], "the following arguments are required: --out"),
        (["colorize", str(photo), "--out", str(tmp_path), "--saturation", "lots"], "lots"),
        (["colourise", str(photo)], "invalid choice"),
        (["export", "default"], "--out"),
    ]:
        with pytest.raises(SystemExit) as stopped:
            main(argv)
        assert stopped.value.code == 2
        err = capsys.readouterr().err.strip().splitlines()
        assert len(err) == 1 and err[0].startswith("colorgan: error: ") and why in err[0], err
        assert "--help" in err[0]


def test_a_recipe_without_photos_says_how_to_name_them(tmp_path, capsys):
    recipe = tmp_path / "mine.yaml"
    recipe.write_text("model: {generator: unet, unet: {downs: 6}}\ndata: {image_size: 64}\n")
    assert main(["train", str(recipe), "--out-dir", str(tmp_path / "runs"), "-q"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "--set data.root=FOLDER" in err[0], err


def test_without_ray_the_option_says_which_extra_to_install(tmp_path, monkeypatch, capsys):
    """--ray where Ray is not installed, and its options misgiven: one line each, exit 2,
    nothing written (the runs themselves: tests/test_cluster.py)."""
    make_photo(0).save(tmp_path / "photo.png")
    monkeypatch.setitem(sys.modules, "ray", None)  # as where it is not installed
    given = ["colorize", str(tmp_path / "photo.png"), "--out", str(tmp_path / "out")]
    for extra, words in (
        (
            ["--ray"],
            "needs Ray, which this install leaves out: from a clone of colorgan, "
            "pip install '.[cluster]'",
        ),
        (["--ray-workers", "2"], "--ray-workers and --ray-cpus are for a run with --ray"),
        (["--ray", "--ray-cpus", "0"], "--ray-cpus: must be a whole number from 1, not 0"),
    ):
        assert main([*given, *extra]) == 2
        err = capsys.readouterr().err.strip().splitlines()
        assert len(err) == 1 and words in err[0], err
    assert not (tmp_path / "out").exists()
