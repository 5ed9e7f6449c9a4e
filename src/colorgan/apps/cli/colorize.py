"""`colorgan colorize`: photos and films (files, folders, globs) into an output folder."""

from __future__ import annotations

import argparse
import sys
from itertools import chain
from pathlib import Path

from colorgan.apps.cli.common import model_choice, prior_files, runtime_options, warn_of_trust
from colorgan.base.errors import ColorganError, short, shown
from colorgan.spec.hints import Hint


def add_parser(sub) -> argparse.ArgumentParser:  # noqa: ANN001 - argparse's subparsers
    p = sub.add_parser("colorize", help="colorize photos and films (files, folders, globs)")
    p.add_argument(
        "inputs",
        nargs="+",
        metavar="INPUT",
        help="photo or film files, folders (searched recursively) or globs",
    )
    p.add_argument("--out", "-o", required=True, metavar="DIR", help="output folder")
    model_choice(p)
    p.add_argument("--overwrite", action="store_true", help="replace existing outputs")
    p.add_argument("--size", type=int, help="prediction size (default: the training size)")
    p.add_argument(
        "--saturation",
        type=float,
        default=1.0,
        metavar="S",
        help="colour intensity relative to the model's own default (1), 0: grey, "
        "1.5: stronger; at most 4",
    )
    colour_sources(p)
    p.add_argument(
        "--video-quality",
        type=int,
        default=20,
        metavar="CRF",
        help="films: x264's CRF, 0-51, lower is better (18-23 look alike)",
    )
    p.add_argument(
        "--batch",
        type=int,
        default=None,
        help="photos or frames per run of the model (default: 1 photo, 8 frames; "
        "each one of a batch is held decoded at once)",
    )
    p.add_argument(
        "--engine",
        default="auto",
        choices=["auto", "onnx", "torch"],
        help="onnx: ONNX Runtime, no torch (bundled models, .onnx files); torch: "
        "generator files, GPUs, --size, prior weight files; auto: onnx where "
        "it can",
    )
    runtime_options(p)
    prior_files(p)
    return p


def colour_sources(p: argparse.ArgumentParser) -> None:
    """What an input's colour may come from besides the model: hints and reference photos."""
    p.add_argument(
        "--hint",
        action="append",
        metavar="X,Y,#RRGGBB",
        help="a colour the photo had at pixel X,Y (repeatable; one photo or film)",
    )
    p.add_argument(
        "--hints",
        metavar="FILE.json",
        help='colour points for many photos: {"photo.jpg": [{"x": 120, "y": 48, '
        '"color": "#b22222"}, ...]}; a key is a file name or a relative path',
    )
    p.add_argument(
        "--reference",
        action="append",
        metavar="PHOTO",
        help="a colour photo whose colours the inputs take where they show what it shows "
        "(repeatable; for every input, films included)",
    )
    p.add_argument(
        "--references",
        metavar="FILE.json",
        help='reference photos for many inputs: {"photo.jpg": ["colour.jpg", ...]}; keys as '
        "for --hints, paths from the file's folder",
    )
    p.add_argument(
        "--reference-frame",
        action="append",
        metavar="N:PHOTO",
        help="films: frame N (from 0) in colour, held from frame N to the next hard cut "
        "(repeatable; one film)",
    )
    p.add_argument(
        "--reference-bank",
        metavar="DIR",
        help="a bank of colour photos (colorgan bank build): each input takes its nearest "
        "ones as references (a film: each shot)",
    )
    p.add_argument(
        "--bank-k", type=int, default=3, metavar="K", help="references from the bank (default 3)"
    )
    p.add_argument(
        "--alternatives",
        type=int,
        default=1,
        metavar="N",
        help="colour each input N ways, each from one reference (yours in turn, else the "
        "bank's nearest in turn): NAME-alt1 ... NAME-altN",
    )
    p.add_argument(
        "--hint-reach",
        default="object",
        choices=["object", "photo"],
        help="how far a hint's colour goes: its object (what lightness connects to it; "
        "default) or wherever the model carries it",
    )


def parse_hint(text: str) -> Hint:
    """ "X,Y,#rrggbb" (--hint) -> a Hint; ColorganError (one line) otherwise."""
    parts = [p.strip() for p in text.split(",")]
    where = f"--hint {short(text)}"
    if len(parts) != 3:
        raise ColorganError(f"{where}: expected X,Y,#rrggbb")
    try:
        x, y = float(parts[0]), float(parts[1])
    except ValueError:
        raise ColorganError(f"{where}: X and Y must be numbers") from None
    try:
        return Hint(x, y, parts[2])
    except ColorganError as exc:
        raise ColorganError(f"{where}: {exc}") from None


