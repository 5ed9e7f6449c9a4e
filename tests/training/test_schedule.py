import math

import pytest
import torch

from colorgan.config import TrainConfig
from colorgan.training.schedule import lr_factor
from colorgan.training.trainer import Trainer
from tests.conftest import small_config


def test_warm_up_then_cosine_or_step_decay():
    cosine = TrainConfig(lr_schedule="cosine", warmup_steps=4, lr_floor=0.1)
    factors = [lr_factor(cosine, step, 24) for step in range(24)]
    assert factors[:4] == pytest.approx([0.2, 0.4, 0.6, 0.8])  # linear, never 0
    assert factors[4] == pytest.approx(1.0)
    assert all(a >= b for a, b in zip(factors[4:], factors[5:], strict=False))
    assert factors[14] == pytest.approx(0.1 + 0.9 * 0.5 * (1 + math.cos(math.pi / 2)))
    assert factors[-1] == pytest.approx(0.1, abs=0.01)
    step = TrainConfig(lr_schedule="step", lr_steps=(0.5, 0.75))
    assert [lr_factor(step, s, 8) for s in range(8)] == pytest.approx(
        [1, 1, 1, 1, 0.1, 0.1, 0.01, 0.01]
    )
    assert lr_factor(TrainConfig(), 500, 1000) == 1.0  # constant: the paper's


def _lrs(trainer):
    return [g["lr"] for g in trainer.gan.opt_pre.param_groups]


@pytest.mark.training
def test_the_schedule_sets_each_steps_rate_and_resumes_exactly(tmp_path, photo_dir):
    sections = {
        "train": {
            "pretrain_epochs": 3,
            "adversarial_epochs": 0,
            "batch_size": 3,
            "lr_schedule": "cosine",
            "warmup_steps": 2,
            "grad_clip": 0.05,
            "pretrain_lr": 1e-3,
        }
    }
    whole = Trainer(small_config(tmp_path / "a", photo_dir, **sections), progress=False)
    seen = []
    original = whole.gan.pretrain_step
    whole.gan.pretrain_step = lambda x: (seen.append(_lrs(whole)[0]), original(x))[1]
    whole.run()
    total = 9  # 3 epochs x (9 photos // 3)
    assert seen == pytest.approx([1e-3 * lr_factor(whole.cfg.train, s, total) for s in range(9)])
    cfg = small_config(tmp_path / "b", photo_dir, **sections)
    Trainer(cfg, progress=False).run(max_steps=4)
    resumed = Trainer(cfg, resume=True, progress=False)
    resumed.run()
    for key, value in whole.gan.generator.state_dict().items():
        assert torch.equal(value, resumed.gan.generator.state_dict()[key]), key


@pytest.mark.training
def test_gradient_clipping_bounds_the_step(tmp_path, photo_dir):
    def first_step_change(clip):
        cfg = small_config(
            tmp_path / str(clip), photo_dir, train={"grad_clip": clip, "pretrain_lr": 1.0}
        )
        trainer = Trainer(cfg, progress=False)
        gan = trainer.gan
        gan.opt_pre = torch.optim.SGD(gan.generator.parameters(), lr=1.0)  # step = gradient
        gan.base_lrs["opt_pre"] = [1.0]
        before = [p.detach().clone() for p in gan.generator.parameters()]
        trainer.run(max_steps=1)
        moved = [
            (p.detach() - b).flatten()
            for p, b in zip(gan.generator.parameters(), before, strict=True)
        ]
        return torch.cat(moved).norm().item()

    assert first_step_change(1e-3) == pytest.approx(1e-3, rel=1e-3)
    assert first_step_change(None) > 1e-2


@pytest.mark.training
def test_a_run_can_start_from_another_runs_generator(tmp_path, photo_dir):
    from colorgan.base.errors import ColorganError

    first = Trainer(
        small_config(tmp_path / "a", photo_dir, train={"adversarial_epochs": 0}), progress=False
    )
    done = first.run()["generator"]
    cfg = small_config(
        tmp_path / "b",
        photo_dir,
        train={"init_from": done, "pretrain_epochs": 0, "adversarial_epochs": 0},
    )
    warm = Trainer(cfg, progress=False)
    for key, value in first.gan.generator.state_dict().items():
        assert torch.equal(value, warm.gan.generator.state_dict()[key]), key
    warm.release()
    other = small_config(
        tmp_path / "c",
        photo_dir,
        train={"init_from": done},
        model={"generator": "unet", "unet": {"downs": 6}},
        data={"image_size": 64},
    )
    with pytest.raises(ColorganError, match="not this config's model"):
        Trainer(other, progress=False)
