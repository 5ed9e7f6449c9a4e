"""docs/references.jpg: reference photos at work, one photo a row: grey | the reference (another
crop of the true colour photo, flipped) | colorgan with it | colorgan without | original.

Run: `.venv/bin/python scripts/figures/reference_figure.py [--eval FOLDER] [--seed 1]`. The
photos are drawn from the held-out photos by the seed, not picked; the light engine, the
bundled default.
"""

from __future__ import annotations

import argparse
import io
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw

from colorgan.base.files import atomic_write_bytes
from colorgan.base.images import find_images, load_rgb
from colorgan.pipeline.colorizer import Colorizer

ROOT = Path(__file__).resolve().parents[2]
CELL = 200
TITLES = ("grey", "reference", "with it", "without", "original")


def row(colorizer: Colorizer, photo: np.ndarray, rng: np.random.Generator) -> list[Image.Image]:
    original = Image.fromarray(photo)
    w, h = original.size
    side = np.sqrt(0.6)
    x, y = int(rng.integers(0, w - w * side + 1)), int(rng.integers(0, h - h * side + 1))
    crop = original.crop((x, y, x + int(w * side), y + int(h * side)))
    crop = crop.transpose(Image.Transpose.FLIP_LEFT_RIGHT)
    grey = original.convert("L")
    with_ref = colorizer.colorize(grey, references=[crop])
    return [grey, crop, with_ref, colorizer.colorize(grey), original]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--eval", type=Path, default=ROOT.parent / "shared/datasets/eval")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--photos", type=int, default=3)
    args = parser.parse_args()
    paths = find_images(args.eval)
    rng = np.random.default_rng(args.seed)
    chosen = sorted(rng.choice(len(paths), args.photos, replace=False))
    colorizer = Colorizer()
    header = 18
    grid = Image.new("RGB", (CELL * len(TITLES), header + CELL * len(chosen)), "white")
    draw = ImageDraw.Draw(grid)
    for c, title in enumerate(TITLES):
        draw.text((c * CELL + 4, 3), title, fill="black")
    for r, index in enumerate(chosen):
        photo = load_rgb(paths[index], 256, reduced=False)
        for c, tile in enumerate(row(colorizer, photo, rng)):
            tile = tile.convert("RGB")
            tile.thumbnail((CELL, CELL))
            grid.paste(tile, (c * CELL + (CELL - tile.width) // 2, header + r * CELL))
    encoded = io.BytesIO()
    grid.save(encoded, "JPEG", quality=88)
    atomic_write_bytes(ROOT / "docs" / "references.jpg", encoded.getvalue())
    print(f"wrote docs/references.jpg ({grid.width}x{grid.height}), photos {list(chosen)}")


if __name__ == "__main__":
    main()
