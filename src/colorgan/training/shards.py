"""Photos streamed from WebDataset tar shards (`colorgan data pack` writes them): the format's
one reader, for the training stream and the validation photos.

A pack folder holds train-NNNNNN.tar and val-NNNNNN.tar shards and MANIFEST, which counts the
photos of each shard, so a run knows its epoch's length without reading a shard. Each epoch
deals the shards, in an order drawn from (seed, epoch), to the ranks and then to each rank's
loader workers; a worker streams its shards through a seeded shuffle buffer. The stream is a
pure function of (seed, epoch, processes, workers), so a resumed run replays it, skipping the
photos already trained on without decoding them: resume is exact (for the same number of
processes and workers), at the cost of re-reading the epoch's bytes up to the position.
"""

from __future__ import annotations

import logging
import random
import tarfile
import zlib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from colorgan.base.errors import ColorganError, short, shown
from colorgan.base.images import BadImage, load_rgb
from colorgan.base.manifests import read_manifest

log = logging.getLogger("colorgan")

MANIFEST = "manifest.json"
FORMAT = "colorgan-shards/1"
IMAGE_KEY = "jpg"  # each sample's photo; "json" holds its name and content hash
MAX_MEMBER = 128 << 20  # bytes of one member of a shard: a packed photo takes far less
MAX_PHOTOS = 10_000_000  # what one shard may claim to hold (a bound, not a promise)


@dataclass(frozen=True)
class Shard:
    path: Path
    photos: int


def read_pack(spec: str) -> tuple[list[Shard], list[Shard]]:
    """The training and validation shards of `spec`: a pack folder (all its training shards)
    or a brace pattern of some of them ("shards/train-{000000..000127}.tar"), whose folder's
    manifest counts their photos."""
    from braceexpand import braceexpand

    folder = Path(spec) if Path(spec).is_dir() else Path(spec).parent
    manifest = folder / MANIFEST
    if not manifest.is_file():
        raise ColorganError(
            f"data.shards: no {MANIFEST} in {shown(str(folder))} (write shards with "
            "colorgan data pack)"
        )
    meta = read_manifest(manifest, "shard manifest", FORMAT, "a colorgan shard manifest", 16 << 20)
    split = _shards_of(manifest, meta)
    train = split["train"]
    if not Path(spec).is_dir():
        by_name = {s.path.name: s for s in train}
        names = [Path(p).name for p in braceexpand(Path(spec).name)]
        missing = [n for n in names if n not in by_name]
        if missing:
            raise ColorganError(f"data.shards: {shown(missing[0])} is not in {MANIFEST}")
        train = [by_name[n] for n in names]
    for shard in [*train, *split["val"]]:
        if not shard.path.is_file():
            raise ColorganError(f"data.shards: shard {shown(str(shard.path))} is missing")
    return train, split["val"]


def _shards_of(manifest: Path, meta: dict) -> dict[str, list[Shard]]:
    """The manifest's training and validation shards: each a file of the pack's own folder
    (a name, never a path that leads out of it) and a count of photos (a whole number from 0
    to MAX_PHOTOS)."""
    where = shown(str(manifest))
    split: dict[str, list[Shard]] = {}
    for kind in ("train", "val"):
        listed = meta.get(kind)
        if not isinstance(listed, list) or not all(isinstance(s, dict) for s in listed):
            raise ColorganError(f"{where}: its {kind} shards are not a list of shards")
        split[kind] = []
        for entry in listed:
            name, photos = entry.get("name"), entry.get("photos")
            if not (isinstance(name, str) and name.endswith(".tar") and "\0" not in name):
                raise ColorganError(f"{where}: a shard's name {short(name)} is not a .tar file")
            if Path(name).name != name:
                raise ColorganError(
                    f"{where}: shard {short(name)} is not a file of the pack's own folder"
                )
            if isinstance(photos, bool) or not isinstance(photos, int):
                raise ColorganError(f"{where}: shard {short(name)} counts {short(photos)} photos")
            if not 0 <= photos <= MAX_PHOTOS:
                raise ColorganError(
                    f"{where}: shard {short(name)} counts {photos} photos, not 0 to {MAX_PHOTOS:,}"
                )
            split[kind].append(Shard(manifest.parent / name, photos))
    return split


