"""The `colorgan` command: train, colorize, evaluate, export."""

from __future__ import annotations

import argparse
import glob
import logging
import os
import sys
from collections.abc import Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path

from PIL import Image

from colorgan.atomic import atomic_file
from colorgan.errors import ColorganError

log = logging.getLogger("colorgan")

SAVE_FORMATS = {".jpg": "JPEG", ".jpeg": "JPEG", ".png": "PNG", ".webp": "WEBP", ".bmp": "BMP",
                ".tif": "TIFF", ".tiff": "TIFF"}  # fmt: skip


def expand_inputs(inputs: Sequence[str]) -> tuple[list[tuple[Path, Path]], list[str]]:
    """Files, folders (recursive) and globs -> (source, output path relative to --out)."""
    from colorgan.data import IMAGE_EXTENSIONS, find_images

    found: list[tuple[Path, Path]] = []
    missing: list[str] = []
    for item in inputs:
        path = Path(item)
        if path.is_dir():
            found += [(p, p.relative_to(path)) for p in find_images(path)]
        elif path.is_file():
            found.append((path, Path(path.name)))
        elif glob.has_magic(item):
            matches = sorted(Path(m) for m in glob.glob(item, recursive=True))
            files = [m for m in matches if m.is_file() and m.suffix.lower() in IMAGE_EXTENSIONS]
            if not files:
                missing.append(f"{item}: no image matches this pattern")
            found += [(m, Path(m.name)) for m in files]
        else:
            missing.append(f"{item}: no such file or folder")
    return found, missing


def save_atomic(image: Image.Image, target: Path) -> None:
    """Write through a temporary file so an interrupted run never leaves a broken output."""
    fmt = SAVE_FORMATS.get(target.suffix.lower(), "PNG")
    if fmt == "JPEG" and image.mode == "RGBA":
        fmt = "PNG"
    with atomic_file(target) as tmp:
        image.save(tmp, format=fmt, **({"quality": 95} if fmt in ("JPEG", "WEBP") else {}))


def output_path(out_dir: Path, rel: Path, alpha: bool) -> Path:
    suffix = rel.suffix.lower()
    if suffix not in SAVE_FORMATS or (alpha and SAVE_FORMATS[suffix] == "JPEG"):
        rel = rel.with_suffix(".png")
    return out_dir / rel


def cmd_colorize(args: argparse.Namespace) -> int:
    from tqdm import tqdm

    from colorgan.data import BadImage, open_image
    from colorgan.pipeline import Colorizer

    jobs, missing = expand_inputs(args.inputs)
    for line in missing:
        print(f"colorgan: error: {line}", file=sys.stderr)
    if not jobs:
        return 1
    colorizer = Colorizer(
        args.weights, device=args.device, precision=args.precision,
        embedding_weights=args.embedding_weights, segmentation_weights=args.segmentation_weights,
        size=args.size,
    )  # fmt: skip
    out_dir = Path(args.out)
    failures = len(missing)
    written = 0
    # One I/O thread decodes the next photo and encodes the last result while this thread
    # colorizes (Pillow releases the GIL in both); in submission order, so at most one decoded
    # photo waits ahead and one result waits to be written.
    with ThreadPoolExecutor(max_workers=1) as io:
        loads: list[Future | None] = [io.submit(open_image, src) for src, _ in jobs[:1]]
        saves: list[tuple[Path, Future]] = []
        bar = tqdm(jobs, desc="colorizing", unit="img", disable=args.quiet or len(jobs) < 2)
        for i, (src, rel) in enumerate(bar):
            if i + 1 < len(jobs):
                loads.append(io.submit(open_image, jobs[i + 1][0]))
            try:
                image = loads[i].result()
                loads[i] = None  # let the decoded photo go once colorized
                has_alpha = image.mode in ("RGBA", "LA", "PA") or "transparency" in image.info
                target = output_path(out_dir, rel, has_alpha)
                if target.exists() and not args.overwrite:
                    raise BadImage(f"{target} exists (pass --overwrite to replace it)")
                saves.append((src, io.submit(save_atomic, colorizer.colorize(image), target)))
            except (BadImage, OSError, ColorganError) as exc:
                failures += 1
                tqdm.write(f"colorgan: error: {src}: {exc}", file=sys.stderr)
        for src, save in saves:
            try:
                save.result()
                written += 1
            except OSError as exc:
                failures += 1
                print(f"colorgan: error: {src}: {exc}", file=sys.stderr)
    print(f"colorized {written} of {len(jobs)} image(s) into {out_dir.resolve()}")
    return 0 if failures == 0 else 1


def cmd_train(args: argparse.Namespace) -> int:
    from colorgan import distributed
    from colorgan.config import load_config
    from colorgan.train import Trainer

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
    from colorgan.experiment import load_experiment, results_markdown, run_experiment

    exp = load_experiment(args.experiment)
    if args.no_fid:
        exp.fid = False
    results = run_experiment(exp, progress=not args.quiet, source=args.experiment)
    print(results_markdown(results))
    print(f"wrote RESULTS.md, results.json, grid.png and losses.png in {exp.folder}")
    return 0


