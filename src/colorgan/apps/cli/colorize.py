"""`colorgan colorize`: photos and films (files, folders, globs) into an output folder."""

from __future__ import annotations

import argparse
import re
import sys
from itertools import chain
from pathlib import Path

from colorgan.apps.cli.common import model_choice, prior_files, runtime_options, warn_of_trust
from colorgan.base.errors import ColorganError, short, shown
from colorgan.pipeline.settings import CODECS, HINT_REACHES, Settings, settings_of
from colorgan.spec.meta import MAX_SATURATION

DEFAULTS = Settings()


def add_parser(sub) -> argparse.ArgumentParser:  # noqa: ANN001 - argparse's subparsers
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
    return p


def film_options(p: argparse.ArgumentParser) -> None:
    """How films are written, and an image sequence's clock."""
    p.add_argument(
        "--codec",
        metavar="|".join(CODECS),
        help=f"films: h264 (MP4, 8-bit), h265 (MP4, 10-bit from deeper sources), prores (MOV, "
        "422 HQ, 10-bit), ffv1 (MKV, lossless, the source's depth), y4m (a raw stream), png "
        f"or tiff (a folder of frames, 16-bit from deeper sources); default {DEFAULTS.codec}",
    )
    p.add_argument(
        "--video-quality",
        type=int,
        metavar="CRF",
        help=f"films in h264 and h265: the encoder's CRF, 0-51, lower is better (18-23 look "
        f"alike in H.264; default {DEFAULTS.video_quality})",
    )
    p.add_argument(
        "--frame-rate",
        metavar="RATE",
        help="image sequences: frames a second (24, 25, 24000/1001; default 24); given, a "
        "folder input is one film's frames",
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


def film_jobs(args: argparse.Namespace) -> tuple[list[tuple[Path, Path]], list[str]]:
    """The inputs that are films without being files: standard input (-), printf patterns,
    and, with --frame-rate, folders of frames -> (source, output name) jobs; and the rest of
    the inputs, for expand_inputs."""
    from colorgan.pipeline.film_in import PATTERN, STDIN, sequence_name

    jobs, rest = [], []
    for item in args.inputs:
        path = Path(item)
        if item == "-":
            jobs.append((STDIN, Path("stdin")))
        elif PATTERN.search(path.name) or (args.frame_rate is not None and path.is_dir()):
            jobs.append((path, Path(sequence_name(path))))
        else:
            rest.append(item)
    return jobs, rest


def one_film_out(args: argparse.Namespace) -> Path | None:
    """Where --out names one film's output rather than a folder: its file (NAME.mp4, .mov,
    .mkv, .y4m), or film_out.STDOUT for -; None for a folder."""
    from colorgan.pipeline.film_out import CODECS as WRITTEN
    from colorgan.pipeline.film_out import STDOUT

    path = Path(args.out)
    if args.out == "-":
        return STDOUT
    suffixes = {suffix for _, container, suffix in WRITTEN.values() if container}
    return path if path.suffix.lower() in suffixes and not path.is_dir() else None


def check_one_film(args: argparse.Namespace, single: Path, runs: tuple, codec: str) -> None:
    """A film's own output (--out FILE, or -) is for a run of one film (`runs`: the jobs and
    the films among them), in its codec's suffix."""
    from colorgan.pipeline.film_out import STDOUT, suffix_of

    jobs, videos = runs
    if len(jobs) != 1 or len(videos) != 1:
        raise ColorganError(f"--out {shown(args.out)} is for one film; for more, an output folder")
    if single == STDOUT and codec != "y4m":
        raise ColorganError("--out - (standard output) takes --codec y4m")
    if single != STDOUT and single.suffix.lower() != suffix_of(codec):
        raise ColorganError(
            f"--out {shown(args.out)}: --codec {codec} writes {suffix_of(codec) or 'a folder'}"
        )


def run(args: argparse.Namespace) -> int:
    from tqdm import tqdm

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
    colorizer = Colorizer(open_engine(EngineOptions.of(args)))
    how = {"overwrite": args.overwrite, "progress": not args.quiet}
    results = chain(  # each call checks its requests before anything is written
        colorizer.colorize_files(photos, out_dir, settings, **how),
        colorize_videos(colorizer, videos, out_dir, settings, **how),
    )
    written = total = 0  # outputs: alternatives make several of one input
    for result in results:
        total += 1
        if result.error is None:
            written += 1
        else:
            kept = " (pass --overwrite to replace it)" if result.kept else ""
            line = shown(f"{result.source}: {result.error}{kept}")
            tqdm.write(f"colorgan: error: {line}", file=sys.stderr)
    where = "standard output" if to_stdout else out_dir.resolve()
    print(f"colorized {written} of {total} file(s) into {where}", file=report)
    return 0 if written == total and not missing else 1
