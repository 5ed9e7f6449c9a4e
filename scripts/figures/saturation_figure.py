"""docs/saturation.jpg: two bundled example photos at five colour intensities (--saturation).

Run: `.venv/bin/python scripts/figures/saturation_figure.py`. The light engine, the bundled default.
"""

from __future__ import annotations

from pathlib import Path

from PIL import Image, ImageDraw

from colorgan.base.files import atomic_file
from colorgan.engines.onnx_engine import OnnxEngine
from colorgan.pipeline.colorizer import Colorizer

ROOT = Path(__file__).resolve().parents[2]
LEVELS = (0.0, 0.5, 1.0, 1.5, 2.0)


def main() -> None:
    photos = [Image.open(ROOT / "examples" / name) for name in ("chelsea.jpg", "coffee.jpg")]
    cell_w, cell_h, header = 240, 160, 18
    sheet = Image.new("RGB", (cell_w * len(LEVELS), header + cell_h * len(photos)), "white")
    draw = ImageDraw.Draw(sheet)
    colorizer = Colorizer(OnnxEngine())
    for c, level in enumerate(LEVELS):
        draw.text((c * cell_w + 6, 3), f"--saturation {level}", fill="black")
        for r, photo in enumerate(photos):
            tile = colorizer.colorize(photo, saturation=level)
            tile = tile.resize((cell_w, cell_h), Image.Resampling.LANCZOS)
            sheet.paste(tile, (c * cell_w, header + r * cell_h))
    with atomic_file(ROOT / "docs" / "saturation.jpg") as tmp:
        sheet.save(tmp, format="JPEG", quality=90)


if __name__ == "__main__":
    main()
