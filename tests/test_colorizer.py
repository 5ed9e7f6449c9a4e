from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

from colorgan.base.errors import ColorganError
from colorgan.base.images import BadImage
from colorgan.colour import bands
from colorgan.colour.tensors import rgb_to_lab
from colorgan.engines.torch_engine import TorchEngine
from colorgan.pipeline import compose
from colorgan.pipeline.colorizer import Colorizer
from tests.conftest import make_photo, write_generator


def lightness(img: Image.Image) -> np.ndarray:
    x = torch.from_numpy(np.array(img.convert("RGB"))).permute(2, 0, 1)[None].float() / 255
    return rgb_to_lab(x)[0, 0].numpy()


@pytest.fixture
def colorizer(tiny_weights):
    return Colorizer(TorchEngine(tiny_weights))


@pytest.mark.slow
def test_output_has_the_input_size_and_lightness(colorizer):
    photo = make_photo(1, (301, 157))
    for source in (photo, photo.convert("L")):
        out = colorizer.colorize(source)
        assert out.size == (301, 157) and out.mode == "RGB"
        diff = np.abs(lightness(out) - lightness(source))
        assert diff.mean() < 0.3 and np.percentile(diff, 99) < 1.5


@pytest.mark.slow
def test_modes_alpha_sixteen_bit_palette_cmyk(colorizer):
    base = make_photo(3, (64, 48))
    rgba = base.convert("RGBA")
    alpha = np.tile(np.arange(64, dtype=np.uint8) * 4, (48, 1))
    rgba.putalpha(Image.fromarray(alpha))
    out = colorizer.colorize(rgba)
    assert out.mode == "RGBA" and np.array_equal(np.array(out)[..., 3], alpha)
    assert colorizer.colorize(base.convert("LA")).mode == "RGBA"
    sixteen = Image.fromarray(np.array(base.convert("L")).astype(np.uint16) * 257)
    out16 = colorizer.colorize(sixteen)
    assert out16.size == (64, 48)
    assert np.abs(lightness(out16) - lightness(base.convert("L"))).mean() < 0.5
    assert colorizer.colorize(base.convert("P")).mode == "RGB"
    assert colorizer.colorize(base.convert("CMYK")).size == (64, 48)


@pytest.mark.slow
def test_float_images_are_zero_to_one_as_float_arrays_are(colorizer, tmp_path):
    grey = np.array(make_photo(3, (64, 48)).convert("L")) / 255.0
    Image.fromarray(grey.astype(np.float32), "F").save(tmp_path / "float.tif")
    from_file = colorizer.colorize(Image.open(tmp_path / "float.tif"))
    from_array = colorizer.colorize(grey.astype(np.float32))
    assert np.array_equal(np.array(from_file), np.array(from_array))
    reference = make_photo(3, (64, 48)).convert("L")
    assert np.abs(lightness(from_file) - lightness(reference)).mean() < 0.5  # not black


def test_exif_orientation_is_applied(colorizer, tmp_path):
    img = make_photo(4, (40, 20))
    exif = Image.Exif()
    exif[0x0112] = 6  # rotate 90 degrees clockwise to display
    img.save(tmp_path / "rotated.jpg", exif=exif)
    out = colorizer.colorize(Image.open(tmp_path / "rotated.jpg"))
    assert out.size == (20, 40)


@pytest.mark.slow
def test_arrays_in_and_images_out(colorizer):
    grey = np.array(make_photo(5, (50, 40)).convert("L"))
    assert colorizer.colorize(grey).size == (50, 40)
    assert colorizer.colorize(grey.astype(np.float32) / 255).size == (50, 40)
    assert colorizer.colorize(grey.astype(np.uint16) * 257).size == (50, 40)
    with pytest.raises(ColorganError):
        colorizer.colorize(np.zeros((4, 4, 7), np.uint8))


def test_tiny_images_are_refused(colorizer):
    with pytest.raises(BadImage, match="too small"):
        colorizer.colorize(Image.new("L", (1, 1)))


@pytest.mark.slow
def test_a_generator_with_offline_priors_colours_by_them(tmp_path):
    """The priors' outputs reach the generator: the same photo with the priors' outputs
    zeroed comes out in other colours."""
    path = write_generator(tmp_path / "priors.safetensors", {"generator": "fusion"})
    colorizer = Colorizer(TorchEngine(path))
    assert colorizer.engine.priors is not None and colorizer.engine.spec.prior_size == 256
    photo = make_photo(6, (70, 90))
    out = np.array(colorizer.colorize(photo)).astype(int)
    assert out.shape == (90, 70, 3)
    on_l = colorizer.engine.priors.on_l
    colorizer.engine.priors.on_l = lambda l_norm: {k: v * 0 for k, v in on_l(l_norm).items()}
    blind = np.array(colorizer.colorize(photo)).astype(int)
    assert (out != blind).any(-1).mean() > 0.2  # most pixels change (an untrained generator)


