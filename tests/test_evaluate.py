import numpy as np
import pytest

from colorgan.engines.torch_engine import TorchEngine
from colorgan.evaluation.evaluate import Scored, evaluate
from colorgan.evaluation.fid import InceptionFeatures
from colorgan.evaluation.report import markdown_report, metrics_table
from colorgan.pipeline.colorizer import Colorizer
from tests.conftest import write_generator


def scored(path):
    return Scored(Colorizer(TorchEngine(path)))


@pytest.mark.slow
def test_several_colorizers_in_one_pass_score_as_each_alone(tmp_path, photo_dir):
    a = scored(write_generator(tmp_path / "a.safetensors"))
    b = scored(write_generator(tmp_path / "b.safetensors", image_size=64))
    both = evaluate({"a": a, "b": b}, photo_dir, limit=4, progress=False)
    assert list(both["results"]) == ["a", "b", "grey", "original"]
    alone = evaluate(b, photo_dir, limit=4, progress=False)
    paired = dict(both["results"]["b"])
    assert paired.pop("cast_vs")["model"] == "a"  # set against the first, photo by photo
    versus = paired.pop("colourfulness_vs")
    assert versus["model"] == "a"
    want = both["results"]["b"]["colourfulness"] - both["results"]["a"]["colourfulness"]
    assert abs(versus["difference"] - want) < 1e-9 and versus["se"] > 0
    assert alone["results"]["model"] == paired
    assert alone["results"]["grey"] == both["results"]["grey"]
    assert both["results"]["a"] != both["results"]["b"]  # 32 px against 64 px predictions
    assert both["images"] == 4 and both["results"]["original"]["ssim"] == 1.0
    table = markdown_report(alone, "tiny")
    assert "| tiny |" in table and "| grey floor (L kept, a = b = 0) |" in table
    assert "| originals | - | 1.0000 |" in table


@pytest.mark.slow
def test_grey_photos_are_skipped_and_small_samples_get_a_word_of_caution(tmp_path, photo_dir):
    from PIL import Image

    Image.open(photo_dir / "photo01.png").convert("L").convert("RGB").save(photo_dir / "bw.png")
    report = evaluate(
        scored(write_generator(tmp_path / "a.safetensors")),
        photo_dir,
        progress=False,
        features=InceptionFeatures(),
    )
    assert (report["images"], report["skipped"]) == (12, 1)
    assert all(np.isfinite(r["psnr"]) for k, r in report["results"].items() if k != "original")
    text = markdown_report(report)
    assert "1 skipped: unreadable or grey" in text and "can even be negative" in text


def test_the_table_takes_extra_columns():
    rows = {
        "x": {
            "psnr": 20.0,
            "ssim": 0.9,
            "colourfulness": 10.0,
            "fid": 80.0,
            "kid": 0.01,
            "cast": 6.25,
            "a_shift": -1.0,
            "b_shift": 4.5,
            "steps": 7,
        },
        "old": {"psnr": 20.0, "ssim": 0.9, "colourfulness": 10.0, "steps": 8},
    }
    table = metrics_table(rows, "row", [("G steps", lambda r: str(r["steps"]))])
    assert table.splitlines() == [
        "| row | PSNR (dB) | SSIM | colourfulness | FID | KID x 1000 | colour cast "
        "| mean a / b shift | G steps |",
        "|---|---|---|---|---|---|---|---|---|",
        "| x | 20.00 | 0.9000 | 10.0 | 80.0 | 10.00 | 6.2 | -1.0 / +4.5 | 7 |",
        "| old | 20.00 | 0.9000 | 10.0 | - | - | - | - | 8 |",  # a report from before the cast
    ]


@pytest.mark.slow
def test_the_grey_floor_on_the_shared_eval_set(shared_datasets):
    """The grey floor and the originals alone: they need no colorizer (one would only add its
    predictions, which this test does not look at, to the 187 photos' scoring)."""
    report = evaluate({}, shared_datasets / "eval", progress=False)
    assert list(report["results"]) == ["grey", "original"]
    grey = report["results"]["grey"]
    assert report["images"] == 187
    assert grey["psnr"] == pytest.approx(22.86, abs=0.01)
    assert grey["ssim"] == pytest.approx(0.932, abs=0.001)  # Gaussian 11x11, sigma 1.5
    assert report["results"]["original"]["colourfulness"] == pytest.approx(40.0, abs=0.05)


class Constant:
    """A colorizer that paints every pixel one normalized ab."""

    def __init__(self, ab):
        self.ab = ab

    def predict_ab(self, l_norm):
        import torch

        return torch.tensor(self.ab).view(1, 2, 1, 1).expand(len(l_norm), 2, *l_norm.shape[2:])


