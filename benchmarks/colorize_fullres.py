"""`colorgan colorize` on 12-megapixel (4000x3000) JPEGs: seconds per stage and peak memory.

Run: `.venv/bin/python benchmarks/colorize_fullres.py [--images 3]`. Each stage is timed on
its own, in the order the pipeline runs them, after one warm-up image; peak memory is the
process's maximum resident set size.
"""

from __future__ import annotations

import argparse
import resource
import tempfile
import time
from pathlib import Path

import numpy as np
import torch
from PIL import Image

from colorgan.color import lab_normalized_to_uint8, lightness_from_uint8
from colorgan.data import open_image, to_rgb
from colorgan.pipeline import Colorizer


def make_jpeg(path: Path, seed: int) -> None:
    """A 4000x3000 photo-like JPEG: an example photo upscaled, plus fine noise."""
    examples = sorted(Path(__file__).resolve().parents[1].glob("examples/*.jpg"))
    base = Image.open(examples[seed % len(examples)]).convert("RGB").resize((4000, 3000))
    noise = np.random.default_rng(seed).normal(0, 4, (3000, 4000, 3))
    arr = np.clip(np.asarray(base, dtype=np.float32) + noise, 0, 255).astype(np.uint8)
    Image.fromarray(arr).save(path, quality=90)


def run(colorizer: Colorizer, path: Path, out: Path) -> dict[str, float]:
    times: dict[str, float] = {}

    def tick(name: str, start: float) -> float:
        now = time.perf_counter()
        times[name] = now - start
        return now

    t = time.perf_counter()
    image = open_image(path)
    rgb = np.array(to_rgb(image))
    t = tick("decode", t)
    with torch.inference_mode():
        l_norm = lightness_from_uint8(torch.from_numpy(rgb))
        t = tick("rgb to L (full res)", t)
        ab = colorizer.predict_ab(l_norm)  # as Colorizer.colorize_rgb calls it
        t = tick("predict ab (downsample, priors, generator, upsample)", t)
        result = lab_normalized_to_uint8(l_norm, ab).numpy()
        t = tick("Lab to RGB (full res)", t)
    Image.fromarray(result).save(out, quality=95)
    tick("encode", t)
    return times


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--images", type=int, default=3)
    args = parser.parse_args()
    colorizer = Colorizer(precision="fp32")
    with tempfile.TemporaryDirectory() as tmp:
        paths = [Path(tmp) / f"photo{i}.jpg" for i in range(args.images + 1)]
        for i, p in enumerate(paths):
            make_jpeg(p, i)
        run(colorizer, paths[0], Path(tmp) / "warmup.jpg")
        rows = [run(colorizer, p, Path(tmp) / f"out{i}.jpg") for i, p in enumerate(paths[1:])]
        start = time.perf_counter()
        for i, p in enumerate(paths[1:]):
            colorizer.colorize(open_image(p)).save(Path(tmp) / f"api{i}.jpg", quality=95)
        whole = (time.perf_counter() - start) / args.images
    peak_gb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024**2
    print(f"4000x3000 JPEG, {args.images} images, {torch.get_num_threads()} threads, fp32")
    print("| stage | seconds per image |\n|---|---|")
    for name in rows[0]:
        print(f"| {name} | {np.mean([r[name] for r in rows]):.3f} |")
    print(f"| total of stages | {np.mean([sum(r.values()) for r in rows]):.3f} |")
    print(f"| Colorizer.colorize + save, end to end | {whole:.3f} |")
    print(f"peak resident memory: {peak_gb:.2f} GB")


if __name__ == "__main__":
    main()
