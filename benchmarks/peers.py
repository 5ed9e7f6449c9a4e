"""colorgan against the field's colorizers on 12 MP grey JPEGs, side by side in one run:
seconds per photo (decode, model, full-resolution output, JPEG encode) and peak memory, each
in a fresh process, 2 threads, fp32.

The peers are re-implemented here from their papers, not taken from their code (none of it
is vendored), with random weights: speed and memory do not depend on the weights, and the
networks follow the papers' layer tables, so their cost is the real one to within the
details a paper leaves out. Each keeps the pre- and post-processing its paper and repository
describe:

- zhang-eccv16: Zhang, Isola, Efros, "Colorful Image Colorization" (ECCV 2016). L resized to
  256; eight conv blocks (64, 128, 256, 512, 512 dilated, 512 dilated, 512, 256 up) to 313
  ab-bin logits at 64x64; annealed mean (T = 0.38); ab upsampled to full size; scikit-image's
  rgb2lab / lab2rgb at full size, as its demo does.
- pix2pix-unet256: Isola et al., "Image-to-Image Translation with Conditional Adversarial
  Networks" (CVPR 2017): the 8-level U-Net at 256 (colorgan's `unet` generator is that net);
  L to ab at 256, upsampled, scikit-image Lab at full size.
- ddcolor-tiny / ddcolor-large: Kang et al., "DDColor" (ICCV 2023): ConvNeXt-T / -L encoder
  (timm, random) at 512, a pixel decoder up to 1/4 then to full 512 resolution (256
  channels), a colour decoder of 100 queries through 9 transformer layers (dim 256) over the
  1/16, 1/8 and 1/4 features, the queries' dot products with the image features fused to ab;
  ab upsampled, Lab to RGB at full size (vectorized, in torch).
- colorgan (onnx engine, the default) and colorgan (torch engine): the real code.

Run: `.venv/bin/python -m benchmarks.peers [--images 2]`.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
from pathlib import Path

from benchmarks.colorize_fullres import make_jpeg
from benchmarks.common import machine

PEERS = [
    "colorgan-onnx",
    "colorgan-torch",
    "zhang-eccv16",
    "pix2pix-unet256",
    "ddcolor-tiny",
    "ddcolor-large",
]

CHILD = r"""
import io, sys, time
import numpy as np, torch
from PIL import Image
from benchmarks.peers import build

torch.set_num_threads(2)
name, paths = sys.argv[1], sys.argv[2:]
colorize = build(name)


def once(path):
    grey = Image.open(path)
    grey.load()
    colorize(grey).save(io.BytesIO(), "JPEG", quality=95)


once(paths[0])  # warm-up
times = []
for path in paths:
    start = time.perf_counter()
    once(path)
    times.append(time.perf_counter() - start)