@pytest.mark.slow
def test_the_colour_cast_is_how_far_the_mean_colour_is_from_the_photos(photo_dir):
    from skimage.color import rgb2lab

    from colorgan.base.images import find_images
    from colorgan.evaluation.evaluate import EvalPhoto

    report = evaluate(
        {"warm": Constant([0.0, 0.2]), "none": Constant([0.0, 0.0])},
        photo_dir,
        limit=6,
        progress=False,
    )
    res = report["results"]
    truth = [
        rgb2lab(EvalPhoto.load(p).target).reshape(-1, 3)[:, 1:].mean(0)
        for p in find_images(photo_dir)[:6]
    ]
    # the grey floor's cast is the photos' own mean colour, its shift the opposite of it
    assert res["grey"]["cast"] == pytest.approx(np.mean([np.hypot(*t) for t in truth]), abs=0.05)
    assert res["grey"]["b_shift"] == pytest.approx(-np.mean([t[1] for t in truth]), abs=0.05)
    assert res["none"]["cast"] == pytest.approx(res["grey"]["cast"], abs=1e-6)
    # a = 0, b = 0.2 x 110: a warm cast of about 22 units of b more than the grey floor's
    assert res["warm"]["b_shift"] - res["grey"]["b_shift"] == pytest.approx(22, abs=2)
    assert abs(res["warm"]["a_shift"] - res["grey"]["a_shift"]) < 3
    assert res["original"]["cast"] == 0.0
    assert "| colour cast | mean a / b shift |" in markdown_report(report)


def test_a_saturation_sweep_scales_the_colour_of_each_model(photo_dir):
    """The sweep scores the model at each intensity as a user gets it (the product's
    saturation setting, on the bundled default): 0 is the grey floor, 2 more colourful."""
    from colorgan.engines.onnx_engine import OnnxEngine
    from colorgan.evaluation.evaluate import sweep

    report = evaluate(
        sweep({"default": Scored(Colorizer(OnnxEngine()))}, factors=(0.0, 1.0, 2.0)),
        photo_dir,
        limit=3,
        progress=False,
    )
    res = report["results"]
    assert list(res) == ["default @ 0", "default @ 1", "default @ 2", "grey", "original"]
    assert res["default @ 0"] == res["grey"]
    assert res["default @ 2"]["colourfulness"] > 1.5 * res["default @ 1"]["colourfulness"] > 0


@pytest.mark.slow
def test_kid_comes_with_its_error_and_models_are_set_against_each_other_on_the_same_photos(
    photo_dir,
):
    from colorgan.evaluation.evaluate import kid_pairs

    pairs = kid_pairs(["new @ 1", "new @ 1.5", "old @ 1", "old @ 1.5"])
    assert pairs == {"old @ 1": "new @ 1", "old @ 1.5": "new @ 1.5"}
    assert kid_pairs(["new", "old", "paper"]) == {"old": "new", "paper": "new"}
    models = {"warm": Constant([0.1, 0.2]), "cool": Constant([-0.1, -0.2])}
    labelled = {f"{label} @ 1": model for label, model in models.items()}
    report = evaluate(labelled, photo_dir, progress=False, features=InceptionFeatures())
    res = report["results"]
    assert all(res[k]["kid_se"] > 0 for k in ("warm @ 1", "cool @ 1", "grey"))
    assert "kid_vs" not in res["warm @ 1"] and "kid_se" not in res["original"]
    versus = res["cool @ 1"]["kid_vs"]
    assert versus["model"] == "warm @ 1"
    assert versus["difference"] == pytest.approx(res["cool @ 1"]["kid"] - res["warm @ 1"]["kid"])
    assert versus["se"] > 0
    text = markdown_report(report)
    assert f"{res['warm @ 1']['kid'] * 1000:.2f} ± {res['warm @ 1']['kid_se'] * 1000:.2f}" in text
    assert f"- cool @ 1 - warm @ 1: {versus['difference'] * 1000:+.2f} ± " in text


@pytest.mark.slow
def test_the_colour_cast_is_set_against_the_first_model_photo_by_photo(photo_dir):
    """Paired over the same photos, a model against an identical one differs by exactly 0 with
    no error; two different ones by their casts' difference, with an error from the spread."""
    models = {
        "warm": Constant([0.1, 0.2]),
        "twin": Constant([0.1, 0.2]),
        "cool": Constant([-0.1, -0.2]),
    }
    res = evaluate(models, photo_dir, progress=False)["results"]
    assert "cast_vs" not in res["warm"] and "cast_vs" not in res["grey"]
    assert res["twin"]["cast_vs"] == {"model": "warm", "difference": 0.0, "se": 0.0}
    versus = res["cool"]["cast_vs"]
    assert versus["difference"] == pytest.approx(res["cool"]["cast"] - res["warm"]["cast"])
    assert versus["se"] > 0
    text = markdown_report({"images": 4, "skipped": 0, "data": "x", "size": 256, "results": res})
    assert f"- cool - warm: {versus['difference']:+.3f} ± {versus['se']:.3f}" in text
