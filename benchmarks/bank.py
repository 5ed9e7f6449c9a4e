"""The reference bank, scored by study 26's rule (docs/results/reference-bank.md).

Run: `.venv/bin/python -m benchmarks.bank --bank BANK_DIR [--select 1100]
[--val-of configs/default.yaml] [--eval ../shared/datasets/eval] [--out DIR] [--limit N]`.

BANK_DIR is a bank of the training photos (`colorgan bank build --train-of
configs/default.yaml`); `--select N` scores the N photos of it that `bank build --select N`
keeps (written to OUT/bank-N, its size said). Every row is the bundled default on the torch
engine (fp32), scored as `colorgan evaluate` scores (256 x 256, with FID and KID), each later
row set against the first (today's default) on the same photos:

1. validation: today's default at saturations 1, 1.1, 1.2 (the automatic curve) and the six
   candidates (K in 1, 3, 5; banked confidence (0.6, 0.9) and (0.7, 0.95));
2. with `--eval` (after the decision, for the record): the default, and the chosen candidate
   (`--chosen K,LOW,HIGH`) with both banks;
3. with `--alternatives N`: N ways per validation photo, their spread and scores;
4. with `--time`: a 12 MP grey JPEG through `colorgan colorize` on the onnx engine, without
   and with the selected bank.
"""

from __future__ import annotations

import argparse
import json
import shutil
from dataclasses import replace
from pathlib import Path

import numpy as np

from benchmarks.common import machine
from colorgan.base.images import find_images
from colorgan.engines.torch_engine import TorchEngine
from colorgan.evaluation import evaluate as ev
from colorgan.evaluation.fid import InceptionFeatures
from colorgan.evaluation.report import markdown_report
from colorgan.pipeline.bank import ARRAYS, MANIFEST, Bank
from colorgan.pipeline.build_bank import spread_out
from colorgan.pipeline.colorizer import Colorizer
from colorgan.pipeline.settings import Settings

CANDIDATES = [(k, low, high) for low, high in ((0.6, 0.9), (0.7, 0.95)) for k in (1, 3, 5)]


def selected(bank: Bank, count: int, out: Path) -> Bank:
    """The `count` photos `bank build --select` keeps, written as a bank to `out`."""
    picked = spread_out(bank.descriptors, count)
    part = replace(
        bank,
        descriptors=bank.descriptors[picked],
        features=bank.features[picked],
        ab=bank.ab[picked],
    )
    out.mkdir(parents=True, exist_ok=True)
    np.savez(
        out / ARRAYS,
        descriptors=part.descriptors,
        features=part.features,
        ab=part.ab,
        projection=part.projection,
    )
    manifest = {
        **bank.manifest,
        "photos": count,
        "names": [bank.manifest["names"][i] for i in picked],
        "hashes": [bank.manifest["hashes"][i] for i in picked],
    }
    (out / MANIFEST).write_text(json.dumps(manifest, indent=0) + "\n")
    return Bank.load(out)


def rows(colorizer: Colorizer, bank: Bank, candidates: list[tuple]) -> dict:
    scored: dict = {"default": ev.Scored(colorizer)}
    for s in (1.1, 1.2):
        scored[f"default @ {s:g}"] = ev.Scored(colorizer).at(s)
    for k, low, high in candidates:
        thresholds = replace(bank, low=low, high=high, trust=None)
        settings = Settings(bank=thresholds, bank_k=k)
        scored[f"bank K {k}, ({low:g}, {high:g})"] = ev.Scored(colorizer, settings)
    return scored


def curve(report: dict, target: Path) -> None:
    """PSNR and KID against colourfulness: the default at its saturations, each bank row."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    res = report["results"]
    fig, axes = plt.subplots(1, 2, figsize=(11, 4.2))
    panels = [("psnr", "PSNR (dB)", 1), ("kid", "KID x 1000", 1000)]
    for ax, (key, title, scale) in zip(axes, panels, strict=True):
        auto = [label for label in res if label.startswith("default")]
        ax.plot(
            [res[a]["colourfulness"] for a in auto],
            [res[a][key] * scale for a in auto],
            "o-",
            color="black",
            label="default at saturation 1, 1.1, 1.2",
        )
        for label in (label for label in res if label.startswith("bank")):
            ax.plot(res[label]["colourfulness"], res[label][key] * scale, "s", label=label)
        ax.set(xlabel="colourfulness", ylabel=title)
    axes[0].legend(fontsize=7)
    fig.suptitle(f"{report['images']} photos of {report['data']}")
    fig.tight_layout()
    fig.savefig(target, dpi=100)


def alternatives_scores(colorizer: Colorizer, bank: Bank, paths: list, ways: int = 3) -> dict:
    """Each photo coloured `ways` ways from the bank's nearest photos one at a time (as
    `colorize --alternatives` does): their mean pairwise delta E (CIE76, per pixel), and each
    way's PSNR and colourfulness."""
    from PIL import Image
    from skimage.color import rgb2lab

    from colorgan.base.images import load_rgb
    from colorgan.colour.pixels import colourfulness

    spread, psnrs, colours = [], [[] for _ in range(ways)], [[] for _ in range(ways)]
    for path in paths:
        photo = load_rgb(path, 256, reduced=False)
        outs = colorizer.alternatives(Image.fromarray(photo).convert("L"), ways, bank=bank)
        arrays = [np.asarray(o.convert("RGB")) for o in outs]
        labs = [rgb2lab(a) for a in arrays]
        pairs = [(i, j) for i in range(ways) for j in range(i + 1, ways)]
        spread.append(
            np.mean([np.linalg.norm(labs[i] - labs[j], axis=-1).mean() for i, j in pairs])
        )
        for i, a in enumerate(arrays):
            psnrs[i].append(10 * np.log10(255**2 / ((a.astype(float) - photo) ** 2).mean()))
            colours[i].append(colourfulness(a))
    means = {"psnr": psnrs, "colourfulness": colours}
    scores = {name: [float(np.mean(way)) for way in ways] for name, ways in means.items()}
    return {"photos": len(paths), "mean pairwise delta E": float(np.mean(spread)), **scores}


