"""A run's photos spread over a cluster's workers, each output named as one machine names it:
`groups`.

The file loop (pipeline.batch) names a photo's outputs within one call: its relative path in
the output folder (PNG where its format cannot be written or cannot hold its alpha, which only
the decoded photo tells), NAME-2 where an earlier input of the call took the name, NAME-alt1
for an alternative, NAME-damage.png for a damage mask; and it refuses an output that would
replace an input of the call. Every one of those names starts with its input's file name up to
the first "-", in its input's folder. So inputs whose outputs could meet share that key (case
folded: some disks ignore case), and so does an input that lies in the output folder where
another's output could replace it; each group coloured by one call of the loop, its
inputs in the run's order, gets the names one machine gives it, and no two groups can claim
one name: any worker may take any group, and none needs to know what the others wrote.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

Job = tuple[Path, Path]  # (source, output path relative to the output folder)


def key(rel: Path) -> tuple[str, str]:
    """What every name the file loop may give the output of `rel` starts with: its folder
    and its stem up to the first "-", case folded."""
    return str(rel.parent).casefold(), rel.stem.split("-")[0].casefold()


def groups(jobs: Sequence[Job], out_dir: Path) -> list[list[Job]]:
    """The jobs in groups no two of which can claim one output, each in the run's order, the
    groups in the order of their first job; most hold one job."""
    outputs = out_dir.resolve()
    parent: dict[tuple[str, str], tuple[str, str]] = {}

    def root(k: tuple[str, str]) -> tuple[str, str]:
        while parent.setdefault(k, k) != k:
            parent[k] = parent[parent[k]]  # halve the path as we go
            k = parent[k]
        return k

    for src, rel in jobs:
        mine = root(key(rel))
        where = src.resolve()
        if where.is_relative_to(outputs):  # an input another's output could replace
            other = root(key(where.relative_to(outputs)))
            parent[other] = mine
    found: dict[tuple[str, str], list[Job]] = {}
    for src, rel in jobs:
        found.setdefault(root(key(rel)), []).append((src, rel))
    return list(found.values())
