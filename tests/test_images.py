import numpy as np
from PIL import Image

from colorgan.base.images import find_images, load_rgb, open_image
from tests.conftest import make_photo


def test_find_images_is_recursive_and_filters_extensions(photo_dir):
    (photo_dir / "notes.txt").write_text("not an image")
    Image.new("RGB", (20, 20), (200, 10, 10)).save(photo_dir / "sub" / "x.webp")
    found = find_images(photo_dir)
    assert len(found) == 13
    assert any(p.parent.name == "sub" for p in found)
    assert all(p.suffix in (".jpg", ".png", ".webp") for p in found)


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