def full_size_time(bank_dir: Path, rounds: int = 2) -> None:
    """`colorgan colorize` per 12 MP grey JPEG on the onnx engine, without and with
    `--reference-bank`, interleaved round by round (the marginal time per photo of five)."""
    import tempfile

    from benchmarks.colorize_fullres import make_jpeg
    from benchmarks.light import per_photo

    with tempfile.TemporaryDirectory() as folder:
        tmp = Path(folder)
        greys = [tmp / f"g{i}.jpg" for i in range(5)]
        for i, path in enumerate(greys):
            make_jpeg(path, i, grey=True)
        for r in range(rounds):
            plain = per_photo(greys, tmp, "onnx", f"plain{r}")[0]
            option = ["--reference-bank", str(bank_dir)]
            banked = per_photo(greys, tmp, "onnx", f"bank{r}", option)[0]
            ratio = banked / plain
            print(f"round {r}: without {plain:.3f} s, with the bank {banked:.3f} s, x{ratio:.2f}")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--bank", type=Path, required=True)
    parser.add_argument("--select", type=int, default=1100)
    parser.add_argument("--val-of", default="configs/default.yaml")
    parser.add_argument("--eval", type=Path)
    parser.add_argument("--chosen", help="K,LOW,HIGH of the chosen candidate (with --eval)")
    parser.add_argument("--out", type=Path, default=Path("bank-benchmark"))
    parser.add_argument("--limit", type=int)
    parser.add_argument("--alternatives", type=int, help="only: N alternatives' spread and scores")
    parser.add_argument("--time", action="store_true", help="only: 12 MP time with the bank")
    args = parser.parse_args()
    print(machine())
    if args.time:  # the selected bank an earlier run wrote
        full_size_time(args.out / f"bank-{args.select}")
        return
    from colorgan.config import load_config
    from colorgan.training.photos import split_paths

    full = Bank.load(args.bank)
    small = selected(full, args.select, args.out / f"bank-{args.select}")
    size = (args.out / f"bank-{args.select}" / ARRAYS).stat().st_size / 1e6
    print(f"bank of {len(full)} photos; the {args.select} selected: {size:.1f} MB")
    colorizer = Colorizer(TorchEngine(precision="fp32"))
    if args.alternatives:
        photos = split_paths(load_config(args.val_of).data)[1][: args.limit]
        scores = alternatives_scores(colorizer, small, photos, args.alternatives)
        print(json.dumps(scores, indent=1))
        return
    features = InceptionFeatures("cpu")
    if args.eval is None:
        photos = split_paths(load_config(args.val_of).data)[1][: args.limit]
        scored = rows(colorizer, small, CANDIDATES)
        name = "validation"
    else:
        k, low, high = (float(v) for v in args.chosen.split(","))
        photos = find_images(args.eval)[: args.limit]
        scored = {"default": ev.Scored(colorizer)}
        for label, bank in ((f"bank of {args.select}", small), (f"bank of {len(full)}", full)):
            thresholds = replace(bank, low=low, high=high, trust=None)
            scored[label] = ev.Scored(colorizer, Settings(bank=thresholds, bank_k=int(k)))
        name = "eval"
    report = ev.evaluate(scored, photos, features=features)
    print(markdown_report(report))
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / f"{name}.json").write_text(json.dumps(report, indent=1) + "\n")
    curve(report, args.out / f"{name}.png")
    if args.eval is None:
        shutil.copy(args.out / f"bank-{args.select}" / MANIFEST, args.out / "manifest.json")


if __name__ == "__main__":
    main()
