import csv

import numpy as np
import pytest
import torch

from colorgan.base.errors import ColorganError
from colorgan.models.file import read_generator_file
from colorgan.training.checkpoint import latest_checkpoint
from colorgan.training.trainer import Trainer
from tests.conftest import small_config

pytestmark = pytest.mark.training  # every test here runs training steps into a run folder


def test_a_tiny_model_overfits_four_images(tmp_path, photo_dir):
    cfg = small_config(
        tmp_path,
        photo_dir,
        data={"num_images": 4, "val_fraction": 0.0, "flip": False},
        train={"pretrain_epochs": 200, "adversarial_epochs": 0, "pretrain_lr": 1e-3},
    )
    trainer = Trainer(cfg, progress=False)
    summary = trainer.run()
    l1 = [h["l1"] for h in summary["history"]]
    assert len(l1) == 200
    start, end = sum(l1[:5]) / 5, sum(l1[-5:]) / 5
    assert end < start / 5, (start, end)


def test_one_discriminator_step_per_k_generator_steps(tmp_path, photo_dir):
    cfg = small_config(
        tmp_path,
        photo_dir,
        train={"pretrain_epochs": 0, "adversarial_epochs": 2, "d_every": 3, "batch_size": 2},
    )
    trainer = Trainer(cfg, progress=False)
    d_steps = []
    original = trainer.gan.opt_d.step
    trainer.gan.opt_d.step = lambda *a, **k: (
        d_steps.append(trainer.pos.phase_step),
        original(*a, **k),
    )[1]
    summary = trainer.run()
    g_steps = summary["steps"]
    assert g_steps == 8  # 2 epochs x (9 photos // batch 2)
    assert d_steps == [0, 3, 6]
    assert summary["d_steps"] == 3
    assert sum("d" in h for h in summary["history"]) == 3


def test_resume_takes_the_same_steps_as_an_uninterrupted_run(tmp_path, photo_dir):
    sections = {
        "train": {
            "pretrain_epochs": 1,
            "adversarial_epochs": 2,
            "d_every": 2,
            "batch_size": 3,
            "checkpoint_every": 1000,
        }
    }
    whole = Trainer(small_config(tmp_path / "a", photo_dir, **sections), progress=False).run()
    cfg = small_config(tmp_path / "b", photo_dir, **sections)
    first = Trainer(cfg, progress=False).run(max_steps=4)  # stops mid-phase, mid-epoch
    assert first["steps"] == 4
    with pytest.raises(ColorganError, match="--resume"):
        Trainer(cfg, progress=False)
    second = Trainer(cfg, resume=True, progress=False).run()
    assert second["steps"] == whole["steps"] == 9
    rest = second["history"]
    expected = whole["history"][4:]
    assert [h["step"] for h in rest] == [h["step"] for h in expected]
    for got, want in zip(rest, expected, strict=True):
        assert got.keys() == want.keys()
        for key in want:
            if key not in ("step", "phase"):
                assert got[key] == pytest.approx(want[key], rel=1e-4, abs=1e-6), (got, want)


def test_validation_reports_the_mean_l1_over_photos_with_its_standard_error(tmp_path, photo_dir):
    cfg = small_config(tmp_path, photo_dir, data={"val_fraction": 0.5})
    trainer = Trainer(cfg, progress=False)
    per_photo = []
    with torch.no_grad():
        for batch in trainer.data.val_loader:
            x = trainer.data.inputs(batch)
            for fake, real in zip(trainer.gan.predict(x), x["ab"], strict=True):
                per_photo.append(torch.nn.functional.l1_loss(fake.float(), real).item())
    mean, se = trainer.validate()
    assert len(per_photo) > 2 and len(set(per_photo)) > 1
    assert mean == pytest.approx(np.mean(per_photo), rel=1e-5)
    assert se == pytest.approx(np.std(per_photo, ddof=1) / np.sqrt(len(per_photo)), rel=1e-4)


def test_run_folder_holds_checkpoints_logs_and_the_generator(tmp_path, photo_dir):
    cfg = small_config(tmp_path, photo_dir, train={"checkpoint_every": 2, "keep_checkpoints": 2})
    summary = Trainer(cfg, progress=False).run()
    run = cfg.run_dir
    ckpt = latest_checkpoint(run)
    assert ckpt is not None and ckpt.name == f"step-{summary['steps']:08d}"
    assert len(list((run / "checkpoints").glob("step-*"))) == 2
    assert not list((run / "checkpoints").glob(".tmp-*"))
    state = torch.load(ckpt / "state.pt", weights_only=True)
    assert state["position"]["step"] == summary["steps"]
    rows = list(csv.DictReader(open(run / "losses.csv")))
    assert any(r["val_l1"] for r in rows) and any(r["d"] for r in rows)
    assert all(float(r["val_l1_se"]) > 0 for r in rows if r["val_l1"])
    assert list((run / "tensorboard").iterdir())
    tensors, meta = read_generator_file(run / "generator.safetensors")
    assert meta["model"]["generator"] == "fusion" and meta["image_size"] == 32


