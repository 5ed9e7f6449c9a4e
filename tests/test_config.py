from pathlib import Path

import numpy as np
import pytest
import yaml

from colorgan.base.errors import ColorganError
from colorgan.config import config_from_dict, load_config
from colorgan.models.fusion import FusionOptions
from colorgan.models.unet import UNetOptions

CONFIGS = Path(__file__).resolve().parents[1] / "configs"


def write(path: Path, values: dict) -> Path:
    path.write_text(yaml.safe_dump(values, sort_keys=False))
    return path


def test_config_files_load_and_reject_typos(tmp_path):
    configs = sorted(p for p in CONFIGS.glob("**/*.yaml") if p.parent.name != "experiments")
    assert len(configs) >= 13  # training configs; the experiments are tested on their own
    for path in configs:
        cfg = load_config(path)
        assert cfg.data.image_size % 8 == 0
    bad = tmp_path / "bad.yaml"
    bad.write_text("train:\n  batchsize: 3\n")
    with pytest.raises(ColorganError, match="batchsize"):
        load_config(bad)
    bad.write_text("train:\n  batch_size: many\n")
    with pytest.raises(ColorganError, match="integer"):
        load_config(bad)
    ok = tmp_path / "ok.yaml"
    ok.write_text("model:\n  generator: unet\n")
    cfg = load_config(ok, ["train.batch_size=7", "train.betas=[0.1, 0.2]"])
    assert cfg.train.batch_size == 7 and cfg.train.betas == (0.1, 0.2) and cfg.name == "ok"
    assert np.isclose(load_config(ok).train.lr_g, 2e-4)


def test_the_recipes_are_short_variants_of_two_bases():
    for folder in ("paper", "small"):
        base = load_config(CONFIGS / folder / "ours.yaml")
        for path in sorted((CONFIGS / folder).glob("*.yaml")):
            values = yaml.safe_load(path.read_text())
            if path.stem == "ours":
                continue
            assert values["base"] == "ours.yaml", path
            keys = sum(len(v) if isinstance(v, dict) else 1 for v in values.values())
            assert keys <= 10, (path, keys)
            cfg = load_config(path)
            assert cfg.name == f"{folder}-{path.stem}"
            if path.stem not in ("pix2pix", "lite_unet"):  # those need other sizes
                assert cfg.data.image_size == base.data.image_size
    koala = load_config(CONFIGS / "paper" / "koalarization.yaml")
    assert koala.model.generator == "koalarization" and koala.loss.pretrain == {"mse": 1.0}
    pix2pix = load_config(CONFIGS / "small" / "pix2pix.yaml")
    assert pix2pix.model.options == UNetOptions(downs=8) and pix2pix.train.d_every == 1
    assert load_config(CONFIGS / "small" / "no_inception.yaml").model.options == FusionOptions(
        use_segmentation=True, use_embedding=False
    )


def test_a_base_is_inherited_key_by_key_and_its_name_is_not(tmp_path):
    write(
        tmp_path / "base.yaml",
        {
            "name": "base",
            "data": {"image_size": 64, "seed": 3},
            "model": {"generator": "fusion", "fusion": {"use_embedding": False}},
            "loss": {"pretrain": {"l1": 1.0}, "adversarial": {"gan": 1.0, "l1": 50.0}},
        },
    )
    (tmp_path / "sub").mkdir()
    child = write(
        tmp_path / "sub" / "child.yaml",
        {
            "base": "../base.yaml",
            "data": {"seed": 4},
            "loss": {"adversarial": {"gan": 1.0, "rebalanced_l1": 10.0}},
        },
    )
    cfg = load_config(child)
    assert cfg.name == "child" and (cfg.data.image_size, cfg.data.seed) == (64, 4)
    assert cfg.model.options == FusionOptions(use_segmentation=True, use_embedding=False)
    # a phase's terms are replaced whole, not added to the base's
    assert cfg.loss.adversarial == {"gan": 1.0, "rebalanced_l1": 10.0}
    assert cfg.loss.pretrain == {"l1": 1.0}
    # another generator drops the base's options for the first one
    grandchild = write(
        tmp_path / "gc.yaml", {"base": "sub/child.yaml", "model": {"generator": "koalarization"}}
    )
    assert load_config(grandchild).model.generator == "koalarization"
    write(tmp_path / "loop.yaml", {"base": "loop2.yaml"})
    write(tmp_path / "loop2.yaml", {"base": "loop.yaml"})
    with pytest.raises(ColorganError, match="loop"):
        load_config(tmp_path / "loop.yaml")
    with pytest.raises(ColorganError, match="not found"):
        load_config(write(tmp_path / "orphan.yaml", {"base": "missing.yaml"}))


