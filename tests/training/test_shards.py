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
from colorgan.base.errors import ColorganError
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


def sparse_member(name: str, size: int) -> bytes:
    """A tar member (header and its one block) that is a GNU sparse file of `size` bytes,
    all but its last 512 holes: a few bytes on the disk that unpack to `size`."""
    import io

    info = tarfile.TarInfo(name)
    info.size = 512
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w", format=tarfile.GNU_FORMAT) as tar:
        tar.addfile(info, io.BytesIO(bytes(512)))
    header = bytearray(buffer.getvalue()[:1024])

    def octal(n: int) -> bytes:
        return b"%011o\0" % n

    header[156:157] = b"S"  # GNU sparse
    header[386:410] = octal(size - 512) + octal(512)  # its one piece of data, at the end
    header[482:495] = b"\0" + octal(size)  # no more pieces; the size it unpacks to
    header[148:156] = b" " * 8
    header[148:156] = b"%06o\0 " % sum(header[:512])
    return bytes(header)


def test_a_shard_member_is_sized_from_its_header_before_it_is_read(packed, tmp_path, caplog):
    """A 10 kB shard holding a sparse 3 GB member: the member is skipped on its size, in one
    line, and the photos around it are read; nothing near its size is ever held."""
    import logging
    import tracemalloc

    from colorgan.training.shards import Shard, raw_samples

    name = json.loads((packed / MANIFEST).read_text())["train"][0]["name"]
    with open(packed / name, "rb") as fh:
        whole = fh.read()
    members = whole[: whole.rindex(b"\0" * 1024)]  # its members, without the end blocks
    while len(members) % 512:
        members += b"\0"
    shard = tmp_path / "sparse.tar"
    shard.write_bytes(sparse_member("huge.jpg", 3_000_000_000) + members + bytes(1024))
    assert shard.stat().st_size < 64_000
    tracemalloc.start()
    with caplog.at_level(logging.WARNING, logger="colorgan"):
        samples = list(raw_samples([Shard(shard, 3)]))
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    assert peak < 50_000_000
    assert [s["__key__"] for s in samples] == [
        s["__key__"] for s in raw_samples([Shard(packed / name, 2)])
    ]
    assert "huge.jpg" in caplog.text and "3,000,000,000 bytes" in caplog.text


def test_a_truncated_shard_ends_in_one_line_of_colorgans_own(packed, tmp_path, caplog):
    """The photos before the cut are read; the cut is said once, in colorgan's words (no
    Python warning with a library's source path)."""
    import logging
    import warnings

    from colorgan.training.shards import Shard, raw_samples

    name = json.loads((packed / MANIFEST).read_text())["train"][0]["name"]
    with tarfile.open(packed / name) as tar:
        second = tar.getmembers()[2]  # the second photo (each a .jpg, then its .json)
    cut = tmp_path / "cut.tar"
    cut.write_bytes((packed / name).read_bytes()[: second.offset_data + 100])
    with warnings.catch_warnings(record=True) as said, caplog.at_level(logging.WARNING):
        warnings.simplefilter("always")
        samples = list(raw_samples([Shard(cut, 2)]))
    assert not said, [str(w.message) for w in said]
    assert len(samples) == 1 and "jpg" in samples[0]
    lines = [r for r in caplog.records if "cut.tar" in r.getMessage()]
    assert len(lines) == 1 and "damaged" in lines[0].getMessage()


@pytest.mark.parametrize(
    "shard, words",
    [
        ({"name": "/etc/passwd", "photos": 5}, "not a .tar file"),
        ({"name": "/tmp/x.tar", "photos": 5}, "not a file of the pack's own folder"),
        ({"name": "../outside.tar", "photos": 5}, "not a file of the pack's own folder"),
        ({"name": "a/../../b.tar", "photos": 5}, "not a file of the pack's own folder"),
        ({"name": "a.tar", "photos": -5}, "counts -5 photos"),
        ({"name": "a.tar", "photos": float("inf")}, "counts inf photos"),
        ({"name": "a.tar", "photos": 2.5}, "counts 2.5 photos"),
        ({"name": "a.tar", "photos": True}, "counts True photos"),
        ({"name": 5, "photos": 1}, "not a .tar file"),
    ],
)
def test_a_shard_manifest_names_files_of_its_pack_and_whole_counts(tmp_path, shard, words):
    """A manifest's shard is a file of the pack's own folder, never a path out of it (it is
    neither opened nor trained on), and its count a whole number of at least 0."""
    (tmp_path / "outside.tar").write_bytes(b"")
    pack = tmp_path / "pack"
    pack.mkdir()
    manifest = {"format": "colorgan-shards/1", "train": [shard], "val": []}
    (pack / MANIFEST).write_text(json.dumps(manifest))
    with pytest.raises(ColorganError, match=words):
        read_pack(str(pack))


@pytest.mark.parametrize("how", ["missing", "fifo", "huge"])
def test_a_shard_manifest_that_cannot_be_read_says_why(tmp_path, how):
    pack = tmp_path / "pack"
    pack.mkdir()
    manifest = pack / MANIFEST
    if how == "fifo":
        os.mkfifo(manifest)
    elif how == "huge":
        with open(manifest, "wb") as fh:
            fh.truncate(20 << 20)
    words = {"missing": f"no {MANIFEST}", "fifo": "no manifest", "huge": "20,971,520 bytes"}[how]
    with pytest.raises(ColorganError, match=words):
        read_pack(str(pack))
