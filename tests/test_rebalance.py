import pytest
import torch
import torch.nn.functional as F

from colorgan.base.images import find_images
from colorgan.training.losses import weighted_l1
from colorgan.training.rebalance import (
    BINS,
    SAMPLE_SIZE,
    ab_histogram,
    bin_index,
    rebalance_weights,
    smoothed_distribution,
)


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
    photos = find_images(photo_dir)
    counts = ab_histogram(photos, limit=5)
    sampled = len(photos[:: max(1, len(photos) // 5)][:5])
    assert counts.sum().item() == sampled * SAMPLE_SIZE * SAMPLE_SIZE
    # the synthetic photos are orange and blue, far from grey
    assert counts[BINS // 2, BINS // 2] < counts.sum() / 4
