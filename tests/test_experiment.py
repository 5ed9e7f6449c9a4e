import json

import numpy as np
import pytest
import yaml
from PIL import Image

from colorgan.apps.cli import main
from colorgan.base.errors import ColorganError
from colorgan.evaluation.experiment import load_experiment, row_config


def write_experiment(tmp_path, photo_dir, eval_dir):
    rows = {}
    for label, model, train, loss in [
        (
            "paper",
            {"generator": "fusion", "fusion": {"use_segmentation": False, "use_embedding": False}},
            {"pretrain_epochs": 5, "adversarial_epochs": 5},
            {},
        ),
        (
            "koala",
            {"generator": "koalarization", "koalarization": {"use_embedding": False}},
            {"pretrain_epochs": 9, "adversarial_epochs": 0},
            {"pretrain": {"mse": 1.0}},
        ),
    ]:
        recipe = {
            "model": model,
            "loss": loss,
            "train": {**train, "batch_size": 4, "log_every": 1, "val_images": 4, "sample_every": 0},
        }
        rows[label] = str(tmp_path / f"{label}.yaml")
        (tmp_path / f"{label}.yaml").write_text(yaml.safe_dump(recipe))
    exp = {
        "name": "tiny-table",
        "out_dir": str(tmp_path / "experiments"),
        "rows": rows,
        "shared": {
            "data.root": str(photo_dir),
            "data.image_size": 32,
            "data.val_fraction": 0.25,
            "priors.cache_dir": str(tmp_path / "cache"),
        },
        "pretrain_epochs": 1,
        "adversarial_epochs": 1,
        "eval_data": str(eval_dir),
        "fid": False,
        "grid_photos": 3,
    }
    path = tmp_path / "tiny-table.yaml"
    path.write_text(yaml.safe_dump(exp, sort_keys=False))
    return path


def test_every_row_gets_the_shared_data_and_the_same_phase_budget(tmp_path, photo_dir):
    exp = load_experiment(write_experiment(tmp_path, photo_dir, photo_dir))
    paper, koala = row_config(exp, "paper"), row_config(exp, "koala")
    assert paper.data.image_size == koala.data.image_size == 32
    assert paper.data.root == koala.data.root == str(photo_dir)
    assert (paper.train.pretrain_epochs, paper.train.adversarial_epochs) == (1, 1)
    # a phase the recipe does not have stays off; the recipe's own loss is kept
    assert (koala.train.pretrain_epochs, koala.train.adversarial_epochs) == (1, 0)
    assert koala.loss.pretrain == {"mse": 1.0} and koala.model.generator == "koalarization"


