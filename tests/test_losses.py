import pytest
import torch
import torch.nn.functional as F

from colorgan.models import PatchDiscriminator
from colorgan.training.losses import (
    TERMS,
    LossContext,
    discriminator_loss,
    generator_gan_loss,
    weighted_sum,
)


def batch() -> dict[str, torch.Tensor]:
    torch.manual_seed(0)
    return {"l_norm": torch.rand(2, 1, 32, 32) * 2 - 1, "ab": torch.rand(2, 2, 32, 32) - 0.5}


def test_a_phase_loss_is_the_weighted_sum_of_its_named_terms():
    x = batch()
    fake = torch.zeros_like(x["ab"])
    d = PatchDiscriminator(ndf=8)
    ctx = LossContext(discriminator=d)
    total, terms = weighted_sum({"gan": 1.0, "l1": 100.0, "mse": 0.5}, fake, x, ctx)
    assert list(terms) == ["gan", "l1", "mse"]
    assert terms["l1"].item() == pytest.approx(F.l1_loss(fake, x["ab"]).item())
    assert terms["mse"].item() == pytest.approx(F.mse_loss(fake, x["ab"]).item())
    assert terms["gan"].item() == pytest.approx(generator_gan_loss(d(x["l_norm"], fake)).item())
    want = terms["gan"] + 100.0 * terms["l1"] + 0.5 * terms["mse"]
    assert total.item() == pytest.approx(want.item())
    # weight 1 adds the term itself, so the paper's pretraining loss is exactly L1
    single, _ = weighted_sum({"l1": 1.0}, fake, x, ctx)
    assert torch.equal(single, F.l1_loss(fake, x["ab"]))


def test_terms_declare_what_they_need():
    assert TERMS["gan"].needs.discriminator and not TERMS["l1"].needs.discriminator
    assert TERMS["rebalanced_l1"].needs.colour_weights
    x = batch()
    weights = torch.ones(32 * 32)
    ctx = LossContext(colour_weights=weights)
    flat, _ = weighted_sum({"rebalanced_l1": 1.0}, torch.zeros_like(x["ab"]), x, ctx)
    assert flat.item() == pytest.approx(F.l1_loss(torch.zeros_like(x["ab"]), x["ab"]).item())


def test_the_discriminator_loss_halves_each_side():
    logits = torch.zeros(1, 1, 4, 4)
    half_log_two = 0.5 * torch.log(torch.tensor(2.0)).item()
    assert discriminator_loss(logits, True).item() == pytest.approx(half_log_two)
    assert discriminator_loss(torch.full((1, 1, 4, 4), 10.0), True) < discriminator_loss(
        torch.full((1, 1, 4, 4), 10.0), False
    )


def test_colourfulness_matches_the_metric_and_only_a_shortfall_costs():
    import numpy as np

    from colorgan.colour.pixels import colourfulness as metric
    from colorgan.colour.tensors import colourfulness as hasler_suesstrunk
    from colorgan.colour.tensors import lab_normalized_to_rgb
    from colorgan.training.losses import colourfulness

    x = batch()
    rgb = lab_normalized_to_rgb(x["l_norm"], x["ab"]) * 255
    image = rgb[0].permute(1, 2, 0).double().numpy()
    assert hasler_suesstrunk(rgb)[0].item() == pytest.approx(metric(image), rel=1e-3)
    grey = torch.zeros_like(x["ab"], requires_grad=True)
    loss = colourfulness(grey, x, LossContext())
    assert loss.item() == pytest.approx(hasler_suesstrunk(rgb).mean().item() / 100, rel=0.02)
    loss.backward()
    assert grey.grad.abs().sum() > 0  # it pushes a grey prediction towards colour
    louder = colourfulness((x["ab"] * 1.5).clamp(-1, 1), x, LossContext())
    assert louder.item() == 0.0 and np.isfinite(loss.item())


def test_the_perceptual_term_compares_pretrained_features():
    from colorgan.training.losses import PerceptualFeatures, perceptual

    x = batch()
    ctx = LossContext(features=PerceptualFeatures())
    assert perceptual(x["ab"], x, ctx).item() == pytest.approx(0.0, abs=1e-6)
    fake = torch.zeros_like(x["ab"], requires_grad=True)
    far = perceptual(fake, x, ctx)
    near = perceptual(x["ab"] * 0.9, x, ctx)
    assert far > near > 0
    far.backward()
    assert fake.grad.abs().sum() > 0
    assert not any(p.requires_grad for p in ctx.features.parameters())


def test_classification_targets_the_true_colours_bins_weighted_by_rarity():
    from colorgan.colour.bins import BINS, bin_centres, soft_bins

    ab = torch.rand(2, 2, 8, 8) * 1.6 - 0.8
    index, weight = soft_bins(ab)
    decoded = (weight[:, :, None] * bin_centres()[index].permute(0, 1, 4, 2, 3)).sum(1)
    assert torch.allclose(decoded, ab, atol=1e-6)  # the soft target's mean is the colour
    assert torch.allclose(weight.sum(1), torch.ones(2, 8, 8))
    x = {"ab": ab, "l_norm": torch.zeros(2, 1, 8, 8)}
    ctx = LossContext(colour_weights=torch.ones(BINS * BINS))
    right = torch.full((2, BINS * BINS, 8, 8), -20.0).scatter(1, index, weight.log().clamp(-20))
    wrong = right.roll(BINS * 3, dims=1)
    loss = TERMS["classification"].fn
    assert loss(ab, {**x, "logits": right}, ctx) < 0.2 * loss(ab, {**x, "logits": wrong}, ctx)
    rare = LossContext(colour_weights=torch.full((BINS * BINS,), 3.0))
    assert loss(ab, {**x, "logits": wrong}, rare) == pytest.approx(
        3 * loss(ab, {**x, "logits": wrong}, ctx).item(), rel=1e-5
    )


def test_the_classification_term_needs_a_classifying_generator():
    from colorgan.base.errors import ColorganError
    from colorgan.config import config_from_dict

    with pytest.raises(ColorganError, match="head: classification"):
        config_from_dict(
            {
                "model": {"generator": "lite_unet"},
                "data": {"image_size": 64},
                "loss": {"pretrain": {"classification": 1.0}},
            }
        )
    cfg = config_from_dict(
        {
            "model": {"generator": "lite_unet", "lite_unet": {"head": "classification"}},
            "data": {"image_size": 64},
            "loss": {"pretrain": {"classification": 1.0}},
        }
    )
    assert cfg.model.options.head == "classification"


def test_the_cast_term_costs_a_tint_but_not_colours_moved_within_the_photo():
    x = batch()
    ctx = LossContext()
    # the true colours shuffled within each photo: every pixel wrong, the mean ab exact
    shuffled = x["ab"].flatten(2)[:, :, torch.randperm(32 * 32)].view_as(x["ab"])
    _, terms = weighted_sum({"cast": 1.0, "l1": 1.0}, shuffled, x, ctx)
    assert terms["cast"].item() == pytest.approx(0.0, abs=1e-6) and terms["l1"].item() > 0.1
    # a tint of +0.1 in b on the first photo only: one of the four (photo, channel) means
    tinted = x["ab"].clone()
    tinted[0, 1] += 0.1
    _, terms = weighted_sum({"cast": 1.0}, tinted, x, ctx)
    assert terms["cast"].item() == pytest.approx(0.1 / 4)
