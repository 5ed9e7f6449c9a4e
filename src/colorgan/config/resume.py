"""What a resumed run may change of the config its run folder holds: how long it runs and how
it reports, not what it computes (a changed model, photo set or rate would not continue the
run it names, and its resume would not be exact)."""

from __future__ import annotations

from typing import Any

from colorgan.base.errors import ColorganError, short

# the run's length, its bookkeeping, where the loader and the priors' local files come from
RESUMABLE = frozenset(
    {
        "train.pretrain_epochs",
        "train.adversarial_epochs",
        "train.log_every",
        "train.checkpoint_every",
        "train.keep_checkpoints",
        "train.sample_every",
        "train.sample_images",
        "data.num_workers",
        "priors.batch_size",
        "priors.cache_dir",
        "priors.embedding_weights",
        "priors.segmentation_weights",
        "out_dir",
        "name",
    }
)


def flat(values: dict[str, Any], prefix: str = "") -> dict[str, Any]:
    """{"train": {"seed": 1}} -> {"train.seed": 1}."""
    out: dict[str, Any] = {}
    for key, value in values.items():
        if isinstance(value, dict) and value:
            out.update(flat(value, f"{prefix}{key}."))
        else:
            out[f"{prefix}{key}"] = value
    return out


def check_resumable(saved: Any, asked: Any, where: str) -> None:
    """ColorganError (one line) where `asked` (a Config) changes a value of `saved` (the
    run folder's) that a resume may not change."""
    before, after = flat(saved.to_dict()), flat(asked.to_dict())
    changed = [k for k in sorted(set(before) | set(after)) if before.get(k) != after.get(k)]
    refused = [k for k in changed if k not in RESUMABLE]
    if refused:
        key = refused[0]
        raise ColorganError(
            f"{where} was trained with {key}={short(before.get(key))}, not "
            f"{short(after.get(key))}: a resume continues the run as it was (it may change "
            "only the epochs, the logging and the loader); start a new run with --set name=NEW"
        )
