"""The networks: the generators of the paper's Table 2 and a pretrained-encoder U-Net (each
registered under its name) and the 70 x 70 PatchGAN discriminator."""

from colorgan.models.discriminator import PatchDiscriminator
from colorgan.models.fusion import FusionGenerator, KoalarizationGenerator
from colorgan.models.lite_unet import LiteUNetGenerator
from colorgan.models.registry import GENERATORS, Generator, Needs, PriorSizes, generator_class
from colorgan.models.unet import UNetGenerator

__all__ = [
    "GENERATORS",
    "FusionGenerator",
    "Generator",
    "KoalarizationGenerator",
    "LiteUNetGenerator",
    "Needs",
    "PatchDiscriminator",
    "PriorSizes",
    "UNetGenerator",
    "generator_class",
]