def test_generators_are_named_and_own_their_options():
    cfg = config_from_dict(
        {"model": {"generator": "unet", "unet": {"downs": 7}}, "data": {"image_size": 128}}
    )
    assert cfg.model.options == UNetOptions(downs=7, dropout=0.0)
    assert cfg.model.to_dict() == {
        "generator": "unet",
        "unet": {"downs": 7, "dropout": 0.0},
        "discriminator": {"channels": 64, "spectral_norm": False},
    }
    with pytest.raises(ColorganError, match="needs data.image_size 256"):
        config_from_dict({"model": {"generator": "unet"}, "data": {"image_size": 128}})
    with pytest.raises(ColorganError, match="model: unknown key.*unet"):
        config_from_dict({"model": {"generator": "fusion", "unet": {"downs": 7}}})
    with pytest.raises(ColorganError, match="koalarization.*unet"):
        config_from_dict({"model": {"generator": "transformer"}})
    with pytest.raises(ColorganError, match="model.fusion: unknown key"):
        config_from_dict({"model": {"fusion": {"use_segmentatoin": False}}})


def test_a_config_survives_its_own_yaml():
    cfg = load_config(CONFIGS / "small" / "koalarization.yaml")
    again = config_from_dict(yaml.safe_load(cfg.to_yaml()))
    assert again == cfg


def test_loss_terms_are_checked():
    with pytest.raises(ColorganError, match="unknown term.*vgg"):
        config_from_dict({"loss": {"adversarial": {"gan": 1.0, "vgg": 1.0}}})
    with pytest.raises(ColorganError, match="gan term needs the adversarial phase"):
        config_from_dict({"loss": {"pretrain": {"gan": 1.0}}})


def test_a_number_written_as_a_person_writes_it_is_a_number(tmp_path):
    """YAML 1.1 reads 1e-9 or 1.0e3 (no dot, or no exponent sign) as text: a number field
    takes them as numbers, and its own bounds then apply."""
    photos = str(tmp_path)
    for written, value in [("1e-9", 1e-9), ("1.0e2", 100.0), ("2E0", 2.0), ("+.5", 0.5)]:
        cfg = load_config_text(
            tmp_path, f"data: {{sources: [{{root: {photos}, weight: {written}}}]}}"
        )
        assert cfg.data.pool()[0].weight == value
    with pytest.raises(ColorganError, match="weights must be numbers from 0 to 1000"):
        load_config_text(tmp_path, f"data: {{sources: [{{root: {photos}, weight: 1.0e12}}]}}")
    with pytest.raises(ColorganError, match="expected a number"):
        load_config_text(tmp_path, f"data: {{sources: [{{root: {photos}, weight: heavy}}]}}")


def load_config_text(folder, text: str):
    path = folder / "recipe.yaml"
    path.write_text(text + "\n")
    return load_config(path)


@pytest.mark.parametrize("char", ["\0", "\a", "\x1b", "\x7f", "\ufffe"])
def test_a_control_character_in_yaml_is_one_line_wherever_the_yaml_comes_from(tmp_path, char):
    """A recipe, a base and an override holding a character YAML refuses (NUL, BEL, ESC...)
    are each one ColorganError, as is a base: naming a file with a NUL in it."""
    from colorgan.config import apply_overrides, read_recipe

    recipe = tmp_path / "r.yaml"
    recipe.write_text(f"name: a{char}b\n")
    with pytest.raises(ColorganError, match="not valid YAML"):
        read_recipe(recipe)
    with pytest.raises(ColorganError, match="not valid YAML"):
        apply_overrides({}, [f"name=a{char}b"])
    recipe.write_text('base: "a\\0b.yaml"\n')
    with pytest.raises(ColorganError, match="base must be a file name"):
        read_recipe(recipe)
