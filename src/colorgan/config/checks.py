"""What a config must hold beyond its types: choices, ranges, and what its parts need of each
other (a loss term's generator head, a generator's image size). Reading a config imports no
torch, so neither does this."""

from __future__ import annotations

import math
from typing import Any

from colorgan.base.errors import ColorganError, short
from colorgan.base.files import NAME_MAX
from colorgan.spec.priors import EMBEDDINGS, SEGMENTATIONS
from colorgan.spec.terms import TERM_NEEDS

# A photo drawn this many times an epoch is far beyond any use (an epoch's draws are held as
# one list of indices: 1e12 would ask for terabytes).
MAX_WEIGHT = 1000.0
_CHOICES = {
    ("data", "layout"): ("folder", "coco"),
    ("priors", "embedding"): tuple(EMBEDDINGS),
    ("priors", "segmentation"): tuple(SEGMENTATIONS),
    ("train", "precision"): ("auto", "fp32", "bf16", "fp16"),
    ("train", "lr_schedule"): ("constant", "cosine", "step"),
}


def validate(cfg: Any) -> Any:
    """`cfg` (a config.Config) if it holds together; ColorganError saying what does not."""
    check_name(cfg.name)
    _no_nul(cfg.to_dict())
    for (section, key), allowed in _CHOICES.items():
        value = getattr(getattr(cfg, section), key)
        if value not in allowed:
            raise ColorganError(
                f"{section}.{key}: {short(value)} is not one of {', '.join(allowed)}"
            )
    if cfg.data.image_size % 8 or cfg.data.image_size < 32:
        raise ColorganError("data.image_size must be a multiple of 8 and at least 32")
    cfg.model.options.check(cfg.data.image_size)
    for phase in ("pretrain", "adversarial"):
        terms = getattr(cfg.loss, phase)
        unknown = sorted(set(terms) - set(TERM_NEEDS))
        if unknown:
            raise ColorganError(
                f"loss.{phase}: unknown term(s) {', '.join(unknown)}; known: "
                f"{', '.join(TERM_NEEDS)}"
            )
    logits = any(TERM_NEEDS[n].logits for n in [*cfg.loss.pretrain, *cfg.loss.adversarial])
    if logits and getattr(cfg.model.options, "head", None) != "classification":
        raise ColorganError(
            "loss: the classification term needs a generator with head: "
            "classification (model.lite_unet.head)"
        )
    if any(TERM_NEEDS[name].discriminator for name in cfg.loss.pretrain):
        raise ColorganError("loss.pretrain: the gan term needs the adversarial phase")
    crop = cfg.data.random_crop
    if crop is not None and not 0.0 < crop[0] <= crop[1] <= 1.0:
        raise ColorganError("data.random_crop must be [low, high] with 0 < low <= high <= 1")
    if cfg.data.shards is not None:
        _check_shards(cfg)
    pool = cfg.data.pool()  # none named at all: the run says so when it reads its photos
    if not pool and (cfg.data.sources is not None or cfg.data.root is not None):
        raise ColorganError("data.root (or data.sources) must name at least one folder")
    weights = [s.weight for s in pool]
    if not all(math.isfinite(w) and 0 <= w <= MAX_WEIGHT for w in weights) or (
        weights and max(weights) <= 0
    ):
        raise ColorganError(
            f"data.sources: weights must be numbers from 0 to {MAX_WEIGHT:g}, and one above 0 "
            f"(not {short(weights)})"
        )
    fractions = [cfg.data.val_fraction, *(s.val_fraction for s in pool)]
    if not all(0.0 <= f < 1.0 for f in fractions if f is not None):
        raise ColorganError("data.val_fraction (and each source's) must be in [0, 1)")
    if not 0.0 < cfg.loss.rebalance_lambda <= 1.0:
        raise ColorganError("loss.rebalance_lambda must be in (0, 1]")
    t = cfg.train
    at_least_one = {
        "train.batch_size": t.batch_size,
        "train.d_every": t.d_every,
        "train.log_every": t.log_every,
        "train.checkpoint_every": t.checkpoint_every,
        "train.keep_checkpoints": t.keep_checkpoints,
        "train.sample_images": t.sample_images,
        "priors.batch_size": cfg.priors.batch_size,
        "data.image_size": cfg.data.image_size,
    }
    for key, value in at_least_one.items():
        if value < 1:
            raise ColorganError(f"{key} must be at least 1 (it is {value})")
    _check_train(t)
    return cfg


