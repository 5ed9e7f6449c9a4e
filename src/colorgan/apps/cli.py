"""The `colorgan` command: train, colorize, evaluate, export."""

from __future__ import annotations

import argparse
import logging
import os
import re
import sys
from collections.abc import Sequence
from itertools import chain
from pathlib import Path

from colorgan.errors import ColorganError

log = logging.getLogger("colorgan")

_IMPORT_NAMES = {"skimage": "scikit-image"}  # import names that are not their package's


def extra_for(module: str) -> str | None:
    """The extra of pyproject.toml (read from the installed metadata) that brings the
    module `pip install colorgan` left out, or None where no extra does."""
    from importlib.metadata import PackageNotFoundError, requires

    wanted = _IMPORT_NAMES.get(module, module).replace("_", "-").lower()
    try:
        requirements = requires("colorgan") or []
    except PackageNotFoundError:
        return None
    for requirement in requirements:
        found = re.match(r"\s*([\w.-]+)[^;]*;\s*extra\s*==\s*[\"'](\w+)[\"']", requirement)
        if found and found[2] != "dev" and found[1].replace("_", "-").lower() == wanted:
            return found[2]
    return None


def cmd_colorize(args: argparse.Namespace) -> int:
    from tqdm import tqdm

    from colorgan.apps.video import colorize_videos, frame_size
    from colorgan.colorizer import Colorizer
    from colorgan.engines.choose import EngineOptions, open_engine
    from colorgan.errors import shown
    from colorgan.files import output_folder
    from colorgan.hints import hints_for_inputs
    from colorgan.images import VIDEO_SUFFIXES, expand_inputs

    if not 0 <= args.video_quality <= 51:  # before anything is written
        raise ColorganError(f"--video-quality is x264's CRF, 0 to 51 (not {args.video_quality})")
    out_dir = output_folder(args.out)
    jobs, missing = expand_inputs(args.inputs, out_dir)
    for line in missing:
        print(f"colorgan: error: {shown(line)}", file=sys.stderr)
    if not jobs:
        return 1
    videos = [job for job in jobs if job[0].suffix.lower() in VIDEO_SUFFIXES]
    photos = [job for job in jobs if job not in videos]
    hints = hints_for_inputs(args.hint, args.hints, [src for src, _ in jobs], frame_size)
    colorizer = Colorizer(open_engine(EngineOptions.of(args)), saturation=args.saturation)
    written = 0
    results = chain(
        colorizer.colorize_files(photos, out_dir, args.overwrite, not args.quiet,
                                 1 if args.batch is None else args.batch, hints=hints),
        colorize_videos(colorizer, videos, out_dir, args.overwrite,
                        8 if args.batch is None else args.batch,
                        not args.quiet, args.video_quality, hints=hints),
    )  # fmt: skip
    for result in results:
        if result.error is None:
            written += 1
        else:
            tqdm.write(f"colorgan: error: {shown(f'{result.source}: {result.error}')}",
                       file=sys.stderr)  # fmt: skip
    print(f"colorized {written} of {len(jobs)} file(s) into {out_dir.resolve()}")
    return 0 if written == len(jobs) and not missing else 1


def cmd_train(args: argparse.Namespace) -> int:
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


def cmd_experiment(args: argparse.Namespace) -> int:
    from colorgan.evaluation.experiment import load_experiment, results_markdown, run_experiment

    exp = load_experiment(args.experiment, args.set)
    if args.no_fid:
        exp.fid = False
    results = run_experiment(exp, progress=not args.quiet, source=args.experiment)
    print(results_markdown(results))
    print(f"wrote RESULTS.md, results.json, grid.png and losses.png in {exp.folder}")
    return 0


