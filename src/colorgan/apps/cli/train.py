"""`colorgan train`: a model from a YAML config (checkpoints, --resume, torchrun)."""

from __future__ import annotations

import argparse

from colorgan.apps.cli.common import prior_files


def add_parser(sub) -> argparse.ArgumentParser:  # noqa: ANN001 - argparse's subparsers
    p = sub.add_parser("train", help="train a model from a YAML config")
    p.add_argument("config", metavar="CONFIG.yaml")
    p.add_argument("--resume", action="store_true", help="continue from the latest checkpoint")
    p.add_argument(
        "--set",
        action="append",
        default=[],
        metavar="SECTION.KEY=VALUE",
        help="override a config value (repeatable)",
    )
    p.add_argument("--out-dir", help="parent folder of the run folder (config: out_dir)")
    p.add_argument("--max-steps", type=int, help="stop after this many generator steps")
    p.add_argument(
        "--max-minutes",
        type=float,
        help="stop (checkpoint and export) after this much training time",
    )
    p.add_argument("-q", "--quiet", action="store_true", help="no progress bars")
    prior_files(p)
    return p


def run(args: argparse.Namespace) -> int:
    from colorgan.config import load_config
    from colorgan.training import distributed
    from colorgan.training.trainer import Trainer

    cfg = load_config(args.config, args.set)
    if args.out_dir:
        cfg.out_dir = args.out_dir
    if args.embedding_weights:
        cfg.priors.embedding_weights = args.embedding_weights
    if args.segmentation_weights:
        cfg.priors.segmentation_weights = args.segmentation_weights
    max_seconds = None if args.max_minutes is None else args.max_minutes * 60
    try:
        trainer = Trainer(cfg, resume=args.resume, progress=not args.quiet)
        summary = trainer.run(max_steps=args.max_steps, max_seconds=max_seconds)
    finally:
        distributed.shutdown()  # every rank leaves the process group, also on errors
    if trainer.world.main:
        print(f"trained {summary['steps']} steps; generator written to {summary['generator']}")
        print(f"waited on the data loader for {summary['loader_wait']:.1%} of the training time")
    return 0
