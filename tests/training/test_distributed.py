"""Data-parallel training under torchrun, on the CPU with the gloo backend.

2 processes with the same global batch must compute what 1 process does: same batches, same
averaged gradients, the D-every-k rule in step. BatchNorm would differ (each rank normalises
its half of the batch; SyncBatchNorm, which pools them, is GPU-only), so the runs here use
the spectral-norm PatchGAN and the paper's generator, which have none.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
import torch
from safetensors.torch import load_file, save_file

from colorgan.training.distributed import World, shard
from colorgan.training.trainer import Trainer
from tests.conftest import small_config

SECTIONS = {
    "model": {
        "discriminator": {"spectral_norm": True},
        "fusion": {"use_segmentation": True, "use_embedding": True},
    },
    "train": {
        "batch_size": 4,
        "pretrain_epochs": 1,
        "adversarial_epochs": 2,
        "d_every": 2,
        "checkpoint_every": 1000,
        "sample_every": 3,
        "sample_images": 2,
    },
}
# Summation order differs between one mean over 4 images and the mean of two means over 2,
# and Adam amplifies such rounding a little over 6 steps. The runs must agree to a small
# fraction of how far training moved the weights (fp32: 4e-7 of it); a real fault (both
# ranks reading the same batches: 0.41; gradients not averaged, a missed D step) moves them
# apart by about as much as training moved them.
TOLERANCE = 1e-3


def torchrun_cmd(cfg_path: Path, *args: str, nproc: int = 2) -> list[str]:
    return [
        *(sys.executable, "-m", "torch.distributed.run", "--standalone"),
        *(f"--nproc_per_node={nproc}", "-m", "colorgan", "train", str(cfg_path), "-q"),
        *args,
    ]


ENV = {**os.environ, "OMP_NUM_THREADS": "1", "PYTHONUNBUFFERED": "1"}


def torchrun(cfg_path: Path, *args: str, nproc: int = 2) -> subprocess.CompletedProcess:
    cmd = torchrun_cmd(cfg_path, *args, nproc=nproc)
    result = subprocess.run(cmd, capture_output=True, text=True, env=ENV, timeout=300)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    return result


def write_config(
    tmp_path: Path, photo_dir: Path, name: str, cache_dir: Path | None = None
) -> tuple[Path, object]:
    cfg = small_config(tmp_path, photo_dir, **SECTIONS)
    cfg.name = name
    if cache_dir is not None:
        cfg.priors.cache_dir = str(cache_dir)
    path = tmp_path / f"{name}.yaml"
    path.write_text(cfg.to_yaml())
    return path, cfg


def weights(run_dir: Path) -> dict[str, torch.Tensor]:
    ckpt = run_dir / "checkpoints" / (run_dir / "checkpoints" / "latest").read_text().strip()
    out = {}
    for part in ("generator", "discriminator"):
        out.update(
            {f"{part}.{k}": v for k, v in load_file(str(ckpt / f"{part}.safetensors")).items()}
        )
    return out


def assert_same_weights(a: Path, b: Path) -> float:
    """Mean |a - b| over all weights, as a share of their mean movement since initialisation
    (the reference fixture saved the initial weights beside the runs)."""
    wa, wb = weights(a), weights(b)
    w0 = load_file(str(a.parents[1] / "init.safetensors"))
    assert wa.keys() == wb.keys() == w0.keys()
    diff = torch.cat([(wa[k].float() - wb[k].float()).abs().flatten() for k in wa])
    moved = torch.cat([(wa[k].float() - w0[k].float()).abs().flatten() for k in wa])
    share = (diff.mean() / moved.mean()).item()
    assert share < TOLERANCE, share
    return share


@pytest.fixture(scope="module")
def reference(tmp_path_factory, request) -> tuple[Path, Path, Path]:
    """One uninterrupted single-process run; the photos and cache the other runs share."""
    from tests.conftest import make_photo

    root = tmp_path_factory.mktemp("ddp")
    photos = root / "photos"
    photos.mkdir()
    for i in range(12):
        make_photo(i).save(photos / f"photo{i:02d}.png")
    _, cfg = write_config(root, photos, "one")
    trainer = Trainer(cfg, progress=False)
    nets = {"generator": trainer.gan.generator, "discriminator": trainer.gan.discriminator}
    initial = {
        f"{part}.{k}": v.detach().clone().contiguous()
        for part, net in nets.items()
        for k, v in net.state_dict().items()
    }
    save_file(initial, str(root / "init.safetensors"))
    summary = trainer.run()
    assert summary["steps"] == 6 and summary["d_steps"] == 2
    return root, photos, cfg.run_dir


@pytest.mark.training
@pytest.mark.subprocess
def test_two_processes_end_with_the_weights_of_one(reference):
    root, photos, one = reference
    path, cfg = write_config(root, photos, "two")
    result = torchrun(path)
    assert "data parallel over 2 processes (gloo): global batch 4 = 2 per process" in result.stderr
    assert_same_weights(one, cfg.run_dir)
    # Rank 0 alone writes: one checkpoint set, one log, no leftovers of a second writer.
    checkpoints = sorted(p.name for p in (cfg.run_dir / "checkpoints").iterdir())
    # (step 6 once: the run's end is the last phase's end, already saved)
    assert checkpoints == ["latest", "step-00000002", "step-00000006"]
    samples = sorted(p.name for p in (cfg.run_dir / "samples").iterdir())
    # every 3 steps, and the first at a tenth of the run (step 1 of 6)
    assert samples == ["step-00000001.png", "step-00000003.png", "step-00000006.png"]
    rows = (cfg.run_dir / "losses.csv").read_text().splitlines()
    assert len(rows) == 1 + 6 + 3  # header, a row per step, a validation row per epoch
    assert (cfg.run_dir / "generator.safetensors").is_file()
    assert result.stdout.count("trained 6 steps") == 1


@pytest.mark.training
@pytest.mark.subprocess
def test_the_prior_cache_is_built_once_split_over_the_ranks(reference):
    root, photos, _ = reference
    cache = root / "cache-two"
    path, _ = write_config(root, photos, "cache-two", cache_dir=cache)
    result = torchrun(path, "--max-steps", "1")
    # rank 0 computed its 5 of the 9 training photos; nobody recomputed rank 1's 4 (the
    # check of the whole list found them) and every photo has its entry
    assert "computing priors for 5 of 5 photos" in result.stderr
    assert "of 9 photos" not in result.stderr
    built = sorted(p.relative_to(cache).parts[1:] for p in cache.rglob("*.safetensors"))
    reference_entries = sorted(
        p.relative_to(root / "cache").parts[1:] for p in (root / "cache").rglob("*.safetensors")
    )
    assert len(built) == 12 and built == reference_entries


@pytest.mark.training
@pytest.mark.subprocess
def test_a_run_interrupted_under_torchrun_resumes_in_one_process(reference):
    root, photos, one = reference
    path, cfg = write_config(root, photos, "two-then-one")
    torchrun(path, "--max-steps", "3")  # stops inside the first adversarial epoch
    assert (cfg.run_dir / "checkpoints" / "step-00000003").is_dir()
    summary = Trainer(cfg, resume=True, progress=False).run()
    assert summary["steps"] == 6 and summary["d_steps"] == 2
    assert_same_weights(one, cfg.run_dir)


@pytest.mark.training
@pytest.mark.subprocess
def test_a_single_process_run_resumes_under_torchrun(reference):
    root, photos, one = reference
    path, cfg = write_config(root, photos, "one-then-two")
    Trainer(cfg, progress=False).run(max_steps=4)
    result = torchrun(path, "--resume")
    assert "resumed from" in result.stderr and "(step 4)" in result.stderr
    assert result.stdout.count("trained 6 steps") == 1
    assert_same_weights(one, cfg.run_dir)


def test_shard_splits_a_list_over_ranks():
    items = list(range(7))
    parts = [shard(items, World(rank=r, size=3)) for r in range(3)]
    assert parts == [[0, 3, 6], [1, 4], [2, 5]]


@pytest.mark.training
@pytest.mark.subprocess
def test_a_user_error_ends_every_rank_with_one_line(reference):
    root, photos, _ = reference
    path, cfg = write_config(root, photos, "odd-batch")
    cmd = torchrun_cmd(path, "--set", "train.batch_size=3")
    result = subprocess.run(cmd, capture_output=True, text=True, env=ENV, timeout=120)
    assert result.returncode != 0
    for rank in (0, 1):
        assert (
            f"colorgan: error: rank {rank}: train.batch_size 3 (the global batch)" in result.stderr
        )
    # The ranks print one line each, no traceback of ours (torchrun adds its own summary).
    assert "colorgan/training/" not in result.stderr
    assert not (cfg.run_dir / "checkpoints").exists()


@pytest.mark.training
@pytest.mark.subprocess
def test_ctrl_c_stops_every_rank(reference):
    root, photos, _ = reference
    path, cfg = write_config(root, photos, "interrupted")
    cmd = torchrun_cmd(path, "--set", "train.adversarial_epochs=1000")
    proc = subprocess.Popen(
        cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=ENV
    )
    seen = []
    for line in proc.stdout:  # wait until the ranks are training
        seen.append(line)
        if "training on cpu" in line:
            break
    else:
        pytest.fail("".join(seen))
    time.sleep(2)
    proc.send_signal(signal.SIGINT)
    try:
        proc.communicate(timeout=60)
    except subprocess.TimeoutExpired:
        proc.kill()
        pytest.fail("torchrun did not stop within 60 s of Ctrl-C")
    assert proc.returncode != 0
    # No rank outlives it.
    left = subprocess.run(["pgrep", "-f", str(path)], capture_output=True, text=True).stdout
    assert left.strip() == ""


@pytest.mark.training
@pytest.mark.subprocess
def test_two_nodes_meet_through_the_c10d_rendezvous(reference):
    """Two torchrun agents on this machine stand for two nodes of one process each."""
    root, photos, one = reference
    path, cfg = write_config(root, photos, "two-nodes")
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    node = [
        sys.executable,
        "-m",
        "torch.distributed.run",
        "--nnodes=2",
        "--nproc_per_node=1",
        "--rdzv-backend=c10d",
        f"--rdzv-endpoint=127.0.0.1:{port}",
        "--rdzv-id=test",
        "-m",
        "colorgan",
        "train",
        str(path),
        "-q",
    ]
    agents = [
        subprocess.Popen(node, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=ENV)
        for _ in range(2)
    ]
    outputs = [agent.communicate(timeout=300)[0] for agent in agents]
    assert all(agent.returncode == 0 for agent in agents), outputs
    assert sum(out.count("trained 6 steps") for out in outputs) == 1
    assert_same_weights(one, cfg.run_dir)
