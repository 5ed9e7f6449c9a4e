"""The streaming file loop of `colorgan colorize` on files and folders, and of the page.

One I/O thread decodes the next photo and encodes the last result while the caller's thread
colorizes (Pillow releases the GIL in both); at most one decoded photo waits ahead and one
result waits to be written. Nothing here imports torch.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

from PIL import Image

from colorgan.base.errors import ColorganError
from colorgan.base.files import remove_stale_temps
from colorgan.base.images import BadImage, has_alpha, open_image, output_path, save_image
from colorgan.pipeline.request import Request


def colorize_files(
    colour_batch: Callable[[list, list[Request]], list],
    jobs: Sequence[tuple[Request, Path]],
    out_dir: Path,
    batch: int,
    overwrite: bool = False,
    progress: bool = False,
    sweep: bool = True,
) -> Iterator[FileResult]:
    """Colorize (request of a photo file, relative output path) pairs into `out_dir` with
    `colour_batch` (the decoded photos and their requests -> an image or BadImage each, or
    (image, {name: companion image}) for an output with companions beside it, NAME-name.png),
    `batch` photos per run of the model, yielding a result per input in order. An existing
    output is kept unless `overwrite`; a bad input is a result with an error, and the others
    go on. Two inputs that would have the same output (a/p.jpg and b/p.jpg) never overwrite
    each other: the second becomes p-2.jpg. No output replaces one of the inputs, overwrite
    or not (a film's output is an MP4, which is never a photo). `sweep`: first delete the
    temporary files killed writers left under `out_dir` (a walk of the whole folder: a
    cluster's driver sweeps once, and its workers, each called on a share, never)."""
    from tqdm import tqdm

    if sweep:
        remove_stale_temps(out_dir)
    claimed: set[Path] = set()
    reads = frozenset(request.photo.resolve() for request, _ in jobs)
    chunks = [jobs[i : i + batch] for i in range(0, len(jobs), batch)]
    bar = tqdm(
        total=len(jobs), desc="colorizing", unit="img", disable=not progress or len(jobs) < 2
    )
    with ThreadPoolExecutor(max_workers=1) as io, bar:
        loads = [[io.submit(open_image, r.photo) for r, _ in chunks[0]]] if chunks else []
        pending: deque[tuple[Path, Path | None, Future | Exception]] = deque()
        for c, chunk in enumerate(chunks):
            if c + 1 < len(chunks):  # the next chunk decodes while this one is coloured
                loads.append([io.submit(open_image, r.photo) for r, _ in chunks[c + 1]])
            outcomes: list[tuple[Path, Path | None, Future | Exception | None]] = []
            ready: list[tuple[int, Image.Image]] = []
            for k, ((request, rel), load) in enumerate(zip(chunk, loads[c], strict=True)):
                src = request.photo
                try:
                    image = load.result()
                    target = unclaimed(output_path(out_dir, rel, has_alpha(image)), claimed)
                    refuse_input(target, reads)
                    if target.exists() and not overwrite:
                        raise OutputExists(target)
                    outcomes.append((src, target, None))
                    ready.append((k, image))
                except (BadImage, OSError, ColorganError) as exc:
                    outcomes.append((src, None, exc))
            loads[c] = []  # let the decoded photos go once coloured
            requests = [chunk[k][0] for k, _ in ready]
            colours = _colorize_each(colour_batch, [image for _, image in ready], requests)
            for (k, _), colour in zip(ready, colours, strict=True):
                src, target, _ = outcomes[k]
                if isinstance(colour, Exception):
                    outcomes[k] = (src, None, colour)
                    continue
                colour, extras = colour if isinstance(colour, tuple) else (colour, {})
                beside = {
                    unclaimed(_beside(target, name), claimed): e for name, e in extras.items()
                }
                saved = io.submit(_save_all, colour, target, beside, overwrite)
                outcomes[k] = (src, target, saved)
            pending.extend(outcomes)
            while len(pending) > len(chunk):  # at most one chunk waits to be written
                yield _finish(*pending.popleft())
                bar.update()
        while pending:
            yield _finish(*pending.popleft())
            bar.update()


@dataclass
class FileResult:
    """What became of one input of `colorize_files`: its output, or why there is none."""

    source: Path
    target: Path | None = None  # where its output is (the one kept, where `kept`)
    error: str | None = None
    kept: bool = False  # the output existed, and was kept as overwriting was not asked


class OutputExists(BadImage):
    """An output that exists, kept: no output replaces a file unless overwriting is asked."""

    def __init__(self, target: Path) -> None:
        super().__init__(f"{target} exists; it is kept")
        self.target = target

    def __reduce__(self) -> tuple:  # pickled whole (a cluster's workers)
        return type(self), (self.target,)


def failed(source: Path, exc: BaseException) -> FileResult:
    """The result of an input that failed with `exc`."""
    if isinstance(exc, OutputExists):
        return FileResult(source, exc.target, str(exc), kept=True)
    return FileResult(source, error=str(exc))


def _colorize_each(colour: Callable, images: list[Image.Image], requests: list) -> list:
    """The batch's results; where the batch fails as a whole (a photo that fails only once
    decoded further), each photo again on its own, so one bad photo fails only itself."""
    if not images:
        return []
    try:
        return colour(images, requests)
    except (BadImage, OSError, ColorganError) as exc:
        if len(images) == 1:
            return [exc]
    pairs = zip(images, requests, strict=True)
    return [_colorize_each(colour, [image], [request])[0] for image, request in pairs]


def _beside(target: Path, name: str) -> Path:
    """Where an output's companion `name` goes (its damage mask: NAME-damage.png)."""
    return target.with_name(f"{target.stem}-{name}.png")


def _save_all(image: Image.Image, target: Path, beside: dict, overwrite: bool) -> None:
    """An output and its companions, the companions first: an output that exists has them."""
    for path, extra in beside.items():
        save_image(extra, path, overwrite)
    save_image(image, target, overwrite)


def refuse_input(target: Path, reads: frozenset[Path]) -> None:
    """BadImage where `target` is a file the run reads: overwriting never replaces an input."""
    if target.resolve() in reads:
        raise BadImage(
            f"{target} is an input of this run; its output would replace it (choose another "
            "output folder)"
        )


def unclaimed(target: Path, claimed: set[Path]) -> Path:
    """`target`, or target-2, -3 ... where an earlier input of the same run took the name."""
    candidate, n = target, 1
    while candidate in claimed:
        n += 1
        candidate = target.with_name(f"{target.stem}-{n}{target.suffix}")
    claimed.add(candidate)
    return candidate


def _finish(source: Path, target: Path | None, outcome: Future | Exception) -> FileResult:
    if isinstance(outcome, Exception):
        return failed(source, outcome)
    try:
        outcome.result()
    except FileExistsError:
        return failed(source, OutputExists(target))
    except OSError as exc:
        return FileResult(source, error=f"could not write {target}: {exc.strerror or exc}")
    return FileResult(source, target)