def test_channels_last_changes_the_layout_not_the_losses(tmp_path, photo_dir):
    histories = []
    for channels_last in (False, True):
        cfg = small_config(tmp_path, photo_dir, train={"channels_last": channels_last})
        cfg.name = f"cl-{channels_last}"
        trainer = Trainer(cfg, progress=False)
        conv = next(m for m in trainer.gan.generator.modules() if isinstance(m, torch.nn.Conv2d))
        assert conv.weight.is_contiguous(memory_format=torch.channels_last) == channels_last
        histories.append(trainer.run()["history"])
    for a, b in zip(*histories, strict=True):
        for key in a:
            if key not in ("step", "phase"):
                assert a[key] == pytest.approx(b[key], rel=1e-3, abs=1e-5), (a, b)


class Clock:
    """A clock that moves only when told: the run's timing, without the machine's load."""

    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def test_the_time_spent_waiting_on_the_loader_is_measured(tmp_path, photo_dir, monkeypatch):
    """A loader that takes 3 s a batch, against steps of 1 s, waits 3 of every 4 s: so the
    summary and every row of losses.csv say, whatever else the machine is doing."""
    from colorgan.training.data import TrainingData

    clock = Clock()
    loader = TrainingData.train_loader.func

    def slow(self):
        for batch in loader(self):
            clock.now += 3.0  # the batch takes 3 s to come
            yield batch

    monkeypatch.setattr(TrainingData, "train_loader", property(slow))
    cfg = small_config(tmp_path, photo_dir, train={"log_every": 1})
    trainer = Trainer(cfg, progress=False)
    trainer.clock = clock
    step = trainer.step

    def timed(phase, x):  # the step takes 1 s
        clock.now += 1.0
        return step(phase, x)

    trainer.step = timed
    summary = trainer.run()
    assert summary["steps"] > 1 and summary["loader_wait"] == 0.75
    assert summary["seconds"] == 4.0 * summary["steps"]
    rows = [r for r in csv.DictReader(open(cfg.run_dir / "losses.csv")) if r["loader_wait"]]
    assert len(rows) == summary["steps"] and all(float(r["loader_wait"]) == 0.75 for r in rows)


