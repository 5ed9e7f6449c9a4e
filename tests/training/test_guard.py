import csv
import os
import signal
import subprocess
import sys
import time

import pytest
import torch

from colorgan.apps.cli import main
from colorgan.training.checkpoint import checkpoints
from colorgan.training.guard import RunLock

pytestmark = pytest.mark.training  # every test here runs training steps into a run folder


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


@pytest.mark.subprocess
@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM])
def test_stopping_training_writes_a_checkpoint_on_the_way_out(tmp_path, photo_dir, sig):
    config = tiny_recipe(tmp_path, photo_dir)
    run_dir = tmp_path / "runs" / "tiny"
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "colorgan",
            "train",
            str(config),
            "--out-dir",
            str(tmp_path / "runs"),
            "-q",
        ],
        stderr=subprocess.PIPE,
        text=True,
    )
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


@pytest.mark.subprocess
def test_sigkill_at_random_moments_then_resume_ends_bit_identical(tmp_path, photo_dir):
    """Killed hard three times (checkpoint_every 1, so kills land inside checkpoint writes
    too), resumed each time with `--resume RUN_DIR` alone: the final generator equals an
    uninterrupted run's."""
    import random

    from safetensors.torch import load_file

    config = tmp_path / "tiny.yaml"
    config.write_text(
        f"data: {{root: {photo_dir}, image_size: 32, val_fraction: 0.25}}\n"
        "model: {fusion: {use_segmentation: false, use_embedding: false}}\n"
        f"priors: {{cache_dir: {tmp_path / 'cache'}}}\n"
        "train: {batch_size: 3, pretrain_epochs: 4, adversarial_epochs: 4, log_every: 1,"
        " checkpoint_every: 1, val_images: 3, sample_every: 0}\n"
    )

    def train(out: str, resume: bool = False) -> subprocess.Popen:
        """A run; resumed from its run folder alone (its own config.yaml)."""
        args = ["--resume", str(tmp_path / out / "tiny")] if resume else [str(config)]
        if not resume:
            args += ["--out-dir", str(tmp_path / out)]
        cmd = [sys.executable, "-m", "colorgan", "train", *args, "-q"]
        return subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)

    whole = train("whole")
    assert whole.wait(timeout=300) == 0, whole.stderr.read()
    rng = random.Random(0)
    kills = 0
    proc = train("killed")
    losses = tmp_path / "killed" / "tiny" / "losses.csv"
    while kills < 3:
        deadline = time.time() + 120
        start = losses.stat().st_size if losses.exists() else 0
        while time.time() < deadline and (not losses.exists() or losses.stat().st_size <= start):
            time.sleep(0.05)  # it is stepping again
        time.sleep(rng.uniform(0.0, 0.5))
        if proc.poll() is not None:
            break  # finished before the kill
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        kills += 1
        proc = train("killed", resume=True)
    assert proc.wait(timeout=300) == 0, proc.stderr.read()
    assert kills == 3
    a = load_file(str(tmp_path / "whole" / "tiny" / "generator.safetensors"))
    b = load_file(str(tmp_path / "killed" / "tiny" / "generator.safetensors"))
    assert a.keys() == b.keys() and all(torch.equal(a[k], b[k]) for k in a)


KILL_IN_WINDOW = r"""
import os, signal, sys
import torch
from colorgan.apps.cli import main
from colorgan.training import checkpoint

window, at = sys.argv[1], int(sys.argv[2])
saves = 0


def die():
    os.kill(os.getpid(), signal.SIGKILL)


def write_latest(path, text, real=checkpoint.atomic_write_text):
    if window == "before latest moves" and saves == at:
        die()  # the new step folder is complete; latest still names the old one
    real(path, text)
    if window == "before pruning" and saves == at:
        die()  # latest names the new one; the old ones are still there


def save_state(state, path, real=torch.save):
    global saves
    saves += 1
    if window == "mid write" and saves == at:
        path.write_bytes(b"\x80\x02 half a pickle")  # the state file half-written
        die()
    real(state, path)


checkpoint.atomic_write_text = write_latest
checkpoint.torch.save = save_state
sys.exit(main(sys.argv[3:]))
"""