@pytest.mark.training
def test_experiment_trains_evaluates_and_reports_then_reruns_without_training(
    tmp_path, photo_dir, capsys
):
    eval_dir = tmp_path / "eval"
    eval_dir.mkdir()
    for p in sorted(photo_dir.glob("*.jpg"))[:4]:
        (eval_dir / p.name).write_bytes(p.read_bytes())
    path = write_experiment(tmp_path, photo_dir, eval_dir)
    assert main(["experiment", str(path), "-q"]) == 0
    folder = tmp_path / "experiments" / "tiny-table"
    results = json.loads((folder / "results.json").read_text())
    assert list(results["rows"]) == ["paper", "koala", "grey floor", "originals"]
    assert results["images"] == 4
    assert results["rows"]["paper"]["steps"] == 4 and results["rows"]["koala"]["steps"] == 2
    assert results["rows"]["grey floor"]["colourfulness"] < 1.0
    # the same rows on the split's validation photos (a quarter of the 12), the table to choose on
    validation = results["validation"]
    assert validation["images"] == 3
    assert list(validation["rows"]) == ["paper", "koala", "grey floor", "originals"]
    assert validation["rows"]["paper"]["psnr"] != results["rows"]["paper"]["psnr"]
    markdown = (folder / "RESULTS.md").read_text()
    assert "| paper |" in markdown and "| grey floor |" in markdown and "grid.png" in markdown
    assert f"Command: `colorgan experiment {path}`" in markdown
    assert "On the 3 validation photos" in markdown
    grid = np.asarray(Image.open(folder / "grid.png"))
    assert grid.shape == (16 + 3 * 128, 4 * 128, 3)  # 3 photos; grey, 2 rows, original
    assert Image.open(folder / "losses.png").size[0] > 500
    stamps = {p: p.stat().st_mtime_ns for p in (folder / "runs").glob("*/generator.safetensors")}
    assert len(stamps) == 2
    assert main(["experiment", str(path), "-q"]) == 0  # finished rows are not retrained
    assert {p: p.stat().st_mtime_ns for p in stamps} == stamps
    assert "| koala |" in capsys.readouterr().out
    # --set: an experiment key reruns only the evaluation; a bookkeeping key keeps the rows
    assert (
        main(["experiment", str(path), "-q", "--set", "eval_limit=2", "--set", "train.log_every=3"])
        == 0
    )
    assert json.loads((folder / "results.json").read_text())["images"] == 2
    assert {p: p.stat().st_mtime_ns for p in stamps} == stamps
    # a setting that changes what the rows learn never reuses them as if it did not
    before = (folder / "results.json").read_bytes()
    capsys.readouterr()
    assert main(["experiment", str(path), "-q", "--set", "train.batch_size=2"]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "train.batch_size = 4, not 2" in err
    assert "--set name=" in err and (folder / "results.json").read_bytes() == before
    assert {p: p.stat().st_mtime_ns for p in stamps} == stamps


def test_the_shipped_experiments_load_with_one_resolution_per_experiment():
    from pathlib import Path

    files = sorted((Path(__file__).resolve().parents[1] / "configs/experiments").glob("*.yaml"))
    assert files
    for path in files:
        exp = load_experiment(path)
        configs = [row_config(exp, label) for label in exp.rows]
        assert len({c.data.image_size for c in configs}) == 1
        assert len({c.run_dir for c in configs}) == len(configs)
        if path.stem != "colour":  # that one is scored against the bundled models instead
            assert "fusion" in {c.model.generator for c in configs}


def test_a_row_can_be_a_variant_of_a_recipe(tmp_path, photo_dir):
    path = write_experiment(tmp_path, photo_dir, photo_dir)
    exp = yaml.safe_load(path.read_text())
    exp["rows"]["paper + EMA"] = {
        "config": exp["rows"]["paper"],
        "set": {"train.ema_decay": 0.99, "model.discriminator.spectral_norm": True},
    }
    exp["rows"]["broken"] = {"config": exp["rows"]["paper"], "sett": {}}
    path.write_text(yaml.safe_dump(exp, sort_keys=False))
    with pytest.raises(ColorganError, match="broken"):
        load_experiment(path)
    del exp["rows"]["broken"]
    path.write_text(yaml.safe_dump(exp, sort_keys=False))
    loaded = load_experiment(path)
    variant, base = row_config(loaded, "paper + EMA"), row_config(loaded, "paper")
    assert variant.train.ema_decay == 0.99 and variant.model.discriminator.spectral_norm
    assert base.train.ema_decay == 0.0 and not base.model.discriminator.spectral_norm
    assert variant.data.image_size == base.data.image_size == 32
    assert variant.run_dir.name == "paper-ema" and variant.run_dir != base.run_dir
    exp["rows"]["L1 only"] = {
        "config": exp["rows"]["paper"],
        "set": {"train.adversarial_epochs": 0},
    }
    path.write_text(yaml.safe_dump(exp, sort_keys=False))
    l1_only = row_config(load_experiment(path), "L1 only")
    assert l1_only.train.adversarial_epochs == 0  # a row's settings override the budget
    assert l1_only.train.pretrain_epochs == base.train.pretrain_epochs > 0


def test_set_overrides_the_experiment_or_joins_shared(tmp_path, photo_dir):
    path = write_experiment(tmp_path, photo_dir, photo_dir)
    exp = load_experiment(
        path, ["name=quick", "eval_limit=5", "train.batch_size=2", "data.image_size=40"]
    )
    assert exp.name == "quick" and exp.eval_limit == 5 and exp.folder.name == "quick"
    assert exp.shared["train.batch_size"] == 2 and exp.shared["data.image_size"] == 40
    for label in exp.rows:
        cfg = row_config(exp, label)
        assert (cfg.train.batch_size, cfg.data.image_size) == (2, 40)
        assert cfg.data.root == str(photo_dir)  # the file's shared settings are kept
    for bad, message in [
        ("eval_limt=5", "eval_limt"),
        ("shared.train.seed=1", "section.key"),
        ("train.betas=[0.5", "not valid YAML"),
        ("nokey", "section.key=value"),
    ]:
        with pytest.raises(ColorganError, match=message):
            load_experiment(path, [bad])
