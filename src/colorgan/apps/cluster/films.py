"""Films across a Ray cluster: each film read once on the driver and cut
where one machine's colouring starts afresh (pipeline.film_split), its parts coloured as Ray
tasks (their frames' colour, exactly, in a hidden folder beside its output:
pipeline.film_parts), and the film written on the driver by the film core itself with the
parts for its colour (film.colorize_video), in the settings' codec, with its sound, while
later parts are still being coloured: one machine's output, frame for frame.

A part's file is published whole, so one that exists is finished: a run stopped (a worker
killed, the driver stopped) and started again colours only the parts that are missing, where
the film, its settings and its plan are those the folder was started with (its plan.txt);
else the folder starts afresh. The folder goes once the film is published.
"""

from __future__ import annotations

import hashlib
import json
import pickle
import shutil
from collections.abc import Iterator, Sequence
from dataclasses import replace
from functools import partial
from pathlib import Path

from colorgan.apps.cluster.run import Run
from colorgan.base.errors import ColorganError
from colorgan.base.files import atomic_write_text
from colorgan.base.images import BadImage
from colorgan.engines.choose import EngineOptions, open_engine
from colorgan.pipeline.batch import FileResult
from colorgan.pipeline.colorizer import Colorizer
from colorgan.pipeline.film import check_target, colorize_video, films_into
from colorgan.pipeline.film_in import STDIN, is_sequence
from colorgan.pipeline.film_out import STDOUT
from colorgan.pipeline.film_parts import SUFFIX, Parts, colour_part
from colorgan.pipeline.film_split import FilmPlan, plan_film
from colorgan.pipeline.request import Request
from colorgan.pipeline.settings import Settings

PARTS_PER_WORKER = 4  # a film is cut into at most this many parts a worker, where it can be
RETRIES = 8  # a part's task is run again this many times where its worker dies


def colorize_films(
    run: Run, requests: Sequence[tuple[Request, Path]], out_dir: Path
) -> Iterator[FileResult]:
    """Each planned (film request, relative output path) into `out_dir` in its settings'
    codec, a result for each, named and refused as film.colorize_videos names and refuses
    them (film.films_into, the loop they share)."""
    return films_into(requests, out_dir, partial(colour_film, run))


def colour_film(run: Run, request: Request, target: Path) -> int:
    """One film across the cluster into `target`; returns its number of frames. A film that
    is no video file (an image sequence, standard input) or goes to standard output is
    refused in one line: it is read and written in order, on one machine."""
    source = request.photo
    if target == STDOUT or source == STDIN or is_sequence(source):
        what = "standard output" if target == STDOUT else "an image sequence or standard input"
        raise BadImage(f"{what} is coloured on one machine, not on a Ray cluster")
    check_target(request, target, run.overwrite)
    plan = plan_film(run.driver, request, PARTS_PER_WORKER * run.workers)
    folder = target.with_name(f".{target.name}.parts")
    _start(folder, _digest(request, plan), run.overwrite)
    paths = [folder / f"part-{k:05d}{SUFFIX}" for k in range(len(plan.parts))]
    task = run.ray.remote(_colour_part).options(
        num_cpus=run.cpus, num_gpus=run.gpus, max_retries=RETRIES
    )
    settings = run.ray.put(request.settings)  # shipped once for every part
    waits = [
        None if path.exists() else task.remote(run.worker, settings, source, plan, k, path)
        for k, path in enumerate(paths)
    ]

    def finished() -> Iterator[Path]:  # each part once it is coloured, in order
        for path, wait in zip(paths, waits, strict=True):
            if wait is not None:
                _wait(run.ray, wait)
            yield path

    how = {"overwrite": run.overwrite, "progress": run.progress}
    colour = Parts(plan, finished(), restored=request.settings.restore)
    try:
        frames = colorize_video(run.driver, request, target, colour=colour, **how)
    except BaseException:
        for wait in waits:  # nothing more of this film is wanted now
            if wait is not None:
                run.ray.cancel(wait)
        raise
    shutil.rmtree(folder, ignore_errors=True)
    return frames


def _wait(ray, wait) -> None:  # the ray module, a task's reference
    """A part's task done; where it failed on the film (BadImage, a file, FFmpeg), its own
    error, said in one line as one machine says it, not Ray's account of the worker."""
    try:
        ray.get(wait)
    except ray.exceptions.RayTaskError as exc:
        cause = exc.cause
        mine = isinstance(cause, BadImage | OSError | ColorganError)
        if mine or type(cause).__module__.startswith("av"):
            raise cause from None
        raise


def _colour_part(
    engine: EngineOptions, settings: Settings, source: Path, plan: FilmPlan, part: int, path: Path
) -> int:
    """A Ray task: one part of a film coloured into `path` with the engine's own colorizer."""
    colorizer = Colorizer(open_engine(engine))
    return colour_part(colorizer, Request(source, settings), plan, part, path)


def _digest(request: Request, plan: FilmPlan) -> str:
    """What a film's parts were coloured from: the film file as it is, its plan, and its
    settings (a bank by its manifest)."""
    source = request.photo
    stat = source.stat()
    settings = request.settings
    bank = None if settings.bank is None else json.dumps(settings.bank.manifest, sort_keys=True)
    held = (str(source.resolve()), stat.st_size, stat.st_mtime_ns, plan)
    pickled = pickle.dumps((held, replace(settings, bank=None), bank))
    return hashlib.sha256(pickled).hexdigest()


def _start(folder: Path, digest: str, overwrite: bool) -> None:
    """The parts folder ready: kept where it was started for this very film and settings
    (and overwriting is not asked), else emptied; its plan.txt says which."""
    saved = folder / "plan.txt"
    if folder.is_dir() and (overwrite or not saved.is_file() or saved.read_text() != digest):
        shutil.rmtree(folder)
    folder.mkdir(parents=True, exist_ok=True)
    atomic_write_text(saved, digest)
