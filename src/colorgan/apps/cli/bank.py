"""`colorgan bank build`: colour photos into a reference bank (pipeline.bank), which
`colorize --reference-bank` takes references from by what each grey photo shows."""

from __future__ import annotations

import argparse
import sys

from colorgan.base.errors import ColorganError, shown


def add_parser(sub) -> argparse.ArgumentParser:  # argparse's subparsers
    p = sub.add_parser("bank", help="build a bank of reference photos (bank build)")
    actions = p.add_subparsers(dest="action", required=True, metavar="ACTION")
    build = actions.add_parser("build", help="colour photos (files, folders, globs) -> a bank")
    build.add_argument("inputs", nargs="*", metavar="PHOTOS", help="files, folders or globs")
    build.add_argument(
        "--train-of",
        metavar="CONFIG.yaml",
        help="instead of PHOTOS: the training photos of this config's split (never its "
        "validation ones)",
    )
    build.add_argument("--out", "-o", required=True, metavar="DIR", help="the bank's folder")
    build.add_argument(
        "--select",
        type=int,
        metavar="N",
        help="keep N photos spread over what they show (a bank of about N x 27 kB)",
    )
    build.add_argument("--batch", type=int, default=32, help="photos per run of the encoder")
    build.add_argument("-q", "--quiet", action="store_true", help="no progress bar")
    build.add_argument("--overwrite", action="store_true", help="replace a finished bank")
    return p


def run(args: argparse.Namespace) -> int:
    """`bank build` (its one action): the photos banked, exit status 1 where an input
    matched nothing."""
    from colorgan.base.files import output_folder
    from colorgan.base.images import VIDEO_SUFFIXES, expand_inputs
    from colorgan.engines.choose import EngineOptions, open_engine
    from colorgan.pipeline.bank import ARRAYS
    from colorgan.pipeline.build_bank import build_bank

    out = output_folder(args.out)
    if (out / ARRAYS).exists() and not args.overwrite:
        raise ColorganError(f"{shown(str(out))} holds a bank (pass --overwrite to replace it)")
    if args.select is not None and args.select < 1:
        raise ColorganError(f"--select must be at least 1, not {args.select}")
    if args.batch < 1:
        raise ColorganError(f"--batch must be at least 1 (it is {args.batch})")
    if bool(args.inputs) == bool(args.train_of):
        raise ColorganError("give either PHOTOS or --train-of CONFIG.yaml")
    missing: list[str] = []
    if args.train_of:
        from colorgan.config import load_config
        from colorgan.training.photos import split_paths

        photos = split_paths(load_config(args.train_of).data)[0]
    else:
        jobs, missing = expand_inputs(args.inputs, out)
        photos = [src for src, _ in jobs if src.suffix.lower() not in VIDEO_SUFFIXES]
    if not photos:  # one line: why there are none, where an input says
        raise ColorganError("no photos to bank" + (f" ({missing[0]})" if missing else ""))
    for line in missing:
        print(f"colorgan: error: {shown(line)}", file=sys.stderr)
    engine = open_engine(EngineOptions())
    manifest = build_bank(
        engine.features, photos, out, not args.quiet, args.batch, select=args.select
    )
    size = (out / ARRAYS).stat().st_size / 1e6
    print(f"banked {manifest['photos']} photo(s) into {out.resolve()} ({size:.1f} MB)")
    return 0 if not missing else 1
