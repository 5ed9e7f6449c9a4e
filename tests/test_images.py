import numpy as np
import pytest
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


def broken_exif_jpeg(path) -> None:
    """A JPEG whose EXIF names a description past its end: Pillow reads it, and warns."""
    import io
    import struct

    exif = Image.Exif()
    exif[0x010E] = "a description long enough to be stored apart"
    exif[0x0112] = 6
    buffer = io.BytesIO()
    make_photo(1, (64, 48)).save(buffer, "JPEG", exif=exif.tobytes())
    data = bytearray(buffer.getvalue())
    tiff = data.index(b"Exif\0\0") + 6
    order = "<" if data[tiff : tiff + 2] == b"II" else ">"
    entry = tiff + 10  # the first entry: the description, its value's offset after 8 bytes
    data[entry + 8 : entry + 12] = struct.pack(order + "I", 60_000)
    path.write_bytes(bytes(data))


def palette_with_byte_transparency(path) -> None:
    """A palette PNG whose transparency is given in bytes: Pillow converts it, and warns."""
    photo = Image.new("P", (32, 24))
    photo.putpalette([i % 256 for i in range(768)])
    photo.save(path, transparency=bytes(10))


@pytest.mark.parametrize(
    "name, make", [("exif.jpg", broken_exif_jpeg), ("palette.png", palette_with_byte_transparency)]
)
def test_pillows_warnings_are_no_lines_of_colorgans(tmp_path, capfd, name, make):
    """Pillow's "Truncated File Read" (damaged EXIF) and its word on a palette's transparency
    are no messages of colorgan's: the photo decodes, and neither Python nor the command
    prints a warning."""
    import warnings

    from colorgan.apps.cli import main
    from colorgan.base.images import prepare_image, upright_size

    path = tmp_path / name
    make(path)
    with warnings.catch_warnings(record=True) as said:
        warnings.simplefilter("always")
        assert open_image(path).size == upright_size(path)
        prepare_image(open_image(path))
    assert not said, [str(w.message) for w in said]
    args = ["colorize", str(path), "--out", str(tmp_path / "out"), "--engine", "onnx", "-q"]
    assert main(args) == 0
    assert "Warning" not in capfd.readouterr().err
