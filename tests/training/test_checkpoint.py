import logging
import os

import pytest
import torch
from safetensors.torch import save_file
from torch import nn

from colorgan.base.errors import ColorganError
from colorgan.training.checkpoint import (
    checkpoints,
    latest_checkpoint,
    load_latest,
    save_checkpoint,
)
from colorgan.training.trainer import Trainer
from tests.conftest import small_config


@pytest.mark.training
def test_a_failure_mid_checkpoint_leaves_the_previous_one_whole(tmp_path, photo_dir, monkeypatch):
    import colorgan.training.checkpoint as checkpoint

    cfg = small_config(tmp_path, photo_dir, train={"adversarial_epochs": 0})
    trainer = Trainer(cfg, progress=False)
    trainer.run()
    before = latest_checkpoint(cfg.run_dir)
    real_save = checkpoint.save_file

    def dying_save(tensors, path, *args, **kwargs):
        real_save(tensors, path, *args, **kwargs)
        raise KeyboardInterrupt  # killed half-way through the new checkpoint: its weights out

    monkeypatch.setattr(checkpoint, "save_file", dying_save)
    trainer.pos.step += 1
    with pytest.raises(KeyboardInterrupt):
        trainer.save()
    monkeypatch.undo()
    assert latest_checkpoint(cfg.run_dir) == before
    assert not list((cfg.run_dir / "checkpoints").glob(".tmp-*"))
    resumed = Trainer(cfg, resume=True, progress=False)
    assert resumed.pos.step == trainer.pos.step - 1


def linear(seed: int) -> dict:
    torch.manual_seed(seed)
    return {"generator": nn.Linear(3, 2)}


def save(run_dir, step, seed, keep=2):
    return save_checkpoint(run_dir, step, linear(seed), {"step": step}, "name: x\n", keep)


def test_saving_a_step_again_never_removes_the_checkpoint_latest_names(tmp_path, monkeypatch):
    import colorgan.training.checkpoint as checkpoint

    first = save(tmp_path, 5, seed=0)
    real_write = checkpoint.atomic_write_text

    def killed_before_latest_moves(*args):
        raise KeyboardInterrupt

    monkeypatch.setattr(checkpoint, "atomic_write_text", killed_before_latest_moves)
    with pytest.raises(KeyboardInterrupt):
        save(tmp_path, 5, seed=1)  # the same step again (a phase end on a checkpoint step)
    monkeypatch.setattr(checkpoint, "atomic_write_text", real_write)
    assert latest_checkpoint(tmp_path) == first and (first / "state.pt").is_file()
    second = save(tmp_path, 5, seed=1)  # in as step-5.2 (5.1 was written before the kill)
    # then, the others removed, under its step's own name
    assert second.name == "step-00000005" and latest_checkpoint(tmp_path) == second
    assert (tmp_path / "checkpoints" / "latest").read_text() == "step-00000005\n"
    assert checkpoints(tmp_path) == [second]  # the others superseded once latest moved
    modules = linear(9)
    assert load_latest(tmp_path, modules)[0] == second
    assert torch.equal(modules["generator"].weight, linear(1)["generator"].weight)


def test_keep_prunes_the_oldest_and_must_be_positive(tmp_path):
    for step in (1, 2, 3):
        save(tmp_path, step, seed=step, keep=2)
    assert [p.name for p in checkpoints(tmp_path)] == ["step-00000002", "step-00000003"]
    save(tmp_path, 4, seed=4, keep=1)
    assert [p.name for p in checkpoints(tmp_path)] == ["step-00000004"]
    for keep in (0, -1):
        with pytest.raises(ColorganError, match="keep_checkpoints"):
            save(tmp_path, 5, seed=5, keep=keep)
    assert [p.name for p in checkpoints(tmp_path)] == ["step-00000004"]


class Payload:
    def __reduce__(self):
        return (os.system, ("touch PWNED",))


