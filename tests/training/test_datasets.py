import pytest
import torch

from colorgan.base.images import find_images
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
    ranks = [
        list(EpochSampler(10, seed=3, shuffle=True, flip=True, batch_size=4, rank=r, world=2))
        for r in range(2)
    ]
    assert len(one) == 8  # two whole global batches of 4; the last 2 photos wait for next epoch
    for b in range(2):
        assert ranks[0][2 * b : 2 * b + 2] + ranks[1][2 * b : 2 * b + 2] == one[4 * b : 4 * b + 4]
    resumed = EpochSampler(10, seed=3, shuffle=True, flip=True, batch_size=4, rank=1, world=2)
    resumed.set_epoch(0, start=4)
    assert list(resumed) == ranks[1][2:]
    with pytest.raises(ValueError, match="does not split"):
        EpochSampler(10, seed=3, shuffle=True, flip=True, batch_size=3, world=2)


def test_random_crops_are_seeded_and_leave_order_and_flips_as_they_were():
    plain = EpochSampler(20, seed=1, shuffle=True, flip=True)
    cropped = EpochSampler(20, seed=1, shuffle=True, flip=True, crop=(0.5, 1.0))
    for s in (plain, cropped):
        s.set_epoch(2)
    items = list(cropped)
    assert [(i, f) for i, f, _ in items] == list(plain)
    assert items == list(cropped)  # a pure function of (seed, epoch)
    boxes = torch.tensor([box for _, _, box in items])
    assert (boxes >= 0).all() and (boxes <= 1).all()
    area = (boxes[:, 2] - boxes[:, 0]) * (boxes[:, 3] - boxes[:, 1])
    assert area.min() > 0.3 and area.max() <= 1.0 and area.std() > 0.05
    ratio = (boxes[:, 2] - boxes[:, 0]) / (boxes[:, 3] - boxes[:, 1])
    assert ratio.min() >= 0.74 or area.min() < 0.56  # 3/4..4/3 unless clamped at the edge


def test_a_crop_box_takes_that_part_of_the_photo(tmp_path):
    import numpy as np
    from PIL import Image

    half = np.zeros((60, 80, 3), np.uint8)
    half[:, :40] = (220, 30, 30)  # red left half
    half[:, 40:] = (30, 30, 220)  # blue right half
    Image.fromarray(half).save(tmp_path / "halves.png")
    photos = scan_images([tmp_path / "halves.png"], 32, progress=False)
    ds = PhotoDataset(photos, 32)
    left = ds[(0, False, (0.0, 0.0, 0.45, 1.0))]
    assert left["rgb"].shape == (3, 32, 32) and (left["rgb"][0] > 200).all()
    mirrored = ds[(0, True, (0.0, 0.0, 0.45, 1.0))]
    assert (mirrored["rgb"][0] > 200).all()  # the crop is taken, then flipped
    assert torch.allclose(mirrored["box"], torch.tensor([0.55, 0.0, 1.0, 1.0]))


def test_weights_draw_each_photo_as_often_as_its_weight_says():
    weights = [2.0] * 4 + [0.5] * 8 + [1.0] * 3 + [0.0] * 5
    s = EpochSampler(20, seed=2, shuffle=True, flip=False, weights=weights)
    assert s.n == len(s) == 8 + 4 + 3  # a fixed length, every epoch
    epochs = []
    for epoch in range(3):
        s.set_epoch(epoch)
        drawn = [i for i, _ in s]
        counts = torch.bincount(torch.tensor(drawn), minlength=20).tolist()
        assert counts[:4] == [2] * 4 and counts[12:15] == [1] * 3 and counts[15:] == [0] * 5
        assert sorted(counts[4:12]) == [0] * 4 + [1] * 4  # a random half of weight 0.5
        epochs.append(drawn)
        s.set_epoch(epoch, start=5)
        assert [i for i, _ in s] == drawn[5:]  # resumes inside the epoch exactly
    assert epochs[0] != epochs[1]
    # all weights 1: exactly the unweighted order
    plain, ones = EpochSampler(9, 3, True, True), EpochSampler(9, 3, True, True, weights=[1.0] * 9)
    assert list(plain) == list(ones)