hwm = int(open("/proc/self/status").read().split("VmHWM:")[1].split()[0]) / 1024**2
print(min(times), hwm)
"""


def build(name: str):
    """The peer's whole colorization: a grey PIL image in, an RGB PIL image out."""
    import numpy as np
    import torch
    import torch.nn.functional as F
    from PIL import Image

    if name == "colorgan-onnx":
        from colorgan.engines.onnx_engine import OnnxEngine
        from colorgan.pipeline.colorizer import Colorizer

        return Colorizer(OnnxEngine()).colorize
    if name == "colorgan-torch":
        from colorgan.engines.torch_engine import TorchEngine
        from colorgan.pipeline.colorizer import Colorizer

        return Colorizer(TorchEngine(precision="fp32")).colorize
    from skimage import color

    def skimage_output(l_full: np.ndarray, ab_small: torch.Tensor) -> Image.Image:
        ab = F.interpolate(ab_small, size=l_full.shape, mode="bilinear", align_corners=False)
        lab = np.concatenate([l_full[..., None], ab[0].permute(1, 2, 0).numpy()], -1)
        return Image.fromarray((color.lab2rgb(lab).clip(0, 1) * 255).astype(np.uint8))

    if name == "zhang-eccv16":
        net = zhang_eccv16().eval()
        bins = torch.randn(313, 2) * 40  # the 313 in-gamut ab bins (values do not matter here)

        @torch.no_grad()
        def colorize(grey: Image.Image) -> Image.Image:
            rgb = np.asarray(grey.convert("RGB"))
            l_full = color.rgb2lab(rgb)[..., 0]  # as its demo: Lab of the full photo
            small = np.asarray(grey.convert("RGB").resize((256, 256), Image.Resampling.BICUBIC))
            l_small = torch.from_numpy(color.rgb2lab(small)[..., 0]).float()[None, None]
            logits = net((l_small - 50) / 100)
            probs = torch.softmax(logits / 0.38, 1)  # annealed mean
            ab = torch.einsum("bqhw,qc->bchw", probs, bins)
            return skimage_output(l_full, F.interpolate(ab, scale_factor=4, mode="bilinear"))

        return colorize
    if name == "pix2pix-unet256":
        from colorgan.models.unet import UNetGenerator

        net = UNetGenerator(ngf=64, downs=8).eval()

        @torch.no_grad()
        def colorize(grey: Image.Image) -> Image.Image:
            l_full = color.rgb2lab(np.asarray(grey.convert("RGB")))[..., 0]
            small = np.asarray(grey.convert("RGB").resize((256, 256), Image.Resampling.BICUBIC))
            l_small = torch.from_numpy(color.rgb2lab(small)[..., 0]).float()[None, None]
            ab = net(l_norm=l_small / 50 - 1) * 110
            return skimage_output(l_full, ab)

        return colorize
    if name.startswith("ddcolor"):
        from colorgan.colour.bands import lightness
        from colorgan.colour.tensors import lab_normalized_to_rgb

        encoder = "convnext_tiny" if name == "ddcolor-tiny" else "convnext_large"
        net = ddcolor_class()(encoder).eval()

        @torch.no_grad()
        def colorize(grey: Image.Image) -> Image.Image:
            rgb = np.asarray(grey.convert("RGB"))
            l_norm = torch.from_numpy(lightness(rgb))[None, None]
            pixels = torch.from_numpy(rgb)
            x = pixels.permute(2, 0, 1)[None].float() / 255
            x = F.interpolate(x, size=(512, 512), mode="bilinear", align_corners=False)
            ab = F.interpolate(net(x), size=l_norm.shape[-2:], mode="bilinear")
            rgb = lab_normalized_to_rgb(l_norm, ab)[0].permute(1, 2, 0)
            return Image.fromarray((rgb * 255).round().byte().numpy())

        return colorize
    raise ValueError(name)


def zhang_eccv16():
    """The ECCV 2016 network's layer table: (channels, convs, stride of the last, dilation)."""
    from torch import nn

    layers, cin = [], 1
    for cout, convs, stride, dilation in [
        (64, 2, 2, 1),
        (128, 2, 2, 1),
        (256, 3, 2, 1),
        (512, 3, 1, 1),
        (512, 3, 1, 2),
        (512, 3, 1, 2),
        (512, 3, 1, 1),
    ]:
        for i in range(convs):
            s = stride if i == convs - 1 else 1
            layers += [nn.Conv2d(cin, cout, 3, s, dilation, dilation), nn.ReLU()]
            cin = cout
        layers.append(nn.BatchNorm2d(cout))
    layers += [
        nn.ConvTranspose2d(512, 256, 4, 2, 1),
        nn.ReLU(),
        nn.Conv2d(256, 256, 3, 1, 1),
        nn.ReLU(),
        nn.Conv2d(256, 256, 3, 1, 1),
        nn.ReLU(),
        nn.Conv2d(256, 313, 1),
    ]
    return nn.Sequential(*layers)


