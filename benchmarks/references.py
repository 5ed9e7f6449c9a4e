"""Reference photos, measured against the same model without them (the bundled default on the
onnx engine, photos at 256 x 256 as `colorgan evaluate` sees them).

Run: `.venv/bin/python -m benchmarks.references [--eval ../shared/datasets/eval]
[--val-of configs/default.yaml] [--limit N] [--json out.json]`.

1. Same scene: the reference is another crop of the true colour photo (about 60% of its area,
   shifted to a place drawn by a seed, flipped, resized by 0.75 to 1.25): PSNR and mean delta
   E (CIE76) against no reference, over the whole photo and over the part the crop does not
   show; and the harm a colour spread to that part does (study 28): the "blotch share", the
   share of its pixels whose output is further than delta E 10 from the truth while the
   automatic colour was within it, and the mean delta E of those pixels.
2. Matched colour: over the places matched with confidence above 0.5, the share whose output
   is within delta E 10 of the reference's colour there (the true colour, as the crop is of
   the photo itself).
3. Other photos: the reference is another photo of the set; how far the output's ab histogram
   (16 x 16 bins, chi-square) moves from the automatic one's towards the reference's (1: all
   the way, 0: not at all).
4. Films: the clips of benchmarks/video.py (a pan, a zoom, a still shot, exposure flicker)
   over held-out photos, frame 0 given in colour as a key frame: PSNR over the later frames
   and flicker, against automatic (both stabilised, as `colorgan colorize` does films).
5. Cost: a 12 MP grey JPEG through the onnx engine with one reference (a 12 MP colour JPEG)
   against without, `colorgan colorize` process times, per photo after start-up.
"""

from __future__ import annotations

import argparse
import json
import tempfile
from pathlib import Path

import numpy as np
from PIL import Image
from skimage.color import rgb2lab

from benchmarks.common import machine
from benchmarks.light import per_photo
from benchmarks.video import clips, measure, through_the_film
from colorgan.base.images import find_images, load_rgb
from colorgan.pipeline import reference
from colorgan.pipeline.colorizer import Colorizer
from colorgan.pipeline.settings import Settings

ROOT = Path(__file__).resolve().parents[1]
SIZE = 256


def psnr(a: np.ndarray, b: np.ndarray) -> float:
    return float(10 * np.log10(255**2 / ((a.astype(float) - b.astype(float)) ** 2).mean()))


def crop_of(photo: np.ndarray, rng: np.random.Generator) -> tuple[Image.Image, np.ndarray]:
    """About 60% of the photo's area at a drawn place, flipped and resized; and where it is."""
    side = np.sqrt(0.6)
    w, h = int(SIZE * side), int(SIZE * side)
    x, y = int(rng.integers(0, SIZE - w + 1)), int(rng.integers(0, SIZE - h + 1))
    scale = rng.uniform(0.75, 1.25)
    crop = Image.fromarray(photo).crop((x, y, x + w, y + h))
    crop = crop.transpose(Image.Transpose.FLIP_LEFT_RIGHT).resize((int(w * scale), int(h * scale)))
    seen = np.zeros((SIZE, SIZE), bool)
    seen[y : y + h, x : x + w] = True
    return crop, seen


def confidence_at_photo(colorizer: Colorizer, grey: Image.Image, ref: Image.Image) -> np.ndarray:
    """The matching's confidence at each pixel of the 256-px photo."""
    [encoded] = colorizer.encode([ref])
    square = reference.lightness_square(grey)
    query, _ = colorizer.engine.features(square[None, None])
    _, confidence = reference.match(query[0], [encoded], reference.cell_lightness(square))
    return reference.at_size(confidence, SIZE)


def blotches(out: np.ndarray, auto: np.ndarray, truth: np.ndarray, where: np.ndarray) -> tuple:
    """Over `where` (the places a reference does not show), the share of pixels that a
    reference made wrong (output beyond delta E 10 of the truth, the automatic colour within
    it), and their mean delta E (nan where there are none): a reference's colour spread where
    it does not belong, counted directly (sRGB uint8 photos, `truth` in CIE Lab)."""
    delta = np.linalg.norm(rgb2lab(out) - truth, axis=-1)
    made = where & (delta > 10) & (np.linalg.norm(rgb2lab(auto) - truth, axis=-1) <= 10)
    share = float(made.sum() / max(where.sum(), 1))
    return share, float(delta[made].mean()) if made.any() else float("nan")


def histogram(lab: np.ndarray) -> np.ndarray:
    h, _, _ = np.histogram2d(lab[..., 1].ravel(), lab[..., 2].ravel(), 16, [[-110, 110]] * 2)
    return h / h.sum()


def chi2(p: np.ndarray, q: np.ndarray) -> float:
    return 0.5 * float(((p - q) ** 2 / (p + q + 1e-12)).sum())


