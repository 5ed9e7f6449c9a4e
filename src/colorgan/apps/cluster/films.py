"""Films across a Ray cluster: each film read once on the driver and cut
where one machine's colouring starts afresh (pipeline.film_split), its parts coloured as Ray
tasks into lossless files in a hidden folder beside its output (pipeline.film_parts), and
joined in order on the driver into the one output, with its sound, while later parts are
still being coloured.

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
from pathlib import Path

from colorgan.apps.cluster.run import Run
from colorgan.base.errors import ColorganError, install_hint
from colorgan.base.files import atomic_write_text
from colorgan.base.images import BadImage
from colorgan.engines.choose import EngineOptions, open_engine
from colorgan.pipeline.batch import FileResult, OutputExists, failed, refuse_input, unclaimed
from colorgan.pipeline.colorizer import Colorizer
from colorgan.pipeline.film_parts import colour_part, join_parts
from colorgan.pipeline.film_split import FilmPlan, plan_film
from colorgan.pipeline.request import Request
from colorgan.pipeline.settings import Settings

PARTS_PER_WORKER = 4  # a film is cut into at most this many parts a worker, where it can be
RETRIES = 8  # a part's task is run again this many times where its worker dies


def colorize_films(
    run: Run, requests: Sequence[tuple[Request, Path]], out_dir: Path
) -> Iterator[FileResult]:
    """Each planned (film request, relative output path) into `out_dir` as MP4, a result
    for each, named and refused as film.colorize_videos names and refuses them."""
    if not requests:
        return
    try:
        import av  # noqa: F401 - only to know it is there
    except ModuleNotFoundError:  # the light install: the photos went on, the films say why
        for request, _ in requests:
            yield FileResult(
                request.photo,
                error=f"films need PyAV, which this install leaves out: {install_hint('video')}",
            )
        return
    claimed: set[Path] = set()
    reads = frozenset(request.photo.resolve() for request, _ in requests)
    for request, rel in requests:
        source = request.photo
        target = unclaimed(out_dir / rel.with_suffix(".mp4"), claimed)
        try:
            refuse_input(target, reads)
            if target.exists() and not run.overwrite:
                raise OutputExists(target)
            colour_film(run, request, target)
        except FileExistsError:
            yield failed(source, OutputExists(target))
        except (BadImage, OSError) as exc:
            yield failed(source, exc)
        except Exception as exc:  # FFmpeg's errors mid-film fail that film only
            if not exc.__class__.__module__.startswith("av"):
                raise
            yield FileResult(source, error=f"FFmpeg could not colour it ({exc})")
        else:
            yield FileResult(source, target)


def colour_film(run: Run, request: Request, target: Path) -> int:
    """One film across the cluster into `target`; returns its number of frames."""
    from tqdm import tqdm

    plan = plan_film(run.driver, request, PARTS_PER_WORKER * run.workers)
    folder = target.with_name(f".{target.name}.parts")
    _start(folder, _digest(request, plan), run.overwrite)
    paths = [folder / f"part-{k:05d}.mkv" for k in range(len(plan.parts))]
    task = run.ray.remote(_colour_part).options(
        num_cpus=run.cpus, num_gpus=run.gpus, max_retries=RETRIES
    )
    settings = run.ray.put(request.settings)  # shipped once for every part
    waits = [
        None if path.exists() else task.remote(run.worker, settings, request.photo, plan, k, path)
        for k, path in enumerate(paths)
    ]
    bar = tqdm(total=plan.frames, desc=request.photo.name, unit="frame", disable=not run.progress)

    def finished() -> Iterator[Path]:  # each part once it is coloured, in order
        for (first, end), path, wait in zip(plan.parts, paths, waits, strict=True):
            if wait is not None:
                _wait(run.ray, wait)
            bar.update(end - first)
            yield path

    with bar:
        try:
            frames = join_parts(request, plan, finished(), target, run.overwrite)
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
