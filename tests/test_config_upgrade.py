import copy

from colorgan.config import config_from_dict
from colorgan.config.upgrade import upgrade_old_form
from colorgan.spec.options import FusionOptions, UNetOptions


def test_configs_of_the_flat_form_still_load():
    """Run folders and generator files written before the registry hold this form."""
    old = {
        "model": {
            "generator": "paper",
            "use_segmentation": False,
            "use_embedding": True,
            "discriminator_channels": 32,
            "spectral_norm": True,
            "unet_downs": 7,
        },
        "train": {"pretrain_loss": "l1", "lambda_l1": 10, "rebalance": 0.3},
    }
    cfg = config_from_dict(old)
    assert cfg.model.generator == "fusion"
    assert cfg.model.options == FusionOptions(use_segmentation=False, use_embedding=True)
    assert (cfg.model.discriminator.channels, cfg.model.discriminator.spectral_norm) == (32, True)
    assert cfg.loss.pretrain == {"rebalanced_l1": 1.0}
    assert cfg.loss.adversarial == {"gan": 1.0, "rebalanced_l1": 10.0}
    assert cfg.loss.rebalance_lambda == 0.3
    koala = config_from_dict(
        {"model": {"generator": "koalarization"}, "train": {"pretrain_loss": "mse"}}
    )
    assert koala.loss.pretrain == {"mse": 1.0} and koala.loss.adversarial["l1"] == 100.0
    unet = config_from_dict(
        {"model": {"generator": "unet", "unet_downs": 7}, "data": {"image_size": 128}}
    )
    assert unet.model.options == UNetOptions(downs=7)


def test_the_old_form_is_upgraded_and_the_current_form_kept():
    """Each old form becomes the current one written out by hand (so an upgrade that did
    nothing fails), and the current form, upgraded again, stays as it is, its input left
    untouched."""
    cases = [
        (
            {
                "model": {"generator": "paper", "use_embedding": False, "spectral_norm": True},
                "train": {"pretrain_loss": "l1", "lambda_l1": 10, "rebalance": 0.3},
            },
            {
                "model": {
                    "generator": "fusion",
                    "fusion": {"use_embedding": False},
                    "discriminator": {"spectral_norm": True},
                },
                "train": {},
                "loss": {
                    "pretrain": {"rebalanced_l1": 1.0},
                    "adversarial": {"gan": 1.0, "rebalanced_l1": 10},
                    "rebalance_lambda": 0.3,
                },
            },
        ),
        (
            {
                "model": {"generator": "unet", "unet_downs": 7, "discriminator_channels": 32},
                "train": {"pretrain_loss": "mse", "batch_size": 3},
            },
            {
                "model": {
                    "generator": "unet",
                    "unet": {"downs": 7},
                    "discriminator": {"channels": 32},
                },
                "train": {"batch_size": 3},
                "loss": {"pretrain": {"mse": 1.0}, "adversarial": {"gan": 1.0, "l1": 100.0}},
            },
        ),
    ]
    for old, current in cases:
        kept = copy.deepcopy(old)
        assert upgrade_old_form(old) == current
        assert old == kept  # the caller's values are not rewritten
        assert upgrade_old_form(current) == current
