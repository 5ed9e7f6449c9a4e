"""What evaluation writes: its markdown tables (with the paired differences and their
standard errors), metrics.json and metrics.md, and the saturation sweep's plot."""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from colorgan.base.files import atomic_file, atomic_write_text
from colorgan.evaluation.evaluate import GREY, ORIGINAL, SMALL_SAMPLE, TITLES

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
        return "".join(
            f"- {name[k]} - {name[v['model']]}: {v['difference'] * scale:+.{digits}f}"
            f" ± {v['se'] * scale:.{digits}f}\n"
            for k, v in lines
        )

    if any("kid_se" in r for r in res.values()):
        text += "\nKID's ± is its standard error, a jackknife over the photos."
        kids = paired("kid_vs", 1000, 2)
        text += (
            f" On the same photos, KID x 1000 of one model minus another's:\n\n{kids}"
            if kids
            else "\n"
        )
    if casts := paired("cast_vs", 1, 3):
        text += (
            "\nOn the same photos, the colour cast of one model minus another's (± its "
            f"standard error over the photos):\n\n{casts}"
        )
    if colours := paired("colourfulness_vs", 1, 2):
        text += f"\nOn the same photos, the colourfulness of one minus another's:\n\n{colours}"
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
    panels = [("psnr", "PSNR (dB)", 1.0)] + (
        [("kid", "KID x 1000", 1000.0)] if "kid" in res[GREY] else []
    )
    fig, axes = plt.subplots(1, len(panels), figsize=(5.5 * len(panels), 4.2), squeeze=False)
    for ax, (key, title, scale) in zip(axes[0], panels, strict=True):
        for model in models:
            points = [res[f"{model} @ {s:g}"] for s in factors]
            xs, ys = [p["colourfulness"] for p in points], [p[key] * scale for p in points]
            errors = [p.get(f"{key}_se", 0.0) * scale for p in points]  # KID's jackknife
            ax.errorbar(xs, ys, yerr=errors, fmt="o-", capsize=3, label=model)
            for x, y, s in zip(xs, ys, factors, strict=True):
                ax.annotate(f"{s:g}", (x, y), textcoords="offset points", xytext=(3, 3), fontsize=7)
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
