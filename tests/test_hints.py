"""Colour hints: parsing, maps, simulated training hints, a model that starts as it was
before it took hints, and both engines and the CLI following them."""

import json

import numpy as np
import pytest
import torch
from PIL import Image
from skimage.color import rgb2lab

from colorgan.apps.cli import main
from colorgan.apps.points import read_points
from colorgan.base.errors import ColorganError
from colorgan.engines.onnx_engine import OnnxEngine
from colorgan.engines.torch_engine import TorchEngine
from colorgan.pipeline.colorizer import Colorizer
from colorgan.pipeline.request import Request
from colorgan.pipeline.settings import Settings
from colorgan.spec.hints import Hint, as_hint, hint_ab, hint_maps
from colorgan.training.hints import simulate_hints
from tests.conftest import make_photo, write_generator

OPTIONS = {"use_embedding": False, "use_segmentation": False, "out_stride": 4}
LITE = {"generator": "lite_unet", "lite_unet": OPTIONS}
HINTED = {**LITE, "lite_unet": {**LITE["lite_unet"], "hints": True}}


def test_a_hint_parses_or_says_why_in_one_line(tmp_path):
    """The command line's "X,Y,#rrggbb" and the page's table rows (numbers as text) are
    read by the one reader of points (spec.hints.as_hint)."""
    assert as_hint("120, 48,#B22222") == Hint(120.0, 48.0, "#b22222")
    assert as_hint(["120", " 48.5", "#fff"]) == Hint(120.0, 48.5, "#ffffff")
    for bad, why in [
        ("1,2", "X,Y,#rrggbb"),
        ("a,2,#ffffff", "x 'a' is not a number"),
        ("1,2,red", "not #rrggbb"),
        ("1,2,#ffff", "not #rrggbb"),
        (["1", "nan", "#fff"], "not a finite number"),
    ]:
        with pytest.raises(ColorganError, match=why):
            as_hint(bad)
    path = tmp_path / "h.json"
    path.write_text(json.dumps({"a.jpg": [{"x": 1, "y": 2, "color": "#00ff00"}]}))
    assert read_points(path) == {"a.jpg": [Hint(1.0, 2.0, "#00ff00")]}
    for text, why in [
        ("[1]", "object of file name"),
        ("{", "not JSON"),
        ('{"a.jpg": [{"x": 1}]}', "must have x, y and color"),
    ]:
        path.write_text(text)
        with pytest.raises(ColorganError, match=why):
            read_points(path)


def test_a_hints_colour_is_its_cie_ab_on_a_small_square_at_the_models_size():
    for rgb in [(178, 34, 34), (20, 120, 40), (250, 250, 250), (0, 0, 255)]:
        want = rgb2lab(np.array([[rgb]], np.uint8))[0, 0, 1:] / 110
        assert np.allclose(hint_ab(rgb), want, atol=1e-6)
    maps = hint_maps([Hint(300, 100, "#b22222")], 400, 200, 64)  # (48, 32) at 64 x 64
    assert maps.shape == (3, 64, 64)
    assert maps[2].sum() == 9 and maps[2, 31:34, 47:50].all()
    assert np.allclose(maps[:2, 32, 48], hint_ab((178, 34, 34)))
    assert not maps[:, :, :40].any()  # nothing far from the point


def test_simulated_hints_are_the_photos_own_colour_and_the_same_for_a_seed():
    torch.manual_seed(0)
    ab = torch.rand(64, 2, 32, 32) * 2 - 1
    a = simulate_hints(ab, torch.Generator().manual_seed(5))
    b = simulate_hints(ab, torch.Generator().manual_seed(5))
    assert torch.equal(a, b)
    none = (a[:, 2].sum((1, 2)) == 0).float().mean()
    assert 0.1 < none < 0.45  # a quarter of the photos get no hint (and few are hidden)
    mask = a[:, 2] > 0
    assert mask.any() and set(a[:, 2].unique().tolist()) <= {0.0, 1.0}
    assert not a[:, :2][~mask[:, None].expand(-1, 2, -1, -1)].any()  # ab only under the mask


