"""Training speed, side by side in one run.

1. The phase-2 step (discriminator update + generator update) at 256x256: fp32 against bf16
   autocast, channels_last off and on, through `ColorGAN.adversarial_step`.
2. One adversarial epoch at the bundled model's 128 px: priors from the feature cache against
   rerunning the backbones on every batch (the offline EfficientNet-Lite0, and the paper's
   Inception-ResNet-v2 + DeepLabV3 with random weights of the real shapes: same compute), and
   the share of the epoch spent waiting on the data loader with 0 and 2 workers.
3. What the cache saves per photo: reading it against running each backbone.

Run: `.venv/bin/python -m benchmarks.training [--photos 64] [--bf16-batch 2]`. Uses the first
photos of ../shared/datasets/train when present, otherwise synthetic ones. On CPUs without
native bf16 a bf16 step at batch 16 takes over half an hour, so bf16 is timed at a small batch
(once, without a warm-up) beside fp32 at the same batch; fp32 is also timed at batch 16.
"""

from __future__ import annotations

import argparse
import functools
import tempfile
import time
from pathlib import Path

import numpy as np
import timm
import torch
from PIL import Image
from safetensors.torch import save_file

from benchmarks.common import best_seconds, machine
from colorgan.base.images import find_images, load_rgb
from colorgan.config import config_from_dict
from colorgan.priors.semantic import SemanticPriors
from colorgan.training.data import TrainingData
from colorgan.training.gan import ColorGAN
from colorgan.training.trainer import Trainer

SHARED = Path(__file__).resolve().parents[1].parent / "shared" / "datasets" / "train"


def photo_folder(tmp: Path, count: int, source: str | Path | None = None) -> Path:
    source = Path(source) if source else SHARED
    if source.is_dir():
        folder = tmp / "photos"
        folder.mkdir()
        for path in find_images(source)[:count]:
            (folder / path.name).symlink_to(path.resolve())
        return folder
    folder = tmp / "synthetic"
    folder.mkdir()
    examples = sorted(Path(__file__).resolve().parents[1].glob("examples/*.jpg"))
    rng = np.random.default_rng(0)
    for i in range(count):
        # The examples are the grey demo inputs: colour them by brightness (warm highlights,
        # cool shadows), or the trainer would skip them as grey.
        base = Image.open(examples[i % len(examples)]).convert("L")
        left, top = rng.integers(0, 40, 2)
        crop = base.crop((left, top, left + base.width - 40, top + base.height - 40))
        light = np.asarray(crop.resize((640, 480)), np.float32)[..., None] / 255.0
        rgb = np.where(light > 0.5, light * [1.0, 0.7, 0.4], light * [0.4, 0.6, 1.0])
        Image.fromarray((rgb * 255).astype(np.uint8)).save(folder / f"photo{i:03d}.jpg", quality=90)
    return folder


def config(tmp: Path, photos: Path, name: str, **sections: dict):
    values = {
        "name": name,
        "out_dir": str(tmp / "runs"),
        "data": {"root": str(photos), "image_size": 256, "val_fraction": 0.0},
        "priors": {"cache_dir": str(tmp / "cache")},
        "train": {
            "batch_size": 16,
            "pretrain_epochs": 0,
            "adversarial_epochs": 1,
            "d_every": 1,
            "checkpoint_every": 10_000,
            "val_images": 0,
        },
    }
    for section, extra in sections.items():
        values[section].update(extra)
    return config_from_dict(values)


def step_rates(tmp: Path, photos: Path, bf16_batch: int) -> None:
    print("\n| phase-2 step (D + G), 256x256 | batch | seconds | images/s | vs fp32 |")
    print("|---|---|---|---|---|")
    rows = [
        ("fp32", 16, False),
        ("fp32", 16, True),
        ("fp32", bf16_batch, False),
        ("fp32", bf16_batch, True),
        ("bf16", bf16_batch, False),
        ("bf16", bf16_batch, True),
    ]
    fp32_rate: dict[int, float] = {}
    for precision, batch, channels_last in rows:
        name = f"step-{precision}-{batch}-{channels_last}"
        train = {"precision": precision, "channels_last": channels_last, "batch_size": batch}
        cfg = config(tmp, photos, name, train=train)
        fmt = torch.channels_last if channels_last else torch.contiguous_format
        gan = ColorGAN(cfg, "cpu", precision, fmt)
        x = TrainingData(cfg, memory_format=fmt, progress=False).training_batch(batch)
        fast = precision == "fp32"
        step = functools.partial(gan.adversarial_step, x)
        rate = batch / best_seconds(step, repeats=2 if fast else 1, warmup=1 if fast else 0)
        fp32_rate.setdefault(batch, rate)
        layout = "on" if channels_last else "off"
        print(
            f"| {precision}, channels_last {layout} | {batch} | {batch / rate:.2f} | "
            f"{rate:.3f} | {rate / fp32_rate[batch]:.2f}x |",
            flush=True,
        )


