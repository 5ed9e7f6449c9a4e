"""`colorgan export`: a run folder, a generator file or a bundled model -> one generator file
(fp16, another stored saturation, mirror averaging, a mean of several models), or the ONNX
graph the onnx engine runs."""

from __future__ import annotations

import argparse
import tempfile
from pathlib import Path

from colorgan.base.errors import ColorganError, shown


def add_parser(sub) -> argparse.ArgumentParser:  # argparse's subparsers
    p = sub.add_parser(
        "export", help="write a run's generator as one safetensors file, or a model as ONNX"
    )
    p.add_argument(
        "source",
        metavar="SOURCE",
        help="a run folder (its latest checkpoint), a generator file or a bundled model name",
    )
    p.add_argument("--out", "-o", required=True, metavar="FILE")
    p.add_argument(
        "--onnx",
        action="store_true",
        help="write the priors and generator as one ONNX graph, for the light "
        "engine (colorize --engine onnx) that needs no torch",
    )
    p.add_argument("--half", action="store_true", help="store fp16 weights (half the size)")
    p.add_argument(
        "--saturation",
        type=float,
        metavar="S",
        help="the model's default colour intensity, stored in the file (choose it "
        "with evaluate --val-of CONFIG --saturation-sweep)",
    )
    p.add_argument(
        "--temperature",
        type=float,
        metavar="T",
        help="a classifying model's annealed-mean temperature, stored in the file "
        "(1: the mean of its colours, towards 0: the likeliest)",
    )
    p.add_argument(
        "--mirror",
        action=argparse.BooleanOptionalAction,
        help="store mirror averaging on (or off) in the file: each photo is also "
        "colorized mirrored and the two averaged, at twice the cost",
    )
    p.add_argument(
        "--mean-with",
        action="append",
        metavar="MODEL",
        help="a model whose colours are averaged with SOURCE's (repeatable)",
    )
    p.add_argument("--overwrite", action="store_true")
    return p


def run(args: argparse.Namespace) -> int:
    export_model(args)
    kind = " as ONNX (priors and generator)" if args.onnx else ""
    print(f"exported {args.source}{kind} to {args.out}")
    return 0


def export_model(args: argparse.Namespace) -> None:
    """SOURCE (a run folder's latest checkpoint, a generator file or a bundled model) -> a
    generator file, or with --onnx the onnx engine's graph; --half stores fp16 weights,
    --saturation the model's default colour intensity, --temperature a classifying model's
    annealed-mean temperature, --mirror mirror averaging on or off; --mean-with models whose
    ab is averaged with this one's."""
    from colorgan.base.files import atomic_write_bytes
    from colorgan.models.file import mean_generator_file, rewrite_generator
    from colorgan.spec.bundled import stored_generator
    from colorgan.spec.meta import stored_saturation

    source, out, overwrite, half = args.source, Path(args.out), args.overwrite, args.half
    saturation, temperature, mirror = args.saturation, args.temperature, args.mirror
    onnx, mean_with = args.onnx, args.mean_with

    if out.is_dir():
        raise ColorganError(f"--out {shown(str(out))} is a folder; give the file to write")
    if out.exists() and not overwrite:
        raise ColorganError(f"{shown(str(out))} exists (pass --overwrite to replace it)")
    if saturation is not None:
        stored_saturation({"saturation": saturation})
    with tempfile.TemporaryDirectory() as tmp:
        generator = Path(tmp) / "generator.safetensors"
        if Path(source).is_dir():  # a run folder: its latest checkpoint's generator
            from colorgan.training.runs import export_run

            export_run(Path(source), generator, half=half)
        else:
            generator = stored_generator(source)
        if mean_with:
            mean = Path(tmp) / "mean.safetensors"
            mean_generator_file([generator, *map(stored_generator, mean_with)], mean)
            generator = mean
        if any(s is not None for s in (saturation, temperature, mirror)) or (
            half and not Path(source).is_dir()
        ):
            rewritten = Path(tmp) / "rewritten.safetensors"
            rewrite_generator(generator, rewritten, half, saturation, temperature, mirror)
            generator = rewritten
        if onnx:
            from colorgan.engines.export import export_onnx

            export_onnx(generator, out, overwrite=overwrite)
        else:
            atomic_write_bytes(out, generator.read_bytes(), exclusive=not overwrite)
