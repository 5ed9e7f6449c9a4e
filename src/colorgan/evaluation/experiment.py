"""`colorgan experiment`: a whole comparison (the paper's Table 2) in one command.

Every row is a training config; the experiment trains each with the same data, seed,
resolution and phase budget, evaluates each on the same held-out photos (with the grey floor
as a row of its own), and writes RESULTS.md, a picture grid and the loss curves. Finished
rows are not retrained, and a stopped row resumes, so rerunning the command continues it.
"""

from __future__ import annotations

import json
import re
import time
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path
from typing import Any

import numpy as np
import torch
from PIL import Image, ImageDraw

from colorgan.base.errors import ColorganError
from colorgan.base.files import atomic_file, atomic_write_text
from colorgan.base.images import find_images
from colorgan.config import Config, apply_overrides, load_config, parse_override, read_yaml
from colorgan.evaluation.evaluate import EVAL_SIZE, EvalPhoto, Scored, evaluate
from colorgan.evaluation.report import metrics_table
from colorgan.models.runtime import cpu_name
from colorgan.pipeline.colorizer import Colorizer
from colorgan.spec.typed import build_dataclass, plain
from colorgan.training.photos import split_paths
from colorgan.training.runlog import plot_losses
from colorgan.training.trainer import Trainer


@dataclass
class ExperimentConfig:
    """Rows to compare and what they share (configs/experiments/*.yaml)."""

    name: str = "table2"
    out_dir: str = "runs/experiments"
    # label -> a training config file, or {config: FILE, set: {section.key: value}} for a
    # variant of a recipe (the "beyond the paper" rows)
    rows: dict[str, Any] = field(default_factory=dict)
    # `section.key: value` applied to every row: the same data, seed, resolution, batch
    shared: dict[str, Any] = field(default_factory=dict)
    # the phase budget: every row that has a phase in its recipe runs it this many epochs
    pretrain_epochs: int = 2
    adversarial_epochs: int = 2
    eval_data: str | None = None  # the folder of held-out photos every row is scored on
    eval_limit: int | None = None
    fid: bool = True
    grid_photos: int = 12  # eval photos in the picture grid, drawn with grid_seed
    grid_seed: int = 0
    # also evaluate every row on the validation photos of the rows' split: the table a recipe
    # is chosen on, since eval_data may not be tuned to
    validation: bool = True

    @property
    def folder(self) -> Path:
        return Path(self.out_dir) / self.name


# The training sections a `section.key` in `shared` (or in --set) may name.
SECTIONS = {f.name for f in fields(Config)} - {f.name for f in fields(ExperimentConfig)}

# Settings that change how a run is kept or watched, not what it learns: a finished row
# trained with other values of these is still the same row.
BOOKKEEPING = {
    "data.num_workers",
    "priors.cache",
    "priors.cache_dir",
    "priors.batch_size",
    "train.device",
    "train.checkpoint_every",
    "train.keep_checkpoints",
    "train.log_every",
    "train.val_images",
    "train.sample_every",
    "train.sample_images",
}


def load_experiment(path: str | Path, overrides: list[str] | None = None) -> ExperimentConfig:
    """An experiment file with `--set` overrides: a key of the experiment (`eval_limit=20`,
    `name=quick`) sets it; a training key (`train.batch_size=8`) joins `shared`, so every
    row gets it."""
    path = Path(path)
    values = read_yaml(path, "experiment")
    for item in overrides or []:
        key, value = parse_override(item)
        if key.split(".")[0] in SECTIONS:
            shared = values.get("shared") or {}
            if not isinstance(shared, dict):
                raise ColorganError(f"{path}: shared must be a mapping of section.key: value")
            values["shared"] = {**shared, key: value}
        else:
            values = apply_overrides(values, [item])
    values.setdefault("name", path.stem)
    exp = build_dataclass(ExperimentConfig, values, "experiment")
    if not exp.rows:
        raise ColorganError(f"{path}: no rows to compare")
    for key in exp.shared:
        if key.split(".")[0] not in SECTIONS or "." not in key:
            raise ColorganError(
                f"{path}: shared key {key!r} is not section.key "
                f"(sections: {', '.join(sorted(SECTIONS))})"
            )
    for label, row in exp.rows.items():
        if isinstance(row, str):
            row = {"config": row}
        if not isinstance(row, dict) or set(row) - {"config", "set"} or "config" not in row:
            raise ColorganError(f"{path}: row {label!r}: expected a file or {{config, set}}")
        if not Path(row["config"]).is_file():
            raise ColorganError(f"{path}: row {label!r}: config file not found: {row['config']}")
        exp.rows[label] = {"config": row["config"], "set": dict(row.get("set") or {})}
    if not exp.eval_data:
        raise ColorganError(f"{path}: eval_data must name a folder of held-out photos")
    return exp


