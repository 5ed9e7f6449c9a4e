"""On-disk cache of the frozen priors' outputs, so that training never reruns the backbones.

Layout: CACHE_DIR/<prior fingerprint>/<key[:2]>/<key>.safetensors, one file per photo holding
the outputs for both flips. The fingerprint covers backbone names, weight-file digests, input
size and preprocessing version; the key is the photo's content hash. A change to any of them
leads to a different file, so stale entries are recomputed, never reused. Files are written
to a temporary name and renamed, so an interrupted build leaves no half-written entry.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import torch
from safetensors import SafetensorError, safe_open
from safetensors.torch import save_file
from tqdm import tqdm

from colorgan.base.files import atomic_file
from colorgan.base.images import BadImage, load_rgb
from colorgan.colour.tensors import grey_from_l, rgb_to_lab_normalized
from colorgan.priors.semantic import PRIOR_IMAGE_SIZE, SemanticPriors
from colorgan.training.photos import Photo

log = logging.getLogger("colorgan")


class FeatureCache:
    def __init__(self, root: str | Path, fingerprint: str) -> None:
        self.fingerprint = fingerprint
        self.root = Path(root) / fingerprint

    def path(self, key: str) -> Path:
        return self.root / key[:2] / f"{key}.safetensors"

    def _read(self, key: str) -> tuple[dict[str, torch.Tensor], dict[str, str]] | None:
        try:
            with safe_open(str(self.path(key)), framework="pt") as fh:
                return {k: fh.get_tensor(k) for k in fh.keys()}, fh.metadata() or {}
        except (OSError, SafetensorError, ValueError, RuntimeError):
            return None

    def valid(self, key: str, channels: dict[str, int]) -> bool:
        """An entry that reads, holds every expected output for both flips with the expected
        channels, finite, and whose bytes match the checksum stored with them (an entry from
        before checksums must at least not be all zeros)."""
        read = self._read(key)
        if read is None:
            return False
        tensors, meta = read
        for name, size in channels.items():
            for key_ in (name, name + "_flip"):
                t = tensors.get(key_)
                if t is None or t.ndim == 0 or t.shape[0] != size or not t.isfinite().all():
                    return False
        if "sha256" in meta:
            return meta["sha256"] == _checksum(tensors)
        return any(bool(t.any()) for t in tensors.values())

    def get(self, key: str, flip: bool) -> dict[str, torch.Tensor] | None:
        read = self._read(key)
        if read is None:
            return None
        tensors = read[0]
        suffix = "_flip" if flip else ""
        return {
            name: tensors[name + suffix].float()
            for name in ("embedding", "segmentation")
            if name + suffix in tensors
        }

    def put(self, key: str, tensors: dict[str, torch.Tensor]) -> None:
        tensors = {k: v.contiguous() for k, v in tensors.items()}
        with atomic_file(self.path(key)) as tmp:
            meta = {"fingerprint": self.fingerprint, "sha256": _checksum(tensors)}
            save_file(tensors, tmp, metadata=meta)


def _checksum(tensors: dict[str, torch.Tensor]) -> str:
    digest = hashlib.sha256()
    for name in sorted(tensors):
        t = tensors[name].contiguous()
        digest.update(f"{name}:{t.dtype}:{tuple(t.shape)};".encode())
        digest.update(t.view(torch.uint8).numpy().tobytes() if t.numel() else b"")
    return digest.hexdigest()


def build_cache(
    photos: Sequence[Photo],
    priors: SemanticPriors,
    cache: FeatureCache,
    batch_size: int = 32,
    progress: bool = True,
) -> list[Photo]:
    """Compute the priors for every photo not yet cached (both flips); returns usable photos."""
    todo = [p for p in photos if not cache.valid(p.key, priors.output_channels)]
    failed: set[str] = set()
    if todo:
        log.info("computing priors for %d of %d photos into %s", len(todo), len(photos), cache.root)
    bar = tqdm(total=len(todo), desc="caching priors", unit="img", disable=not progress or not todo)
    for start in range(0, len(todo), batch_size):
        chunk, greys = [], []
        for photo in todo[start : start + batch_size]:
            try:
                rgb = load_rgb(photo.path, PRIOR_IMAGE_SIZE)
            except (BadImage, OSError) as exc:
                log.warning("skipping %s: %s", photo.path, exc)
                failed.add(photo.key)
                continue
            chunk.append(photo)
            greys.append(grey_from_rgb(rgb))
        if chunk:
            grey = torch.stack(greys)
            both = priors(torch.cat([grey, grey.flip(-1)]))
            n = len(chunk)
            for i, photo in enumerate(chunk):
                entry = {}
                for name, value in both.items():
                    entry[name] = value[i].half()
                    entry[name + "_flip"] = value[n + i].half()
                cache.put(photo.key, entry)
        bar.update(len(todo[start : start + batch_size]))
    bar.close()
    return [p for p in photos if p.key not in failed]


def grey_from_rgb(rgb: np.ndarray) -> torch.Tensor:
    """uint8 (H, W, 3) -> the grey image the priors see, (1, H, W) in [0, 1]."""
    x = torch.from_numpy(rgb.copy()).permute(2, 0, 1)[None].float() / 255.0
    l_norm, _ = rgb_to_lab_normalized(x)
    return grey_from_l(l_norm)[0]
