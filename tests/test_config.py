import dataclasses
from pathlib import Path

import numpy as np
import pytest
import yaml

from colorgan.base.errors import ColorganError
from colorgan.config import config_from_dict, load_config
from colorgan.spec.options import FusionOptions, UNetOptions

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


# Between them, every field of a config changed from its default (shards exclude a folder of
# photos, so one config cannot change all of data's fields).
EVERY_FIELD_CHANGED = [
    {
        "name": "everything",
        "out_dir": "elsewhere",
        "data": {
            "sources": [{"root": "a", "weight": 2.0, "val_fraction": 0.1}, {"root": "b"}],
            "layout": "coco",
            "annotations": "instances.json",
            "num_images": 500,
            "val_fraction": 0.1,
            "image_size": 64,
            "flip": False,
            "random_crop": [0.5, 1.0],
            "seed": 3,
            "num_workers": 2,
        },
        "priors": {
            "embedding": "inception_resnet_v2",
            "embedding_weights": "e.pth",
            "segmentation": "deeplabv3_resnet50",
            "segmentation_weights": "s.pth",
            "cache_dir": "cache",
            "batch_size": 8,
        },
        "model": {
            "generator": "unet",
            "unet": {"downs": 6, "dropout": 0.25},
            "discriminator": {"channels": 32, "spectral_norm": True},
        },
        "loss": {
            "pretrain": {"mse": 2.0},
            "adversarial": {"gan": 0.5, "l1": 20.0},
            "rebalance_lambda": 0.3,
        },
        "train": {
            "batch_size": 3,
            "pretrain_epochs": 2,
            "pretrain_lr": 3e-4,
            "adversarial_epochs": 1,
            "lr_g": 1e-3,
            "lr_d": 5e-4,
            "betas": [0.9, 0.99],
            "ema_decay": 0.99,
            "d_every": 2,
            "d_warmup_steps": 4,
            "lr_schedule": "step",
            "warmup_steps": 10,
            "lr_floor": 0.1,
            "lr_steps": [0.5],
            "grad_clip": 1.0,
            "init_from": "g.safetensors",
            "hints_p": 0.5,
            "hints_none": 0.5,
            "max_steps_per_epoch": 7,
            "precision": "fp32",
            "channels_last": True,
            "compile": True,
            "sync_batchnorm": False,
            "device": "cpu",
            "checkpoint_every": 50,
            "keep_checkpoints": 3,
            "log_every": 5,
            "val_images": None,
            "sample_every": 0,
            "sample_images": 4,
            "seed": 9,
        },
    },
    {"data": {"shards": "shards", "shuffle_buffer": 50}, "priors": {"cache": False}},
    {"data": {"root": ["x", "y"]}},
]


def fields_of(value, path: str = ""):
    """(dotted path, value) of every field of a config, its sections' fields one by one (a
    generator's options, or a list of sources, as one value)."""
    if not dataclasses.is_dataclass(value) or path.endswith("options"):
        yield path, value
        return
    for f in dataclasses.fields(value):
        yield from fields_of(getattr(value, f.name), f"{path}.{f.name}".lstrip("."))


def test_a_config_survives_its_own_yaml(tmp_path):
    """A config read back from the YAML it writes is the same config, for values that differ
    from the defaults in every field (so a field the writer drops, or the reader ignores,
    fails); and a YAML written by hand reads to the values it says (so a writer and a reader
    that agree on a mistake fail too)."""
    default = dict(fields_of(config_from_dict({})))
    configs = [config_from_dict(values) for values in EVERY_FIELD_CHANGED]
    changed = {path for cfg in configs for path, v in fields_of(cfg) if v != default[path]}
    assert changed == set(default), f"no config here changes {set(default) - changed}"
    for cfg in configs:
        assert config_from_dict(yaml.safe_load(cfg.to_yaml())) == cfg
    path = tmp_path / "by-hand.yaml"
    path.write_text(
        "data:\n  image_size: 128\n  random_crop: [0.5, 1.0]\n"
        "model:\n  generator: unet\n  unet:\n    downs: 7\n"
        "train:\n  lr_g: 1.0e-3\n  betas: [0.9, 0.99]\n  batch_size: 3\n"
    )
    read = load_config(path)
    assert read.name == "by-hand" and read.data.image_size == 128
    assert read.data.random_crop == (0.5, 1.0) and read.model.options == UNetOptions(downs=7)
    assert (read.train.lr_g, read.train.betas, read.train.batch_size) == (1e-3, (0.9, 0.99), 3)
    assert read.train.lr_d == 2e-4 and read.data.seed == 0  # what it does not say: the default


@pytest.mark.parametrize(
    "key, value, words",
    [
        ("lr_g", 0.0, "train.lr_g must be a finite number above 0"),
        ("lr_d", -1e-4, "train.lr_d must be a finite number above 0"),
        ("pretrain_lr", float("nan"), "train.pretrain_lr must be a finite number above 0"),
        ("lr_g", float("inf"), "train.lr_g must be a finite number above 0"),
        ("betas", [1.0, 0.999], r"train.betas must be two numbers in \[0, 1\)"),
        ("betas", [0.5, -0.1], r"train.betas must be two numbers in \[0, 1\)"),
        ("betas", [0.5, float("nan")], r"train.betas must be two numbers in \[0, 1\)"),
    ],
)
def test_the_learning_rates_and_betas_are_checked(key, value, words):
    with pytest.raises(ColorganError, match=words):
        config_from_dict({"train": {key: value}})
    assert config_from_dict({"train": {"lr_g": 1e-9, "betas": [0.0, 0.9]}}).train.lr_g == 1e-9


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
