"""Inference, kept apart from training: a generator file in, full-resolution colour out.

The generator predicts ab on a small square (the size it was trained at); the ab is upsampled
bilinearly onto the input's own full-resolution L, so the output keeps the input's size,
sharpness and lightness (the approach of richzhang/colorization). This is the torch engine:
the exact Lab path, and GPUs; light.py is the same inference on ONNX Runtime without torch.
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
from colorgan.images import BadImage, prepare_images
from colorgan.jobs import BatchColorizer, model_saturation
from colorgan.models import generator_class
from colorgan.priors import PRIOR_IMAGE_SIZE, SemanticPriors, generator_inputs
from colorgan.runtime import autocast, pick_device, resolve_precision

# Up to this many pixels the full-size L (4 bytes a pixel) is kept between the two passes over
# the photo, which saves computing it twice (0.2 s of a 12 MP colour photo); beyond it, L is
# computed again band by band, so memory stays bounded (BENCHMARKS.md).
KEEP_L_PIXELS = 40_000_000


class Colorizer(BatchColorizer):
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
        saturation: float = 1.0,
    ) -> None:
        """`weights`: a generator file; without one, the bundled `model` (BUNDLED).
        `saturation`: the predicted chroma scaled by this (1: the model's own; 0: grey)."""
        self.saturation = saturation  # checked by BatchColorizer
        loaded = load_generator(weights or bundled_weights(model))
        self.meta = loaded.meta
        model_saturation(self.meta)  # a damaged value is refused when the file is opened
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
        """Normalized L (B, 1, H, W) at any size -> normalized ab at the prediction size
        (times `chroma`: the user's saturation and the model's own).
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
        return (ab.float() * self.chroma).contiguous()

    def predict_ab(self, l_norm: torch.Tensor) -> torch.Tensor:
        """Normalized L (B, 1, H, W) at any size -> normalized ab (B, 2, H, W)."""
        ab = self.predict_small_ab(l_norm)
        return F.interpolate(ab, size=l_norm.shape[-2:], mode="bilinear", align_corners=False)

    def _lightness(
        self, read: Rows, h: int, w: int
    ) -> tuple[list[torch.Tensor], torch.Tensor | None]:
        """L resized for the model (and for the priors where their size differs), and the
        full-size L where the photo is at most KEEP_L_PIXELS."""
        sizes = [self.size]
        if self.priors is not None and PRIOR_IMAGE_SIZE != self.size:
            sizes.append(PRIOR_IMAGE_SIZE)
        return small_lightness(read, h, w, sizes, keep=h * w <= KEEP_L_PIXELS)

    @staticmethod
    def _bands(
        read: Rows, h: int, w: int, full: torch.Tensor | None, ab: torch.Tensor
    ) -> Iterator[tuple[int, torch.Tensor]]:
        if full is not None:
            return colour_bands(lambda top, rows: full[top : top + rows], h, w, ab)
        return colour_bands(lambda top, rows: lightness_rows(read(top, rows)), h, w, ab)

    def colour_bands(self, read: Rows, h: int, w: int) -> Iterator[tuple[int, torch.Tensor]]:
        """A uint8 (h, w) photo read in row bands (colour (rows, w, 3) or grey (rows, w)) ->
        (top row, uint8 (rows, w, 3)) band after band: its own L with the predicted ab.
        Beyond KEEP_L_PIXELS nothing is held at full size: L is computed band by band to
        resize it down for the model, and again for the colour conversion, where the small ab
        is upsampled band by band too. Call under torch.inference_mode()."""
        small, full = self._lightness(read, h, w)
        ab = self.predict_small_ab(small[0], small[-1]).cpu()
        return self._bands(read, h, w, full, ab)

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
    def colorize_batch(
        self, images: Sequence[Image.Image | np.ndarray]
    ) -> list[Image.Image | BadImage]:
        """Several photos through the model in one batch (any sizes): a colorized image for
        each, or the BadImage that says why not. Each photo's bands are pasted straight into
        its output image: no full-size array beside it."""
        results, good = prepare_images(images)
        prepared = []
        for i, pixels, alpha in good:
            w, h = pixels.size

            def read(top: int, rows: int, pixels=pixels, w=w) -> torch.Tensor:  # one band
                return torch.from_numpy(np.array(pixels.crop((0, top, w, top + rows))))

            prepared.append((i, read, h, w, alpha, *self._lightness(read, h, w)))
        if not prepared:
            return results
        ab = self.predict_small_ab(torch.cat([p[5][0] for p in prepared]),
                                   torch.cat([p[5][-1] for p in prepared])).cpu()  # fmt: skip
        for k, (i, read, h, w, alpha, _, full) in enumerate(prepared):
            result = Image.new("RGB", (w, h))
            for top, band in self._bands(read, h, w, full, ab[k : k + 1]):
                rows = Image.frombuffer("RGB", (w, len(band)), band.numpy(), "raw", "RGB", 0, 1)
                result.paste(rows, (0, top))
            if alpha is not None:
                result.putalpha(alpha)
            results[i] = result
        return results
