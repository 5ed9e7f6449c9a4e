"""`colorgan train`: a model from a recipe (checkpoints, --resume, torchrun).

`colorgan train --data FOLDER` trains the quick recipe (config/named/quick.yaml) on a folder
of colour photos, or on the shards `colorgan data pack` wrote; `colorgan train CONFIG.yaml`
any recipe; `colorgan train --resume runs/NAME` continues a run from its folder's own config.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from colorgan.apps.cli.common import prior_files
from colorgan.base.errors import ColorganError, shown

QUICK = Path(__file__).resolve().parents[2] / "config" / "named" / "quick.yaml"


def add_parser(sub) -> argparse.ArgumentParser:  # argparse's subparsers
    p = sub.add_parser("train", help="train a model on your photos (--data) or from a recipe")
    p.add_argument(
        "config",
        metavar="CONFIG.yaml",
        nargs="?",
        help="the recipe (default with --data: the quick one, minutes on a CPU)",
    )
    p.add_argument(
        "--data",
        metavar="FOLDER",
        help="your colour photos: a folder of them, or shards from colorgan data pack",
    )
    p.add_argument(
        "--resume",
        nargs="?",
        const=True,
        metavar="RUN",
        help="continue: the run folder (runs/NAME, its own config), or the recipe's run",
    )
    p.add_argument(
        "--set",
        action="append",
        default=[],
        metavar="SECTION.KEY=VALUE",
        help="override a config value (repeatable)",
    )
    p.add_argument("--out-dir", help="parent folder of the run folder (config: out_dir)")
    p.add_argument(
        "--max-steps",
        type=int,
        metavar="N",
        help="stop once the run has taken N generator steps in all, counted from its start "
        "(a run resumed at step 5 with --max-steps 7 takes 2 more)",
    )
    p.add_argument(
        "--max-minutes",
        type=float,
        help="stop (checkpoint and export) after this much training time",
    )
    p.add_argument("-q", "--quiet", action="store_true", help="no progress bars")
    prior_files(p)
    return p


def run(args: argparse.Namespace) -> int:
    from colorgan.training import distributed
    from colorgan.training.trainer import Trainer

    cfg, resume = recipe(args)
    max_seconds = None if args.max_minutes is None else args.max_minutes * 60
    try:
        trainer = Trainer(cfg, resume=resume, progress=not args.quiet)
        summary = trainer.run(max_steps=args.max_steps, max_seconds=max_seconds)
    finally:
        distributed.shutdown()  # every rank leaves the process group, also on errors
    if trainer.world.main:
        weights = summary["generator"]
        print(f"trained {summary['steps']} steps; generator written to {weights}")
        print(f"waited on the data loader for {summary['loader_wait']:.1%} of the training time")
        print(f"colorize with it:  colorgan colorize PHOTOS --weights {weights}")
        print(
            f"evaluate it on the run's validation photos:  colorgan evaluate --val-of "
            f"{cfg.run_dir / 'config.yaml'} --weights {weights}"
        )
    return 0


def recipe(args: argparse.Namespace):  # a Config (config imports stay lazy)
    """The config the command line asks for, and whether it resumes a run."""
    from colorgan.config import load_config
    from colorgan.config.resume import check_resumable

    run_dir = None
    if isinstance(args.resume, str):
        if Path(args.resume).suffix.lower() in (".yaml", ".yml") and args.config is None:
            args.config = args.resume  # `train --resume CONFIG.yaml`: the old order
        else:
            run_dir = Path(args.resume)
    sets = list(args.set) + _flag_sets(args)
    if run_dir is not None:
        if args.config or args.data:
            raise ColorganError(
                "--resume RUN continues RUN with its own config and photos: give no "
                "CONFIG.yaml or --data with it"
            )
        saved_file = run_dir / "config.yaml"
        if not saved_file.is_file():
            raise ColorganError(f"{shown(str(run_dir))} is not a run folder (no config.yaml)")
        where = [f"out_dir={run_dir.parent}", f"name={run_dir.name}"]
        saved = load_config(saved_file, where)
        cfg = load_config(saved_file, [*where, *sets])
        check_resumable(saved, cfg, str(run_dir))
        return cfg, True
    if args.config is None and args.data is None:
        raise ColorganError(
            "give --data FOLDER (your colour photos), a CONFIG.yaml, or --resume runs/NAME"
        )
    cfg = load_config(args.config or QUICK, _data_sets(args.data) + sets)
    saved_file = cfg.run_dir / "config.yaml"
    if args.resume and saved_file.is_file():
        check_resumable(load_config(saved_file), cfg, str(cfg.run_dir))
    return cfg, bool(args.resume)


def _data_sets(folder: str | None) -> list[str]:
    """--data FOLDER as overrides: its shards (a pack folder) or its photos, in place of the
    recipe's photos; an absolute path, so that the run folder's config names it anywhere."""
    if folder is None:
        return []
    from colorgan.training.shards import MANIFEST

    path = Path(folder).expanduser()
    if not path.is_dir():
        raise ColorganError(f"--data: not a folder: {shown(folder)}")
    where = str(path.resolve()).replace("'", "''")
    common = ["data.sources=null", "data.layout=folder", "data.annotations=null"]
    if (path / MANIFEST).is_file():
        stream = ["data.root=null", f"data.shards='{where}'", "priors.cache=false"]
        return [*common, *stream, "data.num_images=null"]
    return [*common, "data.shards=null", f"data.root='{where}'"]


def _flag_sets(args: argparse.Namespace) -> list[str]:
    """The flags that set config values, as overrides."""
    sets = []
    if args.out_dir:
        sets.append(f"out_dir={args.out_dir}")
    if args.embedding_weights:
        sets.append(f"priors.embedding_weights={args.embedding_weights}")
    if args.segmentation_weights:
        sets.append(f"priors.segmentation_weights={args.segmentation_weights}")
    return sets
