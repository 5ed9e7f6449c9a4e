"""ColorGAN is built from a config alone and stepped on plain tensors: no photos, no loop."""

import pytest
import torch

from colorgan.base.errors import ColorganError
from colorgan.config import config_from_dict
from colorgan.training.gan import ColorGAN

NO_PRIORS = {"fusion": {"use_segmentation": False, "use_embedding": False}}


def inputs(n: int = 4, size: int = 32) -> dict[str, torch.Tensor]:
    g = torch.Generator().manual_seed(0)
    phase = torch.rand(n, 1, 1, 1, generator=g) * 6
    axis = torch.linspace(0, 3, size)
    l_norm = 0.8 * torch.sin(axis[None, None, :, None] + axis[None, None, None, :] + phase)
    # smooth photos whose colour follows lightness: something to learn
    ab = torch.cat([l_norm * 0.3, -l_norm * 0.2], 1)
    return {"l_norm": l_norm, "ab": ab}


@pytest.mark.training
def test_the_pretraining_step_lowers_its_loss_without_any_data_pipeline():
    cfg = config_from_dict({"model": NO_PRIORS, "train": {"pretrain_lr": 1e-3}})
    gan = ColorGAN(cfg)
    x = inputs()
    first = gan.pretrain_step(x)
    assert list(first) == ["l1"]
    for _ in range(60):
        last = gan.pretrain_step(x)
    assert last["l1"] < first["l1"] / 3


@pytest.mark.slow
def test_the_adversarial_step_reports_each_term_and_steps_d_only_when_asked():
    terms = {"gan": 1.0, "l1": 10.0, "mse": 1.0}
    cfg = config_from_dict({"model": NO_PRIORS, "loss": {"adversarial": terms}})
    gan = ColorGAN(cfg)
    x = inputs()
    d_before = [p.clone() for p in gan.discriminator.parameters()]
    logs = gan.adversarial_step(x, step_discriminator=False)
    assert set(logs) == {"gan", "l1", "mse"}

    def unchanged() -> bool:
        pairs = zip(d_before, gan.discriminator.parameters(), strict=True)
        return all(torch.equal(a, b) for a, b in pairs)

    assert unchanged()
    logs = gan.adversarial_step(x, step_discriminator=True)
    assert "d" in logs and logs["d"] > 0
    assert not unchanged()
    assert all(p.requires_grad for p in gan.discriminator.parameters())


@pytest.mark.slow
def test_the_same_seed_builds_the_same_nets_and_steps_the_same():
    cfg = config_from_dict({"model": NO_PRIORS})
    a, b = ColorGAN(cfg), ColorGAN(cfg)
    x = inputs()
    assert a.adversarial_step(x) == b.adversarial_step(x)


@pytest.mark.slow
def test_state_round_trips_through_a_checkpoint_folder(tmp_path):
    from colorgan.training.checkpoint import save_checkpoint

    cfg = config_from_dict({"model": NO_PRIORS, "train": {"ema_decay": 0.9}})
    gan = ColorGAN(cfg)
    x = inputs()
    gan.pretrain_step(x)
    assert gan.inference_generator is gan.generator  # no EMA before the adversarial phase
    gan.adversarial_step(x)
    assert gan.inference_generator is gan.generator_ema.module
    ckpt = save_checkpoint(tmp_path, 2, gan.modules(), gan.state_dict(), cfg.to_yaml())
    again = ColorGAN(cfg)
    assert again.resume(tmp_path)[0] == ckpt
    assert again.adversarial_step(x) == gan.adversarial_step(x)
    other = config_from_dict({"model": {"generator": "unet"}, "data": {"image_size": 256}})
    with pytest.raises(ColorganError, match="does not fit this config"):
        ColorGAN(other).resume(tmp_path)


@pytest.mark.slow
def test_export_from_a_run_folder_writes_the_inference_generator(tmp_path):
    from colorgan.models.file import load_generator
    from colorgan.training.checkpoint import save_checkpoint

    cfg = config_from_dict({"model": NO_PRIORS, "train": {"ema_decay": 0.5}})
    gan = ColorGAN(cfg)
    gan.adversarial_step(inputs())
    gan.adversarial_step(inputs())
    save_checkpoint(tmp_path, 2, gan.modules(), gan.state_dict(), cfg.to_yaml())
    ColorGAN.from_checkpoint(tmp_path).export(tmp_path / "g.safetensors")
    exported = load_generator(tmp_path / "g.safetensors").generator.state_dict()
    for key, value in gan.generator_ema.module.state_dict().items():
        assert torch.allclose(exported[key], value), key
    with pytest.raises(ColorganError, match="no checkpoint"):
        ColorGAN.from_checkpoint(tmp_path / "empty")


def test_a_run_folder_written_in_the_flat_config_form_still_exports(tmp_path):
    from colorgan.models.file import load_generator
    from colorgan.training.checkpoint import save_checkpoint

    flat = (
        "name: old\nmodel:\n  generator: paper\n  use_segmentation: false\n"
        "  use_embedding: false\n  spectral_norm: false\n"
        "train:\n  pretrain_loss: l1\n  lambda_l1: 100.0\n  rebalance: null\n"
    )
    cfg = config_from_dict({"name": "old", "model": NO_PRIORS})
    gan = ColorGAN(cfg)
    gan.pretrain_step(inputs())
    save_checkpoint(tmp_path, 1, gan.modules(), gan.state_dict(), flat)
    ColorGAN.from_checkpoint(tmp_path).export(tmp_path / "g.safetensors")
    loaded = load_generator(tmp_path / "g.safetensors")
    assert loaded.model == cfg.model and loaded.meta["name"] == "old"
    for key, value in gan.generator.state_dict().items():
        assert torch.equal(loaded.generator.state_dict()[key], value), key


@pytest.mark.training
def test_a_pretrained_encoder_starts_from_imagenet_and_learns_at_its_own_rate():
    from colorgan.priors.backbones import lite_network, lite_weights_file

    lite = {
        "generator": "lite_unet",
        "lite_unet": {"use_embedding": False, "use_segmentation": False},
    }
    cfg = config_from_dict({"model": lite, "train": {"pretrain_lr": 1e-3}})
    gan = ColorGAN(cfg)
    imagenet = lite_network(lite_weights_file()).state_dict()
    key = "_blocks.3._depthwise_conv.weight"
    assert torch.equal(gan.generator.encoder.state_dict()[key], imagenet[key])
    assert [g["lr"] for g in gan.opt_pre.param_groups] == [1e-3, pytest.approx(1e-4)]
    x = inputs()
    first = gan.pretrain_step(x)["l1"]
    for _ in range(15):  # under a third of the first loss by step 6, about a fifth by 15
        last = gan.pretrain_step(x)["l1"]
    assert last < first / 3


@pytest.mark.slow
def test_a_recipe_with_perceptual_and_colourfulness_terms_steps_and_logs_them():
    terms = {"gan": 1.0, "l1": 100.0, "perceptual": 1.0, "colourfulness": 10.0}
    cfg = config_from_dict({"model": NO_PRIORS, "loss": {"adversarial": terms}})
    gan = ColorGAN(cfg)
    assert gan.features is not None
    logs = gan.adversarial_step(inputs())
    assert set(logs) == {"d", *terms} and all(v >= 0 for v in logs.values())
    assert ColorGAN(config_from_dict({"model": NO_PRIORS})).features is None