def cmd_evaluate(args: argparse.Namespace) -> int:
    from colorgan.evaluation import evaluate as ev

    if (args.data is None) == (args.val_of is None):
        raise ColorganError("give either a folder of photos or --val-of CONFIG.yaml")
    if args.limit is not None and args.limit < 1:
        raise ColorganError(f"--limit must be 1 or more, not {args.limit}")
    if args.saturation_sweep and not args.out:
        raise ColorganError("--saturation-sweep draws a plot: give --out DIR for it")
    data = args.data
    if args.val_of is not None:
        from colorgan.config import load_config
        from colorgan.training.photos import split_paths

        data = split_paths(load_config(args.val_of).data)[1]
    options = dict(device=args.device, precision=args.precision, size=args.size,
                   embedding_weights=args.embedding_weights,
                   segmentation_weights=args.segmentation_weights)  # fmt: skip
    if args.weights and not Path(args.weights).is_file():
        raise ColorganError(f"weights file not found: {args.weights}")
    first = args.weights or args.model
    colorizers = ev.open_colorizers([first, *args.compare], options)
    label = next(iter(colorizers))
    sweep = args.saturation_sweep and ev.sweep_factors(args.saturation_sweep)
    scored = ev.sweep(colorizers, sweep) if sweep else colorizers
    features = None
    if not args.no_fid:
        from colorgan.evaluation.fid import InceptionFeatures

        features = InceptionFeatures(colorizers[label].device)
    report = ev.evaluate(scored, data, limit=args.limit, progress=not args.quiet,
                         features=features)  # fmt: skip
    single = len(scored) == 1
    if single:  # one model: its row is labelled by the file or bundled name
        report["results"] = {("model" if k == label else k): v
                             for k, v in report["results"].items()}  # fmt: skip
    print(ev.markdown_report(report, label))
    if args.out:
        json_path, md_path = ev.write_report(report, Path(args.out), label)
        print(f"wrote {json_path} and {md_path}")
        if args.saturation_sweep:
            plot = Path(args.out) / "saturation_sweep.png"
            ev.plot_sweep(report, sweep, plot)
            print(f"wrote {plot}")
    return 0


def cmd_export(args: argparse.Namespace) -> int:
    from colorgan.engines.export import export_model

    export_model(args.source, Path(args.out), args.onnx, args.half, args.saturation,
                 args.overwrite, args.temperature, args.mirror, args.mean_with)  # fmt: skip
    kind = " as ONNX (priors and generator)" if args.onnx else ""
    print(f"exported {args.source}{kind} to {args.out}")
    return 0


def cmd_serve(args: argparse.Namespace) -> int:
    from colorgan.apps.web import serve

    return serve(args)