def ddcolor_class():
    import timm
    import torch
    import torch.nn.functional as F
    from torch import nn

    class Up(nn.Module):
        """x2 by pixel shuffle, joined with the skip, then a conv."""

        def __init__(self, cin: int, skip: int, cout: int) -> None:
            super().__init__()
            self.shuffle = nn.Sequential(nn.Conv2d(cin, cout * 4, 1), nn.PixelShuffle(2))
            self.conv = nn.Sequential(
                nn.Conv2d(cout + skip, cout, 3, 1, 1), nn.BatchNorm2d(cout), nn.ReLU()
            )

        def forward(self, x, skip):
            return self.conv(torch.cat([self.shuffle(x), skip], 1))

    class Layer(nn.Module):
        """A colour-decoder layer: cross-attention to one scale, self-attention, FFN."""

        def __init__(self, dim: int = 256) -> None:
            super().__init__()
            self.cross = nn.MultiheadAttention(dim, 8, batch_first=True)
            self.self_attn = nn.MultiheadAttention(dim, 8, batch_first=True)
            self.ffn = nn.Sequential(nn.Linear(dim, 2048), nn.ReLU(), nn.Linear(2048, dim))
            self.norms = nn.ModuleList(nn.LayerNorm(dim) for _ in range(3))

        def forward(self, q, memory):
            q = self.norms[0](q + self.cross(q, memory, memory)[0])
            q = self.norms[1](q + self.self_attn(q, q, q)[0])
            return self.norms[2](q + self.ffn(q))

    class DDColor(nn.Module):
        def __init__(self, encoder: str, queries: int = 100, dim: int = 256) -> None:
            super().__init__()
            self.encoder = timm.create_model(encoder, pretrained=False, features_only=True)
            c4, c8, c16, c32 = self.encoder.feature_info.channels()
            self.up16, self.up8 = Up(c32, c16, 512), Up(512, c8, 512)
            self.up4 = Up(512, c4, 256)
            self.to_full = nn.Sequential(nn.Conv2d(256, 256 * 16, 1), nn.PixelShuffle(4))
            self.proj = nn.ModuleList(nn.Conv2d(c, dim, 1) for c in (512, 512, 256))
            self.queries = nn.Parameter(torch.randn(1, queries, dim))
            self.layers = nn.ModuleList(Layer(dim) for _ in range(9))
            self.fuse = nn.Conv2d(queries + 3, 2, 1)

        def forward(self, x):
            f4, f8, f16, f32 = self.encoder(x)
            d16 = self.up16(f32, f16)
            d8 = self.up8(d16, f8)
            d4 = self.up4(d8, f4)
            image = self.to_full(d4)
            decoded = (d16, d8, d4)
            scales = [
                p(d).flatten(2).transpose(1, 2) for p, d in zip(self.proj, decoded, strict=True)
            ]
            q = self.queries.expand(x.shape[0], -1, -1)
            for i, layer in enumerate(self.layers):
                q = layer(q, scales[i % 3])
            colour = torch.einsum("bqc,bchw->bqhw", q, image)
            return F.tanh(self.fuse(torch.cat([colour, x], 1)))

    return DDColor


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--images", type=int, default=2)
    args = parser.parse_args()
    print(machine())
    with tempfile.TemporaryDirectory() as name:
        paths = [Path(name) / f"grey{i}.jpg" for i in range(args.images)]
        for i, path in enumerate(paths):
            make_jpeg(path, i, grey=True)
        rows = {}
        for peer in PEERS:
            run = subprocess.run(
                [sys.executable, "-c", CHILD, peer, *map(str, paths)],
                capture_output=True,
                text=True,
            )
            if run.returncode != 0:
                print(f"{peer}: failed: {run.stderr.strip().splitlines()[-1]}")
                continue
            rows[peer] = tuple(map(float, run.stdout.split()))
    base = rows["colorgan-onnx"][0]
    print(f"\n4000x3000 grey JPEG to colour JPEG, best of {args.images} after a warm-up:")
    print("| colorizer | seconds per photo | x colorgan (onnx) | peak GB |\n|---|---|---|---|")
    for peer, (seconds, peak) in rows.items():
        print(f"| {peer} | {seconds:.2f} | {seconds / base:.1f}x | {peak:.2f} |")


if __name__ == "__main__":
    main()