@pytest.mark.parametrize(
    "damage", ["garbage state", "pickled state", "truncated weights", "zeroed weights", "no latest"]
)
def test_a_damaged_checkpoint_is_named_and_the_one_before_it_used(
    tmp_path, damage, caplog, monkeypatch
):
    monkeypatch.chdir(tmp_path)
    good = save(tmp_path, 1, seed=1)
    bad = save(tmp_path, 2, seed=2)
    weights = bad / "generator.safetensors"
    if damage == "garbage state":
        (bad / "state.pt").write_bytes(b"\x00garbage" * 10)
    elif damage == "pickled state":
        torch.save({"step": 2, "x": Payload()}, bad / "state.pt")
    elif damage == "truncated weights":
        weights.write_bytes(weights.read_bytes()[:20])
    elif damage == "zeroed weights":
        weights.write_bytes(bytes(len(weights.read_bytes())))
    else:
        (tmp_path / "checkpoints" / "latest").unlink()
    modules = linear(9)
    with caplog.at_level(logging.WARNING, logger="colorgan"):
        used, state = load_latest(tmp_path, modules)
    if damage == "no latest":  # the newest complete one is found without the pointer
        assert used == bad and state == {"step": 2}
        return
    assert used == good and state == {"step": 1}
    assert str(bad) in caplog.text and "damaged" in caplog.text
    assert torch.equal(modules["generator"].weight, linear(1)["generator"].weight)
    assert not (tmp_path / "PWNED").exists()  # nothing was unpickled
    (good / "state.pt").write_bytes(b"")
    with pytest.raises(ColorganError, match="no readable checkpoint"):
        load_latest(tmp_path, linear(9))


@pytest.mark.parametrize(
    "state",
    [
        {"modules": 5},
        {"modules": ["../../evil"]},
        {"modules": [["generator"]]},
        {"position": {"step": 2, "nope": 1}},
        {"position": {"step": -2}},
        {"position": {"step": True}},
        {"position": [2]},
        {"rng": {"torch": torch.zeros(5056, dtype=torch.uint8)}},
        {"rng": {"torch": torch.zeros(3)}},
        {"rng": {"torch": 5}},
        {"rng": 5},
    ],
    ids=str,
)
def test_a_checkpoint_whose_state_lies_is_damaged_and_the_one_before_it_used(
    tmp_path, state, caplog
):
    """A weights-only state.pt that reads but names modules that are not the trainer's (a
    path out of the checkpoint among them), or holds a position or random state the trainer
    cannot take, is damaged: named, and the checkpoint before it used; no file outside the
    checkpoint is opened."""
    good = save(tmp_path, 1, seed=1)
    bad = save(tmp_path, 2, seed=2)
    torch.save({"step": 2, **state}, bad / "state.pt")
    save_file(linear(7)["generator"].state_dict(), str(tmp_path / "evil.safetensors"))
    modules = linear(9)
    with caplog.at_level(logging.WARNING, logger="colorgan"):
        used, kept = load_latest(tmp_path, modules)
    assert used == good and kept == {"step": 1}
    assert str(bad) in caplog.text and "damaged" in caplog.text
    assert torch.equal(modules["generator"].weight, linear(1)["generator"].weight)


def test_a_resume_over_a_tampered_random_state_takes_the_checkpoint_before_it(tmp_path, photo_dir):
    cfg = small_config(tmp_path, photo_dir, train={"checkpoint_every": 1, "keep_checkpoints": 2})
    Trainer(cfg, progress=False).run(max_steps=2)
    latest = latest_checkpoint(cfg.run_dir)
    state = torch.load(latest / "state.pt", weights_only=True)
    state["rng"]["torch"] = torch.zeros_like(state["rng"]["torch"])
    torch.save(state, latest / "state.pt")
    resumed = Trainer(cfg, resume=True, progress=False)
    assert resumed.pos.step == 1
