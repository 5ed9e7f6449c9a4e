"""`colorgan train-restorer`: the network that finds damage on old prints
(models.damage), trained on synthetic damage (training.damage) drawn over a config's training
photos, its validation photos held out (training.restorer)."""

from __future__ import annotations

import argparse
from pathlib import Path


def add_parser(sub) -> argparse.ArgumentParser:
    p = sub.add_parser(
        "train-restorer",
        help="train the network that finds damage, on synthetic damage over your photos",
    )
    p.add_argument("--out", "-o", required=True, metavar="DIR", help="the run folder")
    p.add_argument(
        "--val-of",
        default="configs/default.yaml",
        metavar="CONFIG",
        help="a training config: its training photos are drawn on, its validation photos "
        "held out (default configs/default.yaml)",
    )
    p.add_argument("--steps", type=int, help="training steps (default: the recipe's)")
    p.add_argument("--threads", type=int, default=None, help="torch's threads")
    return p


def run(args: argparse.Namespace) -> int:
    from dataclasses import replace

    import torch

    from colorgan.config import load_config
    from colorgan.training.photos import split_paths
    from colorgan.training.restorer import RestorerRecipe, train

    if args.threads:
        torch.set_num_threads(args.threads)
    photos, held_out = split_paths(load_config(args.val_of).data)
    recipe = RestorerRecipe() if args.steps is None else replace(RestorerRecipe(), steps=args.steps)
    run_dir = train(Path(args.out), photos, held_out, recipe)
    print(f"trained; its best network: {run_dir / 'best.safetensors'}")
    return 0