def _check_train(t: Any) -> None:
    """The training schedule's numbers: rates, warm-ups, epochs and the hints' odds. A rate
    of 0, a negative one or NaN would train nothing (or diverge) without a word, and Adam's
    betas are decay factors, so each must be in [0, 1)."""
    rates = {"train.pretrain_lr": t.pretrain_lr, "train.lr_g": t.lr_g, "train.lr_d": t.lr_d}
    for key, rate in rates.items():
        if not (math.isfinite(rate) and rate > 0):
            raise ColorganError(f"{key} must be a finite number above 0 (it is {short(rate)})")
    if not all(0.0 <= beta < 1.0 for beta in t.betas):
        raise ColorganError(f"train.betas must be two numbers in [0, 1) (not {short(t.betas)})")
    clip_bad = t.grad_clip is not None and t.grad_clip <= 0
    if min(t.warmup_steps, t.d_warmup_steps) < 0 or not 0.0 <= t.lr_floor <= 1.0 or clip_bad:
        raise ColorganError(
            "train.warmup_steps and d_warmup_steps must be 0 or more, lr_floor "
            "in [0, 1] and grad_clip above 0 (or null)"
        )
    if t.sample_every < 0 or t.pretrain_epochs < 0 or t.adversarial_epochs < 0:
        raise ColorganError("train.sample_every and the epoch counts must be 0 or more")
    if not (0.0 < t.hints_p <= 1.0 and 0.0 <= t.hints_none <= 1.0):
        raise ColorganError("train.hints_p must be in (0, 1] and train.hints_none in [0, 1]")


def _no_nul(values: Any, where: str = "") -> None:
    """No text of a config holds a NUL: its texts are names and paths, and no file name holds
    one (a YAML "\\0" escape would otherwise reach the file system)."""
    if isinstance(values, dict):
        for key, value in values.items():
            _no_nul(value, f"{where}.{key}" if where else str(key))
    elif isinstance(values, list | tuple):
        for value in values:
            _no_nul(value, where)
    elif isinstance(values, str) and "\0" in values:
        raise ColorganError(f"{where}: {short(values)} holds a NUL, which no name or path holds")


def check_name(name: object) -> str:
    """A run's name: one folder under out_dir, never a path (no /, \\, .., or control
    characters), at most NAME_MAX bytes."""
    if not isinstance(name, str) or not name.strip():
        raise ColorganError(f"name must be a non-empty string, not {short(name)}")
    bad = (
        name in (".", "..")
        or any(c in name for c in "/\\")
        or not name.isprintable()
        or len(name.encode()) > NAME_MAX
    )
    if bad:
        raise ColorganError(
            f"name {short(name)} is not a run name: one folder name, no / or \\ or .., at most "
            f"{NAME_MAX} bytes"
        )
    return name


def _check_shards(cfg: Any) -> None:
    """Shards are a whole source of photos, with priors computed in the training step."""
    if cfg.data.sources is not None or cfg.data.root is not None:
        raise ColorganError(
            "data.shards and data.root (or data.sources) both name photos; keep one "
            "(--set data.root=null)"
        )
    if cfg.priors.cache:
        raise ColorganError(
            "data.shards streams photos, which have no prior cache: set priors.cache: false "
            "(the priors are then computed in the training step)"
        )
    if cfg.data.layout != "folder" or cfg.data.num_images is not None:
        raise ColorganError(
            "data.shards reads every photo packed: data.layout and "
            "data.num_images do not apply (leave them at folder and null)"
        )
    if cfg.data.shuffle_buffer < 1:
        raise ColorganError("data.shuffle_buffer must be 1 or more")
