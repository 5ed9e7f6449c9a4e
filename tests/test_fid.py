import numpy as np
import pytest

from colorgan.evaluation.fid import (
    InceptionFeatures,
    frechet_distance,
    jackknife_se,
    kernel_inception_distance,
    paired_kid,
)
from tests.conftest import make_photo


def test_frechet_distance_of_shifted_gaussians_is_the_squared_shift():
    rng = np.random.default_rng(0)
    a = rng.normal(size=(4000, 8))
    shift = np.array([1.0, -2.0, 0, 0, 0, 0, 0, 0.5])
    assert frechet_distance(a, a) == pytest.approx(0.0, abs=1e-6)
    # same covariance, mean moved: FID is |shift|^2 (5.25)
    assert frechet_distance(a, a + shift) == pytest.approx(5.25, abs=1e-6)
    # doubling the spread of a standard normal in 8 dims: 8 * (1 + 4 - 2 * 2) = 8
    b = rng.normal(size=(4000, 8))
    assert frechet_distance(b, 2 * b) == pytest.approx(8 * np.var(b, ddof=1), rel=0.05)


def test_kid_is_unbiased_near_zero_for_one_distribution_and_grows_apart():
    rng = np.random.default_rng(1)
    a, b = rng.normal(size=(300, 16)), rng.normal(size=(300, 16))
    same = kernel_inception_distance(a, b, subsets=20, subset_size=100)
    apart = kernel_inception_distance(a, b + 0.5, subsets=20, subset_size=100)
    assert abs(same) < 0.01 < apart


@pytest.mark.slow
def test_kid_of_paired_sets_is_the_whole_set_estimate_the_jackknife_measures():
    # past 1,000 photos too, where the subset mean would differ from it
    rng = np.random.default_rng(4)
    n, dim = 1100, 4
    a, b = rng.normal(size=(n, dim)), rng.normal(size=(n, dim)) + 0.2
    kxx, kyy, kxy = ((x @ y.T / dim + 1) ** 3 for x, y in ((a, a), (b, b), (a, b)))
    whole = (kxx.sum() - np.trace(kxx) + kyy.sum() - np.trace(kyy)) / (n * (n - 1))
    whole -= 2 * kxy.mean()
    assert paired_kid(a, b)[0] == pytest.approx(whole, rel=1e-9)
    assert kernel_inception_distance(a, b, subset_size=n) == pytest.approx(whole, rel=1e-9)
    assert kernel_inception_distance(a, b) != pytest.approx(whole, rel=1e-3)


def test_leave_one_out_kid_is_the_kid_of_the_set_without_that_photo():
    rng = np.random.default_rng(2)
    a, b = rng.normal(size=(40, 8)), rng.normal(size=(40, 8)) + 0.3
    replicates = paired_kid(a, b)[1]
    for i in (0, 17, 39):
        keep = np.arange(40) != i
        alone = kernel_inception_distance(a[keep], b[keep], subsets=1)
        assert replicates[i] == pytest.approx(alone, rel=1e-9)
    with pytest.raises(ValueError):
        paired_kid(a, b[:-1])


def test_the_jackknife_error_is_the_spread_of_kid_over_fresh_photo_sets():
    # 60 fresh sets of 150 "photos"; two models, the second the first nudged a little
    rng = np.random.default_rng(3)
    kids, errors, differences, difference_errors = [], [], [], []
    for _ in range(60):
        original = rng.normal(size=(150, 16))
        first = original + 0.3 + 0.5 * rng.normal(size=original.shape)
        second = first + 0.05 + 0.1 * rng.normal(size=original.shape)
        one, two = paired_kid(first, original)[1], paired_kid(second, original)[1]
        kids.append(kernel_inception_distance(first, original, subsets=1))
        errors.append(jackknife_se(one))
        differences.append(kernel_inception_distance(second, original, subsets=1) - kids[-1])
        difference_errors.append(jackknife_se(two - one))
    assert np.mean(errors) == pytest.approx(np.std(kids), rel=0.4)
    assert np.mean(difference_errors) == pytest.approx(np.std(differences), rel=0.4)
    # paired on the same photos, the difference is known far better than either KID
    assert np.mean(difference_errors) < np.mean(errors) / 2


@pytest.mark.slow
def test_inception_features_tell_colour_from_grey():
    features = InceptionFeatures()
    photos = [np.asarray(make_photo(i, (96, 80))) for i in range(6)]
    greys = [
        np.repeat(np.asarray(make_photo(i, (96, 80)).convert("L"))[..., None], 3, 2)
        for i in range(6)
    ]
    f_photos = features(photos)
    assert f_photos.shape == (6, 2048) and np.isfinite(f_photos).all()
    assert features(photos) is f_photos  # the same photos are not run twice
    f_greys = features(greys)
    # each photo is nearer its own grey version than the other photos are
    d = ((f_photos[:, None] - f_greys[None]) ** 2).sum(-1)
    assert (np.argmin(d, axis=1) == np.arange(6)).mean() >= 0.5
    assert frechet_distance(f_photos, f_photos) == pytest.approx(0.0, abs=1e-3)
