"""Semantic priors: which backbones give a generator its embedding and segmentation inputs.

The embedding (paper 5.3.3) and the segmentation input (4.3) come from the frozen backbones in
`backbones.py`, named in a config (`priors.embedding`, `priors.segmentation`) and looked up in
the registries here. Every prior sees what the generator sees: the L channel as a grey image,
stacked three times, at 256 x 256 whatever the generator's size, so that training and
colorization feed it the same priors. `generator_inputs` turns L and the priors' native
outputs into a generator's inputs, for training and for colorization alike.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import torch
import torch.nn.functional as F
from torch import nn

from colorgan.base.errors import ColorganError
from colorgan.colour.tensors import grey_from_l
from colorgan.priors.backbones import (
    DeepLabV3Segmentation,
    EfficientNetLite0,
    InceptionResNetV2Embedding,
)
from colorgan.spec.hints import CHANNELS
from colorgan.spec.options import Needs, PriorSizes
from colorgan.spec.priors import EMBEDDINGS as EMBEDDING_NAMES
from colorgan.spec.priors import PRIOR_IMAGE_SIZE
from colorgan.spec.priors import SEGMENTATIONS as SEGMENTATION_NAMES

PRIOR_VERSION = 1  # bump when preprocessing changes; part of every cache key

# name in a config (priors.EMBEDDINGS, priors.SEGMENTATIONS) -> the backbone that gives it
EMBEDDINGS: dict[str, type[nn.Module]] = dict(
    zip(EMBEDDING_NAMES, (EfficientNetLite0, InceptionResNetV2Embedding), strict=True)
)
SEGMENTATIONS: dict[str, type[nn.Module]] = dict(
    zip(SEGMENTATION_NAMES, (EfficientNetLite0, DeepLabV3Segmentation), strict=True)
)


def prior_sizes(embedding: str, segmentation: str, needs: Needs) -> PriorSizes:
    """The channels a generator with these needs gets from these backbones."""
    return PriorSizes(
        embedding=EMBEDDINGS[embedding].embedding_dim if needs.embedding else 0,
        segmentation=SEGMENTATIONS[segmentation].segmentation_classes if needs.segmentation else 0,
    )


class SemanticPriors(nn.Module):
    """The frozen networks a generator needs, computed together, with a cache fingerprint."""

    def __init__(
        self,
        embedding: str | None,
        segmentation: str | None,
        embedding_weights: str | None = None,
        segmentation_weights: str | None = None,
    ) -> None:
        super().__init__()
        self.embedding_name = embedding
        self.segmentation_name = segmentation
        self.embedding_net: nn.Module | None = None
        self.segmentation_net: nn.Module | None = None
        if embedding is not None and embedding not in EMBEDDINGS:
            raise ColorganError(f"unknown embedding backbone {embedding!r}")
        if segmentation is not None and segmentation not in SEGMENTATIONS:
            raise ColorganError(f"unknown segmentation prior {segmentation!r}")
        emb_cls = EMBEDDINGS[embedding] if embedding is not None else None
        seg_cls = SEGMENTATIONS[segmentation] if segmentation is not None else None
        self.lite: EfficientNetLite0 | None = None
        if EfficientNetLite0 in (emb_cls, seg_cls):
            same = embedding_weights if emb_cls is EfficientNetLite0 else None
            other = segmentation_weights if seg_cls is EfficientNetLite0 else None
            if same and other and Path(same) != Path(other):
                raise ColorganError("efficientnet_lite0 embedding and CAM prior need one file")
            self.lite = EfficientNetLite0(same or other)
        lite = self.lite
        if emb_cls is not None:
            self.embedding_net = (
                lite if emb_cls is EfficientNetLite0 else emb_cls(embedding_weights)
            )
        if seg_cls is not None:
            self.segmentation_net = (
                lite if seg_cls is EfficientNetLite0 else seg_cls(segmentation_weights)
            )
        # Lite0 gives its logits and its CAM prior in one pass: where it supplies one, it
        # supplies the other too (at no cost), so the ablations that drop one of them share
        # the full model's cache instead of building their own.
        if lite is not None:
            self.embedding_net = self.embedding_net or lite
            self.segmentation_net = self.segmentation_net or lite

    @classmethod
    def for_generator(
        cls,
        needs: Needs,
        embedding: str,
        segmentation: str,
        embedding_weights: str | None = None,
        segmentation_weights: str | None = None,
    ) -> SemanticPriors | None:
        """The backbones a generator with these needs runs on (None: it takes no priors)."""
        if not (needs.embedding or needs.segmentation):
            return None
        return cls(
            embedding if needs.embedding else None,
            segmentation if needs.segmentation else None,
            embedding_weights,
            segmentation_weights,
        )

    @property
    def output_channels(self) -> dict[str, int]:
        """Each output's leading size: the embedding's width, the segmentation's classes."""
        channels = {}
        if self.embedding_net is not None:
            channels["embedding"] = self.embedding_net.embedding_dim
        if self.segmentation_net is not None:
            channels["segmentation"] = self.segmentation_net.segmentation_classes
        return channels

    @property
    def segmentation_is_logits(self) -> bool:
        return bool(getattr(self.segmentation_net, "segmentation_is_logits", False))

    def fingerprint(self, image_size: int = PRIOR_IMAGE_SIZE) -> str:
        """Identifies everything that determines the cached outputs."""
        lite = self.lite is not None
        spec = {
            "version": PRIOR_VERSION,
            "image_size": image_size,
            "embedding": "efficientnet_lite0"
            if lite and self.embedding_net is self.lite
            else self.embedding_name,
            "embedding_weights": getattr(self.embedding_net, "weights_id", None),
            "segmentation": "efficientnet_lite0_cam"
            if lite and self.segmentation_net is self.lite
            else self.segmentation_name,
            "segmentation_weights": getattr(self.segmentation_net, "weights_id", None),
        }
        return hashlib.sha256(json.dumps(spec, sort_keys=True).encode()).hexdigest()[:16]

    @torch.inference_mode()
    def forward(self, grey: torch.Tensor) -> dict[str, torch.Tensor]:
        """grey (B, 1, H, W) in [0, 1] -> {"embedding": (B, E), "segmentation": native maps}."""
        out: dict[str, torch.Tensor] = {}
        lite_out = self.lite(grey) if self.lite is not None else None
        if self.embedding_net is not None:
            emb = lite_out[0] if self.embedding_net is self.lite else self.embedding_net(grey)
            out["embedding"] = emb.float()
        if self.segmentation_net is not None:
            seg = lite_out[1] if self.segmentation_net is self.lite else self.segmentation_net(grey)
            out["segmentation"] = seg.float()
        return out

    def on_l(self, l_norm: torch.Tensor) -> dict[str, torch.Tensor]:
        """The native outputs for normalized L at any size (resized to PRIOR_IMAGE_SIZE)."""
        if l_norm.shape[-2:] != (PRIOR_IMAGE_SIZE, PRIOR_IMAGE_SIZE):
            l_norm = F.interpolate(
                l_norm,
                size=(PRIOR_IMAGE_SIZE,) * 2,
                mode="bilinear",
                align_corners=False,
                antialias=True,
            )
        return self(grey_from_l(l_norm))


