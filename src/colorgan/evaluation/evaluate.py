"""The field's evaluation protocol on held-out photos, beside the grey floor.

Each photo is resized to 256 x 256 (bicubic, full decode); a colorizer predicts ab from its L;
Lab -> RGB, rounded to uint8, is compared with the photo: PSNR, channel-wise SSIM,
colourfulness, the colour cast (the ab distance between the mean colour of the result and of
the photo; for the grey floor, the photo's own mean ab) and the mean a and b shift (a warm
cast is b > 0), and optionally FID and KID over the whole set. A saturation sweep scores each
colorizer at several colour intensities, so that a model which is only more saturated is not
mistaken for a better one. Several colorizers are evaluated in one pass over the photos.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch
from tqdm import tqdm

from colorgan.colour.pixels import colourfulness
from colorgan.colour.tensors import lab_normalized_to_rgb, rgb_to_lab_normalized
from colorgan.engines import MAX_SATURATION, model_saturation
from colorgan.engines.torch_engine import TorchEngine
from colorgan.errors import ColorganError
from colorgan.evaluation.fid import (
    InceptionFeatures,
    frechet_distance,
    jackknife_se,
    kernel_inception_distance,
    paired_kid,
)
from colorgan.evaluation.metrics import mean_ab, psnr, ssim
from colorgan.files import atomic_file, atomic_write_text
from colorgan.images import BadImage, find_images, is_grey, load_rgb

log = logging.getLogger("colorgan")

EVAL_SIZE = 256
SMALL_SAMPLE = 500  # photos below which FID and KID need a word of caution
GREY, ORIGINAL = "grey", "original"
SWEEP = (0.25, 0.5, 0.75, 1.0, 1.25, 1.5)  # colour intensities of --saturation-sweep
CPU_FP32: dict[str, Any] = {"device": "cpu", "precision": "fp32"}  # the scripts': same on any CPU
TITLES = {GREY: "grey floor (L kept, a = b = 0)", ORIGINAL: "originals"}


@dataclass
class EvalPhoto:
    target: np.ndarray  # uint8 (256, 256, 3): the original
    l_norm: torch.Tensor  # its normalized L, (1, 1, 256, 256)

    @classmethod
    def load(cls, path: Path) -> EvalPhoto:
        target = load_rgb(path, EVAL_SIZE, reduced=False)
        x = torch.from_numpy(target.copy()).permute(2, 0, 1)[None].float() / 255.0
        return cls(target, rgb_to_lab_normalized(x)[0])

    def colorized(self, colorizer: Scored) -> np.ndarray:
        return _to_uint8(
            lab_normalized_to_rgb(self.l_norm, colorizer.predict_ab(self.l_norm).cpu())
        )

    def grey(self) -> np.ndarray:
        zeros = torch.zeros(1, 2, *self.l_norm.shape[-2:])
        return _to_uint8(lab_normalized_to_rgb(self.l_norm, zeros))


class Scored:
    """A torch engine's colour as evaluation scores it: predicted at the model's size,
    upsampled bilinearly to the photo's, times the model's stored saturation."""

    def __init__(self, engine: TorchEngine) -> None:
        self.engine, self.device = engine, engine.device
        self.chroma = model_saturation(engine.meta)

    def predict_ab(self, l_norm: torch.Tensor) -> torch.Tensor:
        return self.engine.predict_full(l_norm) * self.chroma


class Saturated:
    """A colorizer whose predicted ab is scaled by `factor` (on top of its own saturation)."""

    def __init__(self, colorizer: Scored, factor: float) -> None:
        self.colorizer, self.factor = colorizer, factor

    def predict_ab(self, l_norm: torch.Tensor) -> torch.Tensor:
        return self.colorizer.predict_ab(l_norm) * self.factor


def open_colorizers(models: Sequence[str], options: dict[str, Any]) -> dict[str, Scored]:
    """Bundled model names or generator files -> colorizers, labelled as the tables show them."""
    from colorgan.bundled import BUNDLED

    out: dict[str, Scored] = {}
    for model in models:
        bundled = model in BUNDLED and not Path(model).is_file()
        path = Path(model)  # a run's generator.safetensors is known by its run folder
        label = f"bundled model ({model})" if bundled else (
            path.parent.name if path.stem == "generator" else path.stem)  # fmt: skip
        if label in out:
            raise ColorganError(f"{model}: that model is already in the table")
        out[label] = Scored(
            TorchEngine(
                None if bundled else model, model=model if bundled else "default", **options
            )
        )
    return out


def sweep_factors(text: str) -> tuple[float, ...]:
    """ "0.5,1,1.5", or "default" for SWEEP -> the intensities of a sweep; ColorganError
    for anything else."""
    if text == "default":
        return SWEEP
    try:
        values = tuple(float(v) for v in text.split(","))
    except ValueError:
        raise ColorganError(f"--saturation-sweep: not a list of numbers: {text!r}") from None
    if not all(0 <= v <= MAX_SATURATION for v in values):
        raise ColorganError(f"--saturation-sweep: intensities are 0 to {MAX_SATURATION}")
    return values


def sweep(colorizers: dict[str, Scored], factors: Sequence[float] = SWEEP) -> dict:
    """Each colorizer at each colour intensity, labelled "LABEL @ S"."""
    return {f"{label} @ {s:g}": Saturated(c, s) for label, c in colorizers.items() for s in factors}


def _to_uint8(rgb: torch.Tensor) -> np.ndarray:
    return (rgb[0].clamp(0, 1) * 255.0).round().byte().permute(1, 2, 0).cpu().numpy()


def evaluate(
    colorizers: Scored | dict[str, Scored],
    data: str | Path | Sequence[Path],
    limit: int | None = None,
    progress: bool = True,
    features: InceptionFeatures | None = None,
) -> dict[str, Any]:
    """Metrics of each colorizer (a single one is labelled "model"), of the grey floor and of
    the originals; with `features`, FID and KID against the originals too."""
    if isinstance(colorizers, Scored):
        colorizers = {"model": colorizers}
    folder = isinstance(data, str | Path)
    paths = (find_images(data) if folder else list(data))[:limit]
    if not paths:
        raise ColorganError(f"no images found under {data}" if folder else "no photos listed")
    labels = [*colorizers, GREY]
    rows: dict[str, list[tuple[float, ...]]] = {k: [] for k in [*labels, ORIGINAL]}
    images: dict[str, list[np.ndarray]] = {k: [] for k in [*labels, ORIGINAL]}
    skipped = []
    for path in tqdm(paths, desc="evaluating", unit="img", disable=not progress):
        try:
            photo = EvalPhoto.load(path)
            if is_grey(photo.target):
                raise BadImage("grey: no colour to compare against")
        except (BadImage, OSError) as exc:
            skipped.append(f"{path} ({exc})")
            continue
        outputs = {label: photo.colorized(c) for label, c in colorizers.items()}
        outputs[GREY] = photo.grey()
        true_ab = mean_ab(photo.target)
        for label, img in outputs.items():
            shift = mean_ab(img) - true_ab
            rows[label].append((psnr(img, photo.target), ssim(img, photo.target),
                                colourfulness(img), float(np.hypot(*shift)), *shift))  # fmt: skip
        rows[ORIGINAL].append((float("inf"), 1.0, colourfulness(photo.target), 0.0, 0.0, 0.0))
        if features is not None:
            for label, img in [*outputs.items(), (ORIGINAL, photo.target)]:
                images[label].append(img)
    if skipped:
        log.warning("skipped %d unreadable or grey image(s): %s", len(skipped),
                    "; ".join(skipped[:5]))  # fmt: skip
    summary = {
        label: {
            "psnr": float(np.mean([r[0] for r in values])) if label != ORIGINAL else None,
            "ssim": float(np.mean([r[1] for r in values])),
            "colourfulness": float(np.mean([r[2] for r in values])),
            "cast": float(np.mean([r[3] for r in values])),
            "a_shift": float(np.mean([r[4] for r in values])),
            "b_shift": float(np.mean([r[5] for r in values])),
        }
        for label, values in rows.items()
    }
    pairs = kid_pairs(list(colorizers))
    for label, other in pairs.items():
        if len(rows[label]) >= 2:  # the cast differs photo by photo: pair them, as for KID
            diff = np.array([r[3] for r in rows[label]]) - np.array([r[3] for r in rows[other]])
            se = float(diff.std(ddof=1) / np.sqrt(len(diff)))
            summary[label]["cast_vs"] = {"model": other, "difference": float(diff.mean()), "se": se}
    if features is not None and rows[GREY]:
        reference = features(images[ORIGINAL])
        leave_one_out = {}
        for label in labels:
            feats = features(images[label])
            summary[label]["fid"] = frechet_distance(feats, reference)
            if len(feats) >= 3:
                summary[label]["kid"], leave_one_out[label] = paired_kid(feats, reference)
                summary[label]["kid_se"] = jackknife_se(leave_one_out[label])
            else:
                summary[label]["kid"] = kernel_inception_distance(feats, reference)
        for label, other in pairs.items():
            if label in leave_one_out:
                summary[label]["kid_vs"] = {
                    "model": other,
                    "difference": summary[label]["kid"] - summary[other]["kid"],
                    "se": jackknife_se(leave_one_out[label] - leave_one_out[other]),
                }
    where = str(data) if folder else f"{len(paths)} listed photos"
    return {"images": len(rows[GREY]), "skipped": len(skipped), "data": where,
            "size": EVAL_SIZE, "results": summary}  # fmt: skip


def kid_pairs(labels: list[str]) -> dict[str, str]:
    """Which colorizer each later one's KID and cast are set against: the first at the same
    saturation ("LABEL @ S"), else the first. On the same photos the difference is far less
    noisy than either figure, so that is what says whether one model is better."""
    firsts: dict[str, str] = {}
    for label in labels:
        firsts.setdefault(label.rsplit(" @ ", 1)[1] if " @ " in label else "", label)
    return {
        label: firsts[label.rsplit(" @ ", 1)[1] if " @ " in label else ""]
        for label in labels
        if label not in firsts.values()
    }


Column = tuple[str, Callable[[dict[str, Any]], str]]


def metrics_table(
    rows: dict[str, dict[str, Any]], first: str = "", extra: list[Column] = ()
) -> str:
    """A markdown table of metrics rows (labels as given), with optional extra columns."""
    head = [
        first,
        "PSNR (dB)",
        "SSIM",
        "colourfulness",
        "FID",
        "KID x 1000",
        "colour cast",
        "mean a / b shift",
        *(e[0] for e in extra),
    ]
    lines = ["|" + "|".join(f" {h} " if h else " " for h in head) + "|", "|" + "---|" * len(head)]
    for label, r in rows.items():
        cells = [
            label,
            f"{r['psnr']:.2f}" if r.get("psnr") is not None else "-",
            f"{r['ssim']:.4f}",
            f"{r['colourfulness']:.1f}",
            f"{r['fid']:.1f}" if "fid" in r else "-",
            kid_cell(r),
            f"{r['cast']:.1f}" if "cast" in r else "-",
            f"{r['a_shift']:+.1f} / {r['b_shift']:+.1f}" if "a_shift" in r else "-",
            *(fn(r) for _, fn in extra),
        ]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"


def kid_cell(r: dict[str, Any]) -> str:
    """KID x 1000, with its jackknife standard error where measured."""
    if "kid" not in r:
        return "-"
    se = f" ± {r['kid_se'] * 1000:.2f}" if "kid_se" in r else ""
    return f"{r['kid'] * 1000:.2f}{se}"


def markdown_report(report: dict[str, Any], label: str = "model") -> str:
    """`colorgan evaluate`'s table: the model, the grey floor, the originals."""
    res = report["results"]
    rows = {label if key == "model" else TITLES.get(key, key): value for key, value in res.items()}
    text = (
        f"Evaluated on {report['images']} images of `{report['data']}` at "
        f"{report['size']}x{report['size']}"
        + (f" ({report['skipped']} skipped: unreadable or grey)" if report["skipped"] else "")
        + ".\n\n"
        + metrics_table(rows)
    )
    if any("kid" in r for r in res.values()) and report["images"] < SMALL_SAMPLE:
        text += (
            f"\nOn fewer than {SMALL_SAMPLE} photos FID is strongly biased upwards and KID, "
            "which is unbiased, is noisy (it can even be negative): compare models on the same "
            "photos, by KID.\n"
        )
    name = {**{k: k for k in res}, "model": label}

    def paired(key: str, scale: float, digits: int) -> str:
        """One line per model set against another on the same photos: difference ± error."""
        lines = [(k, r[key]) for k, r in res.items() if key in r]
        return "".join(f"- {name[k]} - {name[v['model']]}: {v['difference'] * scale:+.{digits}f}"
                       f" ± {v['se'] * scale:.{digits}f}\n" for k, v in lines)  # fmt: skip

    if any("kid_se" in r for r in res.values()):
        text += "\nKID's ± is its standard error, a jackknife over the photos."
        kids = paired("kid_vs", 1000, 2)
        text += (f" On the same photos, KID x 1000 of one model minus another's:\n\n{kids}"
                 if kids else "\n")  # fmt: skip
    if casts := paired("cast_vs", 1, 3):
        text += ("\nOn the same photos, the colour cast of one model minus another's (± its "
                 f"standard error over the photos):\n\n{casts}")  # fmt: skip
    return text


