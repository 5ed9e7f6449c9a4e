import numpy as np
import torch
import torch.nn.functional as F
from skimage.color import rgb2lab

from colorgan.colour import bands
from colorgan.colour.srgb import AB_SCALE
from colorgan.colour.tensors import (
    grey_from_l,
    lab_normalized_to_rgb,
    normalize_l,
    rgb_to_lab,
    rgb_to_lab_normalized,
)


def test_lab_round_trip_is_exact_to_a_fraction_of_a_level():
    rgb = torch.rand(2, 3, 40, 30)
    l_norm, ab = rgb_to_lab_normalized(rgb)
    back = lab_normalized_to_rgb(l_norm, ab)
    assert (back - rgb).abs().max() < 1e-3


def test_lab_matches_scikit_image():
    rgb = np.random.default_rng(0).random((16, 16, 3)).astype(np.float32)
    ours = rgb_to_lab(torch.from_numpy(rgb).permute(2, 0, 1)[None])[0].permute(1, 2, 0).numpy()
    assert np.abs(ours - rgb2lab(rgb)).max() < 0.05


def test_scaling_covers_the_srgb_gamut_inside_minus_one_one():
    # every 8-bit sRGB colour on a coarse grid maps inside [-1, 1], using most of the range
    axis = torch.linspace(0, 1, 18)
    grid = torch.stack(torch.meshgrid(axis, axis, axis, indexing="ij")).reshape(1, 3, -1, 1)
    l_norm, ab = rgb_to_lab_normalized(grid)
    assert l_norm.min() >= -1 - 1e-5 and l_norm.max() <= 1 + 1e-5
    assert ab.abs().max() <= 1.0
    assert ab.abs().max() > 0.9  # the scale (110) wastes little of the tanh range
    assert AB_SCALE == 110.0


def test_grey_from_l_is_neutral_and_keeps_lightness():
    rgb = torch.rand(1, 3, 8, 8)
    l_norm, _ = rgb_to_lab_normalized(rgb)
    grey = grey_from_l(l_norm)
    l_back, ab_back = rgb_to_lab_normalized(grey.expand(-1, 3, -1, -1))
    assert (l_back - l_norm).abs().max() < 2e-3
    assert ab_back.abs().max() < 1e-3


def test_full_resolution_paths_agree_with_kornia():
    rgb = np.random.default_rng(0).integers(0, 256, (150, 203, 3), dtype=np.uint8)  # bands of 32
    x = torch.from_numpy(rgb).permute(2, 0, 1)[None].float() / 255
    l_ref = normalize_l(rgb_to_lab(x)[:, :1])
    l_fast = bands.lightness(rgb)
    assert l_fast.shape == (150, 203) and l_fast.dtype == np.float32
    # the cube root comes from a table: L (0..100) within 0.01, a fortieth of an 8-bit level
    assert np.abs(l_fast - l_ref[0, 0].numpy()).max() * 50 < 0.01
    ab = torch.rand(1, 2, 150, 203) * 2.4 - 1.2  # beyond [-1, 1] too: clamped like the reference
    ref = (lab_normalized_to_rgb(l_ref, ab)[0].clamp(0, 1) * 255).round().byte().permute(1, 2, 0)
    ref = ref.numpy().astype(int)
    fast = bands.lab_to_uint8(l_ref[0, 0].numpy(), ab[0].numpy()).astype(int)
    diff = np.abs(ref - fast)
    assert diff.max() <= 1 and (diff > 0).mean() < 5e-3
    # and end to end from the fast L: still within one level of kornia
    round_trip = bands.lab_to_uint8(l_fast, ab[0].numpy()).astype(int)
    assert np.abs(ref - round_trip).max() <= 1


def test_grey_lightness_matches_the_rgb_path():
    grey = np.random.default_rng(1).integers(0, 256, (37, 41), dtype=np.uint8)
    as_rgb = np.repeat(grey[..., None], 3, 2)
    assert np.array_equal(bands.lightness(grey), bands.lightness(as_rgb))


def test_l_resized_down_band_by_band_equals_resizing_the_full_l():
    rgb = np.random.default_rng(2).integers(0, 256, (1000, 613, 3), dtype=np.uint8)
    full = torch.from_numpy(bands.lightness(rgb))[None, None]
    reads = []

    def read(top: int, rows: int) -> np.ndarray:
        reads.append(rows)
        return rgb[top : top + rows]

    small_ls, full_l = bands.small_lightness(read, 1000, 613, (256, 96), keep=True)
    assert np.array_equal(full_l, full[0, 0].numpy())
    for size, small in zip((256, 96), small_ls, strict=True):
        ref = F.interpolate(
            full, size=(size, size), mode="bilinear", align_corners=False, antialias=True
        )
        assert small.shape == (size, size)
        assert np.abs(small - ref[0, 0].numpy()).max() < 1e-5
    assert max(reads) < 1000 and sum(reads) == 1000  # read in bands, each row once


def test_a_small_ab_resized_band_by_band_equals_the_full_resize():
    torch.manual_seed(0)
    l_norm = (torch.rand(301, 517) * 2 - 1).numpy()
    small = torch.rand(1, 2, 32, 24) * 1.6 - 0.8
    full = F.interpolate(small, size=(301, 517), mode="bilinear", align_corners=False)
    banded = bands.lab_to_uint8(l_norm, small[0].numpy()).astype(int)
    reference = bands.lab_to_uint8(l_norm, full[0].numpy()).astype(int)
    assert np.abs(banded - reference).max() <= 1  # float rounding at most one level
    assert (banded != reference).mean() < 0.001


