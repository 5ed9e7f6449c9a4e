"""Photos and films coloured across a Ray cluster: `colorize_on_ray`, the `--ray` of `colorgan
colorize` and the Python API's.

The driver (this process) checks every request and encodes every reference photo and key
frame once, before anything is written (Colorizer.encode_settings, Colorizer.plan), and ships
that one Settings to the workers through Ray's object store (`run`: where, how wide, which
engines). Photos go through Ray Data's streaming `map_batches` on a pool of actors, each with
one Colorizer running the file loop on its share (`photos`); films are cut where one
machine's colouring starts afresh, their parts coloured as Ray tasks and joined in order on
the driver with their sound (`films`). Outputs are one machine's, under its names; nothing is
lost when a node dies (Ray's retries, outputs published whole, existing ones kept), and a
run started again writes only what is missing.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from pathlib import Path

from colorgan.apps.cluster.run import Cluster, Run, connect
from colorgan.engines.choose import EngineOptions
from colorgan.pipeline.batch import FileResult
from colorgan.pipeline.film_in import is_film_path
from colorgan.pipeline.settings import Settings
from colorgan.pipeline.spread import Job

__all__ = ["Cluster", "colorize_on_ray"]


def colorize_on_ray(
    jobs: Sequence[Job],
    out_dir: Path,
    settings: Settings | None = None,
    *,
    cluster: Cluster | None = None,
    engine: EngineOptions | None = None,
    overwrite: bool = False,
    progress: bool = False,
) -> Iterator[FileResult]:
    """(source, output path relative to `out_dir`) jobs, photos and films, coloured across
    the Ray `cluster` (default: Cluster()) with the `engine` options, as `settings` say: a
    FileResult for each output, the photos' as they finish, then each film's. Every
    request is checked and every reference encoded before anything is written; outputs are
    those one machine writes (`colorize`, Colorizer.colorize_files and film.colorize_videos),
    byte for byte for photos and frame for frame for films, under the same names; an
    existing one is kept unless `overwrite`. `out_dir` must be a folder every worker sees at
    the same path (a shared filesystem)."""
    run = connect(cluster or Cluster(), engine or EngineOptions(), overwrite, progress)
    settings = run.driver.encode_settings(settings or Settings())
    videos = [job for job in jobs if is_film_path(job[0])]  # those on one machine refused
    photos = [job for job in jobs if job not in videos]
    # every request checked before anything is written, as on one machine
    total, films = len(run.driver.plan(photos, settings)), run.driver.plan(videos, settings)
    return _colorize(run, (photos, total), films, out_dir, settings)


def _colorize(
    run: Run, photos: tuple[list[Job], int], films: list, out_dir: Path, settings: Settings
) -> Iterator[FileResult]:
    from colorgan.apps.cluster.films import colorize_films
    from colorgan.apps.cluster.photos import colorize_photos

    if photos[0]:
        yield from colorize_photos(run, photos, out_dir, settings)
    yield from colorize_films(run, films, out_dir)
