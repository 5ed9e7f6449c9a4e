"""Old prints restored (pipeline.restore, colorgan restore, colorize --restore): damage the
network never saw is found and filled, clean photos come out as they went in, and every way
in (the command, the API, both engines, the light install) does the same."""

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from PIL import Image, ImageDraw

from colorgan.apps.cli import main
from colorgan.colour.pixels import lightness_grey
from colorgan.evaluation import metrics
from colorgan.pipeline.colorizer import Colorizer
from colorgan.pipeline.settings import Settings
from colorgan.training.damage import damage
from tests.conftest import WITHOUT_TORCH

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"


def psnr(a, b) -> float:
    """The evaluation's PSNR of two grey photos (images or arrays)."""
    return metrics.psnr(np.asarray(a), np.asarray(b))


def scratched(clean: Image.Image, seed: int = 0) -> tuple[Image.Image, np.ndarray]:
    """Damage drawn here, not by training.damage: straight and bent lines, bright and dark,
    1 to 3 px wide, and round dust; with where it is."""
    rng = np.random.default_rng(seed)
    damaged = clean.copy()
    draw = ImageDraw.Draw(damaged)
    w, h = clean.size
    for k in range(5):
        x0, x1 = rng.uniform(0, w, 2)
        points = [(x0 + (x1 - x0) * t + 8 * np.sin(7 * t), h * t) for t in np.linspace(0, 1, 12)]
        draw.line(points, fill=250 if k % 3 else 15, width=int(rng.integers(1, 4)))
    for _ in range(40):
        x, y, r = *rng.uniform(0, [w, h]), rng.uniform(1, 3)
        draw.ellipse((x - r, y - r, x + r, y + r), fill=245)
    mask = np.abs(np.asarray(damaged, int) - np.asarray(clean, int)) > 8
    return damaged, mask


@pytest.fixture(scope="module")
def light() -> Colorizer:
    from colorgan.engines.onnx_engine import OnnxEngine

    return Colorizer(OnnxEngine())


@pytest.fixture(scope="module")
def clean() -> Image.Image:
    return Image.open(EXAMPLES / "camera.jpg").convert("L")


def test_damage_the_network_never_saw_is_found_and_filled(light, clean):
    damaged, mask = scratched(clean)
    restored = light.restore(damaged)
    assert restored.grey.mode == "L" and restored.grey.size == clean.size
    found = np.asarray(restored.mask) > 0
    assert (found & mask).sum() > 0.8 * mask.sum()  # most of it found
    # and not much else (the mask is grown by a pixel around each mark: a line's soft rim)
    assert (found & ~mask).sum() < 0.06 * found.size
    before = np.abs(np.asarray(damaged, float) - np.asarray(clean, float))[mask].mean()
    after = np.abs(np.asarray(restored.grey, float) - np.asarray(clean, float))[mask].mean()
    assert after < 0.4 * before, (before, after)
    assert psnr(restored.grey, clean) > psnr(damaged, clean) + 6


def test_clean_photos_are_changed_only_where_damage_is_found(light):
    """A clean photo where the network finds nothing comes out bit for bit; where it finds
    something (study 29: thin bright structure such as a rocket's rigging), only the marked
    pixels change, and they are few. (The 40 dB target on clean photos is not met: see
    docs/results/restoration.md.)"""
    untouched = 0
    for path in sorted(EXAMPLES.glob("*.jpg")):
        photo = Image.open(path).convert("L")
        restored = light.restore(photo)
        marked = np.asarray(restored.mask) > 0
        same = np.asarray(restored.grey) == np.asarray(photo)
        assert same[~marked].all() and marked.mean() < 0.1, path.name
        untouched += not marked.any()
    assert untouched >= 2


