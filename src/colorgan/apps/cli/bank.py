"""`colorgan bank build`: colour photos into a reference bank (pipeline.bank), which
`colorize --reference-bank` takes references from by what each grey photo shows;
`colorgan bank fit-trust`: how far its references are trusted, learnt (training.trust)."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from colorgan.apps.cli.common import model_choice, model_identity
from colorgan.base.errors import ColorganError, shown


def add_parser(sub) -> argparse.ArgumentParser:  # noqa: ANN001 - argparse's subparsers
    p = sub.add_parser(
        "bank", help="build a bank of reference photos (bank build), fit its trust (fit-trust)"
    )
    actions = p.add_subparsers(dest="action", required=True, metavar="ACTION")
    build = actions.add_parser("build", help="colour photos (files, folders, globs) -> a bank")
    build.add_argument("inputs", nargs="*", metavar="PHOTOS", help="files, folders or globs")
    train_of(build, "instead of PHOTOS: ")
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
    trust = actions.add_parser(
        "fit-trust",
        help="learn how far the bank's references deserve trust, from training photos",
        description="Colours training photos from what the bank returns for them (never "
        "the photo itself or a near copy), from themselves and from unrelated photos, and fits "
        "the trust a banked match gets so that the blend comes nearest their true colour. "
        "Resumable: a stopped fit goes on where it stopped.",
    )
    trust.add_argument("bank", metavar="BANK", help="the bank's folder (its manifest is updated)")
    train_of(trust, "", required=True)
    trust.add_argument("--photos", type=int, default=2000, help="how many, drawn by --seed")
    model_choice(trust)  # the trust is the model's: how far a reference beats its colour
    trust.add_argument("--seed", type=int, default=0)
    trust.add_argument("-q", "--quiet", action="store_true", help="no progress bar")
    return p


def train_of(p: argparse.ArgumentParser, lead: str, required: bool = False) -> None:
    why = "the training photos of this config's split (never its validation ones)"
    p.add_argument("--train-of", required=required, metavar="CONFIG.yaml", help=lead + why)


def run(args: argparse.Namespace) -> int:
    return fit_trust(args) if args.action == "fit-trust" else build(args)


def fit_trust(args: argparse.Namespace) -> int:
    import numpy as np

    from colorgan.config import load_config
    from colorgan.engines.choose import EngineOptions, open_engine
    from colorgan.pipeline import bank, trust_evidence
    from colorgan.pipeline.colorizer import Colorizer
    from colorgan.training import trust
    from colorgan.training.photos import split_paths

    if args.photos < 2:
        raise ColorganError(f"--photos must be at least 2, not {args.photos}")
    paths = split_paths(load_config(args.train_of).data)[0]
    if not paths:
        raise ColorganError(f"{shown(args.train_of)} has no training photos in its split")
    order = np.random.default_rng(args.seed).permutation(len(paths))[: args.photos]
    chosen = [paths[i] for i in sorted(order)]
    options = EngineOptions(args.model, args.weights, engine="torch", precision="fp32")
    colorizer = Colorizer(open_engine(options))
    model = model_identity(args)
    folder = Path(args.bank)
    evidence = trust_evidence.gather(colorizer, folder, chosen, model, not args.quiet, args.seed)
    result = trust.fit_and_report(evidence, bank.LOW, bank.HIGH, args.seed)
    bank.write_trust(folder, result["weights"], model)
    trust_evidence.discard(folder)
    weights = ", ".join(f"{w:.3g}" for w in result["weights"])
    fitted = result["photos"] - result["held_out"]
    print(f"fitted the trust of {args.bank} on {fitted} photos: weights {weights}")
    print(f"held-out error (CIE ab, rms) on {result['held_out']} photos:")
    for kind, row in result["held_out_error"].items():
        print(
            f"  {kind}: model alone {row['model']:.2f}, ramp {row['ramp']:.2f}, "
            f"learned {row['learned']:.2f} (mean confidence {row['confidence']:.2f})"
        )
    return 0


def build(args: argparse.Namespace) -> int:
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
