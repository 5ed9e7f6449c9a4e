import pytest
import torch

from colorgan.images import find_images
from colorgan.training.datasets import EpochSampler, PhotoDataset, collate
from colorgan.training.photos import scan_images


def test_a_file_that_breaks_mid_epoch_is_dropped_not_fatal(photo_dir):
    photos = scan_images(find_images(photo_dir), 32, progress=False)
    photos[1].path.write_bytes(b"garbage")
    ds = PhotoDataset(photos, 32)
    batch = collate([ds[(i, False)] for i in range(4)])
    assert batch["rgb"].shape == (3, 3, 32, 32)
    assert batch["rgb"].dtype == torch.uint8


def test_sampler_is_a_pure_function_of_seed_and_epoch():
    s = EpochSampler(20, seed=1, shuffle=True, flip=True)
    s.set_epoch(3)
    full = list(s)
    s.set_epoch(3, start=7)
    assert list(s) == full[7:]
    s.set_epoch(4)
    assert list(s) != full
    assert sorted(i for i, _ in full) == list(range(20))
    assert 0 < sum(f for _, f in full) < 20


def test_flip_mirrors_the_photo(photo_dir):
    photos = scan_images(find_images(photo_dir), 32, progress=False)
    ds = PhotoDataset(photos, 32)
    a, b = ds[(0, False)]["rgb"], ds[(0, True)]["rgb"]
    assert torch.equal(a.flip(-1), b)
    assert a.shape == (3, 32, 32)


def test_ranks_take_disjoint_slices_of_the_same_global_batches():
    one = list(EpochSampler(10, seed=3, shuffle=True, flip=True, batch_size=4))
    ranks = [list(EpochSampler(10, seed=3, shuffle=True, flip=True, batch_size=4, rank=r, world=2))
             for r in range(2)]  # fmt: skip
    assert len(one) == 8  # two whole global batches of 4; the last 2 photos wait for next epoch
    for b in range(2):
        assert ranks[0][2 * b : 2 * b + 2] + ranks[1][2 * b : 2 * b + 2] == one[4 * b : 4 * b + 4]
    resumed = EpochSampler(10, seed=3, shuffle=True, flip=True, batch_size=4, rank=1, world=2)
    resumed.set_epoch(0, start=4)
    assert list(resumed) == ranks[1][2:]
    with pytest.raises(ValueError, match="does not split"):
        EpochSampler(10, seed=3, shuffle=True, flip=True, batch_size=3, world=2)
