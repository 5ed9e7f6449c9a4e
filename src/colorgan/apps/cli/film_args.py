"""The film side of `colorgan colorize`: how films are written, and the inputs and outputs
that are films without being files (standard input and output, image sequences, one film's
own output file)."""

from __future__ import annotations

import argparse
from pathlib import Path

from colorgan.base.errors import ColorganError, shown
from colorgan.pipeline.settings import CODECS, DEFAULTS


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
