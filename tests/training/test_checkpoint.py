import pytest

from colorgan.training.checkpoint import latest_checkpoint
from colorgan.training.trainer import Trainer
from tests.conftest import small_config


def test_a_failure_mid_checkpoint_leaves_the_previous_one_whole(tmp_path, photo_dir, monkeypatch):
    import colorgan.training.checkpoint as checkpoint

    cfg = small_config(tmp_path, photo_dir, train={"adversarial_epochs": 0})
    trainer = Trainer(cfg, progress=False)
    trainer.run()
    before = latest_checkpoint(cfg.run_dir)
    real_save = checkpoint.save_file

    def dying_save(tensors, path, *args, **kwargs):
        if "discriminator" in str(path):
            raise KeyboardInterrupt  # killed half-way through writing the new checkpoint
        return real_save(tensors, path, *args, **kwargs)

    monkeypatch.setattr(checkpoint, "save_file", dying_save)
    trainer.pos.step += 1
    with pytest.raises(KeyboardInterrupt):
        trainer.save()
    monkeypatch.undo()
    assert latest_checkpoint(cfg.run_dir) == before
    assert not list((cfg.run_dir / "checkpoints").glob(".tmp-*"))
    resumed = Trainer(cfg, resume=True, progress=False)
    assert resumed.pos.step == trainer.pos.step - 1
