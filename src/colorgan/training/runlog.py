"""What a run records as it goes: losses.csv, TensorBoard and sample grids; and their plots.

losses.csv has a column per loss term the recipe names (plus `d`, the discriminator's loss,
and `val_l1` with its standard error, `val_l1_se`), so a new term is logged and plotted
without touching this file.
"""

from __future__ import annotations

import csv
import math
import time
from dataclasses import dataclass
from pathlib import Path

import torch
from PIL import Image

from colorgan.base.errors import ColorganError, install_hint
from colorgan.base.files import atomic_file, atomic_write_text

# columns that are not losses
BOOKKEEPING = ("step", "phase", "epoch", "loader_wait", "time")


class RunLog:
    """TensorBoard, losses.csv and sample grids of a run, written by rank 0 alone.

    A resumed run first drops the csv rows after its checkpoint's step, so the curves never
    run backwards where an interrupted run had gone on past its last checkpoint.
    """

    def __init__(
        self,
        run_dir: Path,
        step: int,
        config_yaml: str,
        active: bool,
        losses: list[str],
        drop_validation: bool = False,
    ) -> None:
        self.active = active
        self.run_dir = run_dir
        if not active:
            return
        from torch.utils.tensorboard import SummaryWriter

        run_dir.mkdir(parents=True, exist_ok=True)
        atomic_write_text(run_dir / "config.yaml", config_yaml)
        self.writer = SummaryWriter(str(run_dir / "tensorboard"), purge_step=step or None)
        fields = ["step", "phase", "epoch", *losses, "val_l1", "val_l1_se", "loader_wait", "time"]
        path = run_dir / "losses.csv"
        kept: list[dict[str, str]] = []
        if path.exists():
            with open(path, newline="") as fh:
                reader = csv.DictReader(fh)
                kept = [
                    row
                    for row in reader
                    if int(row["step"] or 0) < step
                    or int(row["step"] or 0) == step
                    and not (drop_validation and row.get("val_l1"))
                ]
                fields += [f for f in reader.fieldnames or [] if f not in fields]
        with atomic_file(path) as tmp, open(tmp, "w", newline="") as fh:
            rewrite = csv.DictWriter(fh, fieldnames=fields)
            rewrite.writeheader()
            rewrite.writerows(kept)
        self.csv_file = open(path, "a", newline="")
        self.csv = csv.DictWriter(self.csv_file, fieldnames=fields)

    def losses(
        self, step: int, epoch: int, phase: str, logs: dict[str, float], wait: float
    ) -> None:
        if not self.active:
            return
        for k, v in logs.items():
            self.writer.add_scalar(f"{phase}/{k}", v, step)
        self.writer.add_scalar("speed/loader_wait", wait, step)
        self._row(step, epoch, phase, loader_wait=round(wait, 4), **logs)

    def validation(self, step: int, epoch: int, phase: str, val: float, se: float) -> None:
        if not self.active:
            return
        self.writer.add_scalar("val/l1", val, step)
        self._row(step, epoch, phase, val_l1=val, val_l1_se=se)

    def _row(self, step: int, epoch: int, phase: str, **values: float) -> None:
        row = {"step": step, "phase": phase, "epoch": epoch, "time": round(time.time())}
        self.csv.writerow({**row, **values})
        self.csv_file.flush()

    def image(self, name: str, grid: torch.Tensor, step: int) -> None:
        if not self.active:
            return
        self.writer.add_image(name, grid, step)
        image = Image.fromarray(grid.mul(255).round().byte().permute(1, 2, 0).numpy())
        with atomic_file(self.run_dir / "samples" / f"step-{step:08d}.png") as tmp:
            image.save(tmp, format="PNG")

    def close(self) -> None:
        if self.active:
            self.writer.close()
            self.csv_file.close()


def read_losses(path: Path) -> dict[str, list[tuple[int, float]]]:
    """losses.csv -> {column: [(step, value), ...]} for every loss column with values (and
    `val_l1_se`, the error bar of `val_l1`)."""
    curves: dict[str, list[tuple[int, float]]] = {}
    with open(path, newline="") as fh:
        for row in csv.DictReader(fh):
            for key, value in row.items():
                if key in BOOKKEEPING or key is None or not value:
                    continue
                curves.setdefault(key, []).append((int(row["step"]), float(value)))
    return curves


@dataclass
class Panel:
    """What one panel of the loss plot shows: its title, its lines and the last point drawn."""

    title: str
    lines: int
    last: tuple[float, float] | None


def plot_losses(runs: dict[str, Path], target: Path) -> list[Panel]:
    """One panel per loss column found in any run's losses.csv, a line per run; returns the
    panels as drawn."""
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        raise ColorganError(f"loss curves need matplotlib: {install_hint('eval')}") from None

    curves = {label: read_losses(path) for label, path in runs.items()}
    validation = ("val_l1", "val_l1_se")
    columns = list(dict.fromkeys(k for c in curves.values() for k in c if k not in validation))
    columns += ["val_l1"] if any("val_l1" in c for c in curves.values()) else []
    if not columns:
        raise ColorganError("no losses logged yet")
    width = min(3, len(columns))
    rows = math.ceil(len(columns) / width)
    fig, axes = plt.subplots(rows, width, figsize=(5 * width, 3.6 * rows), squeeze=False)
    panels = []
    for ax, column in zip(axes.flat, columns, strict=False):
        last = None
        for label, run in curves.items():
            if column in run:
                steps, values = zip(*run[column], strict=True)
                if column == "val_l1":
                    errors = dict(run.get("val_l1_se", []))
                    se = [errors.get(s, 0.0) for s in steps]
                    ax.errorbar(steps, values, se, label=label, marker="o")
                else:
                    ax.plot(steps, values, label=label)
                last = (steps[-1], values[-1])
        title = "validation L1 of ab, ± s.e." if column == "val_l1" else f"{column} (training)"
        ax.set(title=title, xlabel="generator step")
        panels.append(Panel(title, len(ax.get_lines()), last))
    for ax in list(axes.flat)[len(columns) :]:
        ax.axis("off")
    axes.flat[len(columns) - 1].legend(fontsize=8)
    fig.tight_layout()
    with atomic_file(target) as tmp:
        fig.savefig(tmp, format="png", dpi=100)
    plt.close(fig)
    return panels
