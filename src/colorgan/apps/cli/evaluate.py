"""`colorgan evaluate`: PSNR, SSIM, colourfulness, cast, FID and KID beside the grey floor."""

from __future__ import annotations

import argparse
from pathlib import Path

from colorgan.apps.cli.common import model_choice, prior_files, runtime_options
from colorgan.base.errors import ColorganError, short


def add_parser(sub) -> argparse.ArgumentParser:  # argparse's subparsers
    p = sub.add_parser("evaluate", help="PSNR, SSIM, colour, FID, KID beside the grey floor")
    p.add_argument("data", metavar="DATA", nargs="?", help="folder of colour photos")
    p.add_argument(
        "--val-of",
        metavar="CONFIG.yaml",
        help="instead of DATA: the validation photos of this training config's "
        "split, where recipes may be compared",
    )
    model_choice(p)
    p.add_argument("--out", metavar="DIR", help="write metrics.json and metrics.md here")
    p.add_argument("--limit", type=int, help="evaluate only the first N images")
    p.add_argument("--size", type=int, help="prediction size (default: the training size)")
    p.add_argument("--no-fid", action="store_true", help="skip FID and KID (Inception-v3)")
    p.add_argument(
        "--compare",
        action="append",
        default=[],
        metavar="MODEL",
        help="another bundled model or generator file (repeatable)",
    )
    p.add_argument(
        "--saturation-sweep",
        nargs="?",
        const="default",
        metavar="S,S,...",
        help="score each model at these colour intensities (0.25 ... 1.5); PSNR, "
        "KID against colourfulness (--out DIR)",
    )
    runtime_options(p)
    prior_files(p)
    return p


def photos_of(args: argparse.Namespace) -> str | list[Path]:
    """DATA, or the validation photos of --val-of's split."""
    if (args.data is None) == (args.val_of is None):
        raise ColorganError("give either a folder of photos or --val-of CONFIG.yaml")
    if args.val_of is None:
        return args.data
    from colorgan.config import load_config
    from colorgan.training.photos import split_paths

    return split_paths(load_config(args.val_of).data)[1]


def run(args: argparse.Namespace) -> int:
    from colorgan.evaluation import evaluate as ev
    from colorgan.evaluation import report as rep
    from colorgan.models.runtime import pick_device
    from colorgan.spec.bundled import stored_generator

    if args.limit is not None and args.limit < 1:
        raise ColorganError(f"--limit must be 1 or more, not {args.limit}")
    if args.saturation_sweep and not args.out:
        raise ColorganError("--saturation-sweep draws a plot: give --out DIR for it")
    data = photos_of(args)
    options = dict(
        device=args.device,
        precision=args.precision,
        size=args.size,
        embedding_weights=args.embedding_weights,
        segmentation_weights=args.segmentation_weights,
    )
    if args.weights:
        stored_generator(args.weights)  # a missing file or a folder: one line now
    colorizers = ev.open_colorizers([args.weights or args.model, *args.compare], options)
    label = next(iter(colorizers))
    sweep = args.saturation_sweep and sweep_factors(args.saturation_sweep)
    scored = ev.sweep(colorizers, sweep) if sweep else colorizers
    features = None
    if not args.no_fid:
        from colorgan.evaluation.fid import InceptionFeatures

        features = InceptionFeatures(pick_device(args.device))
    report = ev.evaluate(scored, data, limit=args.limit, progress=not args.quiet, features=features)
    if len(scored) == 1:  # one model: its row is labelled by the file or bundled name
        report["results"] = {
            ("model" if k == label else k): v for k, v in report["results"].items()
        }
    print(rep.markdown_report(report, label))
    if args.out:
        json_path, md_path = rep.write_report(report, Path(args.out), label)
        print(f"wrote {json_path} and {md_path}")
        if args.saturation_sweep:
            plot = Path(args.out) / "saturation_sweep.png"
            rep.plot_sweep(report, sweep, plot)
            print(f"wrote {plot}")
    return 0


def sweep_factors(text: str) -> tuple[float, ...]:
    """ "0.5,1,1.5", or "default" for the evaluation's own sweep -> the intensities of
    --saturation-sweep, each checked as a saturation is; ColorganError for anything else."""
    from colorgan.evaluation.evaluate import SWEEP
    from colorgan.pipeline.settings import check_saturation

    if text == "default":
        return SWEEP
    try:
        values = tuple(float(v) for v in text.split(","))
    except ValueError:
        raise ColorganError(f"--saturation-sweep: not a list of numbers: {short(text)}") from None
    return tuple(check_saturation(v, "--saturation-sweep") for v in values)
