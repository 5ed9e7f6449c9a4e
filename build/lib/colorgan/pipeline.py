"""Inference, kept apart from training: a generator file in, full-resolution colour out.

The generator predicts ab on a small square (the size it was trained at); the ab is upsampled
bilinearly onto the input's own full-resolution L, so the output keeps the input's size,
sharpness and lightness (the approach of richzhang/colorization). `colorize_files` is the
streaming file loop the command line (and anything else that colours many files) runs.
"""

from __future__ import annotations

import warnings
from collections.abc import Iterator, Sequence
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from PIL import Image

from colorgan.bundled import bundled_weights
from colorgan.color import Rows, colour_bands, lightness_rows, small_lightness
from colorgan.errors import ColorganError
from colorgan.generator_file import load_generator
from colorgan.images import (
    MIN_SIDE,
    BadImage,
    has_alpha,
    image_from_array,
    open_image,
    to_8bit,
)
from colorgan.jobs import FileResult, colorize_files
from colorgan.models import generator_class
from colorgan.priors import PRIOR_IMAGE_SIZE, SemanticPriors, generator_inputs
from colorgan.runtime import autocast, pick_device, resolve_precision

# Up to this many pixels the full-size L (4 bytes a pixel) is kept between the two passes over
# the photo, which saves computing it twice (0.2 s of a 12 MP colour photo); beyond it, L is
# computed again band by band, so memory stays bounded (BENCHMARKS.md).
KEEP_L_PIXELS = 40_000_000