@pytest.mark.subprocess
def test_sigkill_inside_each_checkpoint_window_then_resume_ends_bit_identical(tmp_path, photo_dir):
    """A real process killed by SIGKILL at an injected point of a checkpoint write (half-way
    through the state file; the new folder complete but `latest` not moved, so the step is
    written again on resume; `latest` moved but older folders not pruned) leaves a run that
    resumes to the uninterrupted run's weights."""
    from safetensors.torch import load_file

    from colorgan.training.checkpoint import latest_checkpoint

    config = tmp_path / "tiny.yaml"
    config.write_text(
        f"data: {{root: {photo_dir}, image_size: 32, val_fraction: 0.25}}\n"
        "model: {fusion: {use_segmentation: false, use_embedding: false}}\n"
        f"priors: {{cache_dir: {tmp_path / 'cache'}}}\n"
        "train: {batch_size: 3, pretrain_epochs: 2, adversarial_epochs: 1, log_every: 1,"
        " checkpoint_every: 1, keep_checkpoints: 1, val_images: 3, sample_every: 0}\n"
    )

    def train(out: str, *program: str, resume: bool = False) -> subprocess.CompletedProcess:
        args = ["train", str(config), "--out-dir", str(tmp_path / out), "-q"]
        args += ["--resume"] if resume else []
        return subprocess.run([sys.executable, *program, *args], capture_output=True, text=True)

    whole = train("whole", "-m", "colorgan")
    assert whole.returncode == 0, whole.stderr
    reference = load_file(str(tmp_path / "whole" / "tiny" / "generator.safetensors"))
    run_dir = tmp_path / "killed" / "tiny"
    # one run killed three times, each time at its second checkpoint write since it resumed
    for i, window in enumerate(("mid write", "before latest moves", "before pruning")):
        killed = train("killed", "-c", KILL_IN_WINDOW, window, "2", resume=i > 0)
        assert killed.returncode == -signal.SIGKILL, killed.stderr
        assert latest_checkpoint(run_dir) is not None  # an earlier checkpoint is still there
        partial = list((run_dir / "checkpoints").glob(".tmp-*"))
        assert bool(partial) == (window == "mid write"), window
    resumed = train("killed", "-m", "colorgan", resume=True)
    assert resumed.returncode == 0 and "Traceback" not in resumed.stderr, resumed.stderr
    assert not list((run_dir / "checkpoints").glob(".tmp-*"))  # the half-written one: gone
    weights = load_file(str(run_dir / "generator.safetensors"))
    assert all(torch.equal(weights[k], reference[k]) for k in reference)


def test_max_steps_counts_from_the_runs_start_and_a_finished_run_keeps_no_lock(
    tmp_path, photo_dir, capsys
):
    """Stopped at step 5, `--resume RUN --max-steps 7` takes 2 steps more, as the user reads
    it; once a command ends, the run folder holds no .lock."""
    config = tiny_recipe(tmp_path, photo_dir)
    run_dir = tmp_path / "runs" / "tiny"
    args = ["train", str(config), "--out-dir", str(tmp_path / "runs"), "-q"]
    assert main([*args, "--max-steps", "5"]) == 0
    assert not (run_dir / ".lock").exists()
    for _ in range(2):  # the second time the run is there already: no step more
        assert main(["train", "--resume", str(run_dir), "--max-steps", "7", "-q"]) == 0
        assert "trained 7 steps" in capsys.readouterr().out
        assert [p.name for p in checkpoints(run_dir)][-1] == "step-00000007"
        with open(run_dir / "losses.csv") as fh:
            steps = [int(row["step"]) for row in csv.DictReader(fh)]
        assert max(steps) == 7 and len(set(steps)) == 7
        assert not (run_dir / ".lock").exists()


def test_a_resume_refuses_a_rate_changed_by_hand_in_the_run_folders_config(
    tmp_path, photo_dir, capsys
):
    """The checkpoint holds the config it was trained with: a run folder's config.yaml edited
    since (a learning rate) is refused in one line, not resumed at the new rate."""
    import yaml

    config = tiny_recipe(tmp_path, photo_dir)
    run_dir = tmp_path / "runs" / "tiny"
    assert (
        main(["train", str(config), "--out-dir", str(tmp_path / "runs"), "--max-steps", "2"]) == 0
    )
    values = yaml.safe_load((run_dir / "config.yaml").read_text())
    values["train"]["pretrain_lr"] *= 10
    (run_dir / "config.yaml").write_text(yaml.safe_dump(values))
    capsys.readouterr()
    assert main(["train", "--resume", str(run_dir), "--max-steps", "4", "-q"]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "train.pretrain_lr" in err, err
    assert [p.name for p in checkpoints(run_dir)] == ["step-00000002"]
    assert not (run_dir / ".lock").exists()