@pytest.mark.slow
def test_a_model_widened_for_hints_starts_as_the_model_it_came_from(tmp_path):
    """train.init_from an older file without the hint weights: they start at zero, so with
    or without hints the output is the old model's, until training moves them."""
    from colorgan.config import config_from_dict
    from colorgan.models.file import build_generator
    from colorgan.training.gan import warm_start

    old = write_generator(tmp_path / "old.safetensors", LITE, image_size=64)
    cfg = config_from_dict({"model": HINTED, "data": {"image_size": 64}})
    widened = build_generator(cfg.model, cfg.priors).eval()
    warm_start(widened, str(old))
    before = TorchEngine(old, channels_last=False).generator.eval()
    l_norm = torch.rand(2, 1, 64, 64) * 2 - 1
    hints = torch.from_numpy(hint_maps([Hint(10, 10, "#ff0000")], 64, 64, 64))[None].repeat(
        2, 1, 1, 1
    )
    with torch.no_grad():
        assert torch.equal(widened(l_norm), before(l_norm))
        assert torch.equal(widened(l_norm, hints=hints), before(l_norm))
    unet = write_generator(
        tmp_path / "unet.safetensors", {"generator": "unet", "unet": {"downs": 6}}, 64
    )
    with pytest.raises(ColorganError, match="not this config's model"):
        warm_start(widened, str(unet))


@pytest.mark.parametrize("head", ["classification", "queries"])
def test_a_model_with_another_head_starts_its_body_from_a_file_and_its_head_fresh(tmp_path, head):
    """train.init_from a regression file into a classifying (or colour-query) model, as from
    a finished L1 default: every body weight is the file's, the new head keeps its own start;
    a file of another network still says so."""
    from colorgan.config import config_from_dict
    from colorgan.models.file import build_generator, read_generator_file
    from colorgan.training.gan import warm_start

    old = write_generator(tmp_path / "old.safetensors", HINTED, image_size=64)
    other = {**HINTED, "lite_unet": {**HINTED["lite_unet"], "head": head}}
    cfg = config_from_dict({"model": other, "data": {"image_size": 64}})
    model = build_generator(cfg.model, cfg.priors)
    fresh_head = {k: v.clone() for k, v in model.to_ab.state_dict().items()}
    warm_start(model, str(old))
    tensors, _ = read_generator_file(old)
    state = model.state_dict()
    body = [k for k in tensors if not k.startswith("to_ab.")]
    assert len(body) > 100 and all(torch.equal(state[k], tensors[k].float()) for k in body)
    head_now = model.to_ab.state_dict()
    assert head_now.keys() == fresh_head.keys()
    assert all(torch.equal(head_now[k], v) for k, v in fresh_head.items())
    unet = write_generator(
        tmp_path / "unet.safetensors", {"generator": "unet", "unet": {"downs": 6}}, 64
    )
    with pytest.raises(ColorganError, match="not this config's model"):
        warm_start(model, str(unet))


def test_the_hint_layers_learn_at_their_own_rate_and_a_small_point_keeps_its_colour():
    """Zero-started in a fine-tune, the hint layers need a higher rate than the rest; the
    decoder's copy of the hints, pooled to a stage's size, keeps a one-pixel point's ab."""
    from colorgan.models.lite_unet import LiteUNetGenerator, pooled_hints

    generator = LiteUNetGenerator(
        0, 0, encoder_lr_scale=0.1, out_stride=4, hints=True, hint_lr_scale=30.0
    )
    groups = generator.param_groups(1e-4)
    rate = {id(p): g["lr"] for g in groups for p in g["params"]}
    assert sum(len(g["params"]) for g in groups) == len(rate) == len(list(generator.parameters()))
    assert len(generator.hint_taps) == len(generator.decoder) == 3  # 1/16, 1/8 and 1/4
    hinting = [generator.hint_stem, *generator.hint_taps]
    assert {rate[id(layer.weight)] for layer in hinting} == {3e-3}
    assert rate[id(generator.to_ab[0].weight)] == 1e-4
    assert rate[id(generator.encoder._conv_stem.weight)] == pytest.approx(1e-5)
    hints = torch.zeros(1, 3, 8, 8)
    hints[0, :, 1, 2] = torch.tensor([0.5, -0.25, 1.0])
    pooled = pooled_hints(hints, 4)
    assert pooled.shape == (1, 3, 2, 2)
    assert torch.allclose(pooled[0, :, 0, 0], torch.tensor([0.5, -0.25, 1.0]))
    assert not pooled.flatten(2)[..., 1:].any()


@pytest.fixture(scope="module")
def hinted(tmp_path_factory):
    """A hint-taking generator whose hint weights are not zero (so hints change the colour),
    and its ONNX export."""
    from colorgan.config import config_from_dict
    from colorgan.models.file import build_generator, generator_meta, save_generator

    cfg = config_from_dict({"model": HINTED, "data": {"image_size": 64}})
    torch.manual_seed(1)
    generator = build_generator(cfg.model, cfg.priors)
    torch.nn.init.normal_(generator.hint_stem.weight, std=10.0)
    for tap in generator.hint_taps:
        torch.nn.init.normal_(tap.weight, std=1.0)
    folder = tmp_path_factory.mktemp("hinted")  # made once: the tests only read it
    path = folder / "hinted.safetensors"
    save_generator(path, generator, generator_meta(cfg))
    onnx = folder / "hinted.onnx"
    assert main(["export", str(path), "--onnx", "--out", str(onnx)]) == 0
    return path, onnx


