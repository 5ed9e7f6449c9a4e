"""Restoring old prints, measured (study 29): lightness PSNR against the clean photo.

Run: `.venv/bin/python -m benchmarks.restore [--set validation|eval] [--limit N] [--json F]`
(`--time` adds the 12 MP time and memory; `--grid F` writes grey | damaged | restored |
colorized rows of the first `--limit` photos instead of scoring).

On held-out photos at 256 x 256 (the default config's validation photos; `--set eval` scores
`../shared/datasets/eval` for the record, never to choose), damaged by training.damage with
a fixed seed, two kinds: local damage alone (scratches, cracks, dust, spots, tears), and local
damage with fading and grain. For each: the damaged photo; the restorer (pipeline.restore, the
bundled network on the onnx engine); the true mask filled by OpenCV (Telea, Navier-Stokes:
the ceiling of a fill); the network's mask filled by Telea, by Navier-Stokes and by its own
learned fill; and clean photos through the restorer (it must leave them alone). The colour of
`colorize --restore` on a damaged photo is set against `colorize` of the clean one (colour
PSNR against the original colour photo). Paired over the same photos, with standard errors.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
from pathlib import Path

import cv2
import numpy as np
from PIL import Image

from colorgan.base.images import find_images, load_rgb
from colorgan.colour.pixels import lightness_grey
from colorgan.engines.onnx_engine import OnnxEngine
from colorgan.evaluation import metrics
from colorgan.pipeline import restore
from colorgan.pipeline.colorizer import Colorizer
from colorgan.training.damage import damage

ROOT = Path(__file__).resolve().parents[1]
SIZE = 256


CAP = 100.0  # the PSNR of a photo left exactly as it was (else infinite)


def psnr(a: np.ndarray, b: np.ndarray) -> float:
    """The evaluation's PSNR (8-bit), capped at CAP: a photo left exactly as it was scores it."""
    return CAP if np.array_equal(a, b) else min(CAP, metrics.psnr(a, b))


CANDIDATES = [
    restore.Repair(threshold, grow, fill, least)
    for fill in ("telea", "ns", "learned")
    for grow in (0, 1, 2)
    for threshold in (-1.0, 0.0, 1.0, 2.0, 3.0, 4.0, 5.0)
    for least in (0.0, 0.001, 0.003)
]


def label(repair: restore.Repair) -> str:
    return (
        f"{repair.fill}, grow {repair.grow}, threshold {repair.threshold:g}, least {repair.least:g}"
    )


def candidates(plane: np.ndarray, engine: OnnxEngine, reference: np.ndarray) -> dict[str, float]:
    """Each candidate repair of one grey plane, scored against `reference` (PSNR)."""
    found = restore.network_output(plane, engine.damage)
    return {
        label(r): psnr(np.asarray(restore.repaired(plane, found, r).grey), reference)
        for r in CANDIDATES
    }


def scores(paths: list[Path], seed: int = 0, chosen: restore.Repair | None = None) -> dict:
    """Every row of the study on these photos (`chosen`: the repair whose gains are paired
    against the damaged photos; default the restorer's own)."""
    engine = OnnxEngine()
    colorizer = Colorizer(engine)
    rows: dict[str, list[float]] = {}

    def add(name: str, value: float) -> None:
        rows.setdefault(name, []).append(value)

    for k, path in enumerate(paths):
        rgb = load_rgb(path, SIZE, reduced=False)
        clean = np.asarray(lightness_grey(Image.fromarray(rgb)))
        for name, value in candidates(clean, engine, clean).items():
            add(f"clean: {name}", value)
        for kind, worn in (("local", 0.0), ("worn", 1.0)):
            made = damage(clean, np.random.default_rng([seed, k, int(worn)]), local=1.0, worn=worn)
            truth = made.mask.astype(np.uint8)
            add(f"{kind}: damaged", psnr(made.damaged, clean))
            for method, flag in (("Telea", cv2.INPAINT_TELEA), ("Navier-Stokes", cv2.INPAINT_NS)):
                add(
                    f"{kind}: true mask, {method}",
                    psnr(cv2.inpaint(made.damaged, truth, 3, flag), clean),
                )
            for name, value in candidates(made.damaged, engine, clean).items():
                add(f"{kind}: {name}", value)
            if kind == "local":
                coloured = [colorizer.colorize(Image.fromarray(p)) for p in (clean, made.damaged)]
                restored = colorizer.colorize(Image.fromarray(made.damaged), restore=True)
                for name, out in zip(
                    ("clean", "damaged", "restored"), [*coloured, restored], strict=True
                ):
                    add(f"colour: {name}", psnr(np.asarray(out.convert("RGB")), rgb))
    return summary(rows, label(chosen or restore.Repair()))