def write_report(report: dict[str, Any], out: Path, label: str) -> tuple[Path, Path]:
    json_path, md_path = out / "metrics.json", out / "metrics.md"
    atomic_write_text(json_path, json.dumps(report, indent=2) + "\n")
    atomic_write_text(md_path, markdown_report(report, label))
    return json_path, md_path


def plot_sweep(report: dict[str, Any], factors: Sequence[float], path: Path) -> None:
    """PSNR and KID against colourfulness, one curve per colorizer through its intensities,
    with the grey floor and the originals' colourfulness marked (written whole)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    res = report["results"]
    models = list(dict.fromkeys(label.rsplit(" @ ", 1)[0] for label in res if " @ " in label))
    panels = [("psnr", "PSNR (dB)", 1.0)] + ([("kid", "KID x 1000", 1000.0)]
                                            if "kid" in res[GREY] else [])  # fmt: skip
    fig, axes = plt.subplots(1, len(panels), figsize=(5.5 * len(panels), 4.2), squeeze=False)
    for ax, (key, title, scale) in zip(axes[0], panels, strict=True):
        for model in models:
            points = [res[f"{model} @ {s:g}"] for s in factors]
            xs, ys = [p["colourfulness"] for p in points], [p[key] * scale for p in points]
            errors = [p.get(f"{key}_se", 0.0) * scale for p in points]  # KID's jackknife
            ax.errorbar(xs, ys, yerr=errors, fmt="o-", capsize=3, label=model)
            for x, y, s in zip(xs, ys, factors, strict=True):
                ax.annotate(f"{s:g}", (x, y), textcoords="offset points", xytext=(3, 3),
                            fontsize=7)  # fmt: skip
        ax.axhline(res[GREY][key] * scale, color="grey", ls="--", label="grey floor")
        ax.axvline(res[ORIGINAL]["colourfulness"], color="k", ls=":", label="originals")
        ax.set_xlabel("colourfulness (Hasler-Suesstrunk)")
        ax.set_ylabel(title)
        ax.legend(fontsize=8)
    fig.suptitle(f"Saturation sweep on {report['images']} photos of {report['data']}")
    fig.tight_layout()
    with atomic_file(path) as tmp:
        fig.savefig(tmp, format="png", dpi=110)
    plt.close(fig)
