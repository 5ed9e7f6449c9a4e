import csv
import os
import signal
import subprocess
import sys
import time

import pytest

from colorgan.cli import main
from colorgan.training.checkpoint import checkpoints
from colorgan.training.guard import RunLock


def tiny_recipe(tmp_path, photo_dir):
    config = tmp_path / "tiny.yaml"
    config.write_text(
        f"data: {{root: {photo_dir}, image_size: 32, val_fraction: 0.25}}\n"
        "model: {fusion: {use_segmentation: false, use_embedding: false}}\n"
        f"priors: {{cache_dir: {tmp_path / 'cache'}}}\n"
        "train: {batch_size: 1, pretrain_epochs: 400, adversarial_epochs: 0, log_every: 1,"
        " checkpoint_every: 100000, val_images: 1}\n"
    )
    return config


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM])
def test_stopping_training_writes_a_checkpoint_on_the_way_out(tmp_path, photo_dir, sig):
    config = tiny_recipe(tmp_path, photo_dir)
    run_dir = tmp_path / "runs" / "tiny"
    proc = subprocess.Popen(
        [sys.executable, "-m", "colorgan", "train", str(config), "--out-dir",
         str(tmp_path / "runs"), "-q"], stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    losses = run_dir / "losses.csv"
    deadline = time.time() + 120
    while time.time() < deadline and (not losses.exists() or losses.stat().st_size < 200):
        time.sleep(0.2)  # a few steps logged: it is training, far from any checkpoint_every
    proc.send_signal(sig)
    err = proc.communicate(timeout=120)[1]
    assert proc.returncode == 130, err
    assert f"stopped by {sig.name}" in err and "Traceback" not in err
    [saved] = checkpoints(run_dir)
    with open(losses) as fh:
        last_logged = max(int(row["step"]) for row in csv.DictReader(fh))
    assert int(saved.name.split("-")[1]) == last_logged > 0  # nothing since the log lost


def test_a_second_trainer_on_a_run_folder_is_refused_naming_the_first(tmp_path, photo_dir, capsys):
    config = tiny_recipe(tmp_path, photo_dir)
    run_dir = tmp_path / "runs" / "tiny"
    lock = RunLock(run_dir)  # as a running `colorgan train` holds it
    args = ["train", str(config), "--out-dir", str(tmp_path / "runs"), "--resume", "-q"]
    assert main(args) == 2
    err = capsys.readouterr().err
    assert f"another colorgan process (pid {os.getpid()})" in err
    assert not (run_dir / "losses.csv").exists()  # it wrote nothing
    lock.release()
    assert main([*args, "--max-steps", "2"]) == 0  # free again