def test_validation_samples_go_to_the_run_folder_and_tensorboard(tmp_path, photo_dir):
    from PIL import Image

    cfg = small_config(tmp_path, photo_dir, train={"sample_every": 2, "sample_images": 3})
    trainer = Trainer(cfg, progress=False)
    summary = trainer.run()
    pngs = sorted((cfg.run_dir / "samples").glob("step-*.png"))
    total = summary["steps"]
    early = min(2, max(1, total // 10))  # the first grid at a tenth of the run, if sooner
    steps = sorted({early, *range(2, total + 1, 2)})
    assert [p.name for p in pngs] == [f"step-{s:08d}.png" for s in steps]
    grid = np.asarray(Image.open(pngs[-1]))
    size, pad = cfg.data.image_size, 2
    assert grid.shape == (3 * (size + pad) + pad, 3 * (size + pad) + pad, 3)  # 3 photos x 3
    # the left column is grey, the right one is the original photo
    cell = grid[pad : pad + size, pad : pad + size].astype(int)
    assert np.abs(cell[..., 0] - cell[..., 1]).max() <= 2
    original = trainer.samples()[:, pad : pad + size, -(pad + size) : -pad]
    assert original.std(0).mean() > 0.01
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    events = EventAccumulator(str(cfg.run_dir / "tensorboard"), size_guidance={"images": 0})
    events.Reload()
    assert len(events.Images("samples")) == len(pngs)


def test_spectral_norm_discriminator_trains_and_resumes(tmp_path, photo_dir):
    cfg = small_config(
        tmp_path,
        photo_dir,
        model={"discriminator": {"spectral_norm": True}},
        train={"pretrain_epochs": 0, "adversarial_epochs": 2},
    )
    trainer = Trainer(cfg, progress=False)
    trainer.run(max_steps=2)
    again = Trainer(cfg, resume=True, progress=False)
    for key, value in trainer.gan.discriminator.state_dict().items():
        assert torch.equal(value, again.gan.discriminator.state_dict()[key]), key
    assert again.run()["steps"] == 4


def test_ema_generator_averages_the_weights_is_exported_and_resumes(tmp_path, photo_dir):
    from safetensors.torch import load_file

    decay = 0.5
    cfg = small_config(tmp_path, photo_dir, train={"ema_decay": decay})
    trainer = Trainer(cfg, progress=False)
    name, param = next(iter(trainer.gan.generator.named_parameters()))
    trainer.run(max_steps=2)  # the whole pretraining phase: no average yet, G is validated
    assert trainer.gan.generator_ema.n_averaged.item() == 0
    assert trainer.gan.inference_generator is trainer.gan.generator
    from colorgan.apps.cli import main

    pretrained = tmp_path / "pretrained.safetensors"
    assert main(["export", str(cfg.run_dir), "--out", str(pretrained)]) == 0
    assert torch.equal(load_file(str(pretrained))[name], param.detach())  # G, not the EMA
    trainer.run(max_steps=3)  # the first adversarial step
    expected = param.detach().clone()  # the average starts from G after that step
    assert trainer.gan.inference_generator is trainer.gan.generator_ema.module
    trainer.run(max_steps=4)  # continues in place
    expected = decay * expected + (1 - decay) * param.detach()
    ema = dict(trainer.gan.generator_ema.module.named_parameters())[name]
    assert torch.allclose(ema, expected, atol=1e-6)
    assert not torch.allclose(ema, param)
    exported = load_file(str(cfg.run_dir / "generator.safetensors"))
    assert torch.allclose(exported[name].float(), ema, atol=1e-6)
    again = Trainer(cfg, resume=True, progress=False)
    resumed = dict(again.gan.generator_ema.module.named_parameters())[name]
    assert torch.equal(resumed, ema)
    out = tmp_path / "exported.safetensors"
    assert main(["export", str(cfg.run_dir), "--out", str(out)]) == 0
    assert torch.equal(load_file(str(out))[name].float(), exported[name].float())


def test_resume_is_exact_with_dropout_to_the_last_bit(tmp_path, photo_dir):
    sections = {
        "model": {"generator": "unet", "unet": {"downs": 6, "dropout": 0.5}},
        "data": {"image_size": 64},
        "train": {"pretrain_epochs": 2, "adversarial_epochs": 1, "batch_size": 3},
    }
    whole = Trainer(small_config(tmp_path / "a", photo_dir, **sections), progress=False)
    whole.run()
    cfg = small_config(tmp_path / "b", photo_dir, **sections)
    Trainer(cfg, progress=False).run(max_steps=4)  # stops inside the second epoch
    resumed = Trainer(cfg, resume=True, progress=False)
    resumed.run()
    for name, module in whole.gan.modules().items():
        other = resumed.gan.modules()[name].state_dict()
        for key, value in module.state_dict().items():
            assert torch.equal(value, other[key]), (name, key)


def test_a_resume_between_an_epochs_last_step_and_its_validation_logs_it_once(
    tmp_path, photo_dir, monkeypatch
):
    cfg = small_config(
        tmp_path,
        photo_dir,
        train={
            "pretrain_epochs": 2,
            "adversarial_epochs": 0,
            "batch_size": 3,
            "checkpoint_every": 3,
        },
    )
    trainer = Trainer(cfg, progress=False)
    spe = trainer.data.steps_per_epoch()
    assert spe == 3  # 9 training photos: the checkpoint falls on the epoch's last step
    real_step = Trainer.step

    def killed_in_the_next_epoch(self, phase, x):
        if self.pos.epoch == 1:
            raise KeyboardInterrupt
        return real_step(self, phase, x)

    monkeypatch.setattr(Trainer, "step", killed_in_the_next_epoch)
    with pytest.raises(KeyboardInterrupt):
        trainer.run()
    monkeypatch.undo()
    Trainer(cfg, resume=True, progress=False).run()
    with open(cfg.run_dir / "losses.csv") as fh:
        rows = list(csv.DictReader(fh))
    assert [int(r["step"]) for r in rows if r["val_l1"]] == [3, 6]
    assert [int(r["step"]) for r in rows if not r["val_l1"]] == list(range(1, 7))


def test_the_critic_warms_up_on_the_pretrained_generators_outputs_first(tmp_path, photo_dir):
    cfg = small_config(
        tmp_path,
        photo_dir,
        train={
            "pretrain_epochs": 1,
            "adversarial_epochs": 2,
            "batch_size": 3,
            "d_warmup_steps": 4,
            "d_every": 2,
        },
    )
    trainer = Trainer(cfg, progress=False)
    gan, seen = trainer.gan, []
    original = gan.critic_step

    def critic(x):  # G's weights and D's at each warm-up step
        seen.append(
            [
                p.detach().clone()
                for p in (*gan.generator.parameters(), *gan.discriminator.parameters())
            ]
        )
        return original(x)

    gan.critic_step = critic
    history = trainer.run()["history"]
    adversarial = [h for h in history if h["phase"] == "adversarial"]
    assert len(adversarial) == 6 and len(seen) == 4  # 2 epochs x (9 photos // 3)
    assert all(set(h) == {"step", "phase", "d"} for h in adversarial[:4])  # D alone
    assert "gan" in adversarial[4] and "d" in adversarial[4]  # then G, D every 2nd step
    assert "d" not in adversarial[5]
    n_g = len(list(gan.generator.parameters()))
    for later in seen[1:]:  # G stood still through the warm-up while D learnt
        assert all(torch.equal(a, b) for a, b in zip(seen[0][:n_g], later[:n_g], strict=True))
        assert not all(torch.equal(a, b) for a, b in zip(seen[0][n_g:], later[n_g:], strict=True))
    assert not all(
        torch.equal(a, b) for a, b in zip(seen[0][:n_g], gan.generator.parameters(), strict=True)
    )