def row_config(exp: ExperimentConfig, label: str) -> Config:
    """The row's own recipe with the shared settings and the phase budget applied."""
    row = exp.rows[label]
    recipe = load_config(row["config"])
    overrides = [f"{key}={json.dumps(value)}" for key, value in exp.shared.items()]
    if recipe.train.pretrain_epochs:
        overrides.append(f"train.pretrain_epochs={exp.pretrain_epochs}")
    if recipe.train.adversarial_epochs:
        overrides.append(f"train.adversarial_epochs={exp.adversarial_epochs}")
    # A row's own settings come last, so a variant can also change the budget (an L1-only
    # row: train.adversarial_epochs 0).
    overrides += [f"{key}={json.dumps(value)}" for key, value in row["set"].items()]
    slug = re.sub(r"[^a-z0-9]+", "-", label.lower()).strip("-")
    overrides += [f"name={json.dumps(slug)}", f"out_dir={json.dumps(str(exp.folder / 'runs'))}"]
    return load_config(row["config"], overrides)


def _finished(run_dir: Path) -> bool:
    return (run_dir / "finished.json").is_file()


def _flat(values: dict[str, Any], prefix: str = "") -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in values.items():
        if isinstance(value, dict) and value:
            out.update(_flat(value, f"{prefix}{key}."))
        else:
            out[f"{prefix}{key}"] = value
    return out


def check_unchanged(label: str, cfg: Config) -> None:
    """A row's folder already trained (or half trained) with other settings is never reused
    as if it were this row: an edited experiment file or a --set would otherwise report the
    old row's numbers under the new settings, or resume one recipe as another."""
    stored_path = cfg.run_dir / "config.yaml"
    if not stored_path.is_file():
        return
    stored = _flat(plain(load_config(stored_path).to_dict()))
    now = _flat(plain(cfg.to_dict()))
    changed = sorted(
        k
        for k in stored.keys() | now.keys()
        if stored.get(k) != now.get(k) and k not in BOOKKEEPING
    )
    if changed:
        key, more = changed[0], f" (and {len(changed) - 1} more)" if len(changed) > 1 else ""
        raise ColorganError(
            f"row {label!r} in {cfg.run_dir} was trained with {key} = {stored.get(key)!r}, "
            f"not {now.get(key)!r}{more}; give the experiment another name (--set name=...) "
            "or remove that folder"
        )


def run_experiment(
    exp: ExperimentConfig, progress: bool = True, source: str | None = None
) -> dict[str, Any]:
    """Train, evaluate and report; returns the results (also written to results.json)."""
    for label in exp.rows:
        check_unchanged(label, row_config(exp, label))
    for label in exp.rows:
        cfg = row_config(exp, label)
        if _finished(cfg.run_dir):
            continue
        summary = Trainer(cfg, resume=True, progress=progress).run()
        # training seconds of the call that finished the row (a resumed row: its last part)
        atomic_write_text(
            cfg.run_dir / "finished.json",
            json.dumps({"steps": summary["steps"], "seconds": summary["seconds"]}),
        )
    features = None
    if exp.fid:
        from colorgan.evaluation.fid import InceptionFeatures

        features = InceptionFeatures()
    report = evaluate(_colorizers(exp), exp.eval_data, exp.eval_limit, progress, features)
    rows: dict[str, Any] = {}
    for label in exp.rows:
        finished = json.loads((row_config(exp, label).run_dir / "finished.json").read_text())
        rows[label] = {**report["results"][label], **finished, **exp.rows[label]}
    rows.update(_with_floor(report["results"], only=("grey", "original")))
    validation: dict[str, Any] = {}
    if exp.validation:
        val_paths = split_paths(row_config(exp, next(iter(exp.rows))).data)[1]
        val = evaluate(_colorizers(exp), val_paths, None, progress, features)
        validation = {"images": val["images"], "rows": _with_floor(val["results"])}
    results = {
        "experiment": asdict(exp),
        "rows": rows,
        "validation": validation,
        "images": report["images"],
        "date": time.strftime("%Y-%m-%d"),
        "machine": machine(),
        "command": f"colorgan experiment {source or exp.name + '.yaml'}",
    }
    folder = exp.folder
    atomic_write_text(folder / "results.json", json.dumps(results, indent=2) + "\n")
    picture_grid(exp, folder / "grid.png")
    plot_losses(
        {label: row_config(exp, label).run_dir / "losses.csv" for label in exp.rows},
        folder / "losses.png",
    )
    atomic_write_text(folder / "RESULTS.md", results_markdown(results))
    return results


