"""TrainingData: the photos a run trains and validates on, as batches of generator inputs.

Set-up happens once per run: find and split the photos, check them (each rank its share under
torchrun), compute the priors the generator needs into the feature cache (or keep the
backbones to run on every batch), and count the colours for the rebalanced_l1 term. Packed
shards (data.shards) skip all of it: they were checked when packed, and their priors run on
every batch.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable
from contextlib import AbstractContextManager, nullcontext
from functools import cached_property

import torch
from torchvision.ops import roi_align

from colorgan.base.errors import ColorganError
from colorgan.colour.tensors import rgb_to_lab_normalized, uint8_to_float
from colorgan.config import Config
from colorgan.models import generator_class
from colorgan.priors.semantic import SemanticPriors, generator_inputs
from colorgan.spec.terms import TERM_NEEDS
from colorgan.training import distributed
from colorgan.training.cache import FeatureCache, build_cache
from colorgan.training.datasets import EpochSampler, PhotoDataset, collate
from colorgan.training.distributed import World
from colorgan.training.hints import simulate_hints
from colorgan.training.photos import Photo, scan_images, split_sources
from colorgan.training.rebalance import ab_histogram, rebalance_weights
from colorgan.training.shards import ShardPhotos, ShardStream, read_pack

log = logging.getLogger("colorgan")

Batch = dict[str, torch.Tensor]


class TrainingData:
    def __init__(
        self,
        cfg: Config,
        world: World | None = None,
        device: torch.device | str = "cpu",
        memory_format: torch.memory_format = torch.contiguous_format,
        progress: bool = True,
        autocast: Callable[[], AbstractContextManager] = nullcontext,
    ) -> None:
        self.cfg = cfg
        self.autocast = autocast
        self.world = world or World()
        self.device = torch.device(device)
        self.memory_format = memory_format
        self.progress = progress and self.world.main
        self.local_batch = cfg.train.batch_size // self.world.size
        self.num_workers = cfg.data.num_workers
        if self.num_workers is None:
            per_node = int(os.environ.get("LOCAL_WORLD_SIZE", 1))
            cores = max(1, (os.cpu_count() or 1) // per_node)
            self.num_workers = 0 if self.device.type == "cpu" else min(8, cores)
        self.needs = generator_class(cfg.model.generator).needs(cfg.model.options)
        p = cfg.priors
        priors = SemanticPriors.for_generator(
            self.needs, p.embedding, p.segmentation, p.embedding_weights, p.segmentation_weights
        )
        self.segmentation_is_logits = priors is not None and priors.segmentation_is_logits
        self.cache: FeatureCache | None = None
        self.priors: SemanticPriors | None = None  # only when the backbones run every batch
        self.colour_weights: torch.Tensor | None = None
        if cfg.data.shards is not None:
            self._from_shards(priors)
        else:
            self._from_folders(priors)

    def _from_folders(self, priors: SemanticPriors | None) -> None:
        """Photos found in folders, checked, their priors cached (or run every batch)."""
        cfg = self.cfg
        parts = split_sources(cfg.data)
        train_paths = [p for t, _, _ in parts for p in t]
        train = self._scan(train_paths)
        val = self._scan([p for _, v, _ in parts for p in v])
        weight_of = {p: w for t, _, w in parts for p in t}
        for photo in train:
            photo.weight = weight_of[photo.path]
        if len(train) < cfg.train.batch_size:
            raise ColorganError(
                f"only {len(train)} usable training photos for batch size {cfg.train.batch_size}"
            )
        if priors is not None and cfg.priors.cache:
            self.cache = FeatureCache(cfg.priors.cache_dir, priors.fingerprint())
            train, val = self._build_cache(train, priors), self._build_cache(val, priors)
        elif priors is not None:
            self.priors = priors.to(self.device)
        log.info("%d training and %d validation photos", len(train), len(val))
        terms = [*cfg.loss.pretrain, *cfg.loss.adversarial]
        if any(TERM_NEEDS[name].colour_weights for name in terms):
            counts = ab_histogram([photo.path for photo in train])
            self.colour_weights = rebalance_weights(counts, cfg.loss.rebalance_lambda)
            log.info("pixels weighted by colour rarity (lambda %s)", cfg.loss.rebalance_lambda)
        size = cfg.data.image_size
        self.train_set = PhotoDataset(train, size, self.cache)
        self.val_set = PhotoDataset(val[: cfg.train.val_images or None], size, self.cache)
        self.sampler = EpochSampler(
            len(train),
            cfg.train.seed,
            shuffle=True,
            flip=cfg.data.flip,
            batch_size=cfg.train.batch_size,
            rank=self.world.rank,
            world=self.world.size,
            crop=cfg.data.random_crop,
            weights=[photo.weight for photo in train],
        )

    def _from_shards(self, priors: SemanticPriors | None) -> None:
        """Photos streamed from packed shards (checked when packed), their priors run on
        every batch on the training device."""
        cfg = self.cfg
        terms = [*cfg.loss.pretrain, *cfg.loss.adversarial]
        if any(TERM_NEEDS[name].colour_weights for name in terms):
            raise ColorganError("the colour-rarity terms count a folder's colours: use data.root")
        train, val = read_pack(cfg.data.shards)
        self.priors = None if priors is None else priors.to(self.device)
        self.sampler = self.train_set = ShardStream(
            train,
            cfg.data.image_size,
            cfg.train.seed,
            cfg.train.batch_size,
            self.world.rank,
            self.world.size,
            self.num_workers,
            cfg.data.flip,
            cfg.data.random_crop,
            cfg.data.shuffle_buffer,
        )
        if self.sampler.steps_per_epoch() < 1:
            raise ColorganError(
                f"data.shards: too few photos per process for batch size {cfg.train.batch_size}"
            )
        self.val_set = ShardPhotos(val, cfg.data.image_size, cfg.train.val_images)
        photos = sum(s.photos for s in train)
        log.info(
            "%d training photos in %d shards; %d validation", photos, len(train), len(self.val_set)
        )

    def _scan(self, paths: list) -> list[Photo]:
        """scan_images, each rank checking its share; every rank gets the same list back."""
        found = scan_images(
            distributed.shard(paths, self.world), self.cfg.data.image_size, self.progress
        )
        order = {p: i for i, p in enumerate(paths)}
        return sorted(distributed.gather(found, self.world), key=lambda ph: order[ph.path])

    def _build_cache(self, photos: list[Photo], priors: SemanticPriors) -> list[Photo]:
        """Each rank computes the priors of its share once; then every rank checks the whole
        cache and fills what it still lacks (a node without the shared filesystem)."""
        assert self.cache is not None
        batch = self.cfg.priors.batch_size
        if self.world.distributed:
            build_cache(
                distributed.shard(photos, self.world), priors, self.cache, batch, self.progress
            )
            distributed.barrier(self.world)
        return build_cache(photos, priors, self.cache, batch, self.progress)

    def steps_per_epoch(self) -> int:
        n = self.sampler.n // self.cfg.train.batch_size
        cap = self.cfg.train.max_steps_per_epoch
        return min(n, cap) if cap else n

    def _loader(
        self,
        dataset: torch.utils.data.Dataset,
        sampler: torch.utils.data.Sampler | list | None,
        drop_last: bool,
    ) -> torch.utils.data.DataLoader:
        return torch.utils.data.DataLoader(
            dataset,
            batch_size=self.local_batch,
            sampler=sampler,
            num_workers=self.num_workers,
            collate_fn=collate,
            drop_last=drop_last,
            # its own generator: starting an epoch must not draw from the global one, which
            # a resumed run restores to the checkpoint's state (dropout draws from it)
            generator=torch.Generator().manual_seed(self.cfg.train.seed),
            pin_memory=self.device.type == "cuda",
            # Kept across epochs: each fresh set of workers costs seconds, which on a GPU
            # can be a sizeable share of a short epoch. The sampler is re-read every epoch;
            # a stream's workers are not kept: each epoch's start copies its position to them
            persistent_workers=self.num_workers > 0 and sampler is not None,
        )

    @cached_property
    def train_loader(self) -> torch.utils.data.DataLoader:
        if isinstance(self.train_set, ShardStream):
            return self._loader(self.train_set, None, drop_last=True)
        return self._loader(self.train_set, self.sampler, drop_last=True)

    @cached_property
    def val_loader(self) -> torch.utils.data.DataLoader:
        items = distributed.shard([(i, False) for i in range(len(self.val_set))], self.world)
        return self._loader(self.val_set, items, drop_last=False)

    def inputs(self, batch: dict[str, torch.Tensor], step: int | None = None) -> Batch:
        """A collated batch -> the generator's inputs and the true ab, on the device; for a
        generator that takes hints, hints drawn from the photos (seeded by `step`, the same
        on resume; none for validation and samples, where `step` is None)."""
        rgb = uint8_to_float(batch["rgb"].to(self.device, non_blocking=True))
        l_norm, ab = rgb_to_lab_normalized(rgb.contiguous(memory_format=self.memory_format))
        native = {k: v for k, v in batch.items() if k in ("embedding", "segmentation")}
        if "box" in batch and "segmentation" in native:
            native["segmentation"] = crop_maps(native["segmentation"], batch["box"])
        if self.priors is not None:  # under no_grad (inference mode), in the step's precision
            with self.autocast():
                native = self.priors.on_l(l_norm)
        hints = None
        if self.needs.hints and step is not None:
            t = self.cfg.train
            rng = torch.Generator().manual_seed(t.seed * 1_000_003 + step)
            hints = simulate_hints(ab.float().cpu(), rng, t.hints_p, t.hints_none).to(ab.device)
        x = generator_inputs(
            l_norm, native, self.needs, self.segmentation_is_logits, self.memory_format, hints
        )
        return {**x, "ab": ab}

    def training_batch(self, count: int) -> Batch | None:
        """The first `count` training photos, unflipped (for benchmarks and checks)."""
        return self._first(self.train_set, count)

    def validation_batch(self, count: int) -> Batch | None:
        """The first `count` validation photos, unflipped (for sample grids)."""
        return self._first(self.val_set, count)

    def _first(self, dataset: PhotoDataset, count: int) -> Batch | None:
        batch = collate([dataset[(i, False)] for i in range(min(count, len(dataset)))])
        return None if batch is None else self.inputs(batch)


def crop_maps(maps: torch.Tensor, boxes: torch.Tensor) -> torch.Tensor:
    """The part of each photo's class maps (B, C, h, w) under its crop box (B, 4, fractions),
    resampled to (h, w): the segmentation prior of the crop, from the whole photo's."""
    h, w = maps.shape[-2:]
    scale = torch.tensor([w, h, w, h], dtype=maps.dtype, device=maps.device)
    rois = torch.cat(
        [
            torch.arange(len(boxes), device=maps.device)[:, None].to(maps.dtype),
            boxes.to(maps) * scale,
        ],
        1,
    )
    return roi_align(maps.float(), rois.float(), (h, w), aligned=True)
