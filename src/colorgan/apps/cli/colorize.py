"""`colorgan colorize`: photos and films (files, folders, globs) into an output folder."""

from __future__ import annotations

import argparse
import re
import sys
from itertools import chain
from pathlib import Path

from colorgan.apps.cli.common import (
    model_choice,
    prior_files,
    runtime_options,
    said,
    warn_of_trust,
)
from colorgan.apps.cli.film_args import check_one_film, film_jobs, film_options, one_film_out
from colorgan.base.errors import ColorganError, short, shown
from colorgan.pipeline.settings import DEFAULTS, HINT_REACHES, Settings, settings_of
from colorgan.spec.meta import MAX_SATURATION


def add_parser(sub) -> argparse.ArgumentParser:  # argparse's subparsers
    p = sub.add_parser("colorize", help="colorize photos and films (files, folders, globs)")
    p.add_argument(
        "inputs",
        nargs="+",
        metavar="INPUT",
        help="photo or film files, folders (searched recursively) or globs; an image "
        "sequence: a printf pattern (scan/%%06d.dpx) or, with --frame-rate, a folder of "
        "numbered frames; - : a Y4M stream on standard input",
    )
    p.add_argument(
        "--out",
        "-o",
        required=True,
        metavar="DIR",
        help="output folder; for one film, its output file (NAME.mp4, .mov, .mkv or .y4m, "
        "as --codec writes), or - : a Y4M stream on standard output (--codec y4m)",
    )
    model_choice(p)
    p.add_argument("--overwrite", action="store_true", help="replace existing outputs")
    p.add_argument("--size", type=int, help="prediction size (default: the training size)")
    p.add_argument(
        "--saturation",
        type=float,
        metavar="S",
        help=f"colour intensity relative to the model's own ({DEFAULTS.saturation:g}), 0: "
        f"grey, 1.5: stronger; at most {MAX_SATURATION:g}",
    )
    colour_sources(p)
    restore_options(p)
    film_options(p)
    p.add_argument(
        "--batch",
        type=int,
        help=f"photos or frames per run of the model (default: {DEFAULTS.photo_batch} photo, "
        f"{DEFAULTS.frame_batch} frames; each one of a batch is held decoded at once)",
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
    cluster_options(p)
    return p


def cluster_options(p: argparse.ArgumentParser) -> None:
    """Where the work runs: this machine, or a Ray cluster (apps.cluster)."""
    p.add_argument(
        "--ray",
        nargs="?",
        const="",
        metavar="ADDRESS",
        help="colour across a Ray cluster: its ADDRESS (HOST:PORT, or auto), or none for Ray's "
        "own choice (RAY_ADDRESS, a cluster started here, else a new one here); outputs must "
        "go to a folder every worker sees. Put it after the inputs, or write --ray=ADDRESS",
    )
    p.add_argument(
        "--ray-workers",
        type=int,
        metavar="N",
        help="with --ray: workers, each with its model (default: one a GPU, else one for "
        "every --ray-cpus CPUs of the cluster)",
    )
    p.add_argument(
        "--ray-cpus",
        type=int,
        metavar="C",
        help="with --ray: each worker's CPUs (default 1: the most workers, a model each)",
    )


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
        "--bank-k",
        type=int,
        metavar="K",
        help=f"references from the bank (default {DEFAULTS.bank_k})",
    )
    p.add_argument(
        "--alternatives",
        type=int,
        metavar="N",
        help="colour each input N ways, each from one reference (yours in turn, else the "
        "bank's nearest in turn): NAME-alt1 ... NAME-altN",
    )
    p.add_argument(
        "--hint-reach",
        choices=HINT_REACHES,
        help="how far a hint's colour goes: its object (what lightness connects to it) or "
        f"wherever the model carries it (the photo); default {DEFAULTS.hint_reach}",
    )


def restore_options(p: argparse.ArgumentParser) -> None:
    """Repairing old prints before (or instead of) colour."""
    p.add_argument(
        "--restore",
        action="store_true",
        default=None,
        help="repair an old print's scratches, cracks, dust and fading, then colour it",
    )
    p.add_argument(
        "--restore-mask",
        action="store_true",
        default=None,
        help="with --restore: also write where damage was found, NAME-damage.png",
    )


def hints_given(args: argparse.Namespace, sources: list[Path]) -> list[str] | dict[Path, list]:
    """--hint X,Y,COLOUR (repeatable, one photo or film; checked as settings) or --hints
    FILE.json (hints by input path); none: an empty list."""
    from colorgan.apps.points import match_inputs, read_points

    if args.hint and args.hints:
        raise ColorganError("give --hint or --hints FILE.json, not both")
    if args.hint:
        if len(sources) != 1:
            raise ColorganError("--hint is for one photo or film; for several, --hints FILE.json")
        return list(args.hint)
    if args.hints:
        return match_inputs(read_points(args.hints), sources)
    return []