def epochs(tmp: Path, photos: Path, count: int, paper: dict[str, str]) -> None:
    print(
        f"\n| one adversarial epoch, {count} photos, 128 px, batch 16, fp32 | seconds "
        "| loader wait |\n|---|---|---|"
    )
    rows = [
        ("feature cache, 0 workers", {"cache": True}, 0),
        ("feature cache, 2 workers", {"cache": True}, 2),
        ("EfficientNet-Lite0 rerun every batch", {"cache": False}, 0),
        ("the paper's backbones rerun every batch", {"cache": False, **paper}, 0),
    ]
    times = {}
    for i, (label, priors, workers) in enumerate(rows):
        data = {"image_size": 128, "num_workers": workers}
        train = {"d_every": 5, "precision": "fp32"}
        cfg = config(tmp, photos, f"epoch-{i}", data=data, priors=priors, train=train)
        trainer = Trainer(cfg, progress=False)  # builds the cache (not timed) when cache is on
        summary = trainer.run()
        times[label] = summary["seconds"]
        print(f"| {label} | {summary['seconds']:.1f} | {summary['loader_wait']:.1%} |", flush=True)
    for label, _, _ in rows[2:]:
        print(
            f"epoch from the cache: {times[label] / times[rows[0][0]]:.2f}x faster than "
            f"with {label}"
        )


def decode_costs(photos: Path, size: int = 128) -> None:
    """JPEG decoding at reduced scale (draft) against full decoding, both resized to `size`."""
    paths = find_images(photos)[:32]

    def full(path: Path) -> np.ndarray:
        img = Image.open(path).convert("RGB")
        return np.asarray(img.resize((size, size), Image.Resampling.BICUBIC), dtype=np.float64)

    def draft(path: Path) -> np.ndarray:
        return load_rgb(path, size).astype(np.float64)

    full_s = best_seconds(lambda: [full(p) for p in paths]) / len(paths)
    draft_s = best_seconds(lambda: [draft(p) for p in paths]) / len(paths)
    mse = np.mean([np.mean((full(p) - draft(p)) ** 2) for p in paths])
    print(f"\n| decode a photo to {size} px | ms |\n|---|---|")
    print(f"| full-size decode + resize | {full_s * 1e3:.1f} |")
    print(f"| reduced-scale JPEG decode (draft) + resize | {draft_s * 1e3:.1f} |")
    print(
        f"draft: {full_s / draft_s:.1f}x faster; PSNR against the full decode: "
        f"{10 * np.log10(255**2 / mse):.1f} dB"
    )


def paper_weights(tmp: Path) -> dict[str, str]:
    """Random weights of the paper's two backbones, in the files a user would pass."""
    from torchvision.models.segmentation import deeplabv3_resnet50

    inception = timm.create_model("inception_resnet_v2", pretrained=False)
    save_file(
        {k: v.contiguous() for k, v in inception.state_dict().items()},
        str(tmp / "inception.safetensors"),
    )
    deeplab = deeplabv3_resnet50(weights=None, weights_backbone=None, num_classes=21, aux_loss=True)
    torch.save(deeplab.state_dict(), tmp / "deeplab.pth")
    return {
        "embedding": "inception_resnet_v2",
        "segmentation": "deeplabv3_resnet50",
        "embedding_weights": str(tmp / "inception.safetensors"),
        "segmentation_weights": str(tmp / "deeplab.pth"),
    }


def feature_costs(tmp: Path, paper: dict[str, str]) -> None:
    from safetensors.torch import load_file

    grey = torch.rand(8, 1, 256, 256)
    print("\n| priors for one photo (both flips), batch 8 | ms per photo | vs the cache |")
    print("|---|---|---|")
    entries = sorted((tmp / "cache").rglob("*.safetensors"))[:64]
    read = best_seconds(lambda: [load_file(str(p)) for p in entries]) / len(entries)
    print(f"| read from the feature cache | {read * 1e3:.2f} | 1x |")
    for label, priors in [
        (
            "EfficientNet-Lite0 (embedding + CAM prior, one pass)",
            SemanticPriors("efficientnet_lite0", "efficientnet_lite0_cam"),
        ),
        (
            "Inception-ResNet-v2 + DeepLabV3-ResNet50 (the paper's)",
            SemanticPriors(
                paper["embedding"],
                paper["segmentation"],
                paper["embedding_weights"],
                paper["segmentation_weights"],
            ),
        ),
    ]:
        with torch.inference_mode():
            seconds = best_seconds(
                lambda p=priors: p(torch.cat([grey, grey.flip(-1)])), repeats=1
            ) / len(grey)
        print(f"| {label} | {seconds * 1e3:.0f} | {seconds / read:.0f}x |", flush=True)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--photos", type=int, default=64)
    parser.add_argument("--skip-steps", action="store_true", help="skip part 1 (slow in bf16)")
    parser.add_argument("--bf16-batch", type=int, default=2, help="batch of the bf16 steps")
    args = parser.parse_args()
    torch.manual_seed(0)
    print(machine())
    start = time.perf_counter()
    with tempfile.TemporaryDirectory() as name:
        tmp = Path(name)
        photos = photo_folder(tmp, args.photos)
        print(f"photos: {'../shared/datasets/train' if SHARED.is_dir() else 'synthetic'}")
        paper = paper_weights(tmp)
        decode_costs(photos)
        epochs(tmp, photos, args.photos, paper)
        feature_costs(tmp, paper)
        if not args.skip_steps:
            step_rates(tmp, photos, args.bf16_batch)
    print(f"\n(benchmark took {time.perf_counter() - start:.0f} s)")


if __name__ == "__main__":
    main()