class Colorizer:
    """Colorize PIL images, arrays or files with a trained generator file.

    >>> Colorizer().colorize(Image.open("old.jpg")).save("old_colour.png")
    """

    def __init__(
        self,
        weights: str | Path | None = None,
        device: str = "auto",
        precision: str = "auto",
        embedding_weights: str | None = None,
        segmentation_weights: str | None = None,
        size: int | None = None,
        channels_last: bool = True,
        model: str = "default",
    ) -> None:
        """`weights`: a generator file; without one, the bundled `model` (BUNDLED)."""
        loaded = load_generator(weights or bundled_weights(model))
        self.meta = loaded.meta
        self.model_cfg, self.prior_cfg = loaded.model, loaded.priors
        self.device = pick_device(device)
        self.precision = resolve_precision(precision, self.device)
        self.size = loaded.image_size if size is None else size
        if self.size < 8 or self.size % 8:
            raise ColorganError(f"the prediction size must be a positive multiple of 8, not {size}")
        # channels_last: faster on the CPU too, for one photo or a batch (benchmarks/inference.py)
        self.memory_format = torch.channels_last if channels_last else torch.contiguous_format
        self.generator = loaded.generator.to(self.device, memory_format=self.memory_format)
        self.needs = generator_class(self.model_cfg.generator).needs(self.model_cfg.options)
        p = self.prior_cfg
        self.priors = SemanticPriors.for_generator(
            self.needs, p.embedding, p.segmentation,
            embedding_weights or p.embedding_weights,
            segmentation_weights or p.segmentation_weights,
        )  # fmt: skip
        if self.priors is not None:
            self.priors.to(self.device)

    @torch.inference_mode()
    def predict_small_ab(
        self, l_norm: torch.Tensor, prior_l: torch.Tensor | None = None
    ) -> torch.Tensor:
        """Normalized L (B, 1, H, W) at any size -> normalized ab at the prediction size.
        `prior_l`: the same L at the priors' size, where the caller already has it."""
        l_norm = l_norm.to(self.device).float()
        small = l_norm
        if l_norm.shape[-2:] != (self.size, self.size):
            small = F.interpolate(l_norm, size=(self.size, self.size), mode="bilinear",
                                  align_corners=False, antialias=True)  # fmt: skip
        native = {}
        if self.priors is not None:
            native = self.priors.on_l(l_norm if prior_l is None else prior_l.to(self.device))
        logits = self.priors is not None and self.priors.segmentation_is_logits
        x = generator_inputs(small, native, self.needs, logits, self.memory_format)
        with autocast(self.device, self.precision):
            ab = self.generator(**x)
        # planar: the colour conversion reads ab in row bands, which channels_last scatters
        return ab.float().contiguous()

    def predict_ab(self, l_norm: torch.Tensor) -> torch.Tensor:
        """Normalized L (B, 1, H, W) at any size -> normalized ab (B, 2, H, W)."""
        ab = self.predict_small_ab(l_norm)
        return F.interpolate(ab, size=l_norm.shape[-2:], mode="bilinear", align_corners=False)

    def colour_bands(self, read: Rows, h: int, w: int) -> Iterator[tuple[int, torch.Tensor]]:
        """A uint8 (h, w) photo read in row bands (colour (rows, w, 3) or grey (rows, w)) ->
        (top row, uint8 (rows, w, 3)) band after band: its own L with the predicted ab.
        Beyond KEEP_L_PIXELS nothing is held at full size: L is computed band by band to
        resize it down for the model, and again for the colour conversion, where the small ab
        is upsampled band by band too. Call under torch.inference_mode()."""
        sizes = [self.size]
        if self.priors is not None and PRIOR_IMAGE_SIZE != self.size:
            sizes.append(PRIOR_IMAGE_SIZE)
        small, full = small_lightness(read, h, w, sizes, keep=h * w <= KEEP_L_PIXELS)
        ab = self.predict_small_ab(small[0], small[-1]).cpu()
        if full is not None:
            yield from colour_bands(lambda top, rows: full[top : top + rows], h, w, ab)
        else:
            yield from colour_bands(lambda top, rows: lightness_rows(read(top, rows)), h, w, ab)

    @torch.inference_mode()
    def colorize_rgb(self, pixels: np.ndarray) -> np.ndarray:
        """uint8 (H, W, 3) colour or (H, W) grey -> uint8 (H, W, 3)."""
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", UserWarning)  # a read-only array: only read here
            rows = torch.from_numpy(np.ascontiguousarray(pixels))
        h, w = rows.shape[:2]
        out = np.empty((h, w, 3), np.uint8)
        for top, band in self.colour_bands(lambda top, n: rows[top : top + n], h, w):
            out[top : top + len(band)] = band.numpy()
        return out

    @torch.inference_mode()
    def colorize(self, image: Image.Image | np.ndarray) -> Image.Image:
        """Any PIL image or array (grey or colour; alpha is kept) -> colorized PIL image."""
        if isinstance(image, np.ndarray):
            image = image_from_array(image)
        image = open_image(image)
        if min(image.size) < MIN_SIDE:
            raise BadImage(f"too small to colorize ({image.size[0]}x{image.size[1]})")
        alpha = None
        if has_alpha(image):
            bands = image.getbands()
            alpha = image.getchannel("A") if "A" in bands else image.convert("RGBA").getchannel("A")
        pixels, (w, h) = to_8bit(image), image.size

        def read(top: int, rows: int) -> torch.Tensor:  # a band at a time: no full-size copy
            return torch.from_numpy(np.array(pixels.crop((0, top, w, top + rows))))

        # bands pasted straight into the output image: no full-size array beside it
        result = Image.new("RGB", (w, h))
        for top, band in self.colour_bands(read, h, w):
            rows = Image.frombuffer("RGB", (w, len(band)), band.numpy(), "raw", "RGB", 0, 1)
            result.paste(rows, (0, top))
        if alpha is not None:
            result.putalpha(alpha)
        return result

    def colorize_files(
        self,
        jobs: Sequence[tuple[Path, Path]],
        out_dir: Path,
        overwrite: bool = False,
        progress: bool = False,
    ) -> Iterator[FileResult]:
        """`jobs.colorize_files` with this colorizer."""
        return colorize_files(self.colorize, jobs, out_dir, overwrite, progress)
