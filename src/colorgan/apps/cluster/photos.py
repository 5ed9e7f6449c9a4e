"""Photos across a Ray cluster: Ray Data's streaming `map_batches` over the groups of
pipeline.spread, with a pool of actors (`_PhotoWorker`), each holding one Colorizer (its model
loaded once) and running the file loop (pipeline.batch) on the groups it is given, so that
every output gets the name one machine gives it and no two workers claim one. Ray restarts a
killed actor and runs its batch again (Ray Data's actor pools retry without end); the loop
publishes each output whole and keeps what exists. An output that a failed attempt of a batch
had already written is told from one that was there before the run by the folder's listing,
taken once at the start (and the temporary files killed writers left are swept then, once:
a worker's sweep could take another worker's live file)."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

from colorgan.apps.cluster.run import Run
from colorgan.base.files import remove_stale_temps
from colorgan.engines.choose import EngineOptions, open_engine
from colorgan.pipeline.batch import FileResult
from colorgan.pipeline.colorizer import Colorizer
from colorgan.pipeline.settings import Settings
from colorgan.pipeline.spread import Job, groups

GROUPS_PER_BATCH = 8  # groups (mostly one photo each) a worker takes at once from Ray Data


def colorize_photos(
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
