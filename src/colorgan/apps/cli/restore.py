"""`colorgan restore`: old prints repaired (scratches, cracks, dust, spots, tears, fading,
grain), grey or colour kept as they were, into an output folder."""

from __future__ import annotations

import argparse
import sys

from colorgan.apps.cli.common import runtime_options, said
from colorgan.base.errors import shown


def add_parser(sub) -> argparse.ArgumentParser:  # argparse's subparsers
    p = sub.add_parser(
        "restore", help="repair old prints: scratches, cracks, dust, fading (no colour added)"
    )
    p.add_argument("inputs", nargs="+", metavar="INPUT", help="photo files, folders or globs")
    p.add_argument("--out", "-o", required=True, metavar="DIR", help="output folder")
    p.add_argument("--overwrite", action="store_true", help="replace existing outputs")
    p.add_argument(
        "--restore-mask",
        action="store_true",
        default=None,
        help="also write where damage was found, NAME-damage.png",
    )
    p.add_argument(
        "--engine",
        default="auto",
        choices=["auto", "onnx", "torch"],
        help="onnx: ONNX Runtime, no torch; torch: PyTorch (GPUs); auto: onnx where it can",
    )
    runtime_options(p)
    return p


def run(args: argparse.Namespace) -> int:

    from colorgan.base.files import output_folder
    from colorgan.base.images import VIDEO_SUFFIXES, expand_inputs
    from colorgan.engines.choose import EngineOptions, open_engine
    from colorgan.pipeline.colorizer import Colorizer
    from colorgan.pipeline.restore import restore_files
    from colorgan.pipeline.settings import settings_of

    out_dir = output_folder(args.out)
    jobs, missing = expand_inputs(args.inputs, out_dir)
    for line in missing:
        print(f"colorgan: error: {shown(line)}", file=sys.stderr)
    films = [src for src, _ in jobs if src.suffix.lower() in VIDEO_SUFFIXES]
    for film in films:
        print(
            f"colorgan: error: {shown(str(film))}: colorgan restore takes photos", file=sys.stderr
        )
    jobs = [job for job in jobs if job[0] not in films]
    if not jobs:
        return 1
    given = {"restore_mask": args.restore_mask} if args.restore_mask else {}
    settings = settings_of(None, restore=True, **given)
    colorizer = Colorizer(open_engine(EngineOptions.of(args)))
    results = restore_files(
        colorizer, jobs, out_dir, settings, overwrite=args.overwrite, progress=not args.quiet
    )
    written, _ = said(results)
    print(f"restored {written} of {len(jobs)} photo(s) into {out_dir.resolve()}")
    return 0 if written == len(jobs) and not missing and not films else 1