def test_synthetic_damage_is_seeded_and_its_mask_is_what_changed():
    clean = np.asarray(Image.open(EXAMPLES / "coffee.jpg").convert("L").resize((192, 128)))
    first, again = (damage(clean, np.random.default_rng(3), local=1.0, worn=0.0) for _ in "ab")
    assert np.array_equal(first.damaged, again.damaged) and first.mask.any()
    changed = np.abs(first.damaged.astype(int) - first.unmarked.astype(int)) > 12
    assert (changed & ~first.mask).mean() < 0.01  # what the marks changed is in the mask
    other = damage(clean, np.random.default_rng(4), local=1.0, worn=0.0)
    assert not np.array_equal(first.damaged, other.damaged)


def test_the_command_restores_grey_and_colour_photos_and_writes_masks(tmp_path, clean):
    damaged, _ = scratched(clean, 1)
    damaged.save(tmp_path / "grey.png")
    colour = Image.open(EXAMPLES / "chelsea.jpg").convert("RGB")
    colour.putalpha(200)
    colour.save(tmp_path / "colour.png")
    out = tmp_path / "out"
    argv = ["restore", str(tmp_path / "grey.png"), str(tmp_path / "colour.png"), "--out", str(out)]
    assert main([*argv, "--restore-mask", "-q"]) == 0
    assert sorted(p.name for p in out.iterdir()) == [
        "colour-damage.png",
        "colour.png",
        "grey-damage.png",
        "grey.png",
    ]
    assert Image.open(out / "grey.png").mode == "L"
    assert Image.open(out / "colour.png").mode == "RGBA"
    assert psnr(Image.open(out / "grey.png"), clean) > psnr(damaged, clean) + 6
    assert main([*argv, "-q"]) == 1  # the outputs exist: kept, one line each
    assert main(["restore", str(tmp_path / "none.png"), "--out", str(out), "-q"]) == 1


@pytest.mark.slow
def test_colorize_restore_colours_the_repaired_lightness(tmp_path, clean, light):
    damaged, mask = scratched(clean, 2)
    damaged.save(tmp_path / "old.png")
    argv = ["colorize", str(tmp_path / "old.png"), "--out", str(tmp_path / "out"), "-q"]
    assert main([*argv, "--restore", "--restore-mask"]) == 0
    coloured = Image.open(tmp_path / "out" / "old.png").convert("RGB")
    lightness = lightness_grey(coloured)
    assert psnr(lightness, clean) > psnr(damaged, clean) + 6
    assert (np.asarray(Image.open(tmp_path / "out" / "old-damage.png")) > 0)[mask].mean() > 0.8
    api = light.colorize(damaged, restore=True)
    assert np.array_equal(np.asarray(api.convert("RGB")), np.asarray(coloured))


@pytest.mark.slow
def test_both_engines_find_the_same_damage(clean, light):
    from colorgan.engines.torch_engine import TorchEngine

    damaged, _ = scratched(clean, 3)
    onnx = np.asarray(light.restore(damaged).mask) > 0
    torch = np.asarray(Colorizer(TorchEngine(precision="fp32")).restore(damaged).mask) > 0
    assert (onnx != torch).mean() < 0.002


@pytest.mark.subprocess
def test_restore_needs_no_torch(tmp_path, clean):
    """The light install (no torch) restores: the network runs on ONNX Runtime."""
    scratched(clean, 4)[0].save(tmp_path / "old.png")
    command = [sys.executable, "-c", WITHOUT_TORCH, "restore", str(tmp_path / "old.png")]
    run = subprocess.run([*command, "--out", str(tmp_path / "out"), "-q"], capture_output=True)
    assert run.returncode == 0, run.stderr.decode()
    assert (tmp_path / "out" / "old.png").is_file()


def test_restore_is_a_setting_checked_once():
    from colorgan.base.errors import SettingTypeError

    assert Settings(restore=True).restore and not Settings().restore
    for name in ("restore", "restore_mask"):
        with pytest.raises(SettingTypeError, match=f"{name}: must be True or False"):
            Settings(**{name: "yes"})
