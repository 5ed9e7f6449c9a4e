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

import logging
from collections.abc import Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import numpy as np
import torch
from tqdm import tqdm

from colorgan.base.errors import ColorganError
from colorgan.base.images import BadImage, find_images, is_grey, load_rgb
from colorgan.colour.pixels import colourfulness
from colorgan.colour.tensors import lab_normalized_to_rgb, rgb_to_lab_normalized
from colorgan.evaluation.fid import (
    InceptionFeatures,
    frechet_distance,
    jackknife_se,
    kernel_inception_distance,
    paired_kid,
)
from colorgan.evaluation.metrics import mean_ab, psnr, ssim
from colorgan.pipeline.colorizer import Colorizer
from colorgan.pipeline.settings import Settings
from colorgan.spec.bundled import BUNDLED

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


@dataclass(frozen=True)
class Scored:
    """A colorizer's colour as evaluation scores it, with the `settings` a user would give
    it (a saturation, a reference bank): predicted at the model's size, upsampled bilinearly
    to the photo's, through the product's own chain (Colorizer.lightness_colour)."""

    colorizer: Colorizer
    settings: Settings = Settings()

    def predict_ab(self, l_norm: torch.Tensor) -> torch.Tensor:
        return torch.from_numpy(self.colorizer.lightness_colour(l_norm.numpy(), self.settings))

    def at(self, saturation: float) -> Scored:
        """The same colorizer and settings at another colour intensity."""
        return replace(self, settings=replace(self.settings, saturation=saturation))


def open_colorizers(models: Sequence[str], options: dict[str, Any]) -> dict[str, Scored]:
    """Bundled model names or generator files -> colorizers on the torch engine (the exact
    Lab path), labelled as the tables show them; `options`: engines.choose.EngineOptions'."""
    out: dict[str, Scored] = {}
    for model in models:
        bundled = model in BUNDLED and not Path(model).is_file()
        path = Path(model)  # a run's generator.safetensors is known by its run folder
        label = (
            f"bundled model ({model})"
            if bundled
            else (path.parent.name if path.stem == "generator" else path.stem)
        )
        if label in out:
            raise ColorganError(f"{model}: that model is already in the table")
        weights = None if bundled else model
        out[label] = Scored(
            Colorizer.open(model if bundled else "default", weights, engine="torch", **options)
        )
    return out


def sweep(colorizers: dict[str, Scored], factors: Sequence[float] = SWEEP) -> dict:
    """Each colorizer at each colour intensity, labelled "LABEL @ S"."""
    return {f"{label} @ {s:g}": c.at(s) for label, c in colorizers.items() for s in factors}


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
    rows, images = _score_photos(colorizers, paths, features is not None, progress)
    summary = {label: _means(values, label != ORIGINAL) for label, values in rows.items()}
    pairs = kid_pairs(list(colorizers))
    _paired_casts(summary, rows, pairs)
    if features is not None and rows[GREY]:
        _distances(summary, images, [*colorizers, GREY], pairs, features)
    return {
        "images": len(rows[GREY]),
        "skipped": len(paths) - len(rows[GREY]),
        "data": str(data) if folder else f"{len(paths)} listed photos",
        "size": EVAL_SIZE,
        "results": summary,
    }


Rows = dict[str, list[tuple[float, ...]]]


def _score_photos(
    colorizers: dict[str, Scored], paths: Sequence[Path], keep_images: bool, progress: bool
) -> tuple[Rows, dict[str, list[np.ndarray]]]:
    """Per photo and label (each colorizer, the grey floor, the originals): PSNR, SSIM,
    colourfulness, the cast and the mean a and b shift; and the images, for FID and KID.
    Unreadable and grey photos are skipped, with a warning."""
    labels = [*colorizers, GREY, ORIGINAL]
    rows: Rows = {k: [] for k in labels}
    images: dict[str, list[np.ndarray]] = {k: [] for k in labels}
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
            scores = (psnr(img, photo.target), ssim(img, photo.target), colourfulness(img))
            rows[label].append((*scores, float(np.hypot(*shift)), *shift))
        rows[ORIGINAL].append((float("inf"), 1.0, colourfulness(photo.target), 0.0, 0.0, 0.0))
        if keep_images:
            for label, img in [*outputs.items(), (ORIGINAL, photo.target)]:
                images[label].append(img)
    if skipped:
        log.warning(
            "skipped %d unreadable or grey image(s): %s", len(skipped), "; ".join(skipped[:5])
        )
    return rows, images


def _means(values: list[tuple[float, ...]], has_psnr: bool) -> dict[str, Any]:
    return {
        "psnr": float(np.mean([r[0] for r in values])) if has_psnr else None,
        "ssim": float(np.mean([r[1] for r in values])),
        "colourfulness": float(np.mean([r[2] for r in values])),
        "cast": float(np.mean([r[3] for r in values])),
        "a_shift": float(np.mean([r[4] for r in values])),
        "b_shift": float(np.mean([r[5] for r in values])),
    }


def _paired_casts(summary: dict, rows: Rows, pairs: dict[str, str]) -> None:
    """Each later model's cast and colourfulness set against its pair's, photo by photo,
    with the standard error of the difference (they differ photo by photo: pair them, as
    for KID)."""
    for label, other in pairs.items():
        if len(rows[label]) < 2:
            continue
        for key, column in (("cast_vs", 3), ("colourfulness_vs", 2)):
            ours = np.array([r[column] for r in rows[label]])
            diff = ours - np.array([r[column] for r in rows[other]])
            se = float(diff.std(ddof=1) / np.sqrt(len(diff)))
            summary[label][key] = {"model": other, "difference": float(diff.mean()), "se": se}


def _distances(
    summary: dict,
    images: dict[str, list[np.ndarray]],
    labels: list[str],
    pairs: dict[str, str],
    features: InceptionFeatures,
) -> None:
    """FID and KID of each label against the originals, KID's jackknife standard error, and
    each later model's KID set against its pair's on the same photos."""
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
