"""Photos and films coloured across a Ray cluster: `colorize_on_ray`, the `--ray` of `colorgan
colorize` and the Python API's.

The driver (this process) checks every request and encodes every reference photo and key
frame once, before anything is written (Colorizer.encode_settings, Colorizer.plan), and ships
that one Settings to the workers through Ray's object store. Photos go through Ray Data's
streaming `map_batches` with a pool of actors, each holding one Colorizer (its model loaded
once) and running the file loop (pipeline.batch) on its share: the groups of pipeline.spread,
so that every output gets the name one machine gives it and no two workers claim one. Films
are cut where one machine's colouring starts afresh (pipeline.film_split), their parts
coloured as Ray tasks into lossless files beside the output (pipeline.film_parts) and joined
in order on the driver with their sound (apps.cluster_films).

Nothing is lost when a node dies: Ray restarts a killed actor and runs its batch again (Ray
Data's actor pools retry without end), the loop publishes each output whole and keeps what
exists, and a film's finished parts stay for the next attempt; a run started again writes
only what is missing. An output that the failed attempt of a batch had already written is
told from one that was there before the run by the folder's listing taken at the start.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, replace
from pathlib import Path

from colorgan.base.errors import ColorganError, SettingError, install_hint, short
from colorgan.base.files import remove_stale_temps
from colorgan.base.images import VIDEO_SUFFIXES
from colorgan.engines.choose import EngineOptions, open_engine
from colorgan.pipeline.batch import FileResult
from colorgan.pipeline.colorizer import Colorizer
from colorgan.pipeline.settings import Settings
from colorgan.pipeline.spread import Job, groups

GROUPS_PER_BATCH = 8  # groups (mostly one photo each) a worker takes at once from Ray Data


@dataclass(frozen=True)
class Cluster:
    """Where and how wide a run goes. `address`: a running cluster's (HOST:PORT, or "auto");
    None: Ray's own choice (RAY_ADDRESS, else a cluster started on this machine with `ray
    start`, else a new one here for this run). `workers`: actors (default: as many as the
    cluster's GPUs, else its CPUs by `cpus` each). `cpus`: each worker's CPUs (its ONNX
    Runtime threads)."""

    address: str | None = None
    workers: int | None = None
    cpus: int = 1

    def __post_init__(self) -> None:
        for name in ("workers", "cpus"):
            value = getattr(self, name)
            whole = isinstance(value, int) and not isinstance(value, bool)
            if (value is not None or name == "cpus") and not (whole and value >= 1):
                raise SettingError(name, f"must be a whole number from 1, not {short(value)}")


def ray_module():
    """Ray, or one line saying which extra brings it."""
    try:
        import ray
        import ray.data
    except ModuleNotFoundError:
        raise ColorganError(
            f"a run on a Ray cluster needs Ray, which this install leaves out: "
            f"{install_hint('cluster')}"
        ) from None
    return ray


@dataclass
class Run:
    """One run's choices, made once on the driver."""

    ray: object  # the ray module
    driver: Colorizer  # checks the requests and encodes the references
    worker: EngineOptions  # what each worker opens
    workers: int
    cpus: int
    gpus: int  # each worker's
    overwrite: bool
    progress: bool


def connect(cluster: Cluster, engine: EngineOptions, overwrite: bool, progress: bool) -> Run:
    """Ray joined (or started), and the engines chosen: torch on one GPU a worker where the
    cluster has GPUs and the options leave the engine open, the options' engine on CPUs
    otherwise (the driver plans on its CPU with the same engine)."""
    ray = ray_module()
    if not ray.is_initialized():  # else the caller's own connection, as it was made
        # Ray's C++ side says at error level what is none (Ray Data's actors' arguments)
        os.environ.setdefault("RAY_BACKEND_LOG_LEVEL", "fatal")
        ray.init(
            address=cluster.address,
            include_dashboard=False,
            log_to_driver=False,
            logging_level=logging.WARNING,
        )
    ray.data.DataContext.get_current().enable_progress_bars = False  # the run's one bar
    logging.getLogger("ray.data").setLevel(logging.ERROR)
    gpus = int(ray.cluster_resources().get("GPU", 0))
    onnx_file = (engine.weights or "").lower().endswith(".onnx")
    if gpus and engine.engine != "onnx" and not onnx_file:
        device = "cuda" if engine.device == "auto" else engine.device
        worker = replace(engine, engine="torch", device=device)
        driver = replace(engine, engine="torch", device="cpu")
        workers = cluster.workers or gpus
        return Run(ray, Colorizer(open_engine(driver)), worker, workers, 1, 1, overwrite, progress)
    if engine.device not in ("auto", "cpu"):
        raise SettingError("device", f"{engine.device}: the cluster has no GPU")
    cpus = int(ray.cluster_resources().get("CPU", 1))
    workers = cluster.workers or max(1, cpus // cluster.cpus)
    worker = replace(engine, threads=cluster.cpus)
    return Run(
        ray, Colorizer(open_engine(engine)), worker, workers, cluster.cpus, 0, overwrite, progress
    )


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
    videos = [job for job in jobs if job[0].suffix.lower() in VIDEO_SUFFIXES]
    photos = [job for job in jobs if job not in videos]
    # every request checked before anything is written, as on one machine
    total, films = len(run.driver.plan(photos, settings)), run.driver.plan(videos, settings)
    return _colorize(run, (photos, total), films, out_dir, settings)


def _colorize(
    run: Run, photos: tuple[list[Job], int], films: list, out_dir: Path, settings: Settings
) -> Iterator[FileResult]:
    from colorgan.apps.cluster_films import colorize_films

    if photos[0]:
        yield from _photos(run, photos, out_dir, settings)
    yield from colorize_films(run, films, out_dir)


def _photos(
    run: Run, photos: tuple[list[Job], int], out_dir: Path, settings: Settings
) -> Iterator[FileResult]:
    """The photos through Ray Data's map_batches on a pool of `_PhotoWorker` actors, a result
    for each output as it comes, with one progress bar for the run."""
    from tqdm import tqdm

    jobs, total = photos
    remove_stale_temps(out_dir)  # once, here: a worker's sweep could take another's live file
    before = set() if run.overwrite else _files_under(out_dir)
    rows = [
        {"sources": [str(s) for s, _ in group], "rels": [str(r) for _, r in group]}
        for group in groups(jobs, out_dir)
    ]
    data = run.ray.data.from_items(rows).map_batches(
        _PhotoWorker,
        fn_constructor_kwargs={
            "engine": run.worker,
            "settings": settings,
            "out_dir": str(out_dir.absolute()),
            "overwrite": run.overwrite,
        },
        batch_size=GROUPS_PER_BATCH,
        compute=run.ray.data.ActorPoolStrategy(size=run.workers),
        num_cpus=run.cpus,
        num_gpus=run.gpus,
    )
    bar = tqdm(total=total, desc="colorizing on ray", unit="img", disable=not run.progress)
    with bar:
        for row in data.iter_rows():
            bar.update()
            yield _result(row, before)


def _result(row: dict, before: set[str]) -> FileResult:
    """A worker's row as a FileResult; an output kept that was not there before the run was
    written by an earlier attempt of its batch (a worker killed after publishing it)."""
    target = row["target"]
    if row["kept"] and target is not None and target not in before:
        return FileResult(Path(row["source"]), Path(target))
    return FileResult(
        Path(row["source"]),
        None if target is None else Path(target),
        row["error"],
        bool(row["kept"]),
    )


def _files_under(folder: Path) -> set[str]:
    """Every file under `folder`, as absolute paths."""
    found = set()
    for root, _, files in os.walk(folder.absolute()):
        found.update(os.path.join(root, name) for name in files)
    return found


class _PhotoWorker:
    """A Ray Data actor: one Colorizer, its model loaded once; each batch of groups of jobs
    through the file loop (no sweep: the driver swept), a row for each output."""

    def __init__(self, engine: EngineOptions, settings: Settings, out_dir: str, overwrite: bool):
        self.colorizer = Colorizer(open_engine(engine))
        self.settings, self.out_dir, self.overwrite = settings, Path(out_dir), overwrite

    def __call__(self, batch: dict) -> dict:
        jobs = [
            (Path(source), Path(rel))
            for sources, rels in zip(batch["sources"], batch["rels"], strict=True)
            for source, rel in zip(sources, rels, strict=True)
        ]
        results = self.colorizer.colorize_files(
            jobs, self.out_dir, self.settings, overwrite=self.overwrite, sweep=False
        )
        rows: dict[str, list] = {"source": [], "target": [], "error": [], "kept": []}
        for result in results:
            rows["source"].append(str(result.source))
            rows["target"].append(None if result.target is None else str(result.target))
            rows["error"].append(result.error)
            rows["kept"].append(result.kept)
        return rows
