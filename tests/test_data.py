import json
import logging

import numpy as np
import pytest
import torch
from PIL import Image

from colorgan.config import load_config
from colorgan.data import (
    EpochSampler,
    PhotoDataset,
    collate,
    find_coco_images,
    find_images,
    load_rgb,
    open_image,
    sample_and_split,
    scan_images,
)
from colorgan.errors import ColorganError
from tests.conftest import make_photo


def test_find_images_is_recursive_and_filters_extensions(photo_dir):
    (photo_dir / "notes.txt").write_text("not an image")
    Image.new("RGB", (20, 20), (200, 10, 10)).save(photo_dir / "sub" / "x.webp")
    found = find_images(photo_dir)
    assert len(found) == 13
    assert any(p.parent.name == "sub" for p in found)
    assert all(p.suffix in (".jpg", ".png", ".webp") for p in found)


def test_sample_and_split_is_seeded_and_disjoint(photo_dir):
    paths = find_images(photo_dir)
    train, val = sample_and_split(paths, 10, 0.2, seed=3)
    assert (len(train), len(val)) == (8, 2)
    assert not set(train) & set(val)
    assert sample_and_split(paths, 10, 0.2, seed=3) == (train, val)
    assert sample_and_split(paths, 10, 0.2, seed=4) != (train, val)


def test_coco_layout_uses_the_annotation_list(tmp_path, photo_dir):
    root = tmp_path / "coco"
    (root / "images").mkdir(parents=True)
    for p in find_images(photo_dir)[:5]:
        (root / "images" / p.name).write_bytes(p.read_bytes())
    names = [p.name for p in sorted((root / "images").iterdir())[:3]]
    ann = root / "instances_val2017.json"
    ann.write_text(json.dumps({"images": [{"file_name": n} for n in names + ["absent.jpg"]]}))
    assert [p.name for p in find_coco_images(root, ann)] == sorted(names)
    assert len(find_coco_images(root, None)) == 5
    ann.write_text("{broken")
    with pytest.raises(ColorganError):
        find_coco_images(root, ann)


def test_scan_skips_bad_and_grey_files_and_names_them(photo_dir, caplog):
    (photo_dir / "empty.jpg").write_bytes(b"")
    (photo_dir / "text.png").write_text("hello")
    good = photo_dir / "photo01.png"
    (photo_dir / "truncated.png").write_bytes(good.read_bytes()[:200])
    Image.new("RGB", (40, 40), (90, 90, 90)).save(photo_dir / "grey.png")
    with caplog.at_level(logging.WARNING, logger="colorgan"):
        photos = scan_images(find_images(photo_dir), 32, progress=False)
    assert len(photos) == 12
    message = caplog.text
    assert "skipped 4 unusable" in message
    for name in ("empty.jpg", "text.png", "truncated.png", "grey.png"):
        assert name in message


def test_a_file_that_breaks_mid_epoch_is_dropped_not_fatal(photo_dir):
    photos = scan_images(find_images(photo_dir), 32, progress=False)
    photos[1].path.write_bytes(b"garbage")
    ds = PhotoDataset(photos, 32)
    batch = collate([ds[(i, False)] for i in range(4)])
    assert batch["rgb"].shape == (3, 3, 32, 32)
    assert batch["rgb"].dtype == torch.uint8


def test_sampler_is_a_pure_function_of_seed_and_epoch():
    s = EpochSampler(20, seed=1, shuffle=True, flip=True)
    s.set_epoch(3)
    full = list(s)
    s.set_epoch(3, start=7)
    assert list(s) == full[7:]
    s.set_epoch(4)
    assert list(s) != full
    assert sorted(i for i, _ in full) == list(range(20))
    assert 0 < sum(f for _, f in full) < 20


def test_flip_mirrors_the_photo(photo_dir):
    photos = scan_images(find_images(photo_dir), 32, progress=False)
    ds = PhotoDataset(photos, 32)
    a, b = ds[(0, False)]["rgb"], ds[(0, True)]["rgb"]
    assert torch.equal(a.flip(-1), b)
    assert a.shape == (3, 32, 32)


def test_config_files_load_and_reject_typos(tmp_path):
    from pathlib import Path

    root = Path(__file__).resolve().parents[1] / "configs"
    configs = sorted(p for p in root.glob("**/*.yaml") if p.parent.name != "experiments")
    assert len(configs) >= 13  # training configs; the experiments are tested on their own
    for path in configs:
        cfg = load_config(path)
        assert cfg.data.image_size % 8 == 0
    bad = tmp_path / "bad.yaml"
    bad.write_text("train:\n  batchsize: 3\n")
    with pytest.raises(ColorganError, match="batchsize"):
        load_config(bad)
    bad.write_text("train:\n  batch_size: many\n")
    with pytest.raises(ColorganError, match="integer"):
        load_config(bad)
    ok = tmp_path / "ok.yaml"
    ok.write_text("model:\n  generator: unet\n")
    cfg = load_config(ok, ["train.batch_size=7", "train.betas=[0.1, 0.2]"])
    assert cfg.train.batch_size == 7 and cfg.train.betas == (0.1, 0.2) and cfg.name == "ok"
    assert np.isclose(load_config(ok).train.lr_g, 2e-4)


def test_reduced_scale_jpeg_decoding_is_close_to_the_full_decode(tmp_path):
    path = tmp_path / "big.jpg"
    make_photo(3, (1024, 768)).save(path, quality=92)
    # the smallest DCT scale covering 128 x 128 is 1/4: 256 x 192
    assert open_image(path, draft=128).size == (256, 192)
    fast = load_rgb(path, 128).astype(np.float64)
    with Image.open(path) as img:
        assert img.size == (1024, 768)
        full = np.asarray(img.convert("RGB").resize((128, 128), Image.Resampling.BICUBIC), float)
    psnr = 10 * np.log10(255**2 / np.mean((fast - full) ** 2))
    assert psnr > 35, psnr