def _with_floor(results: dict[str, Any], only: tuple[str, ...] | None = None) -> dict[str, Any]:
    """evaluate()'s results with the grey floor and the originals named as in the tables."""
    names = {"grey": "grey floor", "original": "originals"}
    return {names.get(k, k): v for k, v in results.items() if only is None or k in only}


def _colorizers(exp: ExperimentConfig) -> dict[str, Scored]:
    return {
        label: Scored(
            Colorizer.open(
                weights=row_config(exp, label).run_dir / "generator.safetensors",
                engine="torch",
                precision="fp32",
            )
        )
        for label in exp.rows
    }


def machine() -> str:
    name = cpu_name()
    if torch.cuda.is_available():
        name += f", {torch.cuda.get_device_name()}"
    return f"{name}, {torch.get_num_threads()} threads, torch {torch.__version__}"


def results_markdown(results: dict[str, Any]) -> str:
    exp = results["experiment"]
    lines = [
        f"# {exp['name']}: results",
        "",
        f"`colorgan experiment` on {results['date']}, {results['machine']}. Every row trained "
        f"with the same data, seed and resolution ({_shared_text(exp)}); each phase of a row's "
        f"recipe ran {exp['pretrain_epochs']} epochs (L1 / MSE pretraining) or "
        f"{exp['adversarial_epochs']} epochs (adversarial). Evaluated on "
        f"{results['images']} photos of `{exp['eval_data']}` at {EVAL_SIZE}x{EVAL_SIZE}.",
        "",
        f"Command: `{results.get('command', 'colorgan experiment ' + exp['name'] + '.yaml')}`",
        "",
    ]
    steps = ("G steps", lambda r: str(r["steps"]) if "steps" in r else "-")
    minutes = ("train minutes", lambda r: f"{r['seconds'] / 60:.1f}" if "seconds" in r else "-")
    lines.append(metrics_table(results["rows"], "row", [steps, minutes]).rstrip("\n"))
    validation = results.get("validation")
    if validation:
        lines += [
            "",
            f"On the {validation['images']} validation photos of the rows' split (never trained "
            "on; choose here, not on the table above):",
            "",
            metrics_table(validation["rows"], "row").rstrip("\n"),
        ]
    lines += ["", "Rows:", ""]
    for label, r in results["rows"].items():
        if "config" in r:
            extra = ", ".join(f"{k} = {v}" for k, v in r.get("set", {}).items())
            lines.append(f"- {label}: `{r['config']}`" + (f" with {extra}" if extra else ""))
    lines += [
        "",
        "![grey input, each row, original](grid.png)",
        "",
        "![loss curves](losses.png)",
        "",
    ]
    return "\n".join(lines)


def _shared_text(exp: dict[str, Any]) -> str:
    return ", ".join(f"{k} = {v}" for k, v in exp["shared"].items()) or "the rows' own settings"


def picture_grid(exp: ExperimentConfig, target: Path, cell: int = 128) -> None:
    """Grey input, every row, original: one eval photo per line, chosen by grid_seed."""
    paths = find_images(exp.eval_data)
    rng = np.random.default_rng(exp.grid_seed)
    chosen = sorted(rng.choice(len(paths), min(exp.grid_photos, len(paths)), replace=False))
    colorizers = _colorizers(exp)
    columns = ["grey input", *exp.rows, "original"]
    header = 16
    grid = Image.new("RGB", (cell * len(columns), header + cell * len(chosen)), "white")
    draw = ImageDraw.Draw(grid)
    for c, title in enumerate(columns):
        draw.text((c * cell + 4, 2), title[:20], fill="black")
    for r, index in enumerate(chosen):
        photo = EvalPhoto.load(paths[index])
        images = [photo.grey(), *(photo.colorized(c) for c in colorizers.values()), photo.target]
        for c, image in enumerate(images):
            tile = Image.fromarray(image).resize((cell, cell), Image.Resampling.BICUBIC)
            grid.paste(tile, (c * cell, header + r * cell))
    with atomic_file(target) as tmp:
        grid.save(tmp, format="PNG")
