"""Training from shards: `colorgan data pack` writes them, data.shards streams them (each
rank and worker its own shards, a shuffle buffer, exact resume), and under torchrun two
processes see disjoint photos that together are all of them."""

import hashlib
import json
import os
import subprocess
import sys
import tarfile

import pytest
import torch
from PIL import Image
from safetensors.torch import load_file

from colorgan.apps.cli import main
from colorgan.config import config_from_dict
from colorgan.training.shards import MANIFEST, ShardStream, read_pack
from colorgan.training.trainer import Trainer
from tests.conftest import make_photo, small_config

PHOTOS = 20  # 16 to train on (8 shards of 2), 4 to validate


@pytest.fixture(scope="module")
def packed(tmp_path_factory):
    """20 colour photos, a grey one, a copy and a broken file, packed 2 photos a shard."""
    root = tmp_path_factory.mktemp("pack")
    photos = root / "photos"
    photos.mkdir()
    for i in range(PHOTOS):
        make_photo(i, (96, 80)).save(photos / f"p{i:02d}.png")
    make_photo(0, (96, 80)).save(photos / "copy.png")
    Image.new("RGB", (90, 90), (120, 120, 120)).save(photos / "grey.png")
    (photos / "broken.jpg").write_bytes(b"\xff\xd8 not a photo")
    args = ["data", "pack", str(photos), "--out", str(root / "shards"), "--size", "64"]
    assert main([*args, "--val-fraction", "0.18", "--shard-photos", "2", "-q"]) == 0
    return root / "shards"


def test_pack_writes_checked_resized_photos_with_their_hashes(packed, capsys):
    manifest = json.loads((packed / MANIFEST).read_text())
    # the copy (same bytes) once, the grey and broken files out
    assert manifest["skipped"] == {"unusable": 2, "duplicate": 1}
    assert manifest["photos"] == {"train": 16, "val": 4}
    assert [s["photos"] for s in manifest["train"]] == [2] * 8
    with tarfile.open(packed / manifest["train"][0]["name"]) as tar:
        names = tar.getnames()
        meta = json.loads(tar.extractfile(next(n for n in names if n.endswith(".json"))).read())
        photo = Image.open(tar.extractfile(next(n for n in names if n.endswith(".jpg"))))
        assert min(photo.size) == 64 and photo.mode == "RGB"  # short side 64 (from 80)
        assert names[0].startswith(meta["sha256"])
    assert main(["data", "pack", str(packed.parent / "photos"), "--out", str(packed)]) == 2
    assert "already exists" in capsys.readouterr().err  # nothing overwritten


def photo_ids(batches) -> list[str]:
    return [hashlib.sha1(rgb.numpy().tobytes()).hexdigest() for b in batches for rgb in b["rgb"]]


def loader(stream: ShardStream, workers: int) -> torch.utils.data.DataLoader:
    from colorgan.training.datasets import collate

    batch = stream.local_batch
    return torch.utils.data.DataLoader(
        stream, batch_size=batch, num_workers=workers, collate_fn=collate, drop_last=True
    )


@pytest.mark.slow
def test_ranks_and_workers_stream_disjoint_shards_and_resume_exactly(packed):
    train, _ = read_pack(str(packed))
    ranks = []
    for rank in (0, 1):
        stream = ShardStream(train, 32, seed=3, batch_size=4, rank=rank, world=2, workers=2)
        stream.set_epoch(5)
        full = list(loader(stream, 2))
        ranks.append(photo_ids(full))
        stream.set_epoch(5, start=3 * 4)  # resumed after 3 global batches
        assert photo_ids(list(loader(stream, 2))) == photo_ids(full[3:])
    assert not set(ranks[0]) & set(ranks[1])
    assert len(set(ranks[0]) | set(ranks[1])) == 16  # every training photo, once
    stream.set_epoch(6)
    assert photo_ids(list(loader(stream, 2))) != ranks[1]  # another epoch, another order


def shard_config(tmp_path, packed, **train):
    cfg = small_config(tmp_path, packed, train={"batch_size": 4, **train})
    values = cfg.to_dict()
    values["data"].update(root=None, shards=str(packed), shuffle_buffer=5)
    values["priors"]["cache"] = False
    return config_from_dict(values)


@pytest.mark.training
def test_training_on_shards_resumes_bit_identical(tmp_path, packed):
    whole = shard_config(tmp_path / "whole", packed)
    Trainer(whole, progress=False).run()
    cut = shard_config(tmp_path / "cut", packed)
    Trainer(cut, progress=False).run(max_steps=3)  # mid-epoch: 4 steps an epoch
    summary = Trainer(cut, resume=True, progress=False).run()
    assert summary["steps"] == 8
    a = load_file(str(whole.run_dir / "generator.safetensors"))
    b = load_file(str(cut.run_dir / "generator.safetensors"))
    assert all(torch.equal(a[k], b[k]) for k in a)


def test_shards_need_the_priors_in_the_step_and_one_source(tmp_path, packed):
    from colorgan.base.errors import ColorganError

    values = shard_config(tmp_path, packed).to_dict()
    with pytest.raises(ColorganError, match="priors.cache: false"):
        config_from_dict({**values, "priors": {**values["priors"], "cache": True}})
    with pytest.raises(ColorganError, match="both name photos"):
        config_from_dict({**values, "data": {**values["data"], "root": str(tmp_path)}})
    with pytest.raises(ColorganError, match="one"):  # 8 shards, 2 ranks x 8 workers
        ShardStream(read_pack(str(packed))[0], 32, 0, 4, 0, 2, workers=8)


TWO_RANKS = r"""
import hashlib, json, sys
from colorgan.config import load_config
from colorgan.training import distributed
from colorgan.training.trainer import Trainer

trainer = Trainer(load_config(sys.argv[1]), progress=False)
trainer.data.sampler.set_epoch(0)
seen = [hashlib.sha1(rgb.numpy().tobytes()).hexdigest()
        for batch in trainer.data.train_loader for rgb in batch["rgb"]]
with open(f"{sys.argv[2]}-{trainer.world.rank}.json", "w") as f:
    json.dump(seen, f)
summary = trainer.run()
distributed.shutdown()
with open(f"{sys.argv[2]}-{trainer.world.rank}.steps", "w") as f:
    f.write(str(summary["steps"]))
"""


@pytest.mark.subprocess
@pytest.mark.training
def test_two_processes_under_torchrun_see_disjoint_shards_and_train(tmp_path, packed):
    cfg = shard_config(tmp_path, packed, pretrain_epochs=1, adversarial_epochs=1)
    (tmp_path / "two.yaml").write_text(cfg.to_yaml())
    (tmp_path / "two.py").write_text(TWO_RANKS)
    run = ["-m", "torch.distributed.run", "--standalone", "--nproc_per_node=2"]
    script = [str(tmp_path / name) for name in ("two.py", "two.yaml", "seen")]
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    result = subprocess.run(
        [sys.executable, *run, *script], capture_output=True, text=True, timeout=300, env=env
    )
    assert result.returncode == 0, result.stderr[-3000:]
    # Each rank writes its own files: the two processes' stdout interleaves.
    steps = [(tmp_path / f"seen-{r}.steps").read_text() for r in (0, 1)]
    assert steps == ["8", "8"]  # 2 epochs of 4 global batches
    seen = [json.loads((tmp_path / f"seen-{r}.json").read_text()) for r in (0, 1)]
    assert len(seen[0]) == len(seen[1]) == 8 and not set(seen[0]) & set(seen[1])
    assert len(set(seen[0]) | set(seen[1])) == 16
    assert (cfg.run_dir / "generator.safetensors").is_file()
