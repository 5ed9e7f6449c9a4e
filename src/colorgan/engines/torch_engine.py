"""The torch engine: a generator file (and the frozen priors it needs) in PyTorch, on the CPU
or a GPU. It is what training, evaluation and export build on, and what runs a generator
file, a prediction size of the user's choosing or prior weight files.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F

from colorgan.colour.srgb import AB_SCALE
from colorgan.models import generator_class
from colorgan.models.file import load_generator
from colorgan.models.mirror import Mirrored
from colorgan.models.runtime import autocast, pick_device, resolve_precision
from colorgan.priors.semantic import SemanticPriors, generator_inputs
from colorgan.spec.bundled import bundled_weights, damage_network_file
from colorgan.spec.meta import ModelSpec, check_size, stored_mirror
from colorgan.spec.priors import PRIOR_IMAGE_SIZE


class TorchEngine:
    """A generator file's model in PyTorch (engines.Engine), and its tensor API."""

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
        """`weights`: a generator file; without one, the bundled `model` (BUNDLED). `size`:
        the square it predicts on (default: the size it was trained at)."""
        loaded = load_generator(weights or bundled_weights(model))
        self.model_cfg, self.prior_cfg = loaded.model, loaded.priors
        self.device = pick_device(device)
        self.precision = resolve_precision(precision, self.device)
        self.size = loaded.image_size if size is None else check_size(size, "size")
        # channels_last: faster on the CPU too, for one photo or a batch (benchmarks/inference.py)
        self.memory_format = torch.channels_last if channels_last else torch.contiguous_format
        self.generator = loaded.generator.to(self.device, memory_format=self.memory_format)
        self.mirror = stored_mirror(loaded.meta)
        if self.mirror:  # the file asks for mirror averaging (engines/mirror.py)
            self.generator = Mirrored(self.generator)
        self.needs = generator_class(self.model_cfg.generator).needs(self.model_cfg.options)
        p = self.prior_cfg
        self.priors = SemanticPriors.for_generator(
            self.needs,
            p.embedding,
            p.segmentation,
            embedding_weights or p.embedding_weights,
            segmentation_weights or p.segmentation_weights,
        )
        if self.priors is not None:
            self.priors.to(self.device)
        self.prior_size = None if self.priors is None else PRIOR_IMAGE_SIZE
        self._reference: torch.nn.Module | None = None
        self._damage: torch.nn.Module | None = None
        self.spec = ModelSpec.of(
            loaded.meta, self.size, self.prior_size, AB_SCALE, self.needs.hints, composition="lab"
        )  # photos: exact CIE Lab

    @torch.inference_mode()
    def predict_tensor(
        self,
        l_norm: torch.Tensor,
        prior_l: torch.Tensor | None = None,
        hints: torch.Tensor | None = None,
    ) -> torch.Tensor:
        """Normalized L (B, 1, H, W) at any size -> the model's normalized ab at its size,
        on the engine's device. `prior_l`: the same L at the priors' size, where the caller
        already has it; `hints` (B, CHANNELS, size, size) for a model that takes them."""
        l_norm = l_norm.to(self.device).float()
        small = l_norm
        if l_norm.shape[-2:] != (self.size, self.size):
            small = F.interpolate(
                l_norm,
                size=(self.size, self.size),
                mode="bilinear",
                align_corners=False,
                antialias=True,
            )
        native = {}
        if self.priors is not None:
            native = self.priors.on_l(l_norm if prior_l is None else prior_l.to(self.device))
        logits = self.priors is not None and self.priors.segmentation_is_logits
        if hints is not None:
            hints = hints.to(self.device).float()
        x = generator_inputs(small, native, self.needs, logits, self.memory_format, hints)
        with autocast(self.device, self.precision):
            ab = self.generator(**x)
        return ab.float().contiguous()

    def predict_full(self, l_norm: np.ndarray) -> np.ndarray:
        """engines.Engine: normalized L (B, 1, H, W) at any size -> normalized ab (B, 2, H,
        W), upsampled bilinearly (what evaluation scores)."""
        l_tensor = torch.from_numpy(np.ascontiguousarray(l_norm))
        ab = self.predict_tensor(l_tensor)
        return (
            F.interpolate(ab, size=l_tensor.shape[-2:], mode="bilinear", align_corners=False)
            .cpu()
            .numpy()
        )

    def features(self, l_norm: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """engines.Engine: the reference encoder (built when first asked for)."""
        if self._reference is None:
            from colorgan.priors.reference import ReferenceFeatures

            self._reference = ReferenceFeatures().to(self.device).eval()
        local, descriptor = self._reference(
            torch.from_numpy(np.ascontiguousarray(l_norm)).to(self.device)
        )
        return local.float().cpu().numpy(), descriptor.float().cpu().numpy()

    def damage(self, grey: np.ndarray) -> np.ndarray:
        """engines.Engine: the restorer's network, its bundled weights (built when first
        asked for)."""
        if self._damage is None:
            from safetensors.torch import load_file

            from colorgan.models.damage import DamageNet

            net = DamageNet(pretrained=False)
            net.load_state_dict(load_file(str(damage_network_file("safetensors"))))
            self._damage = net.to(self.device).eval()
        with torch.no_grad():
            out = self._damage(torch.from_numpy(np.ascontiguousarray(grey)).to(self.device))
        return out.float().cpu().numpy()

    def predict(
        self, l_small: np.ndarray, l_prior: np.ndarray | None, hints: np.ndarray | None = None
    ) -> np.ndarray:
        """engines.Engine: numpy in and out."""
        prior, given = (
            None if a is None else torch.from_numpy(np.ascontiguousarray(a))
            for a in (l_prior, hints)
        )
        ab = self.predict_tensor(torch.from_numpy(np.ascontiguousarray(l_small)), prior, given)
        return ab.cpu().numpy()