def hints_by_input(args: argparse.Namespace, sources: list[Path]) -> dict[Path, list[Hint]]:
    """--hint X,Y,COLOUR (repeatable, one photo or film) or --hints FILE.json -> hints by
    input path (none: empty)."""
    from colorgan.apps.points import match_inputs, read_points

    if args.hint and args.hints:
        raise ColorganError("give --hint or --hints FILE.json, not both")
    if args.hint:
        if len(sources) != 1:
            raise ColorganError("--hint is for one photo or film; for several, --hints FILE.json")
        return {sources[0]: [parse_hint(text) for text in args.hint]}
    if args.hints:
        return match_inputs(read_points(args.hints), sources)
    return {}


def references_by_input(
    args: argparse.Namespace, sources: list[Path]
) -> list[Path] | dict[Path, list[Path]]:
    """--reference PHOTO (repeatable, every input) or --references FILE.json -> reference
    photos: one list for every input, or lists by input path."""
    from colorgan.apps.points import match_inputs, read_references

    if args.reference and args.references:
        raise ColorganError("give --reference or --references FILE.json, not both")
    if args.references:
        return match_inputs(read_references(args.references), sources, "--references")
    return [Path(p) for p in args.reference or []]


def key_frames(args: argparse.Namespace, films: list[Path]) -> dict[Path, list]:
    """--reference-frame N:PHOTO (repeatable, one film) -> key frames by film."""
    if not args.reference_frame:
        return {}
    if len(films) != 1:
        raise ColorganError("--reference-frame is for one film")
    pairs = []
    for text in args.reference_frame:
        number, sep, photo = text.partition(":")
        if not sep or not number.strip().isdigit() or not photo:
            raise ColorganError(f"--reference-frame {short(text)}: expected N:PHOTO, N from 0")
        pairs.append((int(number), Path(photo)))
    return {films[0]: pairs}


def run(args: argparse.Namespace) -> int:
    from tqdm import tqdm

    from colorgan.base.files import output_folder
    from colorgan.base.images import VIDEO_SUFFIXES, expand_inputs
    from colorgan.engines.choose import EngineOptions, open_engine
    from colorgan.pipeline.colorizer import Colorizer
    from colorgan.pipeline.film import colorize_videos

    out_dir = output_folder(args.out)
    jobs, missing = expand_inputs(args.inputs, out_dir)
    for line in missing:
        print(f"colorgan: error: {shown(line)}", file=sys.stderr)
    if not jobs:
        return 1
    videos = [job for job in jobs if job[0].suffix.lower() in VIDEO_SUFFIXES]
    photos = [job for job in jobs if job not in videos]
    hints = hints_by_input(args, [src for src, _ in jobs])
    references = references_by_input(args, [src for src, _ in jobs])
    keys = key_frames(args, [src for src, _ in videos])
    bank = None
    if args.reference_bank:
        from colorgan.pipeline.bank import Bank

        bank = Bank.load(args.reference_bank)
        warn_of_trust(bank, args)
    colorizer = Colorizer(open_engine(EngineOptions.of(args)))
    chosen = (bank, args.bank_k, args.alternatives)
    photo_batch, frame_batch = (1, 8) if args.batch is None else (args.batch, args.batch)
    results = chain(  # each call checks its requests before anything is written
        colorizer.colorize_files(
            photos,
            out_dir,
            args.overwrite,
            not args.quiet,
            photo_batch,
            args.saturation,
            hints,
            references,
            args.hint_reach,
            *chosen,
        ),
        colorize_videos(
            colorizer,
            videos,
            out_dir,
            args.overwrite,
            frame_batch,
            not args.quiet,
            args.video_quality,
            args.saturation,
            hints,
            references,
            keys,
            args.hint_reach,
            *chosen,
        ),
    )
    written = total = 0  # outputs: alternatives make several of one input
    for result in results:
        total += 1
        if result.error is None:
            written += 1
        else:
            line = shown(f"{result.source}: {result.error}")
            tqdm.write(f"colorgan: error: {line}", file=sys.stderr)
    print(f"colorized {written} of {total} file(s) into {out_dir.resolve()}")
    return 0 if written == total and not missing else 1