def expand_segmentation(native: torch.Tensor, size: int, is_logits: bool) -> torch.Tensor:
    """Native maps -> (B, classes, size, size) class probabilities, as DeepLabV3 outputs them."""
    maps = F.interpolate(native.float(), size=(size, size), mode="bilinear", align_corners=False)
    return maps.softmax(1) if is_logits else maps


def generator_inputs(
    l_norm: torch.Tensor,
    native: dict[str, torch.Tensor],
    needs: Needs,
    segmentation_is_logits: bool,
    memory_format: torch.memory_format = torch.contiguous_format,
    hints: torch.Tensor | None = None,
) -> dict[str, torch.Tensor]:
    """L at the generator's size and the priors' native outputs -> the generator's keyword
    inputs: `l_norm`, and `embedding` and `segmentation` (expanded to L's size) where needed,
    and `hints` (B, spec.hints.CHANNELS, H, W; zeros: none) for a generator that takes them."""
    out = {"l_norm": l_norm.contiguous(memory_format=memory_format)}
    if needs.hints:
        shape = (l_norm.shape[0], CHANNELS, *l_norm.shape[2:])
        given = torch.zeros(shape, device=l_norm.device) if hints is None else hints
        out["hints"] = given.to(l_norm.device, l_norm.dtype).contiguous(memory_format=memory_format)
    if needs.embedding:
        out["embedding"] = native["embedding"].to(l_norm.device)
    if needs.segmentation:
        maps = expand_segmentation(
            native["segmentation"].to(l_norm.device), l_norm.shape[-1], segmentation_is_logits
        )
        out["segmentation"] = maps.contiguous(memory_format=memory_format)
    return out