@pytest.mark.slow
@pytest.mark.parametrize("engine", ["onnx", "torch"])
def test_both_engines_take_hints_and_no_hints_is_the_automatic_colour(engine, hinted):
    path, onnx = hinted
    colorizer = Colorizer(OnnxEngine(onnx) if engine == "onnx" else TorchEngine(path))
    assert colorizer.engine.spec.hints
    photo = make_photo(2, (200, 120))
    auto = np.asarray(colorizer.colorize(photo), int)
    assert np.array_equal(np.asarray(colorizer.colorize(photo, hints=[]), int), auto)
    guided = np.asarray(colorizer.colorize(photo, hints=[Hint(150, 60, "#00ff00")]), int)
    assert guided.shape == auto.shape and (guided != auto).any()
    grey = [photo.convert("L")]  # the same through small_colour (video's path)
    ab_auto = colorizer.frames(grey)[1]
    asked = Request(grey[0], Settings(hints=[Hint(150, 60, "#00ff00")]))
    ab_hint = colorizer.frames(grey, asked, [True])[1]
    assert np.abs(ab_hint - ab_auto).max() > 1e-3
    with pytest.raises(ColorganError, match="outside the 200x120 photo"):
        colorizer.colorize(photo, hints=[Hint(250, 60, "#00ff00")])


@pytest.mark.slow
def test_the_onnx_graph_with_hints_agrees_with_torch(hinted):
    path, onnx = hinted
    torch_engine, onnx_engine = TorchEngine(path, precision="fp32"), OnnxEngine(onnx)
    l_small = np.random.default_rng(0).random((2, 1, 64, 64), np.float32) * 2 - 1
    maps = np.stack([hint_maps([Hint(5, 9, "#123456")], 64, 64, 64)] * 2)
    for given in (None, maps):
        a, b = torch_engine.predict(l_small, None, given), onnx_engine.predict(l_small, None, given)
        assert np.abs(a - b).max() < 1e-3


@pytest.mark.slow
def test_the_cli_takes_hints_and_refuses_bad_ones_in_one_line(
    tmp_path, hinted, tiny_weights, capsys
):
    path, _ = hinted
    photo = tmp_path / "p.png"
    make_photo(3, (160, 100)).save(photo)
    out = tmp_path / "out"
    base = ["colorize", str(photo), "--out", str(out), "-w", str(path), "-q"]
    assert main([*base, "--hint", "40,30,#b22222", "--hint", "120,80,#2222b2"]) == 0
    hinted_out = np.asarray(Image.open(out / "p.png"), int)
    assert main([*base, "--overwrite"]) == 0
    assert (np.asarray(Image.open(out / "p.png"), int) != hinted_out).any()
    hints = tmp_path / "h.json"
    hints.write_text(
        json.dumps(
            {
                "p.png": [
                    {"x": 40, "y": 30, "color": "#b22222"},
                    {"x": 120, "y": 80, "color": "#2222b2"},
                ]
            }
        )
    )
    assert main([*base, "--overwrite", "--hints", str(hints)]) == 0
    assert np.array_equal(np.asarray(Image.open(out / "p.png"), int), hinted_out)
    capsys.readouterr()
    for args, why in [
        (["--hint", "400,30,#b22222"], "outside the 160x100 photo"),
        (["--hint", "4,3,#b2222"], "not #rrggbb"),
        (["--hint", "4,3,#b22222", "--hints", str(hints)], "not both"),
    ]:
        assert main([*base, "--overwrite", *args]) == 2
        err = capsys.readouterr().err
        assert why in err and len(err.strip().splitlines()) == 1, err
    no_hints = ["colorize", str(photo), "--out", str(out), "-w", str(tiny_weights), "-q"]
    assert main([*no_hints, "--overwrite", "--hint", "4,3,#b22222"]) == 2
    assert "takes no colour hints" in capsys.readouterr().err


