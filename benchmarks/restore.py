"""Restoring old prints, measured (study 29): lightness PSNR against the clean photo.

Run: `.venv/bin/python -m benchmarks.restore [--set validation|eval] [--limit N] [--json F]`
(`--time` adds the 12 MP time and memory; `--grid F` writes grey | damaged | restored |
colorized rows).

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
from colorgan.pipeline import restore
from colorgan.pipeline.colorizer import Colorizer
from colorgan.training.damage import damage

ROOT = Path(__file__).resolve().parents[1]
SIZE = 256


CAP = 100.0  # the PSNR of a photo left exactly as it was (else infinite)


def psnr(a: np.ndarray, b: np.ndarray) -> float:
    error = ((a.astype(np.float64) - b.astype(np.float64)) ** 2).mean()
    return CAP if error == 0 else min(CAP, float(10 * np.log10(255**2 / error)))


def fills(made, engine: OnnxEngine) -> dict[str, np.ndarray]:  # a Damaged
    """Every way of undoing one damaged photo."""
    plane = made.damaged
    found = restore.find_damage(plane, engine.damage)
    grown = cv2.dilate(found.astype(np.uint8), np.ones((3, 3), np.uint8))
    truth = made.mask.astype(np.uint8)
    learned = engine.damage((plane / np.float32(255))[None, None])[0, 1] * 255
    return {
        "damaged": plane,
        "restorer": np.asarray(restore.restore_grey(Image.fromarray(plane), engine.damage).grey),
        "true mask, Telea": cv2.inpaint(plane, truth, 3, cv2.INPAINT_TELEA),
        "true mask, Navier-Stokes": cv2.inpaint(plane, truth, 3, cv2.INPAINT_NS),
        "found mask, Telea": cv2.inpaint(plane, grown, 3, cv2.INPAINT_TELEA),
        "found mask, Navier-Stokes": cv2.inpaint(plane, grown, 3, cv2.INPAINT_NS),
        "found mask, learned fill": np.where(grown > 0, np.round(learned), plane).astype(np.uint8),
    }


def scores(paths: list[Path], seed: int = 0) -> dict:
    engine = OnnxEngine()
    colorizer = Colorizer(engine)
    rows: dict[str, list[float]] = {}
    for k, path in enumerate(paths):
        rgb = load_rgb(path, SIZE, reduced=False)
        clean = np.asarray(lightness_grey(Image.fromarray(rgb)))
        rows.setdefault("clean through the restorer", []).append(
            psnr(
                np.asarray(restore.restore_grey(Image.fromarray(clean), engine.damage).grey), clean
            )
        )
        for kind, worn in (("local", 0.0), ("worn", 1.0)):
            made = damage(clean, np.random.default_rng([seed, k, int(worn)]), local=1.0, worn=worn)
            for name, out in fills(made, engine).items():
                rows.setdefault(f"{kind}: {name}", []).append(psnr(out, clean))
            if kind == "local":
                coloured = [colorizer.colorize(Image.fromarray(p)) for p in (clean, made.damaged)]
                restored = colorizer.colorize(Image.fromarray(made.damaged), restore=True)
                for name, out in zip(
                    ("clean", "damaged", "restored"), [*coloured, restored], strict=True
                ):
                    rows.setdefault(f"colour: {name}", []).append(
                        psnr(np.asarray(out.convert("RGB")), rgb)
                    )
    return summary(rows)


def summary(rows: dict[str, list[float]]) -> dict:
    out = {}
    for name, values in rows.items():
        v = np.asarray(values)
        out[name] = {"mean": float(v.mean()), "se": float(v.std(ddof=1) / np.sqrt(len(v)))}
    for kind in ("local", "worn"):
        gain = np.asarray(rows[f"{kind}: restorer"]) - np.asarray(rows[f"{kind}: damaged"])
        out[f"{kind}: restorer - damaged"] = {
            "mean": float(gain.mean()),
            "se": float(gain.std(ddof=1) / np.sqrt(len(gain))),
        }
    cost = np.asarray(rows["colour: clean"]) - np.asarray(rows["colour: restored"])
    out["colour: clean - restored"] = {
        "mean": float(cost.mean()),
        "se": float(cost.std(ddof=1) / np.sqrt(len(cost))),
    }
    clean = np.asarray(rows["clean through the restorer"])
    out["clean: lowest PSNR"] = float(clean.min())
    out["clean: share left exactly as it was"] = float((clean == CAP).mean())
    out["photos"] = len(clean)
    return out


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


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--set", choices=["validation", "eval"], default="validation")
    parser.add_argument("--val-of", default="configs/default.yaml")
    parser.add_argument("--limit", type=int, default=100)
    parser.add_argument("--json", type=Path)
    parser.add_argument("--time", action="store_true", help="12 MP time and memory too")
    args = parser.parse_args()
    if args.set == "eval":
        paths = find_images(ROOT.parent / "shared/datasets/eval")
    else:
        from colorgan.config import load_config
        from colorgan.training.photos import split_paths

        paths = split_paths(load_config(args.val_of).data)[1]
    report = scores(paths[: args.limit])
    if args.time:
        with tempfile.TemporaryDirectory() as tmp:
            report["12 MP onnx"] = twelve_megapixels(Path(tmp))
    for name, value in report.items():
        if isinstance(value, dict) and "mean" in value:
            value = f"{value['mean']:.2f} ± {value['se']:.2f}"
        print(f"{name}: {value}")
    if args.json:
        args.json.write_text(json.dumps(report, indent=1) + "\n")


if __name__ == "__main__":
    main()
