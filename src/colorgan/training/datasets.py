"""Batches of training photos: a seeded, resumable epoch order and the dataset it indexes.

Images are decoded and resized here (in loader workers where there are any); the Lab
conversion happens batched on the training device (`colorgan.color`), which is faster than
per-image conversion. A file that breaks after the scan is dropped from its batch instead of
crashing the run.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator, Sequence

import numpy as np
import torch

from colorgan.images import BadImage, load_rgb
from colorgan.training.cache import FeatureCache
from colorgan.training.photos import Photo

log = logging.getLogger("colorgan")


class EpochSampler(torch.utils.data.Sampler):
    """Yields (index, flip) pairs; the order and flips are a pure function of (seed, epoch).

    Being stateless makes a resumed run draw exactly the batches an uninterrupted one would.
    Under data parallelism every rank draws the same global order and takes its slice of each
    global batch (`batch_size` items, `batch_size // world` per rank), so N processes see the
    batches one process would, and a run resumes at any world size. Only whole global batches
    are drawn; `start` counts items of the global order.
    """

    def __init__(
        self, n: int, seed: int, shuffle: bool, flip: bool,
        batch_size: int = 1, rank: int = 0, world: int = 1,
    ) -> None:  # fmt: skip
        self.n, self.seed, self.shuffle, self.flip = n, seed, shuffle, flip
        self.batch_size = batch_size
        if self.batch_size % world:
            raise ValueError(f"batch size {self.batch_size} does not split over {world} ranks")
        self.rank, self.world = rank, world
        self.epoch = 0
        self.start = 0

    def set_epoch(self, epoch: int, start: int = 0) -> None:
        self.epoch, self.start = epoch, start

    def _slots(self) -> range:
        """The global batches still to draw this epoch."""
        first = self.start // self.batch_size
        whole = self.n // self.batch_size
        return range(first, whole)

    def __iter__(self) -> Iterator[tuple[int, bool]]:
        g = torch.Generator().manual_seed(self.seed * 100_003 + self.epoch)
        order = torch.randperm(self.n, generator=g) if self.shuffle else torch.arange(self.n)
        flips = (
            torch.rand(self.n, generator=g) < 0.5
            if self.flip
            else torch.zeros(self.n, dtype=torch.bool)
        )
        per_rank = self.batch_size // self.world
        for b in self._slots():
            first = b * self.batch_size + self.rank * per_rank
            for i in range(first, first + per_rank):
                yield int(order[i]), bool(flips[i])

    def __len__(self) -> int:
        return len(self._slots()) * (self.batch_size // self.world)


class PhotoDataset(torch.utils.data.Dataset):
    """Items are (index, flip); returns the RGB tensor and, with a cache, the cached priors."""

    def __init__(
        self, photos: Sequence[Photo], size: int, cache: FeatureCache | None = None
    ) -> None:
        self.photos = list(photos)
        self.size = size
        self.cache = cache

    def __len__(self) -> int:
        return len(self.photos)

    def __getitem__(self, item: tuple[int, bool] | int) -> dict | None:
        index, flip = item if isinstance(item, tuple) else (item, False)
        photo = self.photos[index]
        try:
            rgb = load_rgb(photo.path, self.size)
        except (BadImage, OSError) as exc:
            log.warning("skipping %s in this batch: %s", photo.path, exc)
            return None
        if flip:
            rgb = rgb[:, ::-1]
        sample = {"rgb": torch.from_numpy(np.ascontiguousarray(rgb)).permute(2, 0, 1)}
        if self.cache is not None:
            feats = self.cache.get(photo.key, flip)
            if feats is None:
                log.warning("no cached priors for %s; skipping it", photo.path)
                return None
            sample.update(feats)
        return sample


def collate(samples: list[dict | None]) -> dict[str, torch.Tensor] | None:
    """Stack a batch, dropping the items that failed to load."""
    kept = [s for s in samples if s is not None]
    if not kept:
        return None
    return {k: torch.stack([s[k] for s in kept]) for k in kept[0]}
