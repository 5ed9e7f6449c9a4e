import pytest
import torch
import torch.nn.functional as F

from colorgan.data import find_images, scan_images
from colorgan.rebalance import (
    BINS,
    SAMPLE_SIZE,
    ab_histogram,
    bin_index,
    rebalance_weights,
    smoothed_distribution,
    weighted_l1,
)
from colorgan.train import Trainer
from tests.conftest import small_config


def test_lambda_one_is_plain_l1():
    counts = torch.rand(BINS, BINS) + 0.1  # every bin seen
    weights = rebalance_weights(counts, lam=1.0)
    assert torch.allclose(weights, torch.ones_like(weights), atol=1e-5)
    fake, real = torch.rand(2, 2, 8, 8) * 2 - 1, torch.rand(2, 2, 8, 8) * 2 - 1
    assert weighted_l1(fake, real, weights).item() == pytest.approx(F.l1_loss(fake, real).item())


def test_rare_colours_weigh_more_and_the_average_weight_is_one():
    counts = torch.zeros(BINS, BINS)
    counts[BINS // 2, BINS // 2] = 1000.0  # greyish: common
    counts[BINS - 4, 3] = 10.0  # a saturated colour: rare
    weights = rebalance_weights(counts, lam=0.5)
    grey = bin_index(torch.zeros(1, 2, 1, 1)).item()
    rare = (BINS - 4) * BINS + 3
    assert weights[rare] > 10 * weights[grey]
    # normalised: the average weight under the (smoothed) colour distribution is 1, so the
    # loss keeps its scale
    p = smoothed_distribution(counts)
    assert (weights * p).sum().item() == pytest.approx(1.0, rel=1e-5)
    assert p.argmax() == grey and (weights > 0).sum() < BINS * BINS  # smoothing stays local


def test_histogram_counts_every_sampled_pixel(photo_dir):
    photos = scan_images(find_images(photo_dir), 32, progress=False)
    counts = ab_histogram(photos, limit=5)
    sampled = len(photos[:: max(1, len(photos) // 5)][:5])
    assert counts.sum().item() == sampled * SAMPLE_SIZE * SAMPLE_SIZE
    # the synthetic photos are orange and blue, far from grey
    assert counts[BINS // 2, BINS // 2] < counts.sum() / 4


def test_trainer_weights_the_l1_when_asked(tmp_path, photo_dir):
    plain = Trainer(small_config(tmp_path / "a", photo_dir), progress=False)
    cfg = small_config(tmp_path / "b", photo_dir, train={"rebalance": 0.5})
    rebalanced = Trainer(cfg, progress=False)
    assert plain.ab_weights is None and rebalanced.ab_weights.shape == (BINS * BINS,)
    batch = [plain.train_set[(i, False)] for i in range(4)]
    from colorgan.data import collate

    x = plain._inputs(collate(batch))
    fake = torch.zeros_like(x["ab"])  # a grey prediction
    assert plain._reconstruction("l1", fake, x["ab"]).item() == pytest.approx(
        F.l1_loss(fake, x["ab"]).item()
    )
    assert rebalanced._reconstruction("l1", fake, x["ab"]).item() != pytest.approx(
        F.l1_loss(fake, x["ab"]).item(), rel=1e-3
    )
    assert rebalanced.run(max_steps=2)["steps"] == 2
