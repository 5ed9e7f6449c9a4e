"""Synthetic damage for teaching a network to find it: what old prints suffer, drawn at random
over clean photos, with the mask of what was drawn.

There is no labelled set of real damaged prints here, so the damage is varied widely rather
than modelled closely (Wan et al. train their scratch detector on synthetic scratches too):
every element is drawn on an alpha plane at four times the photo's size and reduced (so its
width may be a fraction of a pixel), softened by a blur, and laid over the photo towards a
value of its own (bright, where the emulsion is gone and the paper shows; dark, where dirt or
a deep scratch holds shadow). The elements, each with its count, size, strength and shape
drawn from wide ranges:

- scratches: long smooth curves, 0.3 to 4 px wide (more on larger photos), their strength
  varying along them; some nearly straight and vertical, as on film;
- cracks: branching random walks of short jagged steps (an emulsion's craquelure);
- hairs and fibres: short curls;
- dust and spots: hundreds of specks of a fraction of a pixel to several pixels, round or
  irregular;
- blobs: larger irregular stains, opaque or half so;
- tears and torn corners: a jagged region cut from an edge or a corner, paper-white or dark.

Besides local damage, a print fades (levels pulled in, a gamma), grows grain (noise whose
strength follows lightness, a little correlated), blurs and is saved as a JPEG; these change
every pixel and are not in the mask (the restorer treats them photo-wide). Everything is
drawn from one `numpy.random.Generator`, so a seed gives the same damage on any machine.
"""

from __future__ import annotations

import io
from dataclasses import dataclass

import cv2
import numpy as np
from PIL import Image

SUPER = 4  # elements are drawn at this multiple of the photo's size, then reduced
SHIFT = 2  # fixed-point bits cv2's drawing functions take for sub-pixel coordinates
SEEN = 8.0  # a pixel the damage changed by more than this many grey levels is in the mask


@dataclass
class Damaged:
    """A photo damaged: `damaged` (what a scan shows), `mask` (where local damage changed it
    visibly), `unmarked` (the same photo faded, grainy and compressed alike but without the
    local damage: what filling the mask should give) and `clean` (the photo as it was)."""

    damaged: np.ndarray  # uint8 (H, W)
    mask: np.ndarray  # bool (H, W)
    unmarked: np.ndarray  # uint8 (H, W)
    clean: np.ndarray  # uint8 (H, W)


