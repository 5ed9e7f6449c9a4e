"""`colorgan evaluate`: the field's protocol on held-out photos, beside the grey floor."""

from __future__ import annotations

import json
import logging
from pathlib import Path
from typing import Any

import numpy as np
import torch
from tqdm import tqdm

from colorgan.color import lab_normalized_to_rgb, rgb_to_lab_normalized
from colorgan.data import BadImage, find_images, load_rgb
from colorgan.errors import ColorganError
from colorgan.fid import InceptionFeatures, frechet_distance, kernel_inception_distance
from colorgan.metrics import colourfulness, psnr, ssim
from colorgan.pipeline import Colorizer

log = logging.getLogger("colorgan")

EVAL_SIZE = 256


def _to_uint8(rgb: torch.Tensor) -> np.ndarray:
    return (rgb[0].clamp(0, 1) * 255.0).round().byte().permute(1, 2, 0).cpu().numpy()


def evaluate(
    colorizer: Colorizer,
    data: str | Path,
    limit: int | None = None,
    progress: bool = True,
    features: InceptionFeatures | None = None,
) -> dict[str, Any]:
    """Resize to 256, predict ab from L, Lab -> RGB, round to uint8, compare with the original.

    With `features`, FID and KID of the colorizations (and of the grey floor) against the
    originals are added.
    """
    paths = find_images(data)[:limit]
    if not paths:
        raise ColorganError(f"no images found under {data}")
    rows = {"model": [], "grey": [], "original": []}
    images: dict[str, list[np.ndarray]] = {"model": [], "grey": [], "original": []}
    skipped = []
    for path in tqdm(paths, desc="evaluating", unit="img", disable=not progress):
        try:
            target = load_rgb(path, EVAL_SIZE, reduced=False)
        except (BadImage, OSError) as exc:
            skipped.append(f"{path} ({exc})")
            continue
        x = torch.from_numpy(target.copy()).permute(2, 0, 1)[None].float() / 255.0
        l_norm, _ = rgb_to_lab_normalized(x)
        pred = _to_uint8(lab_normalized_to_rgb(l_norm, colorizer.predict_ab(l_norm).cpu()))
        grey = _to_uint8(lab_normalized_to_rgb(l_norm, torch.zeros_like(x[:, :2])))
        for name, img in (("model", pred), ("grey", grey)):
            rows[name].append((psnr(img, target), ssim(img, target), colourfulness(img)))
        rows["original"].append((float("inf"), 1.0, colourfulness(target)))
        if features is not None:
            for name, img in (("model", pred), ("grey", grey), ("original", target)):
                images[name].append(img)
    if skipped:
        log.warning("skipped %d unreadable image(s): %s", len(skipped), "; ".join(skipped[:5]))
    summary = {
        name: {
            "psnr": float(np.mean([r[0] for r in values])) if name != "original" else None,
            "ssim": float(np.mean([r[1] for r in values])),
            "colourfulness": float(np.mean([r[2] for r in values])),
        }
        for name, values in rows.items()
    }
    if features is not None and rows["model"]:
        reference = features(images["original"])
        for name in ("model", "grey"):
            feats = features(images[name])
            summary[name]["fid"] = frechet_distance(feats, reference)
            summary[name]["kid"] = kernel_inception_distance(feats, reference)
    return {"images": len(rows["model"]), "skipped": len(skipped), "data": str(data),
            "size": EVAL_SIZE, "results": summary}  # fmt: skip


def markdown_table(report: dict[str, Any], label: str = "model") -> str:
    res = report["results"]
    lines = [
        f"Evaluated on {report['images']} images of `{report['data']}` at "
        f"{report['size']}x{report['size']}.",
        "",
        "| | PSNR (dB) | SSIM | colourfulness | FID | KID x 1000 |",
        "|---|---|---|---|---|---|",
    ]
    names = {"model": label, "grey": "grey floor (L kept, a = b = 0)", "original": "originals"}
    for key, title in names.items():
        r = res[key]
        p = f"{r['psnr']:.2f}" if r["psnr"] is not None else "-"
        fid = f"{r['fid']:.1f}" if "fid" in r else "-"
        kid = f"{r['kid'] * 1000:.2f}" if "kid" in r else "-"
        lines.append(
            f"| {title} | {p} | {r['ssim']:.4f} | {r['colourfulness']:.1f} | {fid} | {kid} |"
        )
    return "\n".join(lines) + "\n"


def write_report(report: dict[str, Any], out: Path, label: str) -> tuple[Path, Path]:
    out.mkdir(parents=True, exist_ok=True)
    json_path, md_path = out / "metrics.json", out / "metrics.md"
    json_path.write_text(json.dumps(report, indent=2) + "\n")
    md_path.write_text(markdown_table(report, label))
    return json_path, md_path
