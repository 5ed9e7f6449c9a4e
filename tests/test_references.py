"""Reference photos: a photo takes a reference's colours where it shows what the reference shows
(a striped patch that only the reference says is magenta), on both engines, through the
Python API, the command and films, and not where it does not (a sky's blue kept off a road);
the user's hints win over them; bad references are one line."""

import json

import numpy as np
import pytest
from PIL import Image
from skimage.color import rgb2lab

from colorgan import ColorganError, Colorizer, Hint
from colorgan.apps.cli import main
from colorgan.engines.onnx_engine import OnnxEngine
from colorgan.engines.torch_engine import TorchEngine
from colorgan.pipeline import reference
from colorgan.pipeline.reference import Reference
from colorgan.pipeline.settings import Settings
from colorgan.pipeline.shots import Shots
from colorgan.spec.references import MAX_REFERENCES
from tests.conftest import make_photo


def scene(size: tuple[int, int] = (320, 240)) -> tuple[Image.Image, np.ndarray]:
    """A colour photo with a striped patch in magenta, a colour no model guesses from its
    grey, and where the patch is."""
    w, h = size
    base = np.asarray(make_photo(0, size).convert("RGB"), float)
    yy, xx = np.mgrid[:h, :w]
    patch = (np.abs(yy - h // 2) < h // 5) & (np.abs(xx - w // 3) < w // 6)
    stripes = 0.5 + 0.5 * np.sin(xx / 3.0)
    magenta = np.stack([200 * stripes + 40, 40 * stripes + 20, 190 * stripes + 40], -1)
    return Image.fromarray(np.where(patch[..., None], magenta, base).astype(np.uint8)), patch


def ab_of(image: Image.Image, where: np.ndarray) -> np.ndarray:
    """The mean CIE a and b of `image` over `where`."""
    return rgb2lab(np.asarray(image.convert("RGB")))[where][:, 1:].mean(0)


def is_magenta(ab: np.ndarray) -> bool:
    return bool(ab[0] > 30 and ab[1] < -15)


@pytest.mark.slow
@pytest.mark.parametrize("engine", ["onnx", "torch"])
def test_a_photo_takes_the_references_colour_where_it_shows_the_same(engine):
    colour, patch = scene()
    grey = colour.convert("L")
    colorizer = Colorizer(OnnxEngine() if engine == "onnx" else TorchEngine(precision="fp32"))
    mirrored = colour.transpose(Image.Transpose.FLIP_LEFT_RIGHT)  # the patch elsewhere in it
    assert not is_magenta(ab_of(colorizer.colorize(grey), patch))
    taken = ab_of(colorizer.colorize(grey, references=[mirrored]), patch)
    assert is_magenta(taken), taken
    want = ab_of(colour, patch)
    assert np.abs(taken - want).max() < 12  # close to the reference's own colour there
    # the user's points win over the references': a green point in the patch
    hinted = colorizer.colorize(grey, hints=[Hint(106, 120, "#20c020")], references=[mirrored])
    green = rgb2lab(np.asarray(hinted.convert("RGB")))[117:123, 103:109, 1].mean()
    assert green < -10, green


def street(size: tuple[int, int] = (320, 240)) -> Image.Image:
    """A light blue sky over a grey road with a red car on it: smooth ground, as sky, road
    and paintwork are, which features of lightness alone find much alike."""
    w, h = size
    yy, xx = np.mgrid[:h, :w]
    sky = np.stack([150 + 0.1 * yy, 190 + 0.1 * yy, 240 + 0.1 * yy], -1)
    photo = np.where((yy < 0.45 * h)[..., None], sky, 118.0)
    car = (np.abs(xx - 0.3 * w) < 0.14 * w) & (np.abs(yy - 0.5 * h) < 0.08 * h)
    photo = np.where(car[..., None], np.array([200.0, 30.0, 30.0]), photo)
    photo += np.random.default_rng(0).normal(0, 2, photo.shape)
    return Image.fromarray(np.clip(photo, 0, 255).astype(np.uint8))


def test_a_references_sky_stays_off_the_road_it_does_not_show(monkeypatch):
    """Issue 46: a same-scene reference showing the sky, the car and a strip of the road,
    mirrored. Matched on features alone (study 25), the road below what it shows took the
    sky's blue, confidently; matched on lightness too, it stays grey, with the reference of
    another exposure as well, while the sky and the car still take the reference's colours."""
    photo = street()
    grey, (w, h) = photo.convert("L"), photo.size
    shown = photo.crop((0, 0, int(0.6 * w), int(0.62 * h))).transpose(
        Image.Transpose.FLIP_LEFT_RIGHT
    )
    darker = Image.fromarray((np.asarray(shown, np.float32) * 0.8).astype(np.uint8))
    yy, xx = np.mgrid[:h, :w]
    road, sky = yy >= 0.75 * h, yy < 0.3 * h
    car = (np.abs(xx - 0.3 * w) < 0.1 * w) & (np.abs(yy - 0.5 * h) < 0.05 * h)
    colorizer = Colorizer(OnnxEngine())
    for given in (shown, darker):
        out = colorizer.colorize(grey, references=[given])
        assert np.hypot(*ab_of(out, road)) < 8, ab_of(out, road)  # grey (the truth: 0, 0)
        assert ab_of(out, sky)[1] < -20 and ab_of(out, car)[0] > 40  # blue; red
    monkeypatch.setattr(reference, "LIGHTNESS", 0.0)  # matched on features alone
    assert ab_of(colorizer.colorize(grey, references=[shown]), road)[1] < -12  # the sky's blue


def unit_columns(a: np.ndarray) -> np.ndarray:
    return (a / np.linalg.norm(a, axis=0)).astype(np.float32)


def test_a_banks_reference_is_matched_on_its_features_alone():
    """A bank's reference keeps no lightness: its matches are what its fitted trust was fitted
    on, whatever the photo's lightness (training.trust)."""
    rng = np.random.default_rng(0)
    query = unit_columns(rng.normal(size=(8, 32 * 32))).reshape(8, 32, 32)
    features, ab = unit_columns(rng.normal(size=(8, 32 * 32))), rng.normal(size=(2, 32 * 32))
    banked = Reference(features, ab, np.zeros(4))
    own = Reference(features, ab, np.zeros(4), lightness=rng.uniform(-1, 1, 32 * 32))
    lightness = rng.uniform(-1, 1, 32 * 32)
    alone = reference.match(query, [banked])
    for a, b in zip(reference.match(query, [banked], lightness), alone, strict=True):
        assert np.array_equal(a, b)
    assert not np.array_equal(reference.match(query, [own], lightness)[0], alone[0])


def test_references_are_checked_once_and_bad_ones_are_one_sentence(tmp_path):
    colour, _ = scene()
    grey = colour.convert("L")
    colorizer = Colorizer()
    for bad, words in [
        ("ref.jpg", "does not exist"),
        (tmp_path, "is a folder"),
        ([None], "references: must be PIL images, numpy arrays or file paths"),
        ([colour] * (MAX_REFERENCES + 1), f"at most {MAX_REFERENCES} reference photos"),
        (["a\0b.jpg"], "holds a NUL byte"),
    ]:
        given = bad if isinstance(bad, list) else [bad]
        with pytest.raises(ColorganError, match=words):
            colorizer.colorize(grey, references=given)
    colour.save(tmp_path / "ref.png")
    # a mapping is references by input: its values are lists, and it needs the inputs' paths
    with pytest.raises(ColorganError, match="references: for .*ref.png: must be a list of ref"):
        Settings(references={tmp_path / "ref.png": 1})
    with pytest.raises(ColorganError, match="references: given by input need the inputs' file"):
        colorizer.colorize(grey, references={tmp_path / "a.png": [tmp_path / "ref.png"]})
    (tmp_path / "broken.jpg").write_bytes(b"not a jpeg")
    with pytest.raises(ColorganError, match="reference .*broken.jpg: not a readable image"):
        colorizer.colorize(grey, references=[tmp_path / "broken.jpg"])


@pytest.mark.slow
def test_the_command_takes_references_for_every_input_or_by_input(tmp_path, capsys):
    colour, patch = scene()
    colour.convert("L").save(tmp_path / "a.png")
    colour.convert("L").save(tmp_path / "b.png")
    (tmp_path / "refs").mkdir()
    colour.transpose(Image.Transpose.FLIP_LEFT_RIGHT).save(tmp_path / "refs" / "c.jpg")
    inputs = [str(tmp_path / "a.png"), str(tmp_path / "b.png")]
    out = tmp_path / "out"
    base = ["colorize", *inputs, "--out", str(out), "-q"]
    assert main([*base, "--reference", str(tmp_path / "refs" / "c.jpg")]) == 0
    assert all(is_magenta(ab_of(Image.open(out / n), patch)) for n in ("a.png", "b.png"))
    (tmp_path / "refs.json").write_text(json.dumps({"b.png": ["refs/c.jpg"]}))
    assert main([*base, "--overwrite", "--references", str(tmp_path / "refs.json")]) == 0
    assert not is_magenta(ab_of(Image.open(out / "a.png"), patch))
    assert is_magenta(ab_of(Image.open(out / "b.png"), patch))
    capsys.readouterr()
    (tmp_path / "broken.jpg").write_bytes(b"not a jpeg")
    for extra, words in [
        (["--reference", str(tmp_path / "gone.jpg")], "does not exist"),
        (["--reference", str(tmp_path / "broken.jpg")], "not a readable image"),
        (["--reference-frame", "0:x.png"], "is for one film"),
    ]:
        fresh = tmp_path / "fresh"
        assert main(["colorize", *inputs, "--out", str(fresh), "-q", *extra]) == 2
        err = capsys.readouterr().err.strip().splitlines()
        assert len(err) == 1 and words in err[0], err
        assert not fresh.exists()  # refused before anything was written


@pytest.mark.film
def test_a_films_key_frame_colours_its_shot_and_no_further(tmp_path):
    """A grey film panning over the scene, then cutting to another picture: frame 0 given in
    colour colours the pan's later frames (the patch magenta), and not the frames after the
    cut."""
    pytest.importorskip("av")
    import av

    colour, _ = scene((400, 240))
    frames = [colour.crop((4 * k, 0, 4 * k + 240, 240)) for k in range(12)]
    other = make_photo(5, (240, 240)).convert("RGB")
    film = tmp_path / "film.mp4"
    write_film(film, [f.convert("L") for f in frames] + [other.convert("L")] * 4)
    frames[0].save(tmp_path / "key.png")
    out = tmp_path / "out"
    argv = [
        "colorize",
        str(film),
        "--out",
        str(out),
        "-q",
        "--reference-frame",
        f"0:{tmp_path / 'key.png'}",
    ]
    assert main(argv) == 0
    with av.open(str(out / "film.mp4")) as written:
        decoded = [f.to_image() for f in written.decode(video=0)]
    assert len(decoded) == 16
    yy, xx = np.mgrid[:240, :240]
    for k in (3, 8, 11):  # the patch (x 80..186 of the 400-px scene) as the pan moves
        where = (np.abs(yy - 120) < 48) & (np.abs(xx + 4 * k - 133) < 50)
        assert is_magenta(ab_of(decoded[k], where)), k
    after = rgb2lab(np.asarray(decoded[14]))[..., 1:].reshape(-1, 2).mean(0)
    assert not is_magenta(after)
    # a pan or a zoom is not a cut; another picture is
    shots = Shots()
    assert [shots(f.convert("L")) for f in [*frames, other]] == [0] * 12 + [1]


def write_film(path, frames: list[Image.Image], fps: int = 12) -> None:
    """Grey frames as H.264 in MP4."""
    import av

    with av.open(str(path), "w") as out:
        stream = out.add_stream("libx264", rate=fps)
        stream.width, stream.height = frames[0].size
        stream.pix_fmt = "yuv420p"
        for frame in frames:
            for packet in stream.encode(av.VideoFrame.from_image(frame.convert("RGB"))):
                out.mux(packet)
        for packet in stream.encode(None):
            out.mux(packet)


def test_key_frames_are_for_films(tmp_path, capsys):
    colour, _ = scene()
    colour.convert("L").save(tmp_path / "a.png")
    colour.save(tmp_path / "key.png")
    with pytest.raises(ColorganError, match="key frames are for films"):
        from colorgan import Request

        Request(tmp_path / "a.png", Settings(key_frames=[(0, tmp_path / "key.png")]))


@pytest.mark.slow
def test_the_bundled_reference_encoder_is_the_torch_one():
    """weights/reference.onnx (the light install's) gives the torch encoder's features."""
    from colorgan.spec.references import SIZE

    l_norm = np.random.default_rng(0).random((2, 1, SIZE, SIZE), np.float32) * 2 - 1
    light, exact = OnnxEngine().features(l_norm), TorchEngine(precision="fp32").features(l_norm)
    for a, b in zip(light, exact, strict=True):
        assert a.shape == b.shape and np.abs(a - b).max() < 1e-4
    assert np.allclose(np.linalg.norm(light[0], axis=1), 1, atol=1e-4)  # unit norm, per place