@pytest.mark.film
def test_a_films_hints_last_as_long_as_its_first_shot(tmp_path, hinted, capsys):
    pytest.importorskip("av")
    from colorgan.pipeline.shots import Shots
    from tests.conftest import make_clip

    still = np.tile(np.linspace(30, 220, 128), (96, 1)).astype(np.uint8)  # dark to light
    other = still[:, ::-1]  # a hard cut: another picture altogether
    frames = [Image.fromarray(np.clip(still + k, 0, 255).astype(np.uint8)) for k in range(4)]
    frames += [Image.fromarray(other)] * 2 + [Image.fromarray(still)]
    shots = Shots()
    assert [shots(f) for f in frames] == [0] * 4 + [1, 1, 2]  # a new shot at each cut
    # through the command, as for a photo (points in the frame's pixels, checked against it)
    path, _ = hinted
    film = tmp_path / "film.mp4"
    make_clip(film, frames=6, audio=False)
    base = ["colorize", str(film), "--out", str(tmp_path / "out"), "-w", str(path), "-q"]
    assert main([*base, "--hint", "20,20,#ff0000"]) == 0
    assert (tmp_path / "out" / "film.mp4").is_file()
    capsys.readouterr()
    assert main([*base, "--overwrite", "--hint", "2000,20,#ff0000"]) == 2
    assert "outside the 160x120 frame" in capsys.readouterr().err


@pytest.mark.film
def test_a_phone_films_points_are_given_as_players_show_it(tmp_path, hinted, capsys):
    """A film stored 160x120 and shown turned clockwise (display rotation -90, a phone's
    upright film) takes its points in the 120x160 frame players show: the point (30, 100)
    there is the stored frame's (100, 89), so the two films colour alike."""
    av = pytest.importorskip("av")
    from tests.test_video import write_clip

    path, _ = hinted
    write_clip(tmp_path / "phone.mp4", size=(160, 120), pts=range(3), rotation=-90)
    write_clip(tmp_path / "flat.mp4", size=(160, 120), pts=range(3))
    out = tmp_path / "out"

    def first_frame(film: str, hint: str, *extra: str) -> np.ndarray:
        args = ["colorize", str(tmp_path / film), "--out", str(out), "-w", str(path), "-q"]
        assert main([*args, "--hint", hint, *extra]) == 0
        with av.open(str(out / film)) as f:
            return next(f.decode(f.streams.video[0])).to_ndarray(format="rgb24").astype(int)

    phone = first_frame("phone.mp4", "30,100,#00ff00")
    assert np.abs(phone - first_frame("flat.mp4", "100,89,#00ff00")).max() <= 2
    assert np.abs(phone - first_frame("flat.mp4", "30,100,#00ff00", "--overwrite")).max() > 10
    capsys.readouterr()
    args = ["colorize", str(tmp_path / "phone.mp4"), "--out", str(out), "-w", str(path)]
    assert main([*args, "--overwrite", "--hint", "130,20,#00ff00"]) == 2
    assert "outside the 120x160 frame" in capsys.readouterr().err


@pytest.mark.slow
def test_the_pages_studio_recolours_a_photo_with_its_points(tmp_path, hinted):
    from colorgan.apps.studio import Limits, Studio

    path, _ = hinted
    studio = Studio(lambda name: Colorizer(TorchEngine(path)), ["m"], Limits(), tmp_path)
    photo = tmp_path / "p.png"
    make_photo(5, (120, 90)).save(photo)
    plain, (grey, colour) = studio.recolour(photo, "m", studio.settings(1.0))
    pointed, _ = studio.recolour(photo, "m", studio.settings(1.0, hints=[Hint(30, 40, "#00ff00")]))
    assert Image.open(plain).size == (120, 90) and Image.open(grey).size == (120, 90)
    assert (np.asarray(Image.open(pointed), int) != np.asarray(Image.open(plain), int)).any()
    with pytest.raises(ColorganError, match="outside the 120x90 photo"):
        studio.recolour(photo, "m", studio.settings(1.0, hints=[Hint(130, 40, "#00ff00")]))


@pytest.mark.slow
@pytest.mark.parametrize("engine", ["onnx", "torch"])
def test_a_hint_stays_on_its_object(engine):
    """One green point inside a grey disc on a darker ground: ab changes inside the disc by
    at least 70 and beyond it by at most 10 (before the hints' reach: 91 and 31); with
    hint_reach "photo", the model's own spread, it crosses the edge."""
    from benchmarks.hints import spread

    colorizer = Colorizer(OnnxEngine() if engine == "onnx" else TorchEngine(precision="fp32"))
    local = spread(colorizer)
    assert local["inside"] >= 70 and local["outside"] <= 10, local
    wide = spread(colorizer, hint_reach="photo")
    assert wide["outside"] > 20, wide
