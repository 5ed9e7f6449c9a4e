"""The README's training quick-start from a fresh clone: free sample photos, `colorgan train
--data`, a result that colorizes, and `--resume runs/NAME` from the run folder alone."""

import numpy as np
import pytest
from PIL import Image

from colorgan.apps.cli import main

pytestmark = pytest.mark.training  # every test here runs training steps into a run folder

CUT_SHORT = ("pretrain_epochs=2", "max_steps_per_epoch=2", "batch_size=4", "val_images=4")
SHORT = [arg for value in CUT_SHORT for arg in ("--set", f"train.{value}")]


@pytest.fixture(scope="module")
def quick_run(tmp_path_factory):
    """`colorgan data sample` then `colorgan train --data` (the quick recipe, cut short)."""
    root = tmp_path_factory.mktemp("quick")
    assert main(["data", "sample", str(root / "photos"), "--count", "40", "-q"]) == 0
    args = ["train", "--data", str(root / "photos"), "--out-dir", str(root / "runs"), "-q"]
    assert main([*args, *SHORT]) == 0
    return root


def test_sample_photos_are_colour_crops_in_a_new_folder(quick_run, capsys):
    photos = sorted((quick_run / "photos").glob("*.jpg"))
    assert len(photos) == 40
    for path in photos[:5]:
        rgb = np.asarray(Image.open(path).convert("RGB")).astype(int)
        assert min(rgb.shape[:2]) == 160
        assert np.abs(rgb[..., 0] - rgb[..., 2]).mean() > 5  # colour, not grey
    assert main(["data", "sample", str(quick_run / "photos"), "-q"]) == 2
    assert "already holds files" in capsys.readouterr().err


def test_the_result_colours_a_grey_photo(quick_run, tmp_path):
    weights = quick_run / "runs" / "quick" / "generator.safetensors"
    assert weights.is_file()
    config = (quick_run / "runs" / "quick" / "config.yaml").read_text()
    assert str(quick_run / "photos") in config  # an absolute path: resumable from anywhere
    out = tmp_path / "out"
    grey = Image.fromarray(np.asarray(Image.open(next((quick_run / "photos").glob("*.jpg")))))
    grey.convert("L").save(tmp_path / "grey.png")
    args = ["colorize", str(tmp_path / "grey.png"), "--weights", str(weights), "-o", str(out)]
    assert main(args) == 0
    rgb = np.asarray(Image.open(out / "grey.png").convert("RGB")).astype(int)
    assert np.abs(rgb[..., 0] - rgb[..., 2]).mean() > 1  # it colours


def test_resume_from_the_run_folder_alone(quick_run, capsys, caplog):
    run = str(quick_run / "runs" / "quick")
    # more epochs may be asked of a resume; it goes on from step 4 to step 6
    with caplog.at_level("INFO", logger="colorgan"):
        assert main(["train", "--resume", run, "--set", "train.pretrain_epochs=3", "-q"]) == 0
    plan = "6 steps of 4 photos (3 + 0 epochs of 2 steps), 4 done"
    assert any(plan in r.getMessage() for r in caplog.records)
    out = capsys.readouterr().out
    assert "trained 6 steps" in out and f"--weights {run}/generator.safetensors" in out
    assert "colorgan evaluate --val-of" in out
    assert main(["train", "--resume", run, "--set", "train.seed=5", "-q"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "train.seed=0, not 5" in err
    assert main(["train", "--resume", run, "--data", str(quick_run / "photos")]) == 2
    assert main(["train", "--resume", str(quick_run / "photos")]) == 2
    assert "not a run folder" in capsys.readouterr().err
