"""Inference, kept apart from training: a generator file in, full-resolution colour out.

The generator predicts ab on a small square (the size it was trained at); the ab is upsampled
bilinearly onto the input's own full-resolution L, so the output keeps the input's size,
sharpness and lightness (the approach of richzhang/colorization).
"""

from __future__ import annotations

from importlib import resources
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from PIL import Image

from colorgan.checkpoint import read_generator_file
from colorgan.color import (
    grey_from_l,
    lab_normalized_to_uint8,
    lightness_from_grey_uint8,
    lightness_from_uint8,
)
from colorgan.config import ModelConfig, PriorConfig, build_dataclass
from colorgan.data import BadImage, open_image, to_8bit
from colorgan.errors import ColorganError
from colorgan.models import build_generator
from colorgan.models.generator import needs_priors
from colorgan.priors import PRIOR_IMAGE_SIZE, SemanticPriors
from colorgan.runtime import autocast, pick_device, resolve_precision

MIN_SIDE = 8  # below this a photo carries no structure to colour


def default_weights() -> Path:
    return Path(str(resources.files("colorgan") / "weights" / "default.safetensors"))


class Colorizer:
    """Colorize PIL images or arrays with a trained generator file.

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
    ) -> None:
        tensors, meta = read_generator_file(weights or default_weights())
        self.meta = meta
        self.model_cfg = build_dataclass(ModelConfig, meta["model"], "model")
        self.prior_cfg = build_dataclass(PriorConfig, meta["priors"], "priors")
        self.device = pick_device(device)
        self.precision = resolve_precision(precision, self.device)
        self.size = size or int(meta.get("image_size", 256))
        if self.size % 8:
            raise ColorganError("the prediction size must be a multiple of 8")
        self.generator = build_generator(self.model_cfg)
        try:
            self.generator.load_state_dict({k: v.float() for k, v in tensors.items()})
        except RuntimeError:
            raise ColorganError(f"{weights} does not match its recorded model") from None
        # channels_last: 1.09x the images/s for one photo, 1.33x for 16 on the CPU (BENCHMARKS.md)
        self.memory_format = torch.channels_last if channels_last else torch.contiguous_format
        self.generator.to(self.device, memory_format=self.memory_format).eval()
        need_emb, need_seg = needs_priors(self.generator)
        self.priors: SemanticPriors | None = None
        if need_emb or need_seg:
            self.priors = SemanticPriors(
                self.prior_cfg.embedding if need_emb else None,
                self.prior_cfg.segmentation if need_seg else None,
                embedding_weights or self.prior_cfg.embedding_weights,
                segmentation_weights or self.prior_cfg.segmentation_weights,
            ).to(self.device)

    @torch.inference_mode()
    def predict_ab(self, l_norm: torch.Tensor) -> torch.Tensor:
        """Normalized L (B, 1, H, W) at any size -> normalized ab (B, 2, H, W)."""
        l_norm = l_norm.to(self.device).float()
        size = l_norm.shape[-2:]
        small = F.interpolate(l_norm, size=(self.size, self.size), mode="bilinear",
                              align_corners=False, antialias=True)  # fmt: skip
        embedding = segmentation = None
        if self.priors is not None:
            prior_l = F.interpolate(l_norm, size=(PRIOR_IMAGE_SIZE,) * 2, mode="bilinear",
                                    align_corners=False, antialias=True)  # fmt: skip
            out = self.priors(grey_from_l(prior_l))
            embedding = out.get("embedding")
            if "segmentation" in out:
                segmentation = self.priors.expand_segmentation(out["segmentation"], self.size)
        small = small.contiguous(memory_format=self.memory_format)
        if segmentation is not None:
            segmentation = segmentation.contiguous(memory_format=self.memory_format)
        with autocast(self.device, self.precision):
            ab = self.generator(small, embedding, segmentation)
        # back to planar before the full-resolution upsample: the colour conversion reads
        # ab in row bands, which channels_last would scatter
        ab = ab.float().contiguous()
        return F.interpolate(ab, size=size, mode="bilinear", align_corners=False)

    @torch.inference_mode()
    def colorize_rgb(self, pixels: np.ndarray) -> np.ndarray:
        """uint8 (H, W, 3) colour or (H, W) grey -> uint8 (H, W, 3): the input's L, predicted ab."""
        pixels = torch.from_numpy(np.ascontiguousarray(pixels))
        if pixels.ndim == 2:
            l_norm = lightness_from_grey_uint8(pixels)
        else:
            l_norm = lightness_from_uint8(pixels)
        ab = self.predict_ab(l_norm).cpu()
        return lab_normalized_to_uint8(l_norm, ab).numpy()

    def colorize(self, image: Image.Image | np.ndarray) -> Image.Image:
        """Any PIL image or array (grey or colour; alpha is kept) -> colorized PIL image."""
        if isinstance(image, np.ndarray):
            image = image_from_array(image)
        image = open_image(image)
        if min(image.size) < MIN_SIDE:
            raise BadImage(f"too small to colorize ({image.size[0]}x{image.size[1]})")
        alpha = None
        if image.mode in ("RGBA", "LA", "PA") or "transparency" in image.info:
            alpha = image.convert("RGBA").getchannel("A")
        result = Image.fromarray(self.colorize_rgb(np.array(to_8bit(image))))
        if alpha is not None:
            result.putalpha(alpha)
        return result


def image_from_array(array: np.ndarray) -> Image.Image:
    """(H, W), (H, W, 1), (H, W, 3) or (H, W, 4) arrays; uint8, uint16 or float in [0, 1]."""
    arr = np.asarray(array)
    if arr.ndim == 3 and arr.shape[2] == 1:
        arr = arr[..., 0]
    if arr.ndim not in (2, 3) or (arr.ndim == 3 and arr.shape[2] not in (3, 4)):
        raise ColorganError(f"expected an (H, W), (H, W, 3) or (H, W, 4) array, got {arr.shape}")
    if arr.dtype == np.uint16:
        arr = (arr.astype(np.float64) / 257.0).round().astype(np.uint8)
    elif np.issubdtype(arr.dtype, np.floating):
        arr = (np.clip(arr, 0.0, 1.0) * 255.0).round().astype(np.uint8)
    elif arr.dtype != np.uint8:
        raise ColorganError(f"unsupported array dtype {arr.dtype}")
    return Image.fromarray(np.ascontiguousarray(arr))
