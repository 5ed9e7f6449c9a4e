"""A U-Net whose encoder is ImageNet-pretrained EfficientNet-Lite0 (or Lite1, Lite2), with the
paper's fusion.

The paper's generator learns every filter from the training photos; on a few thousand photos it
memorises them. This one starts from an encoder that has seen ImageNet (Lite0's weights ship
in a pip package, so it trains offline), keeps the paper's global fusion at the bottleneck
(the image embedding tiled over the 1/32 grid, concatenated, 1x1 conv to 256) and feeds the
21-class prior in at 1/8, then decodes with skip connections from every encoder stage, as
DeOldify's and DDColor's pretrained-encoder U-Nets do.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from colorgan.colour.bins import CLASS_BINS, bin_centres
from colorgan.colour.tensors import grey_from_l
from colorgan.models.colour_queries import ColourQueries
from colorgan.models.fusion import FUSION_CHANNELS
from colorgan.models.registry import Generator, register
from colorgan.priors.backbones import (
    lite_input,
    lite_network,
    lite_stages,
    lite_weights_file,
    load_state_dict_file,
    stage_blocks,
    stage_channels,
)
from colorgan.spec.hints import CHANNELS as HINT_CHANNELS
from colorgan.spec.options import LiteUNetOptions, PriorSizes

# decoder channels from 1/16 up to full size; the last stage's skip is L itself
DECODER_CHANNELS = (128, 64, 48, 32, 16)


def up_block(in_channels: int, out_channels: int) -> nn.Sequential:
    return nn.Sequential(
        nn.Conv2d(in_channels, out_channels, 3, padding=1),
        nn.ReLU(inplace=True),
        nn.Conv2d(out_channels, out_channels, 3, padding=1),
        nn.ReLU(inplace=True),
    )


@register("lite_unet")
class LiteUNetGenerator(Generator):
    """L (as a grey image) -> Lite stages 1/2 .. 1/32 -> fusion -> decoder with skips -> ab."""

    Options = LiteUNetOptions

    def __init__(
        self,
        embedding_dim: int = 1000,
        segmentation_classes: int = 21,
        encoder_lr_scale: float = 0.1,
        out_stride: int = 1,
        head: str = "regression",
        temperature: float = 0.38,
        hints: bool = False,
        hint_lr_scale: float = 30.0,
        encoder: str = "lite0",
        scene: bool = False,
        scene_lr_scale: float = 5.0,
        encoder_weights: str | None = None,
    ) -> None:
        super().__init__()
        self.embedding_dim = embedding_dim
        self.segmentation_classes = segmentation_classes
        self.encoder_lr_scale = encoder_lr_scale
        self.out_stride, self.head, self.temperature = out_stride, head, temperature
        self.hint_lr_scale = hint_lr_scale
        self.encoder_name, self.encoder_weights = encoder, encoder_weights
        self.encoder = lite_network(None, encoder)
        del self.encoder._fc  # the ImageNet classes themselves are not used
        if not scene:  # nor, without the scene path, anything past 1/32
            del self.encoder._conv_head, self.encoder._bn1
        self.scene_lr_scale = scene_lr_scale
        self.stage_blocks = stage_blocks(self.encoder)
        *skips, deepest = stage_channels(self.encoder)
        self.fusion = nn.Sequential(
            nn.Conv2d(deepest + embedding_dim, FUSION_CHANNELS, 1), nn.ReLU(inplace=True)
        )
        self.scene: nn.Conv2d | None = None
        if scene:  # the pooled head into the fusion, from zero: it starts as without it
            self.scene = nn.Conv2d(self.encoder._conv_head.out_channels, FUSION_CHANNELS, 1)
            nn.init.zeros_(self.scene.weight)
            nn.init.zeros_(self.scene.bias)
        skips = [1, *skips]  # full size: L; then 1/2, 1/4, 1/8 (+ classes), 1/16
        skips[3] += segmentation_classes
        kept = 5 - {1: 0, 2: 1, 4: 2}[out_stride]  # decoder stages down to the output's size
        channels = FUSION_CHANNELS
        blocks, block_inputs = [], []
        for out, skip in zip(DECODER_CHANNELS[:kept], [*reversed(skips)][:kept], strict=True):
            blocks.append(up_block(channels + skip, out))
            block_inputs.append(channels)
            channels = out
        self.decoder = nn.ModuleList(blocks)
        if head == "queries":  # queries over the stages at 1/16, 1/8 and 1/4
            self.to_ab = ColourQueries(list(DECODER_CHANNELS[:3]), channels)
        elif head == "classification":
            self.to_ab = nn.Conv2d(channels, CLASS_BINS**2, 1)
            self.register_buffer("centres", bin_centres(), persistent=False)
        else:
            self.to_ab = nn.Sequential(nn.Conv2d(channels, 2, 3, padding=1), nn.Tanh())
        if encoder_lr_scale == 0:
            self.encoder.requires_grad_(False)
        # hints through zero weights, so it starts as without them: the first layer widened
        # (the whole encoder sees them) and a tap into each decoder stage, the hints pooled to
        # its size (from the coarse stages, which see a whole object, down to the output's)
        self.hint_stem, self.hint_taps = None, nn.ModuleList()
        self.tap_strides = (16, 8, 4, 2, 1)[:kept]
        if hints:
            stem = self.encoder._conv_stem
            self.hint_stem = nn.Conv2d(
                HINT_CHANNELS,
                stem.out_channels,
                stem.kernel_size,
                stem.stride,
                padding=1,
                bias=False,
            )
            self.hint_taps.extend(
                nn.Conv2d(HINT_CHANNELS, c, 3, padding=1, bias=False) for c in block_inputs
            )
            for layer in (self.hint_stem, *self.hint_taps):
                nn.init.zeros_(layer.weight)

    # parameters an older file of the same model may lack: they keep their zero start (the
    # scene path's head, ImageNet's)
    widened = ("hint_stem.", "hint_taps.", "scene.", "encoder._conv_head.", "encoder._bn1.")
    # the output layer, which differs between the regression and the classification head
    head_prefix = "to_ab."

    @classmethod
    def from_options(cls, options: LiteUNetOptions, sizes: PriorSizes) -> LiteUNetGenerator:
        o = options
        return cls(
            sizes.embedding,
            sizes.segmentation,
            o.encoder_lr_scale,
            o.out_stride,
            o.head,
            o.temperature,
            o.hints,
            o.hint_lr_scale,
            o.encoder,
            o.scene,
            o.scene_lr_scale,
            o.encoder_weights,
        )

    def load_pretrained(self) -> None:
        """Start the encoder from ImageNet (training does this; a generator file has its own)."""
        keep = self.encoder.state_dict().keys()  # the head past 1/32 was dropped
        path = self.encoder_weights or lite_weights_file(self.encoder_name)
        state = load_state_dict_file(path)
        self.encoder.load_state_dict({k: v for k, v in state.items() if k in keep})

    def param_groups(self, lr: float) -> list[dict]:
        encoder = list(self.encoder.parameters())
        hinting = [*self.hint_taps.parameters()]
        hinting += [] if self.hint_stem is None else [*self.hint_stem.parameters()]
        scene = [] if self.scene is None else [*self.scene.parameters()]
        ids = {id(p) for p in encoder + hinting + scene}
        rest = [p for p in self.parameters() if id(p) not in ids]
        groups = [{"params": rest, "lr": lr}]
        if scene:
            groups.append({"params": scene, "lr": lr * self.scene_lr_scale})
        if self.encoder_lr_scale > 0:
            groups.append({"params": encoder, "lr": lr * self.encoder_lr_scale})
        if hinting:
            groups.append({"params": hinting, "lr": lr * self.hint_lr_scale})
        return groups

    def train(self, mode: bool = True) -> LiteUNetGenerator:
        super().train(mode)
        if self.encoder_lr_scale == 0:
            self.encoder.eval()  # a frozen encoder keeps ImageNet's BatchNorm statistics
        return self

    def forward(
        self,
        l_norm: torch.Tensor,
        embedding: torch.Tensor | None = None,
        segmentation: torch.Tensor | None = None,
        hints: torch.Tensor | None = None,
    ) -> torch.Tensor | dict[str, torch.Tensor]:
        """L (B, 1, H, W) in [-1, 1], H and W multiples of 32 -> ab (B, 2, H, W) in [-1, 1];
        `hints` (B, HINT_CHANNELS, H, W): ab and mask (none: no hints). A classifying generator in
        training mode returns {"ab", "logits"} (the logits at the output's size) for its loss."""
        grey = grey_from_l(l_norm).to(l_norm.dtype)
        extra = None
        if self.hint_stem is not None and hints is not None:
            extra = self.hint_stem(hints.to(l_norm.dtype))
        *skips, deepest = lite_stages(
            self.encoder, lite_input(grey), self.stage_blocks, stem_extra=extra
        )
        x = deepest
        if self.embedding_dim:
            if embedding is None:
                raise ValueError("this generator needs the embedding prior")
            tiled = embedding.to(x.dtype)[:, :, None, None].expand(-1, -1, *x.shape[2:])
            x = torch.cat([x, tiled], 1)
        if self.scene is None:
            x = self.fusion(x)
        else:
            net = self.encoder
            head = net._swish(net._bn1(net._conv_head(deepest)))
            x = self.fusion[0](x) + self.scene(head.mean((2, 3), keepdim=True))
            x = self.fusion[1](x)
        if self.segmentation_classes:
            if segmentation is None:
                raise ValueError("this generator needs the segmentation prior")
            classes = F.interpolate(
                segmentation.to(x.dtype),
                size=skips[2].shape[2:],
                mode="bilinear",
                align_corners=False,
            )
            skips[2] = torch.cat([skips[2], classes], 1)
        guided = hints is not None and self.hint_stem is not None
        taps = self.hint_taps if guided else [None] * len(self.decoder)
        stages = []
        for block, skip, tap, stride in zip(
            self.decoder, [*reversed(skips), l_norm], taps, self.tap_strides, strict=False
        ):
            x = F.interpolate(x, size=skip.shape[2:], mode="nearest")
            if tap is not None:
                x = x + tap(pooled_hints(hints.to(x.dtype), stride))
            x = block(torch.cat([x, skip.to(x.dtype)], 1))
            stages.append(x)
        out = self.to_ab(x, stages[:3]) if self.head == "queries" else self.to_ab(x)
        logits = out if self.head == "classification" else None
        if logits is not None:
            out = annealed_mean(logits, self.centres, self.temperature)
        if self.out_stride > 1:
            out = F.interpolate(out, size=l_norm.shape[2:], mode="bilinear", align_corners=False)
        if logits is not None and self.training:
            return {"ab": out, "logits": logits}
        return out


def pooled_hints(hints: torch.Tensor, factor: int) -> torch.Tensor:
    """Hints (B, 3, H, W) at 1/`factor` of their size: each cell the mean ab of its hinted
    pixels, and its mask 1 where it holds any (an average would fade a small point)."""
    if factor == 1:
        return hints
    cover = F.avg_pool2d(hints[:, 2:], factor)
    ab = F.avg_pool2d(hints[:, :2] * hints[:, 2:], factor) / cover.clamp_min(1e-6)
    return torch.cat([ab, (cover > 0).to(hints.dtype)], 1)


def annealed_mean(logits: torch.Tensor, centres: torch.Tensor, temperature: float) -> torch.Tensor:
    """(B, Q, h, w) logits over ab bins -> (B, 2, h, w) ab: the mean of the distribution
    sharpened by 1 / temperature, which is near its mode but stays smooth."""
    p = torch.softmax(logits.float() / temperature, 1)
    return torch.einsum("bqhw,qc->bchw", p, centres.float()).to(logits.dtype)