@pytest.mark.slow
@pytest.mark.parametrize("keep_l_pixels", [0, compose.KEEP_L_PIXELS])
def test_band_by_band_equals_colouring_the_full_size_l_and_ab(tmp_path, monkeypatch, keep_l_pixels):
    """colorize never holds the full-size ab (nor, for large photos, the full-size L); it must
    give what holding them gives: the photo's own L with the small ab upsampled bilinearly
    (torch's F.interpolate, not the colorizer's own code) to its full size."""
    monkeypatch.setattr(compose, "KEEP_L_PIXELS", keep_l_pixels)

    path = write_generator(tmp_path / "priors.safetensors", {"generator": "fusion"})
    engine = TorchEngine(path, size=64)  # the priors then see another size than the generator
    colorizer = Colorizer(engine)
    photo = make_photo(7, (530, 700))  # 700 rows: bands of 64 and of 32, with remainders
    for source in (photo, photo.convert("L")):
        l_norm = bands.lightness(np.array(source))
        ab = engine.predict_full(l_norm[None, None])[0]
        full = bands.lab_to_uint8(l_norm, ab).astype(int)
        out = np.array(colorizer.colorize(source)).astype(int)
        assert np.abs(out - full).max() <= 1 and (out != full).mean() < 0.01
        assert np.abs(out[..., 0] - out[..., 2]).mean() > 0.5  # and it is not grey


@pytest.mark.slow
def test_colorize_files_streams_a_result_per_input_in_order(colorizer, tmp_path):
    src = tmp_path / "in"
    src.mkdir()
    make_photo(1, (60, 40)).save(src / "a.jpg")
    (src / "b.jpg").write_text("not an image")
    make_photo(2, (50, 50)).convert("RGBA").save(src / "c.jpg.png")
    make_photo(3, (30, 20)).save(src / "d.webp")
    jobs = [(src / n, Path(n)) for n in ("a.jpg", "b.jpg", "c.jpg.png", "d.webp")]
    out = tmp_path / "out"
    results = list(colorizer.colorize_files(jobs, out))
    assert [r.source.name for r in results] == ["a.jpg", "b.jpg", "c.jpg.png", "d.webp"]
    assert results[1].error is not None and "readable" in results[1].error
    assert [r.target.name for r in results if r.error is None] == ["a.jpg", "c.jpg.png", "d.webp"]
    assert Image.open(out / "a.jpg").size == (60, 40)
    assert Image.open(out / "d.webp").size == (30, 20)
    before = (out / "a.jpg").read_bytes()
    again = list(colorizer.colorize_files(jobs[:1], out))
    assert "exists" in again[0].error and (out / "a.jpg").read_bytes() == before
    assert list(colorizer.colorize_files(jobs[:1], out, overwrite=True))[0].error is None


MEMORY_PROBE = r"""
import sys
import numpy as np
from PIL import Image
from colorgan.pipeline import compose
from colorgan.pipeline.colorizer import Colorizer
from colorgan.engines.torch_engine import TorchEngine


def peak():  # this process's own high-water mark (getrusage would count what it was forked from)
    status = open("/proc/self/status").read()
    return int(status.split("VmHWM:")[1].split()[0]) * 1024


compose.KEEP_L_PIXELS = 0  # as for photos over 40 MP: nothing full-size kept but the output
colorizer = Colorizer(TorchEngine(sys.argv[1], precision="fp32"))
side = int(sys.argv[2])
seed = np.random.default_rng(0).integers(0, 256, (32, 32, 3), dtype=np.uint8)
photo = Image.fromarray(seed).resize((side, side), Image.Resampling.BILINEAR)
colorizer.colorize(photo.crop((0, 0, 64, 64)))  # warm up at a small size
before = peak()
out = colorizer.colorize(photo)
print(peak() - before, out.size[0] * out.size[1] * 4)  # Pillow keeps RGB in 4 bytes a pixel
"""


@pytest.mark.subprocess
def test_a_large_photo_costs_little_more_memory_than_its_output(tiny_weights):
    """Nothing full-size but the output: a float L (4 bytes a pixel) or ab (8), or a uint8 array
    beside the output image (3), would each break this bound."""
    import subprocess
    import sys

    run = subprocess.run(
        [sys.executable, "-c", MEMORY_PROBE, str(tiny_weights), "5000"],
        capture_output=True,
        text=True,
        check=True,
    )
    added, output = map(int, run.stdout.split())
    assert added < output * 1.5, f"colorizing 25 MP added {added / 1e6:.0f} MB"
