import pytest
import torch
import torch.nn.functional as F

from colorgan.colour.bins import BINS
from colorgan.training.data import TrainingData
from colorgan.training.datasets import collate
from colorgan.training.losses import LossContext, l1, rebalanced_l1
from colorgan.training.trainer import Trainer
from tests.conftest import small_config

PRIORS_ON = {"fusion": {"use_segmentation": True, "use_embedding": True}}


@pytest.mark.training
def test_the_priors_are_computed_once_into_the_cache_and_batches_read_them(tmp_path, photo_dir):
    cfg = small_config(tmp_path, photo_dir, model=PRIORS_ON)
    data = TrainingData(cfg, progress=False)
    files = list((tmp_path / "cache").rglob("*.safetensors"))
    assert len(files) == 12  # every photo, train and validation, computed once
    sample = data.train_set[(0, True)]
    assert sample["embedding"].shape == (1000,) and sample["segmentation"].shape == (21, 8, 8)
    x = data.inputs(collate([data.train_set[(i, False)] for i in range(3)]))
    assert x["l_norm"].shape == (3, 1, 32, 32) and x["ab"].shape == (3, 2, 32, 32)
    assert x["embedding"].shape == (3, 1000) and x["segmentation"].shape == (3, 21, 32, 32)
    assert torch.allclose(x["segmentation"].sum(1), torch.ones(3, 32, 32), atol=1e-3)
    # a whole run never reruns the backbones: a second set-up finds everything cached
    assert Trainer(cfg, progress=False).run()["steps"] == 4
    stamps = {f: f.stat().st_mtime_ns for f in files}
    TrainingData(cfg, progress=False)
    assert {f: f.stat().st_mtime_ns for f in files} == stamps


def test_a_generator_without_priors_gets_none(tmp_path, photo_dir):
    data = TrainingData(small_config(tmp_path, photo_dir), progress=False)
    assert data.cache is None and data.priors is None
    assert not (tmp_path / "cache").exists()
    x = data.inputs(collate([data.train_set[(0, False)]]))
    assert set(x) == {"l_norm", "ab"}


@pytest.mark.slow
def test_without_the_cache_the_backbones_run_on_each_batch_and_agree_with_it(tmp_path, photo_dir):
    cached = TrainingData(
        small_config(tmp_path, photo_dir, model=PRIORS_ON, data={"image_size": 256}),
        progress=False,
    )
    cfg = small_config(
        tmp_path,
        photo_dir,
        model=PRIORS_ON,
        data={"image_size": 256},
        priors={"cache": False, "cache_dir": str(tmp_path / "none")},
    )
    live = TrainingData(cfg, progress=False)
    assert live.cache is None and live.priors is not None
    for item in [(0, False), (1, True)]:
        want = cached.train_set[item]
        sample = live.train_set[item]
        assert "embedding" not in sample  # nothing comes from disk
        got = live.inputs({"rgb": sample["rgb"][None]})
        ref = cached.inputs({k: v[None] for k, v in want.items()})
        for name in ("embedding", "segmentation"):  # the cache stores fp16
            assert torch.allclose(got[name], ref[name], atol=2e-2, rtol=1e-2), name
    assert not (tmp_path / "none").exists()


@pytest.mark.training
def test_colour_weights_are_counted_only_for_the_rebalanced_term(tmp_path, photo_dir):
    plain = TrainingData(small_config(tmp_path / "a", photo_dir), progress=False)
    loss = {
        "pretrain": {"rebalanced_l1": 1.0},
        "adversarial": {"gan": 1.0, "rebalanced_l1": 100.0},
        "rebalance_lambda": 0.5,
    }
    cfg = small_config(tmp_path / "b", photo_dir, loss=loss)
    rebalanced = TrainingData(cfg, progress=False)
    assert plain.colour_weights is None and rebalanced.colour_weights.shape == (BINS * BINS,)
    x = plain.inputs(collate([plain.train_set[(i, False)] for i in range(4)]))
    fake = torch.zeros_like(x["ab"])  # a grey prediction
    ctx = LossContext(colour_weights=rebalanced.colour_weights)
    assert l1(fake, x, ctx).item() == pytest.approx(F.l1_loss(fake, x["ab"]).item())
    assert rebalanced_l1(fake, x, ctx).item() != pytest.approx(l1(fake, x, ctx).item(), rel=1e-3)
    trainer = Trainer(cfg, progress=False)
    assert torch.equal(trainer.gan.colour_weights, rebalanced.colour_weights)
    summary = trainer.run(max_steps=2)
    assert summary["steps"] == 2 and "rebalanced_l1" in summary["history"][0]


def test_cached_class_maps_are_cropped_with_the_photo():
    from colorgan.training.data import crop_maps

    maps = torch.zeros(2, 3, 8, 8)
    maps[:, 1, :, :4] = 1.0  # class 1 on the left half
    maps[:, 2, :, 4:] = 1.0  # class 2 on the right half
    whole = crop_maps(maps, torch.tensor([[0.0, 0.0, 1.0, 1.0]] * 2))
    assert torch.allclose(whole, maps, atol=1e-6)
    left = crop_maps(maps, torch.tensor([[0.0, 0.0, 0.5, 1.0], [0.5, 0.25, 1.0, 0.75]]))
    # bilinear sampling: only the column at the border of the halves mixes the two
    assert torch.allclose(left[0, 1, :, :7], torch.ones(8, 7)) and left[0, 1].mean() > 0.95
    assert torch.allclose(left[1, 2, :, 1:], torch.ones(8, 7)) and left[1, 2].mean() > 0.95


@pytest.mark.training
def test_training_on_random_crops_with_cached_priors(tmp_path, photo_dir):
    cfg = small_config(tmp_path, photo_dir, model=PRIORS_ON, data={"random_crop": [0.5, 1.0]})
    data = TrainingData(cfg, progress=False)
    data.sampler.set_epoch(0)
    batch = collate([data.train_set[item] for item in list(data.sampler)[:4]])
    assert batch["box"].shape == (4, 4)
    x = data.inputs(batch)
    assert x["segmentation"].shape == (4, 21, 32, 32)
    assert torch.allclose(x["segmentation"].sum(1), torch.ones(4, 32, 32), atol=1e-3)
    assert Trainer(cfg, progress=False).run()["steps"] == 4
