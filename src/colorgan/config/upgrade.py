"""The flat form of configs from before the generator registry and the loss terms.

Run folders, generator files (format /1) and user configs written then still load:
`upgrade_old_form` rewrites their keys into today's form, with the same meaning.
"""

from __future__ import annotations

import copy
from typing import Any

from colorgan.base.errors import ColorganError

_LEGACY_GENERATORS = {"paper": "fusion"}
_LEGACY_OPTIONS = {
    "fusion": {"use_segmentation": "use_segmentation", "use_embedding": "use_embedding"},
    "koalarization": {"use_embedding": "use_embedding"},
    "unet": {"unet_downs": "downs", "unet_dropout": "dropout"},
}
_LEGACY_MODEL_KEYS = {
    "use_segmentation",
    "use_embedding",
    "unet_downs",
    "unet_dropout",
    "discriminator_channels",
    "spectral_norm",
}
_LEGACY_TRAIN_KEYS = {"pretrain_loss", "lambda_l1", "rebalance"}


def upgrade_old_form(values: dict[str, Any]) -> dict[str, Any]:
    """Old flat model keys -> `model.<generator>` options and `model.discriminator`; old
    `train.pretrain_loss` / `lambda_l1` / `rebalance` -> the `loss` section's terms."""
    values = copy.deepcopy(values)
    model = values.get("model")
    if isinstance(model, dict) and (
        model.get("generator") in _LEGACY_GENERATORS or set(model) & _LEGACY_MODEL_KEYS
    ):
        name = _LEGACY_GENERATORS.get(model.get("generator"), model.get("generator", "fusion"))
        model["generator"] = name
        options = model.setdefault(name, {}) if name in _LEGACY_OPTIONS else {}
        for old, new in _LEGACY_OPTIONS.get(name, {}).items():
            if old in model:
                options.setdefault(new, model[old])
        disc = model.setdefault("discriminator", {})
        if "discriminator_channels" in model:
            disc.setdefault("channels", model["discriminator_channels"])
        if "spectral_norm" in model:
            disc.setdefault("spectral_norm", model["spectral_norm"])
        for key in _LEGACY_MODEL_KEYS:
            model.pop(key, None)
    train = values.get("train")
    if isinstance(train, dict) and set(train) & _LEGACY_TRAIN_KEYS:
        if "loss" in values:
            raise ColorganError(
                "train.pretrain_loss / lambda_l1 / rebalance are the old form of the loss "
                "section; use loss.pretrain and loss.adversarial alone"
            )
        rebalance = train.pop("rebalance", None)
        reconstruction = "l1" if rebalance is None else "rebalanced_l1"
        pretrain_loss = train.pop("pretrain_loss", "l1")
        loss: dict[str, Any] = {
            "pretrain": {reconstruction if pretrain_loss == "l1" else pretrain_loss: 1.0},
            "adversarial": {"gan": 1.0, reconstruction: train.pop("lambda_l1", 100.0)},
        }
        if rebalance is not None:
            loss["rebalance_lambda"] = rebalance
        values["loss"] = loss
    return values
