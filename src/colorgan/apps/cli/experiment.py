"""`colorgan experiment`: train and evaluate each row of a comparison (the paper's Table 2)."""

from __future__ import annotations

import argparse


def add_parser(sub) -> argparse.ArgumentParser:  # argparse's subparsers
    p = sub.add_parser("experiment", help="train and evaluate each row of a comparison (Table 2)")
    p.add_argument("experiment", metavar="EXPERIMENT", help="configs/experiments/*.yaml")
    p.add_argument(
        "--set",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="override an experiment value (eval_limit=20, name=quick) or a training "
        "value for every row (train.batch_size=8); repeatable",
    )
    p.add_argument("--no-fid", action="store_true", help="skip FID and KID (Inception-v3)")
    p.add_argument("-q", "--quiet", action="store_true", help="no progress bars")
    return p


def run(args: argparse.Namespace) -> int:
    from colorgan.evaluation.experiment import load_experiment, results_markdown, run_experiment

    exp = load_experiment(args.experiment, args.set)
    if args.no_fid:
        exp.fid = False
    results = run_experiment(exp, progress=not args.quiet, source=args.experiment)
    print(results_markdown(results))
    print(f"wrote RESULTS.md, results.json, grid.png and losses.png in {exp.folder}")
    return 0
