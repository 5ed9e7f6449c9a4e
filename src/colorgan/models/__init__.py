"""The networks of the paper: its generator (Table 1), Deep Koalarization (Table 4), the
pix2pix U-Net 256 and the 70 x 70 PatchGAN discriminator."""

from colorgan.models.discriminator import PatchDiscriminator
from colorgan.models.generator import KoalarizationGenerator, PaperGenerator, build_generator
from colorgan.models.unet import UNetGenerator

__all__ = [
    "KoalarizationGenerator",
    "PaperGenerator",
    "PatchDiscriminator",
    "UNetGenerator",
    "build_generator",
]
