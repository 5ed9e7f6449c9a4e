"""A bank's learned trust, scored by study 27's rule (docs/results/learned-trust.md).

Run: `.venv/bin/python -m scripts.research.trust_rule --bank BANK_DIR
[--val-of configs/default.yaml] [--eval ../shared/datasets/eval --chosen K] [--time]
[--out DIR] [--limit N]`.

BANK_DIR is a bank whose trust `scripts.research.fit_trust` fitted (study 27: the 1,100-photo
bank of study 26). Every row is the bundled default on the torch engine (fp32), scored as
`colorgan evaluate` scores (256 x 256, with FID and KID), each later row set against the first
(today's default) on the same photos:

1. validation: today's default and the three candidates (K in 1, 3, 5, the learned trust);
2. with `--eval` (after the decision, for the record): the default and the chosen K;
3. with `--time`: a 12 MP grey JPEG through `colorgan colorize` on the onnx engine, without
   and with the bank.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from benchmarks.bank import full_size_time
from benchmarks.common import machine
from colorgan.base.images import find_images
from colorgan.engines.torch_engine import TorchEngine
from colorgan.evaluation import evaluate as ev
from colorgan.evaluation.fid import InceptionFeatures
from colorgan.evaluation.report import markdown_report
from colorgan.pipeline.bank import ARRAYS, Bank
from colorgan.pipeline.colorizer import Colorizer
from colorgan.pipeline.settings import Settings

KS = (1, 3, 5)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--bank", type=Path, required=True)
    parser.add_argument("--val-of", default="configs/default.yaml")
    parser.add_argument("--eval", type=Path)
    parser.add_argument("--chosen", type=int, help="the chosen K (with --eval)")
    parser.add_argument("--out", type=Path, default=Path("trust-benchmark"))
    parser.add_argument("--limit", type=int)
    parser.add_argument("--time", action="store_true", help="only: 12 MP time with the bank")
    args = parser.parse_args()
    print(machine())
    if args.time:
        full_size_time(args.bank)
        return
    bank = Bank.load(args.bank)
    if bank.trust is None:
        raise SystemExit(f"{args.bank} has no learned trust (python -m scripts.research.fit_trust)")
    size = (args.bank / ARRAYS).stat().st_size / 1e6
    print(f"bank of {len(bank)} photos, {size:.1f} MB, trust {bank.trust}")
    colorizer = Colorizer(TorchEngine(precision="fp32"))
    scored = {"default": ev.Scored(colorizer)}
    if args.eval is None:
        from colorgan.config import load_config
        from colorgan.training.photos import split_paths

        photos = split_paths(load_config(args.val_of).data)[1][: args.limit]
        for k in KS:
            scored[f"learned trust K {k}"] = ev.Scored(colorizer, Settings(bank=bank, bank_k=k))
        name = "validation"
    else:
        photos = find_images(args.eval)[: args.limit]
        scored[f"learned trust K {args.chosen}"] = ev.Scored(
            colorizer, Settings(bank=bank, bank_k=args.chosen)
        )
        name = "eval"
    report = ev.evaluate(scored, photos, features=InceptionFeatures("cpu"))
    print(markdown_report(report))
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / f"{name}.json").write_text(json.dumps(report, indent=1) + "\n")


if __name__ == "__main__":
    main()