def build_parser() -> argparse.ArgumentParser:
    from colorgan import __version__

    parser = argparse.ArgumentParser(
        prog="colorgan",
        description="Colorize black-and-white photos with a semantic-prior conditional GAN.",
    )
    parser.add_argument("--version", action="version", version=f"colorgan {__version__}")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    def runtime(p: argparse.ArgumentParser) -> None:
        p.add_argument("--device", default="auto", help="auto, cpu, cuda or cuda:N")
        p.add_argument("--precision", default="auto", choices=["auto", "fp32", "bf16", "fp16"])
        p.add_argument("-q", "--quiet", action="store_true", help="no progress bars")

    def model_choice(p: argparse.ArgumentParser) -> None:
        from colorgan.bundled import BUNDLED

        which = p.add_mutually_exclusive_group()
        which.add_argument("--weights", "-w", metavar="FILE",
                           help="a generator file (colorgan train / export wrote it; "
                                "colorize and serve also take .onnx ones)")  # fmt: skip
        which.add_argument("--model", "-m", default="default", choices=list(BUNDLED),
                           help="a bundled model (cards in docs/models/)")  # fmt: skip

    def prior_files(p: argparse.ArgumentParser) -> None:
        p.add_argument("--embedding-weights", metavar="FILE",
                       help="local Inception-ResNet-v2 (or Lite0) weights")  # fmt: skip
        p.add_argument("--segmentation-weights", metavar="FILE",
                       help="local DeepLabV3-ResNet50 weights")  # fmt: skip

    p = sub.add_parser("colorize", help="colorize photos (files, folders, globs) and videos")
    p.add_argument("inputs", nargs="+", metavar="INPUT", help="image files, folders or globs")
    p.add_argument("--out", "-o", required=True, metavar="DIR", help="output folder")
    model_choice(p)
    p.add_argument("--overwrite", action="store_true", help="replace existing outputs")
    p.add_argument("--size", type=int, help="prediction size (default: the training size)")
    p.add_argument("--saturation", type=float, default=1.0, metavar="S",
                   help="colour intensity relative to the model's own default (1), 0: grey, "
                        "1.5: stronger; at most 4")  # fmt: skip
    p.add_argument(
        "--hint",
        action="append",
        metavar="X,Y,#RRGGBB",
        help="a colour the photo had at pixel X,Y (repeatable; one photo)",
    )
    p.add_argument("--hints", metavar="FILE.json",
                   help='colour points for many photos: {"photo.jpg": [{"x": 120, "y": 48, '
                        '"color": "#b22222"}, ...]}')  # fmt: skip
    p.add_argument("--video-quality", type=int, default=20, metavar="CRF",
                   help="videos: x264's CRF, 0-51, lower is better (18-23 look alike)")  # fmt: skip
    p.add_argument("--batch", type=int, default=None,
                   help="photos or frames per run of the model (default: 1 photo, 8 frames; "
                        "each one of a batch is held decoded at once)")  # fmt: skip
    p.add_argument("--engine", default="auto", choices=["auto", "onnx", "torch"],
                   help="onnx: ONNX Runtime, no torch (bundled models, .onnx files); torch: "
                        "generator files, GPUs, --size, prior weight files; auto: onnx where "
                        "it can")  # fmt: skip
    runtime(p)
    prior_files(p)
    p.set_defaults(func=cmd_colorize)

    p = sub.add_parser("serve", help="colorize in a local web page (needs colorgan[web])")
    model_choice(p)
    p.add_argument("--host", default="127.0.0.1",
                   help="address to listen on (0.0.0.0: other machines too)")  # fmt: skip
    p.add_argument("--port", type=int, default=7860, help="default 7860")
    p.add_argument("--max-megabytes", type=float, default=50.0, metavar="MB",
                   help="largest upload, photo or film (default 50)")  # fmt: skip
    p.add_argument("--max-megapixels", type=float, default=100.0, metavar="MP",
                   help="largest photo (default 100)")  # fmt: skip
    p.add_argument("--engine", default="auto", choices=["auto", "onnx", "torch"])
    p.add_argument("--device", default="auto", help="torch engine: auto, cpu, cuda or cuda:N")
    p.set_defaults(func=cmd_serve)

    p = sub.add_parser("train", help="train a model from a YAML config")
    p.add_argument("config", metavar="CONFIG.yaml")
    p.add_argument("--resume", action="store_true", help="continue from the latest checkpoint")
    p.add_argument("--set", action="append", default=[], metavar="SECTION.KEY=VALUE",
                   help="override a config value (repeatable)")  # fmt: skip
    p.add_argument("--out-dir", help="parent folder of the run folder (config: out_dir)")
    p.add_argument("--max-steps", type=int, help="stop after this many generator steps")
    p.add_argument("--max-minutes", type=float,
                   help="stop (checkpoint and export) after this much training time")  # fmt: skip
    p.add_argument("-q", "--quiet", action="store_true", help="no progress bars")
    prior_files(p)
    p.set_defaults(func=cmd_train)

    p = sub.add_parser("evaluate", help="PSNR, SSIM, colour, FID, KID beside the grey floor")
    p.add_argument("data", metavar="DATA", nargs="?", help="folder of colour photos")
    p.add_argument("--val-of", metavar="CONFIG.yaml",
                   help="instead of DATA: the validation photos of this training config's "
                        "split, where recipes may be compared")  # fmt: skip
    model_choice(p)
    p.add_argument("--out", metavar="DIR", help="write metrics.json and metrics.md here")
    p.add_argument("--limit", type=int, help="evaluate only the first N images")
    p.add_argument("--size", type=int, help="prediction size (default: the training size)")
    p.add_argument("--no-fid", action="store_true", help="skip FID and KID (Inception-v3)")
    p.add_argument("--compare", action="append", default=[], metavar="MODEL",
                   help="another bundled model or generator file (repeatable)")  # fmt: skip
    p.add_argument("--saturation-sweep", nargs="?", const="default",
                   metavar="S,S,...", help="score each model at these colour intensities "
                        "(0.25 ... 1.5); PSNR, KID against colourfulness (--out DIR)")  # fmt: skip
    runtime(p)
    prior_files(p)
    p.set_defaults(func=cmd_evaluate)

    p = sub.add_parser("experiment", help="train and evaluate each row of a comparison (Table 2)")
    p.add_argument("experiment", metavar="EXPERIMENT", help="configs/experiments/*.yaml")
    p.add_argument("--set", action="append", default=[], metavar="KEY=VALUE",
                   help="override an experiment value (eval_limit=20, name=quick) or a training "
                        "value for every row (train.batch_size=8); repeatable")  # fmt: skip
    p.add_argument("--no-fid", action="store_true", help="skip FID and KID (Inception-v3)")
    p.add_argument("-q", "--quiet", action="store_true", help="no progress bars")
    p.set_defaults(func=cmd_experiment)

    p = sub.add_parser(
        "export", help="write a run's generator as one safetensors file, or a model as ONNX"
    )
    p.add_argument("source", metavar="SOURCE",
                   help="a run folder (its latest checkpoint), a generator file or a bundled "
                        "model name")  # fmt: skip
    p.add_argument("--out", "-o", required=True, metavar="FILE")
    p.add_argument("--onnx", action="store_true",
                   help="write the priors and generator as one ONNX graph, for the light "
                        "engine (colorize --engine onnx) that needs no torch")  # fmt: skip
    p.add_argument("--half", action="store_true", help="store fp16 weights (half the size)")
    p.add_argument("--saturation", type=float, metavar="S",
                   help="the model's default colour intensity, stored in the file (choose it "
                        "with evaluate --val-of CONFIG --saturation-sweep)")  # fmt: skip
    p.add_argument("--temperature", type=float, metavar="T",
                   help="a classifying model's annealed-mean temperature, stored in the file "
                        "(1: the mean of its colours, towards 0: the likeliest)")  # fmt: skip
    p.add_argument("--mirror", action=argparse.BooleanOptionalAction,
                   help="store mirror averaging on (or off) in the file: each photo is also "
                        "colorized mirrored and the two averaged, at twice the cost")  # fmt: skip
    p.add_argument("--mean-with", action="append", metavar="MODEL", help="a model whose "
                   "colours are averaged with SOURCE's (repeatable)")  # fmt: skip
    p.add_argument("--overwrite", action="store_true")
    p.set_defaults(func=cmd_export)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="colorgan: %(message)s")
    try:
        return int(args.func(args) or 0)
    except ColorganError as exc:
        print(f"colorgan: error: {rank_prefix()}{exc}", file=sys.stderr)
        return 2
    except ModuleNotFoundError as exc:
        extra = extra_for((exc.name or "").split(".")[0])
        if extra is None:
            raise
        print(f"colorgan: error: `colorgan {args.command}` needs {exc.name}, which the light "
              f"install leaves out: pip install 'colorgan[{extra}]'", file=sys.stderr)  # fmt: skip
        return 2
    except KeyboardInterrupt:
        print(f"colorgan: {rank_prefix()}interrupted", file=sys.stderr)
        return 130


def rank_prefix() -> str:
    """Under torchrun, which process speaks ('rank 1: '); nothing otherwise."""
    return f"rank {os.environ['RANK']}: " if "RANK" in os.environ else ""


if __name__ == "__main__":
    sys.exit(main())