def raw_samples(shards: list[Shard]) -> Iterator[dict]:
    """The samples of `shards` in order, undecoded: each its members' bytes by suffix ("jpg",
    "json") and its "__key__" (the path up to the name's first dot), as WebDataset groups them. A
    member is read only once its size, from its tar header, is within MAX_MEMBER (a sparse
    member that unpacks to gigabytes is skipped, not read); a damaged shard ends where it
    breaks, said in one line."""
    for shard in shards:
        yield from _samples_of(shard.path)


def _samples_of(path: Path) -> Iterator[dict]:
    sample: dict = {}
    try:
        with tarfile.open(path, "r|*") as tar:
            for member in tar:
                tar.members = []  # a stream: what is behind is not kept
                folder, _, name = member.name.rpartition("/")
                stem, dot, suffix = name.partition(".")
                key = f"{folder}/{stem}" if folder else stem
                if not member.isreg() or not dot or stem.startswith("__"):
                    continue
                if member.size > MAX_MEMBER:
                    log.warning(
                        "skipping %s in shard %s: %s bytes, over the %s a photo may take",
                        shown(member.name),
                        shown(str(path)),
                        f"{member.size:,}",
                        f"{MAX_MEMBER:,}",
                    )
                    continue
                if key != sample.get("__key__"):
                    if sample:
                        yield sample
                    sample = {"__key__": key}
                sample[suffix.lower()] = tar.extractfile(member).read()
    except (tarfile.TarError, OSError, EOFError, zlib.error) as exc:
        why = str(exc).splitlines()[0][:120] if str(exc) else exc.__class__.__name__
        log.warning("shard %s is damaged (%s); the rest of it is skipped", shown(str(path)), why)
        return  # the sample it broke in may be part of one
    if sample:
        yield sample


def decode(sample: dict, size: int, flip: bool, box: tuple | None) -> dict | None:
    """A raw sample -> {"rgb" (3, size, size) uint8[, "box"]} as PhotoDataset gives; None (and
    a warning) for a photo that does not decode."""
    try:
        rgb = load_rgb(sample[IMAGE_KEY], size, box=box)
    except (BadImage, KeyError) as exc:
        log.warning("skipping shard sample %s: %s", sample.get("__key__"), exc)
        return None
    if flip:
        rgb = rgb[:, ::-1]
    out = {"rgb": torch.from_numpy(np.ascontiguousarray(rgb)).permute(2, 0, 1)}
    if box is not None:
        x0, y0, x1, y1 = box
        out["box"] = torch.tensor((1 - x1, y0, 1 - x0, y1) if flip else box)
    return out


def round_robin(batches: list[int], taken: int) -> list[int]:
    """How many of each worker's batches are among the first `taken` a DataLoader delivers:
    it takes one batch from each worker in turn, passing over workers that have run out."""
    done = [0] * len(batches)
    while taken > 0:
        moved = False
        for w, total in enumerate(batches):
            if taken and done[w] < total:
                done[w], taken, moved = done[w] + 1, taken - 1, True
        if not moved:
            break
    return done