class Canvas:
    """Alpha and target value planes at SUPER times the photo's size; elements painted onto
    them, the later over the earlier."""

    def __init__(self, height: int, width: int) -> None:
        self.shape = (height * SUPER, width * SUPER)
        self.alpha = np.zeros(self.shape, np.float32)
        self.value = np.zeros(self.shape, np.float32)

    def paint(self, stroke: np.ndarray, strength: np.ndarray | float, value: float) -> None:
        """Lay `stroke` (0..1 coverage, the canvas's shape) at `strength` towards `value`,
        over what is there."""
        a = stroke * strength
        below = self.alpha * (1 - a)
        self.alpha = below + a
        self.value = (self.value * below + value * a) / np.maximum(self.alpha, 1e-6)

    def reduced(self, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
        """(alpha, value) at the photo's size, softened by a blur of a random width."""
        h, w = self.shape[0] // SUPER, self.shape[1] // SUPER
        alpha = cv2.resize(self.alpha, (w, h), interpolation=cv2.INTER_AREA)
        weighted = cv2.resize(self.alpha * self.value, (w, h), interpolation=cv2.INTER_AREA)
        value = weighted / np.maximum(alpha, 1e-6)
        sigma = float(rng.choice([0.0, 0.0, rng.uniform(0.3, 1.2)]))
        if sigma > 0:
            alpha = cv2.GaussianBlur(alpha, (0, 0), sigma)
        return np.clip(alpha, 0, 1), value


def _value(rng: np.random.Generator, bright: float = 0.7) -> float:
    """A damage element's own grey: paper-bright, or dirt-dark."""
    if rng.random() < bright:
        return float(rng.uniform(200, 255))
    return float(rng.uniform(0, 60))


def _polyline(canvas: Canvas, points: np.ndarray, width: float) -> np.ndarray:
    """A stroke along `points` (photo pixels) `width` pixels wide, anti-aliased."""
    stroke = np.zeros(canvas.shape, np.uint8)
    scaled = np.round(points * SUPER * (1 << SHIFT)).astype(np.int32)
    thickness = max(1, int(round(width * SUPER)))
    cv2.polylines(stroke, [scaled], False, 255, thickness, cv2.LINE_AA, SHIFT)
    return stroke.astype(np.float32) / 255.0


def _curve(rng: np.random.Generator, h: int, w: int, length: float, bend: float) -> np.ndarray:
    """A smooth random curve of about `length` pixels: a heading that wanders by `bend`."""
    steps = max(8, int(length / 4))
    start = rng.uniform([0, 0], [w, h])
    if rng.random() < 0.3:  # film-like: nearly vertical
        heading = np.pi / 2 + rng.normal(0, 0.05)
    else:
        heading = rng.uniform(0, 2 * np.pi)
    turns = np.cumsum(rng.normal(0, bend, steps))
    angles = heading + turns
    step = length / steps
    moves = np.stack([np.cos(angles), np.sin(angles)], 1) * step
    return start + np.concatenate([[[0, 0]], np.cumsum(moves, 0)])


def scratches(canvas: Canvas, rng: np.random.Generator, scale: float) -> None:
    h, w = canvas.shape[0] // SUPER, canvas.shape[1] // SUPER
    for _ in range(rng.poisson(rng.uniform(0.5, 6))):
        length = rng.uniform(0.15, 1.3) * np.hypot(h, w)
        points = _curve(rng, h, w, length, rng.uniform(0.0, 0.08))
        width = float(np.exp(rng.uniform(np.log(0.3), np.log(3.0)))) * scale
        stroke = _polyline(canvas, points, width)
        along = _smooth_noise(rng, canvas.shape, rng.uniform(8, 60) * SUPER * scale)
        strength = rng.uniform(0.35, 1.0) * np.clip(0.4 + along, 0, 1)
        canvas.paint(stroke, strength, _value(rng, 0.75))


def cracks(canvas: Canvas, rng: np.random.Generator, scale: float) -> None:
    h, w = canvas.shape[0] // SUPER, canvas.shape[1] // SUPER
    for _ in range(rng.poisson(rng.uniform(0, 3))):
        value, width = _value(rng, 0.8), float(rng.uniform(0.4, 1.8)) * scale
        strength = rng.uniform(0.5, 1.0)
        stack = [(rng.uniform([0, 0], [w, h]), rng.uniform(0, 2 * np.pi), 0)]
        while stack:
            point, heading, depth = stack.pop()
            points = [point]
            for _ in range(int(rng.integers(4, 30))):
                heading += rng.normal(0, 0.6)
                point = point + rng.uniform(2, 9) * scale * np.array(
                    [np.cos(heading), np.sin(heading)]
                )
                points.append(point)
                if depth < 3 and rng.random() < 0.08:
                    stack.append(
                        (point, heading + rng.choice([-1, 1]) * rng.uniform(0.5, 1.4), depth + 1)
                    )
            canvas.paint(_polyline(canvas, np.array(points), width), strength, value)


def hairs(canvas: Canvas, rng: np.random.Generator, scale: float) -> None:
    h, w = canvas.shape[0] // SUPER, canvas.shape[1] // SUPER
    for _ in range(rng.poisson(rng.uniform(0, 2))):
        points = _curve(rng, h, w, rng.uniform(10, 60) * scale, rng.uniform(0.15, 0.5))
        width = float(rng.uniform(0.3, 1.2)) * scale
        canvas.paint(_polyline(canvas, points, width), rng.uniform(0.5, 1.0), _value(rng, 0.4))


def specks(canvas: Canvas, rng: np.random.Generator, scale: float) -> None:
    """Dust and spots: many small marks, round or irregular, bright ones and dark ones, each
    of its own strength."""
    h, w = canvas.shape[0] // SUPER, canvas.shape[1] // SUPER
    count = int(rng.poisson(rng.uniform(0, 120) * (h * w) / 256**2))
    bright = rng.random(count) < 0.6
    for group in (bright, ~bright):
        stroke = np.zeros(canvas.shape, np.uint8)
        for _ in range(int(group.sum())):
            centre = tuple(int(c) for c in rng.uniform([0, 0], [w, h]) * SUPER)
            radius = float(np.exp(rng.uniform(np.log(0.35), np.log(4.0)))) * scale * SUPER
            axes = (max(1, int(radius)), max(1, int(radius * rng.uniform(0.4, 1.0))))
            shade = int(rng.uniform(0.5, 1.0) * 255)
            cv2.ellipse(stroke, centre, axes, rng.uniform(0, 180), 0, 360, shade, -1, cv2.LINE_AA)
        if group.any():
            value = float(rng.uniform(200, 255) if group is bright else rng.uniform(0, 60))
            canvas.paint(stroke.astype(np.float32) / 255.0, 1.0, value)


def blobs(canvas: Canvas, rng: np.random.Generator, scale: float) -> None:
    """Larger irregular stains: a thresholded patch of smooth noise."""
    for _ in range(rng.poisson(rng.uniform(0, 1.2))):
        size = rng.uniform(6, 30) * scale * SUPER
        noise = _smooth_noise(rng, canvas.shape, size)
        h, w = canvas.shape
        cy, cx = rng.uniform(0, h), rng.uniform(0, w)
        yy, xx = np.ogrid[:h, :w]
        falloff = np.exp(-(((yy - cy) ** 2 + (xx - cx) ** 2) / (2 * (size * 1.5) ** 2)))
        stroke = np.clip((noise + falloff - 0.9) * 4, 0, 1).astype(np.float32)
        canvas.paint(stroke, rng.uniform(0.4, 1.0), _value(rng, 0.6))


def tears(canvas: Canvas, rng: np.random.Generator, scale: float) -> None:
    """A jagged piece missing from an edge or a corner (the print torn), or a torn band."""
    h, w = canvas.shape
    if rng.random() > 0.25:
        return
    corner = np.array([rng.choice([0, w]), rng.choice([0, h])], float)
    reach = rng.uniform(0.08, 0.35) * min(h, w)
    angles = np.linspace(0, np.pi / 2, 24)
    jag = reach * (1 + rng.normal(0, 0.12, len(angles)))
    sx, sy = (1 if corner[0] == 0 else -1), (1 if corner[1] == 0 else -1)
    rim = np.stack(
        [corner[0] + sx * jag * np.cos(angles), corner[1] + sy * jag * np.sin(angles)], 1
    )
    if rng.random() < 0.5:  # along one edge rather than across the corner
        rim[:, 0] = corner[0] + sx * rng.uniform(0.02, 0.12) * w * (
            1 + rng.normal(0, 0.2, len(rim))
        )
    polygon = np.concatenate([[corner], rim]).astype(np.int32)
    stroke = np.zeros(canvas.shape, np.uint8)
    cv2.fillPoly(stroke, [polygon], 255, cv2.LINE_AA)
    canvas.paint(stroke.astype(np.float32) / 255.0, 1.0, _value(rng, 0.7))


ELEMENTS = (scratches, cracks, hairs, specks, blobs, tears)


def _smooth_noise(rng: np.random.Generator, shape: tuple[int, int], size: float) -> np.ndarray:
    """Noise in [0, 1] smooth over about `size` pixels (drawn small, enlarged)."""
    small = (max(2, int(shape[1] / size)), max(2, int(shape[0] / size)))
    grid = rng.random((small[1], small[0])).astype(np.float32)
    return cv2.resize(grid, (shape[1], shape[0]), interpolation=cv2.INTER_CUBIC).clip(0, 1)


def fade(grey: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """A faded print: black lifted, white dimmed, a gamma (float, 0..255)."""
    low, high = rng.uniform(10, 90), rng.uniform(165, 250)
    gamma = float(np.exp(rng.uniform(np.log(0.75), np.log(1.35))))
    return low + (high - low) * (grey / 255.0) ** gamma


def grain(grey: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Film grain: noise strongest in the middle greys, a little correlated."""
    sigma = rng.uniform(2, 12)
    noise = rng.normal(0, 1, grey.shape).astype(np.float32)
    noise = cv2.GaussianBlur(noise, (0, 0), rng.uniform(0.4, 1.1))
    noise /= max(float(noise.std()), 1e-6)
    weight = 0.5 + 2.0 * (grey / 255.0) * (1 - grey / 255.0)
    return grey + sigma * weight * noise


def _jpeg(grey: np.ndarray, quality: int) -> np.ndarray:
    buffer = io.BytesIO()
    Image.fromarray(grey).save(buffer, "JPEG", quality=quality)
    return np.asarray(Image.open(buffer).convert("L"))


def damage(
    clean: np.ndarray, rng: np.random.Generator, local: float = 0.8, worn: float = 0.4
) -> Damaged:
    """`clean` (uint8 grey (H, W)) damaged at random: local damage with probability `local`
    (some photos stay clean, so that a detector learns to leave them alone), fading and
    grain with probability `worn` each."""
    h, w = clean.shape
    base = clean.astype(np.float32)
    if rng.random() < worn:
        base = fade(base, rng)
    canvas = Canvas(h, w)
    if rng.random() < local:
        scale = min(h, w) / 256 * float(rng.uniform(0.7, 1.6))
        for element in ELEMENTS:
            if rng.random() < 0.6:
                element(canvas, rng, scale)
    alpha, value = canvas.reduced(rng)
    marked = base * (1 - alpha) + value * alpha
    noise_seed = int(rng.integers(1 << 31))
    finish = _finisher(rng, worn)
    damaged, unmarked = (finish(p, np.random.default_rng(noise_seed)) for p in (marked, base))
    mask = (np.abs(marked - base) > SEEN) & (alpha > 0.05)
    return Damaged(damaged, mask, unmarked, clean)


def _finisher(rng: np.random.Generator, worn: float):  # a function of (plane, rng)
    """What happens to the whole print after the marks: grain (with probability `worn`),
    blur, a JPEG (each maybe), the same for the damaged photo and for its unmarked twin."""
    grainy = rng.random() < worn
    blur = float(rng.uniform(0.3, 1.0)) if rng.random() < 0.2 else 0.0
    quality = int(rng.integers(55, 96)) if rng.random() < 0.35 else 0

    def finish(plane: np.ndarray, noise_rng: np.random.Generator) -> np.ndarray:
        if grainy:
            plane = grain(plane, noise_rng)
        if blur:
            plane = cv2.GaussianBlur(plane, (0, 0), blur)
        out = np.clip(np.round(plane), 0, 255).astype(np.uint8)
        return _jpeg(out, quality) if quality else out

    return finish