def test_colourfulness_is_one_formula_on_arrays_and_tensors():
    """Hasler and Suesstrunk's sigma + 0.3 mu, from its definition, on both paths."""
    from colorgan.colour.pixels import colourfulness
    from colorgan.colour.tensors import colourfulness as of_tensors

    rgb = np.random.default_rng(3).integers(0, 256, (40, 50, 3), dtype=np.uint8)
    r, g, b = (rgb[..., i].astype(float) for i in range(3))
    rg, yb = r - g, (r + g) / 2 - b
    expected = np.sqrt(rg.std() ** 2 + yb.std() ** 2) + 0.3 * np.sqrt(
        rg.mean() ** 2 + yb.mean() ** 2
    )
    assert abs(colourfulness(rgb) - expected) < 1e-9
    batch = torch.from_numpy(rgb).permute(2, 0, 1)[None].float()
    assert abs(of_tensors(batch)[0].item() - expected) < 0.05  # torch's variance is unbiased
    assert colourfulness(np.full((8, 8, 3), 128, np.uint8)) == 0.0


def _lab_rgb(luma: np.ndarray, ab: np.ndarray) -> np.ndarray:
    """float64 sRGB (h, w, 3) of the Lab colour with the lightness of each full-range 16-bit
    grey and the ab (2, S, S) upsampled bilinearly, clipped in linear light."""
    from colorgan.colour import srgb

    h, w = luma.shape
    up = F.interpolate(torch.from_numpy(ab)[None].double(), (h, w), mode="bilinear")[0].numpy()
    fy = srgb.lab_f(srgb.to_linear(luma / 65535.0))
    a, b = np.clip(up, -1, 1) * AB_SCALE
    f = np.stack([fy + a / 500, fy, np.maximum(fy - b / 200, 0)], -1)
    linear = (srgb.lab_f_inverse(f) * srgb.WHITE) @ srgb.XYZ_TO_RGB.T
    return srgb.to_srgb(linear.clip(0, 1))


def test_a_frames_planes_are_the_lab_colour_of_its_ab_on_its_own_lightness():
    """colour.planes against float64 Lab -> sRGB, at every pixel (4:4:4, 16 bits, full
    range): the RGB frame and the Y'CbCr planes decode to the Lab colour of each grey's
    lightness and the ab; at 4:2:0 each pixel still keeps the grey's CIE lightness. Saturated
    ab, so the gamut's edge is met; a grey frame's luma passes through untouched."""
    from skimage.color import rgb2lab

    from colorgan.colour import planes

    rng = np.random.default_rng(3)
    yy, xx = np.mgrid[0:40, 0:64]
    luma = (32768 + 30000 * np.sin(xx / 7.0) * np.cos(yy / 5.0)).astype(np.uint16)
    ab = rng.uniform(-0.9, 0.9, (2, 8, 8)).astype(np.float32)
    full = planes.Levels(16, True)
    exact = _lab_rgb(luma.astype(np.float64), ab)
    rgb = planes.rgb_planes(luma, full, (ab, AB_SCALE), 16) / 65535.0
    assert np.abs(rgb - exact).max() < 40 / 65535  # the transfer curve's table
    kr, kb = planes.MATRICES["bt709"]
    y, cb, cr = planes.frame_planes(luma, full, (ab, AB_SCALE), "bt709", full, (0, 0))
    y, cb, cr = y / 65535.0, cb / 65535.0 - 0.5, cr / 65535.0 - 0.5
    r, b = y + (2 - 2 * kr) * cr, y + (2 - 2 * kb) * cb
    decoded = np.stack([r, (y - kr * r - kb * b) / (1 - kr - kb), b], -1)
    assert np.abs(decoded - exact).max() < 80 / 65535
    # 4:2:0, 10-bit limited: the chroma of a 2x2 block, each pixel's lightness its grey's
    ten = planes.Levels(10, False)
    luma10 = (64 + luma / 65535.0 * 876).round().astype(np.uint16)
    y, cb, cr = planes.frame_planes(luma10, ten, (ab * 0.5, AB_SCALE), "bt709", ten, (1, 1))
    assert y.shape == (40, 64) and cb.shape == (20, 32)
    c = [np.kron(p.astype(np.float64) - 512, np.ones((2, 2))) / 896 for p in (cb, cr)]
    y = (y - 64.0) / 876
    r, b = y + (2 - 2 * kr) * c[1], y + (2 - 2 * kb) * c[0]
    g = (y - kr * r - kb * b) / (1 - kr - kb)
    lightness = rgb2lab(np.stack([r, g, b], -1).clip(0, 1))[..., 0]
    grey = rgb2lab(np.repeat(((luma10 - 64.0) / 876)[..., None], 3, -1))[..., 0]
    assert np.abs(lightness - grey).mean() < 0.5  # of 100
    same, _, _ = planes.frame_planes(luma10, ten, (ab * 0, AB_SCALE), "bt709", ten, (1, 1))
    assert np.array_equal(same, luma10)


def test_a_planes_levels_relevel_the_luma_exactly():
    from colorgan.colour import planes

    ten = planes.Levels(10, False)
    luma = np.arange(64, 941, dtype=np.uint16).reshape(1, -1)
    assert planes.relevel(luma, ten, ten) is luma  # the same levels: the plane itself
    eight = planes.relevel(luma, ten, planes.Levels(8, False))
    assert eight.dtype == np.uint8 and eight.min() == 16 and eight.max() == 235
    back = planes.relevel(eight, planes.Levels(8, False), ten)
    assert np.array_equal(back[:, ::4], luma[:, ::4])
    grey = planes.grey8(luma, ten)
    assert grey.min() == 0 and grey.max() == 255 and grey.flags.c_contiguous