def cmd_evaluate(args: argparse.Namespace) -> int:
    from colorgan.evaluate import evaluate, markdown_table, write_report
    from colorgan.pipeline import Colorizer

    colorizer = Colorizer(
        args.weights, device=args.device, precision=args.precision, size=args.size,
        embedding_weights=args.embedding_weights, segmentation_weights=args.segmentation_weights,
    )  # fmt: skip
    features = None
    if not args.no_fid:
        from colorgan.fid import InceptionFeatures

        features = InceptionFeatures(colorizer.device)
    report = evaluate(
        colorizer, args.data, limit=args.limit, progress=not args.quiet, features=features
    )
    label = Path(args.weights).stem if args.weights else "default model"
    print(markdown_table(report, label))
    if args.out:
        json_path, md_path = write_report(report, Path(args.out), label)
        print(f"wrote {json_path} and {md_path}")
    return 0


def cmd_export(args: argparse.Namespace) -> int:
    from colorgan.checkpoint import export_generator, latest_checkpoint, load_checkpoint
    from colorgan.config import load_config
    from colorgan.models import build_generator
    from colorgan.train import generator_meta, inference_module

    run_dir = Path(args.run_dir)
    ckpt = latest_checkpoint(run_dir)
    if ckpt is None:
        raise ColorganError(f"no checkpoint in {run_dir}")
    cfg = load_config(ckpt / "config.yaml")
    generator = build_generator(cfg.model)
    modules = {"generator": generator}
    average = None
    if cfg.train.ema_decay > 0:  # the run keeps an EMA of G: once started, that is its G
        from torch.optim.swa_utils import AveragedModel

        average = AveragedModel(build_generator(cfg.model), use_buffers=True)
        modules["generator_ema"] = average
    load_checkpoint(ckpt, modules)
    generator = inference_module(generator, average)
    out = Path(args.out)
    if out.exists() and not args.overwrite:
        raise ColorganError(f"{out} exists (pass --overwrite to replace it)")
    export_generator(out, generator, generator_meta(cfg), half=args.half)
    print(f"exported {ckpt} to {out}")
    return 0


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

    def prior_files(p: argparse.ArgumentParser) -> None:
        p.add_argument("--embedding-weights", metavar="FILE",
                       help="local Inception-ResNet-v2 (or Lite0) weights")  # fmt: skip
        p.add_argument("--segmentation-weights", metavar="FILE",
                       help="local DeepLabV3-ResNet50 weights")  # fmt: skip

    p = sub.add_parser("colorize", help="colorize photos (files, folders, globs)")
    p.add_argument("inputs", nargs="+", metavar="INPUT", help="image files, folders or globs")
    p.add_argument("--out", "-o", required=True, metavar="DIR", help="output folder")
    p.add_argument("--weights", "-w", metavar="FILE", help="generator file (default: bundled)")
    p.add_argument("--overwrite", action="store_true", help="replace existing outputs")
    p.add_argument("--size", type=int, help="prediction size (default: the training size)")
    runtime(p)
    prior_files(p)
    p.set_defaults(func=cmd_colorize)

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

    p = sub.add_parser(
        "evaluate", help="PSNR / SSIM / colourfulness / FID / KID beside the grey floor"
    )
    p.add_argument("data", metavar="DATA", help="folder of colour photos")
    p.add_argument("--weights", "-w", metavar="FILE", help="generator file (default: bundled)")
    p.add_argument("--out", metavar="DIR", help="write metrics.json and metrics.md here")
    p.add_argument("--limit", type=int, help="evaluate only the first N images")
    p.add_argument("--size", type=int, help="prediction size (default: the training size)")
    p.add_argument("--no-fid", action="store_true", help="skip FID and KID (Inception-v3)")
    runtime(p)
    prior_files(p)
    p.set_defaults(func=cmd_evaluate)

    p = sub.add_parser(
        "experiment", help="train and evaluate every row of a comparison (paper Table 2)"
    )
    p.add_argument("experiment", metavar="EXPERIMENT", help="configs/experiments/*.yaml")
    p.add_argument("--no-fid", action="store_true", help="skip FID and KID (Inception-v3)")
    p.add_argument("-q", "--quiet", action="store_true", help="no progress bars")
    p.set_defaults(func=cmd_experiment)

    p = sub.add_parser("export", help="write a run's generator as one safetensors file")
    p.add_argument("run_dir", metavar="RUN_DIR")
    p.add_argument("--out", "-o", required=True, metavar="FILE")
    p.add_argument("--half", action="store_true", help="store fp16 weights (half the size)")
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
    except KeyboardInterrupt:
        print(f"colorgan: {rank_prefix()}interrupted", file=sys.stderr)
        return 130


def rank_prefix() -> str:
    """Under torchrun, which process speaks ('rank 1: '); nothing otherwise."""
    return f"rank {os.environ['RANK']}: " if "RANK" in os.environ else ""


if __name__ == "__main__":
    sys.exit(main())
