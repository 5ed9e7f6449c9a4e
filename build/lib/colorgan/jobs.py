"""The streaming file loop both engines run (`colorgan colorize` on files and folders).

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

from colorgan.errors import ColorganError
from colorgan.files import remove_stale_temps
from colorgan.images import BadImage, has_alpha, open_image, output_path, save_image


@dataclass
class FileResult:
    """What became of one input of `colorize_files`: its output, or why there is none."""

    source: Path
    target: Path | None = None
    error: str | None = None


def colorize_files(
    colorize: Callable[[Image.Image], Image.Image],
    jobs: Sequence[tuple[Path, Path]],
    out_dir: Path,
    overwrite: bool = False,
    progress: bool = False,
) -> Iterator[FileResult]:
    """Colorize (source, relative output path) pairs into `out_dir`, yielding a result per
    input in order. An existing output is kept unless `overwrite`; a bad input is a result
    with an error, and the others go on. Two inputs that would have the same output (a/p.jpg
    and b/p.jpg) never overwrite each other: the second becomes p-2.jpg."""
    from tqdm import tqdm

    remove_stale_temps(out_dir)
    claimed: set[Path] = set()
    with ThreadPoolExecutor(max_workers=1) as io:
        loads: list[Future | None] = [io.submit(open_image, src) for src, _ in jobs[:1]]
        pending: deque[tuple[Path, Path | None, Future | str]] = deque()
        bar = tqdm(jobs, desc="colorizing", unit="img", disable=not progress or len(jobs) < 2)
        for i, (src, rel) in enumerate(bar):
            if i + 1 < len(jobs):
                loads.append(io.submit(open_image, jobs[i + 1][0]))
            try:
                image = loads[i].result()
                loads[i] = None  # let the decoded photo go once colorized
                target = unclaimed(output_path(out_dir, rel, has_alpha(image)), claimed)
                if target.exists() and not overwrite:
                    raise BadImage(f"{target} exists (pass --overwrite to replace it)")
                colour = colorize(image)
                pending.append((src, target, io.submit(save_image, colour, target, overwrite)))
            except (BadImage, OSError, ColorganError) as exc:
                pending.append((src, None, str(exc)))
            while len(pending) > 1:
                yield _finish(*pending.popleft())
        while pending:
            yield _finish(*pending.popleft())


def unclaimed(target: Path, claimed: set[Path]) -> Path:
    """`target`, or target-2, -3 ... where an earlier input of the same run took the name."""
    candidate, n = target, 1
    while candidate in claimed:
        n += 1
        candidate = target.with_name(f"{target.stem}-{n}{target.suffix}")
    claimed.add(candidate)
    return candidate


def _finish(source: Path, target: Path | None, outcome: Future | str) -> FileResult:
    if isinstance(outcome, str):
        return FileResult(source, error=outcome)
    try:
        outcome.result()
    except FileExistsError:
        return FileResult(source, error=f"{target} exists (pass --overwrite to replace it)")
    except OSError as exc:
        return FileResult(source, error=f"could not write {target}: {exc.strerror or exc}")
    return FileResult(source, target)
