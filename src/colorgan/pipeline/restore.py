"""Old prints restored before colour: scratches, cracks, dust, spots and tears found and filled,
faded levels recovered, grain reduced where it is grain. numpy and OpenCV, no torch.

1. **Found**: the engine's damage network (models.damage, `Engine.damage`) marks damaged
   places on the photo's grey, in tiles of TILE pixels that overlap by MARGIN (only each
   tile's middle is kept), so any photo is seen at bounded memory. A photo larger than
   WORK_PIXELS is looked at reduced to that size (a 12 MP scan's scratches are several pixels
   wide) and the mask enlarged back.
2. **Filled**: the marked places, widened by GROW pixels (the soft rim of a mark), filled by
   OpenCV's inpainting (Telea's; `Repair` names the alternatives study 29 weighed) on the
   full-resolution grey; the rest of the photo is kept as it was, bit for bit.
3. **Levels**: an old print (one with damage found on at least LEAST of it, or grain) whose
   darkest and lightest
   tones are both pulled in (its 0.5th percentile above FADED_LOW and its 99.5th below
   FADED_HIGH) is stretched back to a photo's typical range. A photo with neither damage nor grain
   is left alone, however low its contrast: a clean photo must come out as it went in.
4. **Grain**: where the photo's noise (Immerkaer's estimate, on its flattest tenth, clipped
   places left out) is above GRAIN, OpenCV's non-local means removes about that much, which
   keeps edges and texture (it averages only patches that look alike).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PIL import Image

from colorgan.pipeline.settings import Settings

TILE = 512  # the side of a tile the network sees (a multiple of SIDES)
SIDES = 16  # a tile's side is a multiple of this: the network's coarsest stage is 1/16
MARGIN = 32  # tiles overlap by this much; only each tile's middle is kept
WORK_PIXELS = 4_000_000  # larger photos are looked at reduced to this many pixels
THRESHOLD = 2.0  # a place is damaged where the network's logit is above this
GROW = 1  # the mask is widened by this many pixels before filling
FILL_RADIUS = 3  # Telea's neighbourhood, in pixels
FADED_LOW, FADED_HIGH = 24.0, 232.0  # a print is faded where both ends are pulled in past these
# where a faded print's ends are put back: the training photos' median 0.5th and 99.5th
# percentiles of lightness (250 of them, drawn evenly)
TYPICAL_LOW, TYPICAL_HIGH = 11.0, 241.0
GRAIN = 4.0  # noise above this many grey levels is taken for grain
LEAST = 0.003  # damage found on less of a photo than this is taken for none: nothing filled

Damage = Callable[[np.ndarray], np.ndarray]  # grey tiles (B, 1, T, T) in 0..1 -> (B, 2, T, T)


@dataclass
class Restored:
    """A restored grey photo and where it was damaged ("L", 255 where filled)."""

    grey: Image.Image
    mask: Image.Image


@dataclass(frozen=True)
class Repair:
    """How found damage is repaired: where the logit is above `threshold`, the mask grown by
    `grow` pixels, filled by `fill` ("telea" or "ns", OpenCV's inpaintings, or "learned", the
    network's own); a photo with damage found on less than `least` of it is left as it is (a
    clean photo's few doubtful places are no reason to touch it). Study 29 chose the defaults
    on validation photos."""

    threshold: float = THRESHOLD
    grow: int = GROW
    fill: str = "telea"
    least: float = LEAST


def restore_grey(grey: Image.Image, damage: Damage, repair: Repair = Repair()) -> Restored:
    """A grey photo ("L", any size) restored as the module says."""
    plane = np.asarray(grey)
    return repaired(plane, network_output(plane, damage), repair)


def repaired(plane: np.ndarray, found: np.ndarray, repair: Repair) -> Restored:
    """A grey plane (uint8) repaired from the network's output at its size (logit and learned
    fill, (2, H, W)), its levels and grain seen to."""
    import cv2

    mask = damage_mask(found, repair)
    filled = plane
    if mask.any() and repair.fill == "learned":
        filled = np.where(mask, np.clip(np.round(found[1] * 255), 0, 255), plane).astype(np.uint8)
    elif mask.any():
        filled = inpainted(plane, mask, repair.fill)
    sigma = noise_level(filled)
    if mask.any() or sigma > GRAIN:
        filled = levels(filled)
    if sigma > GRAIN:
        filled = cv2.fastNlMeansDenoising(filled, None, h=1.1 * sigma, templateWindowSize=5)
    return Restored(Image.fromarray(filled), Image.fromarray(mask.astype(np.uint8) * 255))


def damage_mask(found: np.ndarray, repair: Repair) -> np.ndarray:
    """Where the network's output (logit and learned fill, (2, H, W)) says a plane is
    damaged, as `repair` takes it: above its threshold, grown by its rim; nowhere where too
    little of the plane is (bool (H, W))."""
    import cv2

    mask = found[0] > repair.threshold
    if mask.mean() < repair.least:
        mask[:] = False
    if repair.grow:
        kernel = np.ones((2 * repair.grow + 1,) * 2, np.uint8)
        mask = cv2.dilate(mask.astype(np.uint8), kernel) > 0
    return mask


def inpainted(plane: np.ndarray, mask: np.ndarray, fill: str = "telea") -> np.ndarray:
    """A plane (uint8, or uint16: a film's deep luma) with its `mask` filled by OpenCV's
    inpainting from around it ("telea" or "ns"), at its own depth."""
    import cv2

    method = cv2.INPAINT_TELEA if fill == "telea" else cv2.INPAINT_NS
    return cv2.inpaint(plane, mask.astype(np.uint8), FILL_RADIUS, method)


def restore_image(pixels: Image.Image, damage: Damage) -> Restored:
    """A prepared photo (8-bit "L" or "RGB") restored, grey or colour as it was: a colour
    photo's luma restored, and its chroma filled where the luma was."""
    if pixels.mode == "L":
        return restore_grey(pixels, damage)
    luma, *chroma = pixels.convert("YCbCr").split()
    restored = restore_grey(luma, damage)
    mask = np.asarray(restored.mask) > 0
    if mask.any():
        chroma = [Image.fromarray(inpainted(np.asarray(c), mask)) for c in chroma]
    colour = Image.merge("YCbCr", (restored.grey, *chroma)).convert("RGB")
    return Restored(colour, restored.mask)


def restore_prepared(good: list, requests: Sequence, damage: Damage) -> tuple[list, dict]:
    """Prepared photos ((index, pixels, alpha), as base.images.prepare_images gives them)
    whose requests ask it restored: their grey in place of their pixels (the colour comes
    from lightness); and the damage masks by index, where asked."""
    from colorgan.colour.pixels import grey_of

    out, masks = [], {}
    for i, pixels, alpha in good:
        settings = requests[i].settings
        if settings.restore:
            restored = restore_grey(grey_of(pixels), damage)
            pixels = restored.grey
            if settings.restore_mask:
                masks[i] = restored.mask
        out.append((i, pixels, alpha))
    return out, masks


def network_output(plane: np.ndarray, damage: Damage) -> np.ndarray:
    """The network's logit and learned fill (0..1) for a grey plane (uint8 (H, W)), at its
    size: (2, H, W)."""
    import cv2

    h, w = plane.shape
    scale = min(1.0, (WORK_PIXELS / (h * w)) ** 0.5)
    work = plane
    if scale < 1:
        size = (max(8, round(w * scale)), max(8, round(h * scale)))
        work = cv2.resize(plane, size, interpolation=cv2.INTER_AREA)
    out = _tiled(work.astype(np.float32) / 255.0, damage)
    if scale < 1:
        out = np.stack([cv2.resize(p, (w, h), interpolation=cv2.INTER_LINEAR) for p in out])
    return out


def _tiled(plane: np.ndarray, damage: Damage) -> np.ndarray:
    """The network's output (2, H, W) for a plane of any size, from the middles of
    overlapping tiles."""
    h, w = plane.shape
    side = min(TILE, _whole(max(h, w) + 2 * MARGIN))
    step = side - 2 * MARGIN
    padded = np.pad(plane, ((MARGIN, side), (MARGIN, side)), mode="reflect")
    out = np.zeros((2, h, w), np.float32)
    corners = [(y, x) for y in range(0, h, step) for x in range(0, w, step)]
    for k in range(0, len(corners), 4):  # a few tiles a run: memory stays bounded
        batch = corners[k : k + 4]
        tiles = np.stack([padded[y : y + side, x : x + side] for y, x in batch])[:, None]
        for (y, x), tile_out in zip(batch, damage(tiles), strict=True):
            middle = tile_out[:, MARGIN : MARGIN + step, MARGIN : MARGIN + step]
            out[:, y : y + step, x : x + step] = middle[:, : h - y, : w - x]
    return out


def _whole(n: int) -> int:
    """n rounded up to a whole number of SIDES."""
    return -(-n // SIDES) * SIDES


def levels(plane: np.ndarray) -> np.ndarray:
    """A faded print's levels stretched to the full range; a photo whose darkest or
    lightest tones reach the ends as it is."""
    low, high = np.percentile(plane, (0.5, 99.5))
    if low <= FADED_LOW or high >= FADED_HIGH or high - low < 16:
        return plane
    spread = (TYPICAL_HIGH - TYPICAL_LOW) / (high - low)
    table = np.clip(TYPICAL_LOW + (np.arange(256) - low) * spread, 0, 255)
    return np.round(table).astype(np.uint8)[plane]


def noise_level(plane: np.ndarray) -> float:
    """Immerkaer's estimate of the noise's standard deviation (grey levels), over the
    flattest tenth of the photo's 8x8 blocks (texture would count as noise) that are not
    clipped black or white (where no noise survives)."""
    import cv2

    kernel = np.array([[1, -2, 1], [-2, 4, -2], [1, -2, 1]], np.float32)
    response = np.abs(cv2.filter2D(plane.astype(np.float32), -1, kernel))[1:-1, 1:-1]
    h, w = (s // 8 * 8 for s in response.shape)
    if h == 0 or w == 0:
        return 0.0
    blocks = response[:h, :w].reshape(h // 8, 8, w // 8, 8).mean((1, 3)).ravel()
    inner = plane[1 : h + 1, 1 : w + 1].reshape(h // 8, 8, w // 8, 8).mean((1, 3)).ravel()
    blocks = blocks[(inner > 12) & (inner < 243)]
    if not len(blocks):
        return 0.0
    flattest = np.sort(blocks)[: max(1, len(blocks) // 10)]
    return float(np.sqrt(np.pi / 2) * flattest.mean() / 6)


def restore_files(
    colorizer,  # a pipeline.colorizer.Colorizer: its engine's network
    jobs: Sequence[tuple[Path, Path]],
    out_dir: Path,
    settings: Settings | None = None,
    *,
    overwrite: bool = False,
    progress: bool = False,
) -> Iterator:
    """`Colorizer.colorize_files`'s counterpart for `colorgan restore`: each photo restored
    (no colour added), its damage mask beside it where `settings.restore_mask` asks."""
    from colorgan.pipeline.batch import colorize_files
    from colorgan.pipeline.request import Request

    settings = settings or Settings()
    items = [(Request(Path(src), settings), rel) for src, rel in jobs]

    def restore(images: list, requests: list) -> list:
        out = []
        for image in images:
            restored = colorizer.restore(image)
            mask = {"damage": restored.mask} if settings.restore_mask else {}
            out.append((restored.grey, mask) if mask else restored.grey)
        return out

    return colorize_files(restore, items, out_dir, settings.photo_batch, overwrite, progress)
