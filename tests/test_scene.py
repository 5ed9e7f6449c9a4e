"""The scene path (model.lite_unet.scene): the encoder's ImageNet head pooled over the photo,
fused at the bottleneck from zero, so a model that gains it starts as the one it came from."""

import numpy as np
import pytest
import torch

from colorgan.apps.cli import main
from colorgan.base.errors import ColorganError
from colorgan.config import config_from_dict
from colorgan.engines.onnx_engine import OnnxEngine
from colorgan.engines.torch_engine import TorchEngine
from colorgan.models.file import build_generator, generator_meta, save_generator
from colorgan.priors.backbones import lite_weights_file, load_state_dict_file
from colorgan.training.gan import warm_start
from tests.conftest import write_generator

OPTIONS = {"use_embedding": False, "use_segmentation": False, "out_stride": 4}
LITE = {"generator": "lite_unet", "lite_unet": OPTIONS}
SCENE = {**LITE, "lite_unet": {**LITE["lite_unet"], "scene": True}}


def scene_generator() -> torch.nn.Module:
    cfg = config_from_dict({"model": SCENE, "data": {"image_size": 64}})
    return build_generator(cfg.model, cfg.priors)


@pytest.mark.slow
def test_a_model_given_the_scene_path_starts_as_the_model_it_came_from(tmp_path):
    """train.init_from a file without the scene path: the head is ImageNet's, the layer into
    the fusion zero, so the output is the old model's until training moves it."""
    old = write_generator(tmp_path / "old.safetensors", LITE, image_size=64)
    model = scene_generator()
    model.load_pretrained()
    warm_start(model, str(old))
    imagenet = load_state_dict_file(lite_weights_file("lite0"))
    head = model.encoder._conv_head.weight
    assert torch.equal(head, imagenet["_conv_head.weight"]) and head.abs().sum() > 0
    before = TorchEngine(old, channels_last=False).generator.eval()
    l_norm = torch.rand(2, 1, 64, 64) * 2 - 1
    with torch.no_grad():
        assert torch.equal(model.eval()(l_norm), before(l_norm))
    with pytest.raises(ColorganError, match="not this config's model"):
        warm_start(before, str(write_generator(tmp_path / "s.safetensors", SCENE, 64)))


def test_the_scene_layer_learns_from_zero_at_its_own_rate():
    model = scene_generator().train()
    rate = {id(p): g["lr"] for g in model.param_groups(1e-4) for p in g["params"]}
    assert len(rate) == len(list(model.parameters()))
    assert rate[id(model.scene.weight)] == pytest.approx(5e-4)
    assert rate[id(model.encoder._conv_head.weight)] == pytest.approx(1e-5)  # the encoder's
    model(torch.rand(2, 1, 64, 64) * 2 - 1).abs().mean().backward()
    assert model.scene.weight.grad.abs().sum() > 0  # zero weights, yet a gradient to move them


@pytest.mark.slow
def test_the_scene_path_changes_the_colour_everywhere_and_exports_to_onnx(tmp_path):
    """Non-zero scene weights shift the whole photo's colour; a 1x1 input of pooled features
    exports to ONNX, which agrees with torch."""
    cfg = config_from_dict({"model": SCENE, "data": {"image_size": 64}})
    torch.manual_seed(0)
    model = build_generator(cfg.model, cfg.priors)
    model.load_pretrained()  # a random encoder's head is near zero after its BatchNorm
    model.eval()
    l_norm = torch.rand(1, 1, 64, 64) * 2 - 1
    with torch.no_grad():
        plain = model(l_norm)
        torch.nn.init.normal_(model.scene.weight, std=0.5)
        moved = model(l_norm)
    changed = (moved - plain).abs().amax(1)[0]  # per pixel
    assert (changed > 1e-4).float().mean() > 0.9
    path, onnx = tmp_path / "scene.safetensors", tmp_path / "scene.onnx"
    save_generator(path, model, generator_meta(cfg))
    assert main(["export", str(path), "--onnx", "--out", str(onnx)]) == 0
    l_small = np.random.default_rng(0).random((2, 1, 64, 64), np.float32) * 2 - 1
    a = TorchEngine(path, precision="fp32").predict(l_small, None, None)
    b = OnnxEngine(onnx).predict(l_small, None, None)
    assert np.abs(a - b).max() < 1e-3
