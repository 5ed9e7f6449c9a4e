import json

import pytest
import torch
from safetensors.torch import save_file

from colorgan.base.errors import ColorganError
from colorgan.config import config_from_dict
from colorgan.engines.torch_engine import TorchEngine
from colorgan.models import FusionGenerator, UNetGenerator
from colorgan.models.file import (
    FORMAT,
    build_generator,
    generator_meta,
    load_generator,
    read_generator_file,
    save_generator,
)
from colorgan.pipeline.colorizer import Colorizer
from colorgan.spec.bundled import bundled_weights
from tests.conftest import make_photo


@pytest.mark.slow
def test_a_generator_comes_back_as_it_was_saved(tmp_path):
    cfg = config_from_dict(
        {
            "name": "u",
            "model": {"generator": "unet", "unet": {"downs": 7}},
            "data": {"image_size": 128},
        }
    )
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
    meta = {
        "model": model,
        "priors": generator_meta(cfg)["priors"],
        "name": "old",
        "image_size": image_size,
    }
    tensors = {k: v.contiguous() for k, v in generator.state_dict().items()}
    save_file(tensors, str(path), {"format": "colorgan-generator/1", "colorgan": json.dumps(meta)})


@pytest.mark.slow
def test_files_written_before_the_registry_still_load(tmp_path):
    old = {
        "generator": "paper",
        "use_segmentation": False,
        "use_embedding": True,
        "discriminator_channels": 64,
        "spectral_norm": False,
        "unet_dropout": 0.0,
        "unet_downs": 8,
    }
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
    members = meta["model"]["mean"]["members"]  # the mean of a Lite0 and a Lite2 U-Net
    assert meta["model"]["generator"] == "mean" and len(members) == 2
    assert [m["lite_unet"]["encoder"] for m in members] == ["lite0", "lite2"]
    assert all(m["generator"] == "lite_unet" and m["lite_unet"]["hints"] for m in members)
    assert meta["priors"]["embedding_weights"] is None  # nothing to download
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
    save_file(
        {"w": torch.zeros(2)},
        str(tmp_path / "damaged.safetensors"),
        {"format": FORMAT, "colorgan": "{not json"},
    )
    with pytest.raises(ColorganError, match="damaged"):
        load_generator(tmp_path / "damaged.safetensors")
    cfg = config_from_dict({"model": {"generator": "koalarization"}})
    meta = generator_meta(cfg)
    meta["model"] = {"generator": "fusion"}  # the weights are Table 4's, the record Table 1's
    save_generator(tmp_path / "wrong.safetensors", build_generator(cfg.model, cfg.priors), meta)
    with pytest.raises(ColorganError, match="does not match its recorded model"):
        load_generator(tmp_path / "wrong.safetensors")


@pytest.mark.slow
def test_a_mean_file_averages_its_members_colours_each_at_its_saturation(tmp_path, capsys):
    """`export --mean-with`: one file whose ab is the mean of its members' (each times its
    stored saturation); hints reach only the member that takes them; onnx agrees with torch."""
    import numpy as np

    from colorgan.apps.cli import main
    from colorgan.engines.onnx_engine import OnnxEngine
    from colorgan.engines.torch_engine import TorchEngine
    from colorgan.models.file import load_generator, read_generator_file, write_generator_file
    from tests.conftest import write_generator

    lite = {"use_embedding": False, "use_segmentation": False}
    files = []
    for name, hints, saturation in (("a", True, 1.1), ("b", False, 0.9)):
        path = write_generator(
            tmp_path / f"{name}.safetensors",
            {"generator": "lite_unet", "lite_unet": {**lite, "hints": hints}},
            image_size=64,
        )
        tensors, meta = read_generator_file(path)
        torch.manual_seed(len(files))  # members trained apart: other weights, hint layers too
        tensors = {
            k: v + 0.05 * torch.randn_like(v) if v.is_floating_point() else v
            for k, v in tensors.items()
        }
        write_generator_file(path, tensors, {**meta, "saturation": saturation})
        files.append(path)
    mean = tmp_path / "mean.safetensors"
    args = ["export", str(files[0]), "--mean-with", str(files[1]), "--out", str(mean)]
    assert main([*args, "--saturation", "1.2"]) == 0
    loaded = load_generator(mean)
    assert loaded.meta["saturation"] == 1.2 and loaded.model.options.scales == [1.1, 0.9]
    assert loaded.generator.needs(loaded.model.options).hints
    a, b = (load_generator(f).generator for f in files)
    l_norm, hints = torch.rand(2, 1, 64, 64) * 2 - 1, torch.rand(2, 3, 64, 64)
    with torch.no_grad():
        want = (1.1 * a(l_norm, hints=hints) + 0.9 * b(l_norm)) / 2
        assert (loaded.generator(l_norm, hints=hints) - want).abs().max() < 1e-5
        assert (a(l_norm, hints=hints) - a(l_norm)).abs().max() > 1e-3  # the hints count
    assert main(["export", str(mean), "--onnx", "--out", str(tmp_path / "mean.onnx")]) == 0
    onnx, engine = OnnxEngine(tmp_path / "mean.onnx"), TorchEngine(mean, precision="fp32")
    grey = (torch.rand(1, 1, 64, 64) * 2 - 1).numpy()
    assert np.abs(onnx.predict(grey, None) - engine.predict(grey, None)).max() < 1e-3
    # members must share their training size: a one-line error, not a traceback
    other = write_generator(
        tmp_path / "c.safetensors", {"generator": "lite_unet", "lite_unet": lite}, image_size=96
    )
    args = ["export", str(files[0]), "--mean-with", str(other), "--out", str(tmp_path / "x")]
    assert main(args) != 0 and not (tmp_path / "x").exists()
    assert capsys.readouterr().err.strip().endswith("the models differ in image size")
