"""Batches of training photos: a seeded, resumable epoch order and the dataset it indexes.

Images are decoded and resized here (in loader workers where there are any); the Lab
conversion happens batched on the training device (`colorgan.colour.tensors`), which is faster than
per-image conversion. A file that breaks after the scan is dropped from its batch instead of
crashing the run.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator, Sequence

import numpy as np
import torch

from colorgan.base.images import BadImage, load_rgb
from colorgan.training.cache import FeatureCache
from colorgan.training.photos import Photo

log = logging.getLogger("colorgan")


Box = tuple[float, float, float, float]  # x0, y0, x1, y1 as fractions of the photo


class EpochSampler(torch.utils.data.Sampler):
    """Yields (index, flip) pairs, or (index, flip, box) with random crops; the order, flips
    and crops are a pure function of (seed, epoch).

    With `weights` (one per photo), an epoch draws each photo floor(w) times, and a random
    share frac(w) of the photos of each fractional weight once more: the epoch's length is
    fixed, which photos fill it changes from epoch to epoch.

    Being stateless makes a resumed run draw exactly the batches an uninterrupted one would.
    Under data parallelism every rank draws the same global order and takes its slice of each
    global batch (`batch_size` items, `batch_size // world` per rank), so N processes see the
    batches one process would, and a run resumes at any world size. Only whole global batches
    are drawn; `start` counts items of the global order.
    """

    def __init__(
        self,
        n: int,
        seed: int,
        shuffle: bool,
        flip: bool,
        batch_size: int = 1,
        rank: int = 0,
        world: int = 1,
        crop: tuple[float, float] | None = None,
        ratio: tuple[float, float] = (3 / 4, 4 / 3),
        weights: Sequence[float] | None = None,
    ) -> None:
        self.seed, self.shuffle, self.flip = seed, shuffle, flip
        self.weights = None
        if weights is not None and any(w != 1.0 for w in weights):
            self.weights = torch.tensor(list(weights), dtype=torch.float64)
        self.photos = n
        self.n = n if self.weights is None else len(self._draws(torch.Generator()))
        self.crop, self.ratio = crop, ratio
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

    def _draws(self, g: torch.Generator) -> torch.Tensor:
        """The photos of one epoch (with repeats), before shuffling; always self.n of them."""
        assert self.weights is not None
        whole = self.weights.floor()
        drawn = [torch.arange(self.photos).repeat_interleave(whole.long())]
        frac = self.weights - whole
        for share in frac.unique().tolist():
            if share > 0:
                members = (frac == share).nonzero().flatten()
                keep = round(share * len(members))
                drawn.append(members[torch.randperm(len(members), generator=g)[:keep]])
        return torch.cat(drawn)

    def __iter__(self) -> Iterator[tuple]:
        g = torch.Generator().manual_seed(self.seed * 100_003 + self.epoch)
        order = torch.randperm(self.n, generator=g) if self.shuffle else torch.arange(self.n)
        if self.weights is not None:
            order = self._draws(g)[order]
        flips = (
            torch.rand(self.n, generator=g) < 0.5
            if self.flip
            else torch.zeros(self.n, dtype=torch.bool)
        )
        boxes = self._boxes(g) if self.crop else None
        per_rank = self.batch_size // self.world
        for b in self._slots():
            first = b * self.batch_size + self.rank * per_rank
            for i in range(first, first + per_rank):
                if boxes is None:
                    yield int(order[i]), bool(flips[i])
                else:
                    yield int(order[i]), bool(flips[i]), tuple(boxes[i].tolist())

    def _boxes(self, g: torch.Generator) -> torch.Tensor:
        """Random resized crops (as torchvision's): an area fraction in `crop`, an aspect ratio
        in `ratio` (log-uniform), a uniform position; (n, 4) boxes in fractions."""
        u = torch.rand(self.n, 4, generator=g, dtype=torch.float64)
        low, high = self.crop
        area = low + (high - low) * u[:, 0]
        lo, hi = torch.tensor(self.ratio, dtype=torch.float64).log()
        ratio = (lo + (hi - lo) * u[:, 1]).exp()
        w, h = (area * ratio).sqrt().clamp(max=1.0), (area / ratio).sqrt().clamp(max=1.0)
        x0, y0 = (1 - w) * u[:, 2], (1 - h) * u[:, 3]
        return torch.stack([x0, y0, x0 + w, y0 + h], 1)

    def __len__(self) -> int:
        return len(self._slots()) * (self.batch_size // self.world)


class PhotoDataset(torch.utils.data.Dataset):
    """Items are (index, flip) or (index, flip, box); returns the RGB tensor (the box cropped,
    then flipped) and, with a cache, the photo's cached priors with the box they need cropping
    to (in the flipped photo's frame: the cache holds each flip's priors of the whole photo)."""

    def __init__(
        self, photos: Sequence[Photo], size: int, cache: FeatureCache | None = None
    ) -> None:
        self.photos = list(photos)
        self.size = size
        self.cache = cache

    def __len__(self) -> int:
        return len(self.photos)

    def __getitem__(self, item: tuple | int) -> dict | None:
        index, flip, *rest = item if isinstance(item, tuple) else (item, False)
        box: Box | None = rest[0] if rest else None
        photo = self.photos[index]
        try:
            rgb = load_rgb(photo.path, self.size, box=box)
        except (BadImage, OSError) as exc:
            log.warning("skipping %s in this batch: %s", photo.path, exc)
            return None
        if flip:
            rgb = rgb[:, ::-1]
        sample = {"rgb": torch.from_numpy(np.ascontiguousarray(rgb)).permute(2, 0, 1)}
        if box is not None:
            x0, y0, x1, y1 = box
            sample["box"] = torch.tensor((1 - x1, y0, 1 - x0, y1) if flip else box)
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
