"""Colour hints, measured: PSNR against the number of points drawn from the true colours, how
faithfully a point's colour is followed, and how far a point spreads.

Run: `.venv/bin/python -m benchmarks.hints [--model default | -w FILE] [--limit N]
[--eval ../shared/datasets/eval] [--val-of configs/default.yaml] [--out DIR]
[--hint-reach object|photo]` (object: a hint's change kept on what lightness connects to it,
the default; photo: the model's own spread).

1. PSNR (256 x 256, as `colorgan evaluate` scores) with 0, 1, 2, 5, 10, 20 and 50 points per
   photo, each the true colour (the mean of a 3 x 3 patch of the original) at a place drawn by
   a seed, on the eval photos and on the validation split; the curve is plotted beside the
   shape of Zhang et al. 2017's Fig. 5 (a steep rise over the first 10 points, flattening).
2. Fidelity: for each point, the CIE Lab delta E (CIE76) between the hint's colour at the
   photo's lightness and the output there; the share within delta E 10.
3. Spread: a synthetic photo of two regions (a disc on a background, grey levels apart), one
   point inside the disc: the mean change of ab inside the disc against outside it.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np
from skimage.color import rgb2lab

from benchmarks.common import machine
from colorgan.base.images import find_images, load_rgb
from colorgan.engines.torch_engine import TorchEngine
from colorgan.pipeline.colorizer import Colorizer
from colorgan.spec.hints import Hint

ROOT = Path(__file__).resolve().parents[1]
COUNTS = (0, 1, 2, 5, 10, 20, 50)
SIZE = 256


def psnr(a: np.ndarray, b: np.ndarray) -> float:
    return float(10 * np.log10(255**2 / ((a.astype(float) - b) ** 2).mean()))


def true_hints(photo: np.ndarray, count: int, rng: np.random.Generator) -> list[Hint]:
    """`count` points at places drawn by `rng`, each the mean colour of the 3 x 3 patch."""
    h, w = photo.shape[:2]
    hints = []
    for _ in range(count):
        x, y = int(rng.integers(1, w - 1)), int(rng.integers(1, h - 1))
        rgb = photo[y - 1 : y + 2, x - 1 : x + 2].reshape(-1, 3).mean(0).round().astype(int)
        hints.append(Hint(x, y, "#" + "".join(f"{v:02x}" for v in rgb)))
    return hints


def scores(
    colorizer: Colorizer, paths: list[Path], seed: int = 0, hint_reach: str = "object"
) -> dict:
    """PSNR per number of points, and the delta E of every point at 10 points."""
    out = {n: [] for n in COUNTS}
    delta_e = []
    for k, path in enumerate(paths):
        photo = load_rgb(path, SIZE, reduced=False)
        lab = rgb2lab(photo)
        for n in COUNTS:
            hints = true_hints(photo, n, np.random.default_rng(seed * 100_003 + k))
            result = np.asarray(colorizer.colorize(photo, hints=hints, hint_reach=hint_reach))
            out[n].append(psnr(result, photo))
            if n == 10:
                got = rgb2lab(result)
                for h in hints:
                    rgb = np.array([[[int(h.color[i : i + 2], 16) for i in (1, 3, 5)]]], np.uint8)
                    want = rgb2lab(rgb)[0, 0]
                    want[0] = lab[int(h.y), int(h.x), 0]  # the hint at the photo's lightness
                    delta_e.append(float(np.linalg.norm(got[int(h.y), int(h.x)] - want)))
    return {"psnr": {n: float(np.mean(v)) for n, v in out.items()}, "delta_e": delta_e}


def spread(colorizer: Colorizer, hint_reach: str = "object") -> dict:
    """One green point inside a disc: how much ab changes inside the disc and outside it."""
    yy, xx = np.mgrid[:SIZE, :SIZE]
    disc = (yy - 128) ** 2 + (xx - 96) ** 2 < 50**2
    grey = np.where(disc, 150, 90).astype(np.uint8)
    grey = np.clip(grey + np.random.default_rng(0).normal(0, 4, grey.shape), 0, 255)
    photo = np.repeat(grey.astype(np.uint8)[..., None], 3, 2)
    before = rgb2lab(np.asarray(colorizer.colorize(photo)))[..., 1:]
    hints = [Hint(96, 128, "#20c020")]
    after = rgb2lab(np.asarray(colorizer.colorize(photo, hints=hints, hint_reach=hint_reach)))
    change = np.linalg.norm(after[..., 1:] - before, axis=-1)
    far = ~disc & ((yy - 128) ** 2 + (xx - 96) ** 2 > 70**2)
    return {"inside": float(change[disc].mean()), "outside": float(change[far].mean())}


def plot(curves: dict[str, dict], target: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, (ours, theirs) = plt.subplots(1, 2, figsize=(10, 3.6))
    for label, curve in curves.items():
        ours.plot(list(curve), [v - curve[0] for v in curve.values()], marker="o", label=label)
    ours.set(
        xscale="symlog",
        xlabel="points from the true colours",
        ylabel="PSNR gain (dB)",
        title="colorgan: PSNR over no hints",
    )
    ours.legend(fontsize=8)
    shape = {0: 0.0, 1: 1.2, 2: 2.0, 5: 3.5, 10: 5.0, 20: 6.5, 50: 8.5}  # Fig. 5's shape
    theirs.plot(list(shape), list(shape.values()), marker="o", color="grey")
    theirs.set(xscale="symlog", xlabel="points", title="Zhang et al. 2017's curve (shape only)")
    fig.tight_layout()
    fig.savefig(target, dpi=100)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--model", default="default")
    parser.add_argument("-w", "--weights")
    parser.add_argument("--limit", type=int, default=60)
    parser.add_argument("--eval", type=Path, default=ROOT.parent / "shared/datasets/eval")
    parser.add_argument("--val-of", default=str(ROOT / "configs/default.yaml"))
    parser.add_argument("--out", type=Path, default=Path("hints-benchmark"))
    parser.add_argument("--hint-reach", default="object", choices=["object", "photo"])
    args = parser.parse_args()
    from colorgan.config import load_config
    from colorgan.training.photos import split_paths

    colorizer = Colorizer(TorchEngine(args.weights, model=args.model, precision="fp32"))
    args.out.mkdir(parents=True, exist_ok=True)
    sets = {
        "eval": find_images(args.eval)[: args.limit],
        "validation": split_paths(load_config(args.val_of).data)[1][: args.limit],
    }
    reach = args.hint_reach
    results = {label: scores(colorizer, paths, hint_reach=reach) for label, paths in sets.items()}
    results["spread"] = spread(colorizer, reach)
    print(f"machine: {machine()}; model: {args.weights or args.model}; hint reach: {reach}")
    print("\n| photos | " + " | ".join(f"{n} points" for n in COUNTS) + " | delta E <= 10 |")
    print("|---|" + "---|" * (len(COUNTS) + 1))
    for label in sets:
        r = results[label]
        within = np.mean(np.array(r["delta_e"]) <= 10)
        row = " | ".join(f"{r['psnr'][n]:.2f}" for n in COUNTS)
        print(f"| {label} ({len(sets[label])}) | {row} | {within:.0%} |")
    s = results["spread"]
    print(
        f"\nspread: one point in a disc changes ab by {s['inside']:.1f} inside it and "
        f"{s['outside']:.1f} beyond it"
    )
    plot({label: results[label]["psnr"] for label in sets}, args.out / "hints_psnr.png")
    (args.out / "hints.json").write_text(json.dumps(results, indent=1))
    print(f"wrote {args.out / 'hints_psnr.png'} and {args.out / 'hints.json'}")


if __name__ == "__main__":
    main()
