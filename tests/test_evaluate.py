import numpy as np
import pytest

from colorgan.evaluate import evaluate, markdown_report, metrics_table
from colorgan.fid import InceptionFeatures
from colorgan.pipeline import Colorizer
from tests.conftest import write_generator


def test_several_colorizers_in_one_pass_score_as_each_alone(tmp_path, photo_dir):
    a = Colorizer(write_generator(tmp_path / "a.safetensors"))
    b = Colorizer(write_generator(tmp_path / "b.safetensors", image_size=64))
    both = evaluate({"a": a, "b": b}, photo_dir, limit=4, progress=False)
    assert list(both["results"]) == ["a", "b", "grey", "original"]
    alone = evaluate(b, photo_dir, limit=4, progress=False)
    assert alone["results"]["model"] == both["results"]["b"]
    assert alone["results"]["grey"] == both["results"]["grey"]
    assert both["results"]["a"] != both["results"]["b"]  # 32 px against 64 px predictions
    assert both["images"] == 4 and both["results"]["original"]["ssim"] == 1.0
    table = markdown_report(alone, "tiny")
    assert "| tiny |" in table and "| grey floor (L kept, a = b = 0) |" in table
    assert "| originals | - | 1.0000 |" in table


def test_grey_photos_are_skipped_and_small_samples_get_a_word_of_caution(tmp_path, photo_dir):
    from PIL import Image

    Image.open(photo_dir / "photo01.png").convert("L").convert("RGB").save(photo_dir / "bw.png")
    report = evaluate(Colorizer(write_generator(tmp_path / "a.safetensors")), photo_dir,
                      progress=False, features=InceptionFeatures())  # fmt: skip
    assert (report["images"], report["skipped"]) == (12, 1)
    assert all(np.isfinite(r["psnr"]) for k, r in report["results"].items() if k != "original")
    text = markdown_report(report)
    assert "1 skipped: unreadable or grey" in text and "can even be negative" in text


def test_the_table_takes_extra_columns():
    rows = {"x": {"psnr": 20.0, "ssim": 0.9, "colourfulness": 10.0, "fid": 80.0, "kid": 0.01,
                  "steps": 7}}  # fmt: skip
    table = metrics_table(rows, "row", [("G steps", lambda r: str(r["steps"]))])
    assert table.splitlines() == [
        "| row | PSNR (dB) | SSIM | colourfulness | FID | KID x 1000 | G steps |",
        "|---|---|---|---|---|---|---|",
        "| x | 20.00 | 0.9000 | 10.0 | 80.0 | 10.00 | 7 |",
    ]


def test_the_grey_floor_on_the_shared_eval_set(shared_datasets, tiny_weights):
    report = evaluate(Colorizer(tiny_weights), shared_datasets / "eval", progress=False)
    grey = report["results"]["grey"]
    assert report["images"] == 187
    assert grey["psnr"] == pytest.approx(22.86, abs=0.01)
    assert grey["ssim"] == pytest.approx(0.932, abs=0.001)  # Gaussian 11x11, sigma 1.5
    assert report["results"]["original"]["colourfulness"] == pytest.approx(40.0, abs=0.05)
