"""`colorgan colorize --engine torch` on 12-megapixel (4000x3000) JPEGs: seconds per stage
and peak memory.

Run: `.venv/bin/python benchmarks/colorize_fullres.py [--images 3]`. Two kinds of photo: grey
JPEGs (what old photos are) and colour JPEGs. Each stage is timed on its own, in the order the
pipeline runs them, after one warm-up image. Then the real command: `colorgan colorize` on one
photo and on all of them, so (all - one) / (n - 1) is the time per photo after start-up; peak
memory is the largest resident set of those processes.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

import numpy as np
import torch
from PIL import Image

from benchmarks.common import colorize_command, run_measured
from colorgan.base.images import open_image, to_8bit
from colorgan.colour.bands import lab_bands, small_lightness
from colorgan.engines.torch_engine import TorchEngine
from colorgan.pipeline.colorizer import Colorizer


def make_jpeg(path: Path, seed: int, grey: bool) -> None:
    """A 4000x3000 photo-like JPEG: an example photo upscaled, plus fine noise."""
    examples = sorted(Path(__file__).resolve().parents[1].glob("examples/*.jpg"))
    base = Image.open(examples[seed % len(examples)]).convert("RGB").resize((4000, 3000))
    noise = np.random.default_rng(seed).normal(0, 4, (3000, 4000, 3))
    arr = np.clip(np.asarray(base, dtype=np.float32) + noise, 0, 255).astype(np.uint8)
    image = Image.fromarray(arr)
    (image.convert("L") if grey else image).save(path, quality=90)


def stages(colorizer: Colorizer, path: Path, out: Path) -> dict[str, float]:
    times: dict[str, float] = {}

    def tick(name: str, start: float) -> float:
        now = time.perf_counter()
        times[name] = now - start
        return now

    t = time.perf_counter()
    pixels = to_8bit(open_image(path))
    t = tick("decode", t)
    w, h = pixels.size

    def read(top: int, rows: int) -> np.ndarray:  # as Colorizer.colorize_batch reads the photo
        return np.asarray(pixels.crop((0, top, w, top + rows)))

    # the steps of Colorizer.colorize_batch's exact Lab path (composition "lab")
    engine = colorizer.engine
    sizes = [engine.spec.size]
    if engine.spec.prior_size not in (None, engine.spec.size):
        sizes.append(engine.spec.prior_size)
    small, full = small_lightness(read, h, w, sizes, keep=True)
    t = tick("L (kept), resized down band by band", t)
    prior = np.stack(small[-1:])[:, None] if engine.spec.prior_size else None
    ab = engine.predict(np.stack(small[:1])[:, None], prior)[0] * colorizer.chroma()
    t = tick("predict ab (priors, generator)", t)
    result = Image.new("RGB", (w, h))
    for top, band in lab_bands(lambda top, n: full[top : top + n], h, w, ab):
        rows = Image.frombuffer("RGB", (w, len(band)), band, "raw", "RGB", 0, 1)
        result.paste(rows, (0, top))
    t = tick("Lab to RGB, into the output image, band by band", t)
    result.save(out, quality=95)
    tick("encode", t)
    return times


PEAKS: list[float] = []


def command_seconds(paths: list[Path], out: Path) -> float:
    """`colorgan colorize --engine torch` (benchmarks/light.py has the light engine)."""
    cmd = colorize_command(paths, out, "torch")
    seconds, peak = run_measured(cmd)
    PEAKS.append(peak)
    return seconds


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--images", type=int, default=3)
    args = parser.parse_args()
    colorizer = Colorizer(TorchEngine(precision="fp32"))
    print(f"4000x3000 JPEG, {args.images} images per kind, {torch.get_num_threads()} threads, fp32")
    print("| stage | grey JPEG (s) | colour JPEG (s) |\n|---|---|---|")
    results: dict[str, dict[str, float]] = {}
    with tempfile.TemporaryDirectory() as tmp:
        for kind in ("grey", "colour"):
            folder = Path(tmp) / kind
            folder.mkdir()
            paths = [folder / f"photo{i}.jpg" for i in range(args.images + 1)]
            for i, p in enumerate(paths):
                make_jpeg(p, i, grey=kind == "grey")
            stages(colorizer, paths[0], Path(tmp) / "warmup.jpg")
            rows = [stages(colorizer, p, Path(tmp) / f"out{i}.jpg") for i, p in enumerate(paths)]
            table = {name: float(np.mean([r[name] for r in rows])) for name in rows[0]}
            table["total of stages"] = float(np.mean([sum(r.values()) for r in rows]))
            one = command_seconds(paths[:1], Path(tmp) / f"{kind}-one")
            every = command_seconds(paths, Path(tmp) / f"{kind}-all")
            table["`colorgan colorize`, per photo after start-up"] = (every - one) / args.images
            table["`colorgan colorize`, start-up + first photo"] = one
            results[kind] = table
    for name in results["grey"]:
        print(f"| {name} | {results['grey'][name]:.3f} | {results['colour'][name]:.3f} |")
    print(f"peak resident memory of the colorgan processes: {max(PEAKS):.2f} GB")


if __name__ == "__main__":
    main()