class ShardStream(torch.utils.data.IterableDataset):
    """One rank's training photos of an epoch, from its shards; `set_epoch` as EpochSampler's
    (its `start` counts photos of the global stream, batch_size per global batch)."""

    def __init__(
        self,
        shards: list[Shard],
        size: int,
        seed: int,
        batch_size: int,
        rank: int = 0,
        world: int = 1,
        workers: int = 0,
        flip: bool = True,
        crop: tuple[float, float] | None = None,
        buffer: int = 1000,
    ) -> None:
        self.shards, self.size, self.seed = list(shards), size, seed
        self.local_batch, self.rank, self.world = batch_size // world, rank, world
        self.workers, self.flip, self.crop, self.buffer = max(1, workers), flip, crop, buffer
        if len(self.shards) < world * self.workers:
            raise ColorganError(
                f"data.shards: {len(self.shards)} shard(s) for {world} process(es) x "
                f"{self.workers} loader worker(s); each needs one (pack smaller shards)"
            )
        self.epoch, self.start = 0, 0
        self.n = self.steps_per_epoch() * batch_size  # what an epoch trains on, all ranks

    def set_epoch(self, epoch: int, start: int = 0) -> None:
        self.epoch, self.start = epoch, start

    def steps_per_epoch(self) -> int:
        """Whole batches every rank has in any epoch: each is dealt at least
        len(shards) // world shards, at worst the smallest ones."""
        smallest = sorted(s.photos for s in self.shards)[: len(self.shards) // self.world]
        return sum(smallest) // self.local_batch

    def dealt(self, epoch: int, rank: int, worker: int) -> list[Shard]:
        """The shards one worker of one rank streams in `epoch`."""
        order = list(self.shards)
        random.Random(self.seed * 100_003 + epoch).shuffle(order)
        return order[rank :: self.world][worker :: self.workers]

    def _skips(self) -> list[int]:
        """Photos each of this rank's workers already gave this epoch (resumed mid-epoch)."""
        batches = [
            sum(s.photos for s in self.dealt(self.epoch, self.rank, w)) // self.local_batch
            for w in range(self.workers)
        ]
        taken = round_robin(batches, self.start // (self.local_batch * self.world))
        return [t * self.local_batch for t in taken]

    def __iter__(self) -> Iterator[dict | None]:
        info = torch.utils.data.get_worker_info()
        ids = range(self.workers) if info is None else [info.id]
        if info is not None and info.num_workers != self.workers:
            raise RuntimeError("ShardStream built for another number of loader workers")
        for worker in ids:  # in the main process: the workers' streams one after another
            yield from self._stream(worker, self._skips()[worker])

    def _stream(self, worker: int, skip: int) -> Iterator[dict | None]:
        rng = random.Random(f"{self.seed}/{self.epoch}/{self.rank}/{worker}")
        for i, sample in enumerate(self._shuffled(rng, worker)):
            flip = self.flip and rng.random() < 0.5
            box = self._box(rng) if self.crop else None
            if i >= skip:  # those before were trained on: drawn, not decoded
                yield decode(sample, self.size, flip, box)

    def _shuffled(self, rng: random.Random, worker: int) -> Iterator[dict]:
        """The worker's samples through a shuffle buffer of `buffer` photos."""
        pool: list[dict] = []
        for sample in raw_samples(self.dealt(self.epoch, self.rank, worker)):
            if len(pool) < self.buffer:
                pool.append(sample)
                continue
            j = rng.randrange(len(pool))
            pool[j], sample = sample, pool[j]
            yield sample
        rng.shuffle(pool)
        yield from pool

    def _box(self, rng: random.Random) -> tuple[float, float, float, float]:
        """A random resized crop, as EpochSampler draws them (area, log-uniform aspect)."""
        import math

        low, high = self.crop
        area = rng.uniform(low, high)
        ratio = math.exp(rng.uniform(math.log(3 / 4), math.log(4 / 3)))
        w, h = min(1.0, math.sqrt(area * ratio)), min(1.0, math.sqrt(area / ratio))
        x0, y0 = (1 - w) * rng.random(), (1 - h) * rng.random()
        return (x0, y0, x0 + w, y0 + h)


class ShardPhotos(torch.utils.data.Dataset):
    """The validation shards' first `limit` photos, held as their bytes; items as
    PhotoDataset's ((index, flip))."""

    def __init__(self, shards: list[Shard], size: int, limit: int | None = None) -> None:
        self.size = size
        self.samples = []
        for sample in raw_samples(shards):
            if limit is not None and len(self.samples) >= limit:
                break
            self.samples.append({k: v for k, v in sample.items() if k in (IMAGE_KEY, "__key__")})

    def __len__(self) -> int:
        return len(self.samples)

    def __getitem__(self, item: tuple | int) -> dict | None:
        index, flip = item if isinstance(item, tuple) else (item, False)
        return decode(self.samples[index], self.size, flip, None)