def photos_scores(colorizer: Colorizer, paths: list[Path], seed: int = 0) -> dict:
    rows: dict[str, list[float]] = {}

    def add(key: str, value: float) -> None:
        rows.setdefault(key, []).append(value)

    rng = np.random.default_rng(seed)
    photos = [load_rgb(p, SIZE, reduced=False) for p in paths]
    for k, photo in enumerate(photos):
        grey = Image.fromarray(photo).convert("L")
        truth = rgb2lab(photo)
        auto = np.asarray(colorizer.colorize(grey).convert("RGB"))
        crop, seen = crop_of(photo, rng)
        same = np.asarray(colorizer.colorize(grey, references=[crop]).convert("RGB"))
        for name, out in (("auto", auto), ("same", same)):
            delta = np.linalg.norm(rgb2lab(out) - truth, axis=-1)
            add(f"{name} psnr", psnr(out, photo))
            add(f"{name} psnr unseen", psnr(out[~seen], photo[~seen]))
            add(f"{name} delta E", float(delta.mean()))
            add(f"{name} delta E unseen", float(delta[~seen].mean()))
        share, spread = blotches(same, auto, truth, ~seen)
        add("blotch share", share)
        add("blotch delta E", spread)
        sure = (confidence_at_photo(colorizer, grey, crop) > 0.5) & seen
        delta = np.linalg.norm(rgb2lab(same) - truth, axis=-1)[sure]
        add("matched within 10", float((delta <= 10).mean()) if delta.size else float("nan"))
        add("matched share", float(sure.mean()))
        other = photos[(k + 1) % len(photos)]
        moved = np.asarray(colorizer.colorize(grey, references=[Image.fromarray(other)]))
        target = histogram(rgb2lab(other))
        before = chi2(histogram(rgb2lab(auto)), target)
        add("other moved", (before - chi2(histogram(rgb2lab(moved)), target)) / before)
    return {key: float(np.nanmean(v)) for key, v in rows.items()} | {"photos": len(photos)}


def film(colorizer: Colorizer, frames: list[Image.Image], key: bool) -> list[Image.Image]:
    """The clip through the film core (pipeline.film, as `colorgan colorize` runs a film),
    frame 0 in colour as a key frame; each coloured frame a reference for the next where
    the film has one."""
    settings = Settings(key_frames=[(0, frames[0])] if key else [])
    return through_the_film(colorizer, frames, settings)


def films_scores(colorizer: Colorizer, paths: list[Path]) -> dict:
    out = {}
    for name, frames in clips(paths).items():
        if name == "cuts":
            continue  # a key frame holds over its shot only
        (f0, p0), (f1, p1) = (measure(frames[1:], film(colorizer, frames, k)[1:]) for k in (0, 1))
        out[name] = {
            "psnr auto": p0,
            "psnr key frame": p1,
            "flicker auto": f0,
            "flicker key frame": f1,
        }
    return out


def cost(tmp: Path) -> dict:
    from benchmarks.colorize_fullres import make_jpeg

    greys = [tmp / f"grey{i}.jpg" for i in range(5)]
    for i, p in enumerate(greys):
        make_jpeg(p, i, grey=True)
    ref = tmp / "ref.jpg"
    make_jpeg(ref, 9, grey=False)
    without = per_photo(greys, tmp, "onnx", "plain")[0]
    with_ref = per_photo(greys, tmp, "onnx", "ref", ["--reference", str(ref)])[0]
    return {"without": without, "with one reference": with_ref, "ratio": with_ref / without}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--eval", type=Path, default=ROOT.parent / "shared/datasets/eval")
    parser.add_argument("--val-of", default="configs/default.yaml")
    parser.add_argument("--limit", type=int)
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()
    print(machine())
    colorizer = Colorizer()
    report: dict = {}
    sets = {}
    validation: list[Path] = []
    if args.eval.is_dir():
        sets["eval"] = find_images(args.eval)[: args.limit]
        from colorgan.config import load_config
        from colorgan.training.photos import split_paths

        validation = split_paths(load_config(args.val_of).data)[1]
        sets["validation"] = validation[: args.limit]
    else:
        sets["examples"] = find_images(ROOT / "examples")
    for name, paths in sets.items():
        report[name] = photos_scores(colorizer, paths)
        print(name, json.dumps(report[name], indent=1), flush=True)
    held = validation if "validation" in sets else sets["examples"] * 2
    report["films"] = films_scores(colorizer, held[:8])
    print("films", json.dumps(report["films"], indent=1), flush=True)
    with tempfile.TemporaryDirectory() as tmp:
        report["12 MP onnx"] = cost(Path(tmp))
    print("12 MP onnx", json.dumps(report["12 MP onnx"], indent=1))
    if args.json:
        args.json.write_text(json.dumps(report, indent=1) + "\n")


if __name__ == "__main__":
    main()
