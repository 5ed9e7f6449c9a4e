import json

import pytest
import torch
from safetensors.torch import save_file

from colorgan.bundled import bundled_weights
from colorgan.colorizer import Colorizer
from colorgan.config import config_from_dict
from colorgan.engines.torch_engine import TorchEngine
from colorgan.errors import ColorganError
from colorgan.generator_file import (
    FORMAT,
    build_generator,
    generator_meta,
    load_generator,
    read_generator_file,
    save_generator,
)
from colorgan.models import FusionGenerator, UNetGenerator
from tests.conftest import make_photo


def test_a_generator_comes_back_as_it_was_saved(tmp_path):
    cfg = config_from_dict({"name": "u", "model": {"generator": "unet", "unet": {"downs": 7}},
                            "data": {"image_size": 128}})  # fmt: skip
    torch.manual_seed(1)
    generator = build_generator(cfg.model, cfg.priors)
    path = tmp_path / "u.safetensors"
    save_generator(path, generator, generator_meta(cfg))
    loaded = load_generator(path)
    assert isinstance(loaded.generator, UNetGenerator) and not loaded.generator.training
    assert loaded.model == cfg.model and loaded.priors == cfg.priors
    assert loaded.image_size == 128 and loaded.meta["name"] == "u"
    for key, value in generator.state_dict().items():
        assert torch.equal(value, loaded.generator.state_dict()[key]), key
    half = tmp_path / "half.safetensors"
    save_generator(half, generator, generator_meta(cfg), half=True)
    assert half.stat().st_size < path.stat().st_size * 0.6
    tensors, _ = read_generator_file(half)
    floats = [v.dtype for v in tensors.values() if v.is_floating_point()]
    assert floats and set(floats) == {torch.float16}


def legacy_file(path, model: dict, image_size: int = 32) -> None:
    """A generator file as colorgan wrote it before the registry (format /1)."""
    cfg = config_from_dict({"model": model, "data": {"image_size": image_size}})
    torch.manual_seed(0)
    generator = build_generator(cfg.model, cfg.priors)
    meta = {"model": model, "priors": generator_meta(cfg)["priors"], "name": "old",
            "image_size": image_size}  # fmt: skip
    tensors = {k: v.contiguous() for k, v in generator.state_dict().items()}
    save_file(tensors, str(path), {"format": "colorgan-generator/1", "colorgan": json.dumps(meta)})


def test_files_written_before_the_registry_still_load(tmp_path):
    old = {"generator": "paper", "use_segmentation": False, "use_embedding": True,
           "discriminator_channels": 64, "spectral_norm": False, "unet_dropout": 0.0,
           "unet_downs": 8}  # fmt: skip
    legacy_file(tmp_path / "old.safetensors", old)
    loaded = load_generator(tmp_path / "old.safetensors")
    assert isinstance(loaded.generator, FusionGenerator)
    assert (loaded.generator.embedding_dim, loaded.generator.segmentation_classes) == (1000, 0)
    old = Colorizer(TorchEngine(tmp_path / "old.safetensors"))
    assert old.colorize(make_photo(0)).size == (96, 80)
    # the bundled paper model is such a file
    tensors, meta = read_generator_file(bundled_weights("paper"))
    assert meta["model"]["generator"] == "fusion"


def test_the_bundled_default_is_the_pretrained_encoder_unet_and_needs_no_download():
    tensors, meta = read_generator_file(bundled_weights("default"))
    assert meta["model"]["generator"] == "lite_unet"
    assert meta["priors"]["embedding_weights"] is None  # Lite0 from the pip package
    assert all(t.dtype == torch.float16 for t in tensors.values() if t.is_floating_point())
    with pytest.raises(ColorganError, match="bundled: default, paper"):
        bundled_weights("nope")


def test_a_file_that_is_not_a_generator_is_one_clear_error(tmp_path):
    (tmp_path / "x.safetensors").write_bytes(b"nope")
    with pytest.raises(ColorganError, match="not a safetensors"):
        load_generator(tmp_path / "x.safetensors")
    with pytest.raises(ColorganError, match="not found"):
        load_generator(tmp_path / "missing.safetensors")
    save_file({"w": torch.zeros(2)}, str(tmp_path / "plain.safetensors"))
    with pytest.raises(ColorganError, match="not a colorgan generator"):
        load_generator(tmp_path / "plain.safetensors")
    save_file({"w": torch.zeros(2)}, str(tmp_path / "damaged.safetensors"),
              {"format": FORMAT, "colorgan": "{not json"})  # fmt: skip
    with pytest.raises(ColorganError, match="damaged"):
        load_generator(tmp_path / "damaged.safetensors")
    cfg = config_from_dict({"model": {"generator": "koalarization"}})
    meta = generator_meta(cfg)
    meta["model"] = {"generator": "fusion"}  # the weights are Table 4's, the record Table 1's
    save_generator(tmp_path / "wrong.safetensors", build_generator(cfg.model, cfg.priors), meta)
    with pytest.raises(ColorganError, match="does not match its recorded model"):
        load_generator(tmp_path / "wrong.safetensors")
