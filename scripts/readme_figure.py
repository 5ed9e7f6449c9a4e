"""Make docs/results.jpg: grey input, colorgan's output and the original, for the examples.

Run from the repository root: `.venv/bin/python scripts/readme_figure.py [--weights FILE]`.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from PIL import Image, ImageDraw
from skimage import data

from colorgan.pipeline import Colorizer

EXAMPLES = ("astronaut", "chelsea", "coffee", "rocket")
HEIGHT = 200


def fit(img: Image.Image) -> Image.Image:
    return img.convert("RGB").resize((round(img.width * HEIGHT / img.height), HEIGHT))


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--weights")
    parser.add_argument("--out", default="docs/results.jpg")
    args = parser.parse_args()
    colorizer = Colorizer(args.weights)
    rows = []
    for name in EXAMPLES:
        grey = Image.open(Path("examples") / f"{name}.jpg")
        original = Image.fromarray(getattr(data, name)())
        rows.append([fit(grey), fit(colorizer.colorize(grey)), fit(original)])
    widths = [max(r[i].width for r in rows) for i in range(3)]
    canvas = Image.new("RGB", (sum(widths) + 40, HEIGHT * len(rows) + 10 * len(rows) + 30), "white")
    draw = ImageDraw.Draw(canvas)
    for i, title in enumerate(("grey input", "colorgan", "original")):
        draw.text((10 + sum(widths[:i]) + 10 * i, 8), title, fill="black")
    for r, row in enumerate(rows):
        for i, img in enumerate(row):
            canvas.paste(img, (10 + sum(widths[:i]) + 10 * i, 30 + r * (HEIGHT + 10)))
    canvas.save(args.out, quality=88)
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
