import json
import logging

import pytest
from PIL import Image

from colorgan.base.errors import ColorganError
from colorgan.base.images import find_images
from colorgan.config import DataConfig, SourceConfig, config_from_dict
from colorgan.training.photos import (
    find_coco_images,
    sample_and_split,
    scan_images,
    split_paths,
    split_sources,
)


def test_sample_and_split_is_seeded_and_disjoint(photo_dir):
    paths = find_images(photo_dir)
    train, val = sample_and_split(paths, 10, 0.2, seed=3)
    assert (len(train), len(val)) == (8, 2)
    assert not set(train) & set(val)
    assert sample_and_split(paths, 10, 0.2, seed=3) == (train, val)
    assert sample_and_split(paths, 10, 0.2, seed=4) != (train, val)


def test_a_configs_split_is_the_one_training_uses(tmp_path, photo_dir, caplog):
    data = DataConfig(root=str(photo_dir), num_images=10, val_fraction=0.2, seed=3)
    assert split_paths(data) == sample_and_split(find_images(photo_dir), 10, 0.2, seed=3)
    with caplog.at_level(logging.WARNING, logger="colorgan"):
        split_paths(DataConfig(root=str(photo_dir), num_images=320))
    assert "asks for 320 photos" in caplog.text and "has 12" in caplog.text
    (tmp_path / "empty").mkdir()
    with pytest.raises(ColorganError, match="no images"):
        split_paths(DataConfig(root=str(tmp_path / "empty")))


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


def _copy_photos(src, dst, count):
    dst.mkdir(parents=True)
    for p in find_images(src)[:count]:
        (dst / p.name).write_bytes(p.read_bytes())
    return dst


def test_several_folders_are_one_pool_each_split_on_its_own(tmp_path, photo_dir):
    a = _copy_photos(photo_dir, tmp_path / "a", 12)
    b = _copy_photos(photo_dir, tmp_path / "b", 10)
    one = DataConfig(root=str(a), val_fraction=0.25)
    pooled = DataConfig(
        sources=[SourceConfig(str(a), 1.0), SourceConfig(str(b), 0.5, val_fraction=0.1)],
        val_fraction=0.25,
    )
    (train_a, val_a, w_a), (train_b, val_b, w_b) = split_sources(pooled)
    # the first folder splits exactly as it would alone; each folder keeps its own fraction
    assert (train_a, val_a) == split_paths(one)
    assert (len(val_a), len(val_b)) == (3, 1) and (w_a, w_b) == (1.0, 0.5)
    assert all(p.parent == b for p in train_b + val_b) and not set(train_b) & set(val_b)
    train, val = split_paths(pooled)
    assert train == train_a + train_b and val == val_a + val_b
    # a list of roots is the same pool with weight 1 each
    listed = DataConfig(root=[str(a), str(b)], val_fraction=0.25)
    assert [s.root for s in listed.pool()] == [str(a), str(b)]
    assert split_paths(listed)[0][: len(train_a)] == train_a


def test_a_pool_is_read_from_yaml_and_bad_weights_are_one_line(tmp_path):
    sources = [{"root": "x", "weight": 2}, {"root": "y", "val_fraction": 0.01}]
    cfg = config_from_dict({"data": {"sources": sources}})
    assert cfg.data.pool() == [SourceConfig("x", 2.0), SourceConfig("y", 1.0, 0.01)]
    assert config_from_dict(cfg.to_dict()).data == cfg.data  # saved and read back alike
    for sources, match in [
        ([{"root": "x", "weight": -1}], "weights"),
        ([{"root": "x", "weight": 0}], "weights"),
        ([], "at least one folder"),
        ([{"root": "x", "val_fraction": 1.0}], "val_fraction"),
        ([{"weight": 1}], "root"),
    ]:
        with pytest.raises(ColorganError, match=match):
            config_from_dict({"data": {"sources": sources}})