def references_given(
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
        if not sep or not re.fullmatch(r"[0-9]{1,12}", number.strip()) or not photo:
            raise ColorganError(
                f"--reference-frame {short(text)}: expected N:PHOTO, N a frame number from 0"
            )
        pairs.append((int(number), Path(photo)))
    return {films[0]: pairs}


def settings_given(
    args: argparse.Namespace, jobs: list[tuple[Path, Path]], films: list[Path]
) -> Settings:
    """The command's options as pipeline.settings.Settings: each given one, the rest the
    Settings' own defaults."""
    sources = [src for src, _ in jobs]
    given = {
        "saturation": args.saturation,
        "hints": hints_given(args, sources),
        "hint_reach": args.hint_reach,
        "references": references_given(args, sources),
        "key_frames": key_frames(args, films),
        "bank_k": args.bank_k,
        "alternatives": args.alternatives,
        "batch": args.batch,
        "video_quality": args.video_quality,
        "codec": args.codec,
        "frame_rate": args.frame_rate,
        "restore": args.restore,
        "restore_mask": args.restore_mask,
    }
    if args.reference_bank:
        from colorgan.pipeline.bank import Bank

        given["bank"] = Bank.load(args.reference_bank)
        warn_of_trust(given["bank"], args)
    return settings_of(None, **{k: v for k, v in given.items() if v is not None})


def run(args: argparse.Namespace) -> int:

    from colorgan.base.files import output_folder
    from colorgan.base.images import VIDEO_SUFFIXES, expand_inputs
    from colorgan.engines.choose import EngineOptions, open_engine
    from colorgan.pipeline.colorizer import Colorizer
    from colorgan.pipeline.film import colorize_videos
    from colorgan.pipeline.film_out import STDOUT

    single = one_film_out(args)
    to_stdout = single == STDOUT
    report = sys.stderr if to_stdout else sys.stdout  # standard output holds frames alone
    if single is None:
        out_dir = output_folder(args.out)
    else:
        out_dir = Path(".") if to_stdout else output_folder(str(single.parent))
    films, rest = film_jobs(args)
    # a folder's files under the output folder are earlier outputs; a film's own file is not
    jobs, missing = expand_inputs(rest, out_dir if single is None else None) if rest else ([], [])
    jobs = films + jobs
    for line in missing:
        print(f"colorgan: error: {shown(line)}", file=sys.stderr)
    if not jobs:
        return 1
    videos = [job for job in jobs if job in films or job[0].suffix.lower() in VIDEO_SUFFIXES]
    photos = [job for job in jobs if job not in videos]
    settings = settings_given(args, jobs, [src for src, _ in videos])
    if single is not None:
        check_one_film(args, single, (jobs, videos), settings.codec)
        videos = [(videos[0][0], single if to_stdout else Path(single.name))]
    how = {"overwrite": args.overwrite, "progress": not args.quiet}
    if args.ray is not None or args.ray_workers is not None or args.ray_cpus is not None:
        results = on_ray(args, jobs, out_dir, settings)
    else:
        colorizer = Colorizer(open_engine(EngineOptions.of(args)))
        results = chain(  # each call checks its requests before anything is written
            colorizer.colorize_files(photos, out_dir, settings, **how),
            colorize_videos(colorizer, videos, out_dir, settings, **how),
        )
    written, total = said(results)  # outputs: alternatives make several of one input
    where = "standard output" if to_stdout else out_dir.resolve()
    print(f"colorized {written} of {total} file(s) into {where}", file=report)
    return 0 if written == total and not missing else 1


def on_ray(args: argparse.Namespace, jobs: list, out_dir: Path, settings: Settings):
    """The run across a Ray cluster (apps.cluster): the same outputs, the same results."""
    from colorgan.apps.cluster import Cluster, colorize_on_ray
    from colorgan.engines.choose import EngineOptions

    if args.ray is None:
        raise ColorganError("--ray-workers and --ray-cpus are for a run with --ray")
    given = {"workers": args.ray_workers, "cpus": args.ray_cpus}
    cluster = Cluster(args.ray or None, **{k: v for k, v in given.items() if v is not None})
    how = {"overwrite": args.overwrite, "progress": not args.quiet}
    return colorize_on_ray(
        jobs, out_dir, settings, cluster=cluster, engine=EngineOptions.of(args), **how
    )
