"""The networks: the generators of the paper's Table 2 and a pretrained-encoder U-Net (each
registered under its name) and the 70 x 70 PatchGAN discriminator. Their options live in
spec.options, which imports no torch; the names below load the networks when first used.
`runtime` picks the device and precision they run at, for training, evaluation and the torch
engine alike (so that training needs no engine)."""

from importlib import import_module

_HOMES = {
    "PatchDiscriminator": "discriminator",
    "FusionGenerator": "fusion",
    "KoalarizationGenerator": "fusion",
    "LiteUNetGenerator": "lite_unet",
    "MeanGenerator": "mean",
    "UNetGenerator": "unet",
    "GENERATORS": "registry",
    "Generator": "registry",
    "generator_class": "registry",
}
# importing each registers its generators
_GENERATOR_MODULES = ("fusion", "lite_unet", "mean", "unet")

__all__ = sorted(_HOMES)


def __getattr__(name: str):  # lazy, so that models.options loads without torch
    if name not in _HOMES:
        raise AttributeError(name)
    for module in _GENERATOR_MODULES:
        import_module(f"colorgan.models.{module}")
    return getattr(import_module(f"colorgan.models.{_HOMES[name]}"), name)