def _mean_se(values: list[float] | np.ndarray) -> dict:
    v = np.asarray(values, float)
    return {"mean": float(v.mean()), "se": float(v.std(ddof=1) / np.sqrt(len(v)))}


def summary(rows: dict[str, list[float]], chosen: str) -> dict:
    """Means with standard errors; the gains paired over photos; the clean photos' lowest
    PSNR and share left as they were, for each candidate."""
    out = {name: _mean_se(values) for name, values in rows.items() if not name.startswith("clean")}
    for name, values in rows.items():
        if name.startswith("clean: "):
            v = np.asarray(values)
            out[name] = {
                "lowest": float(v.min()),
                "pooled": float(10 * np.log10(255**2 / (255**2 / 10 ** (v / 10)).mean())),
                "untouched": float((v == CAP).mean()),
            }
    for kind in ("local", "worn"):
        gain = np.asarray(rows[f"{kind}: {chosen}"]) - np.asarray(rows[f"{kind}: damaged"])
        out[f"{kind}: restorer ({chosen}) - damaged"] = _mean_se(gain)
    for kind in ("local", "worn"):  # each candidate's photos, for paired comparisons
        out[f"{kind} photos"] = {
            name.removeprefix(f"{kind}: "): values
            for name, values in rows.items()
            if name.startswith(f"{kind}: ")
        }
    cost = np.asarray(rows["colour: clean"]) - np.asarray(rows["colour: restored"])
    out["colour: clean - restored"] = _mean_se(cost)
    out["photos"] = len(rows["local: damaged"])
    return out


CAUTIOUS = restore.Repair(3.0, 0, "telea", 0.003)  # the rule's last resort


def choose(report: dict) -> str:
    """Study 29's rule: the best local-damage candidate whose clean photos stay at 40 dB
    (every one; else pooled, the PSNR of their mean
    squared error; else half of them untouched; else CAUTIOUS); within one standard error of
    the best (paired over the photos), the simplest (CANDIDATES' order of preference)."""
    clean = {label(r): report[f"clean: {label(r)}"] for r in PREFERENCE}
    for passes in (
        lambda c: c["lowest"] >= 40,
        lambda c: c["pooled"] >= 40,
        lambda c: c["untouched"] >= 0.5,
    ):
        allowed = [name for name, c in clean.items() if passes(c)]
        if allowed:
            break
    else:
        return label(CAUTIOUS)
    best = max(allowed, key=lambda name: report[f"local: {name}"]["mean"])
    photos = {name: np.asarray(v) for name, v in report["local photos"].items()}

    def near(name: str) -> bool:  # within one standard error of the best, paired over photos
        behind = _mean_se(photos[best] - photos[name])
        return behind["mean"] <= behind["se"]

    return next(name for name in allowed if near(name))


# the rule's order of simplicity: Telea, then Navier-Stokes, then the learned fill; growth 1,
# then 0, then 2; threshold 0, then -1, then 1, 2, 3, 4, 5; least 0.1%, then none, then 0.3%
PREFERENCE = sorted(
    CANDIDATES,
    key=lambda r: (
        ("telea", "ns", "learned").index(r.fill),
        (1, 0, 2).index(r.grow),
        (0.0, -1.0, 1.0, 2.0, 3.0, 4.0, 5.0).index(r.threshold),
        (0.001, 0.0, 0.003).index(r.least),
    ),
)


def twelve_megapixels(tmp: Path) -> dict:
    """`colorgan restore` of a 12 MP grey JPEG (4000 x 3000, one of the photos enlarged and
    scratched) on the onnx engine: seconds per photo after start-up (three photos against one)
    and peak memory."""
    from benchmarks.common import run_measured

    clean = Image.open(ROOT / "examples" / "camera.jpg").convert("L").resize((4000, 3000))
    made = damage(np.asarray(clean), np.random.default_rng(0), local=1.0, worn=0.0)
    for k in range(3):
        Image.fromarray(made.damaged).save(tmp / f"scan{k}.jpg", quality=92)
    base = [sys.executable, "-m", "colorgan", "restore", "--engine", "onnx", "-q"]
    one, memory = run_measured([*base, str(tmp / "scan0.jpg"), "--out", str(tmp / "one")])
    scans = [str(tmp / f"scan{k}.jpg") for k in range(3)]
    three, memory3 = run_measured([*base, *scans, "--out", str(tmp / "three")])
    return {
        "seconds a photo": (three - one) / 2,
        "first photo with start-up": one,
        "peak GB": max(memory, memory3),
    }


def grid(paths: list[Path], target: Path, seed: int = 0) -> None:
    """Rows of grey | damaged (local damage, the study's seeds) | restored | `colorize
    --restore`, as a JPEG at `target`."""
    colorizer = Colorizer(OnnxEngine())
    rows = []
    for k, path in enumerate(paths):
        rgb = load_rgb(path, SIZE, reduced=False)
        clean = lightness_grey(Image.fromarray(rgb))
        made = damage(np.asarray(clean), np.random.default_rng([seed, k, 0]), local=1.0, worn=0.0)
        damaged = Image.fromarray(made.damaged)
        restored = colorizer.restore(damaged).grey
        coloured = colorizer.colorize(damaged, restore=True).convert("RGB")
        row = [p.convert("RGB") for p in (clean, damaged, restored)] + [coloured]
        rows.append(np.concatenate([np.asarray(p) for p in row], 1))
    Image.fromarray(np.concatenate(rows, 0)).save(target, quality=90)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--set", choices=["validation", "eval"], default="validation")
    parser.add_argument("--val-of", default="configs/default.yaml")
    parser.add_argument("--limit", type=int, default=100)
    parser.add_argument("--json", type=Path)
    parser.add_argument("--time", action="store_true", help="12 MP time and memory too")
    parser.add_argument("--grid", type=Path, help="write the grid of the first --limit photos")
    args = parser.parse_args()
    if args.set == "eval":
        paths = find_images(ROOT.parent / "shared/datasets/eval")
    else:
        from colorgan.config import load_config
        from colorgan.training.photos import split_paths

        paths = split_paths(load_config(args.val_of).data)[1]
    if args.grid:
        grid(paths[: args.limit], args.grid)
        return
    report = scores(paths[: args.limit])
    chosen = report["chosen by the rule"] = choose(report)
    for kind in ("local", "worn"):
        photos = report[f"{kind} photos"]
        gain = np.asarray(photos[chosen]) - np.asarray(photos["damaged"])
        report[f"{kind}: the rule's choice - damaged"] = _mean_se(gain)
    if args.time:
        with tempfile.TemporaryDirectory() as tmp:
            report["12 MP onnx"] = twelve_megapixels(Path(tmp))
    for name, value in report.items():
        if name.endswith(" photos"):
            continue
        if isinstance(value, dict) and "mean" in value:
            value = f"{value['mean']:.2f} ± {value['se']:.2f}"
        elif isinstance(value, dict) and "lowest" in value:
            value = f"lowest {value['lowest']:.1f} dB, {value['untouched']:.0%} untouched"
        print(f"{name}: {value}")
    if args.json:
        args.json.write_text(json.dumps(report, indent=1) + "\n")


if __name__ == "__main__":
    main()
