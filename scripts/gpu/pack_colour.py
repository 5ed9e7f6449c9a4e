"""Pack a lite_unet recipe's training photos and encoder for one run on a lent GPU (issue 20).

The device machine receives the working tree and what a call carries, 64 MiB in all, and has
neither the shared photos nor the encoder's pip package. So only the photos the recipe trains
on travel: its validation photos stay here, and the model that comes back is scored on them
as any other. Each is resized to `--short` px on its short side, its aspect kept so that the
training crops cover the same regions, and stored as WebP (quality 25 moves ab by about 2 Lab
units on average, against the model's own error of about 12). The first source goes whole;
the others in a seeded random order until the byte budget is spent. The recipe itself is
written beside them, pointed at the packed folders and at an fp16 copy of its encoder's
ImageNet weights (the start of training, where fp16 rounding is far below what the first
steps change).

Usage: python scripts/gpu/pack_colour.py [CONFIG] [--budget-mib 33] [--short 192] [--set K=V]
Writes .gpu/colour.zip and .gpu/encoder_fp16.safetensors; scripts/gpu/run_colour.sh says how
to send them.
"""

from __future__ import annotations

import argparse
import random
import subprocess
import sys
import zipfile
from pathlib import Path

import yaml
from PIL import Image
from safetensors.torch import save_file
from tqdm import tqdm

from colorgan.base.images import BadImage, open_image, to_rgb
from colorgan.config import load_config
from colorgan.priors.backbones import lite_weights_file, load_state_dict_file
from colorgan.training.photos import split_sources

PACKED = Path(".gpu")  # where the device run finds everything, relative to the repo root
WEIGHTS = "src/colorgan/weights/"  # the bundled models, which the run does not need


def shrunk(path: Path, short: int) -> Image.Image:
    """The photo as RGB with its short side at most `short` px, aspect kept."""
    img = to_rgb(open_image(path))
    scale = short / min(img.size)
    if scale < 1:
        size = (max(1, round(img.width * scale)), max(1, round(img.height * scale)))
        img = img.resize(size, Image.Resampling.BICUBIC)
    return img


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("config", nargs="?", default="configs/research/lite2-192.yaml")
    parser.add_argument("--budget-mib", type=float, default=33.0)
    parser.add_argument("--short", type=int, default=192)
    parser.add_argument("--quality", type=int, default=25)
    parser.add_argument("--set", action="append", default=[], metavar="KEY=VALUE")
    args = parser.parse_args()
    cfg = load_config(args.config, args.set)
    if cfg.model.generator != "lite_unet":
        print(f"{args.config}: a lite_unet recipe is needed, not {cfg.model.generator}")
        return 1
    work = PACKED / "colour"
    work.mkdir(parents=True, exist_ok=True)
    budget, total = args.budget_mib * 2**20, 0
    archive = zipfile.ZipFile(PACKED / "colour.zip.part", "w", zipfile.ZIP_STORED)
    sources, counts = [], []
    for i, ((train, _val, weight), source) in enumerate(
        zip(split_sources(cfg.data), cfg.data.pool(), strict=True)
    ):
        folder = work / f"{i}-{Path(source.root).name}"
        folder.mkdir(parents=True, exist_ok=True)
        order = list(train)
        random.Random(i).shuffle(order)  # a budget cut drops a random share of a source
        kept = 0
        for path in tqdm(order, desc=f"packing {source.root}", unit="img"):
            target = folder / f"{path.stem}.webp"
            if not target.exists():
                try:
                    shrunk(path, args.short).save(target, "WEBP", quality=args.quality, method=6)
                except (BadImage, OSError):
                    continue  # the trainer skips it too
            size = target.stat().st_size
            if total + size > budget:
                if i == 0:
                    print(f"the budget does not hold {source.root} whole")
                    return 1
                break
            archive.write(target, arcname=str(target.relative_to(PACKED)))
            total, kept = total + size, kept + 1
        # the packed share draws as many photos an epoch as the whole source did
        share = kept / max(1, len(train))
        sources.append({"root": str(folder), "weight": weight / share, "val_fraction": 0.02})
        counts.append(f"{kept} of {len(train)} from {source.root}")
    weights = PACKED / "encoder_fp16.safetensors"
    state = load_state_dict_file(lite_weights_file(cfg.model.options.encoder))
    half = {  # the ImageNet classifier is never used
        k: (v.half() if v.is_floating_point() else v).contiguous()
        for k, v in state.items()
        if not k.startswith("_fc.")
    }
    save_file(half, str(weights))
    recipe = yaml.safe_load(cfg.to_yaml())
    recipe["data"].update(sources=sources, num_images=None, num_workers=None)
    recipe["model"]["lite_unet"]["encoder_weights"] = str(weights)
    archive.writestr("colour/config.yaml", yaml.safe_dump(recipe, sort_keys=False))
    archive.close()
    (PACKED / "colour.zip.part").replace(PACKED / "colour.zip")
    mib = total / 2**20, weights.stat().st_size / 2**20
    print(f"{'; '.join(counts)}: {mib[0]:.1f} MiB of photos; encoder {mib[1]:.1f} MiB")
    print(f"what the call sends: {travelling() / 2**20:.1f} MiB of the 64 allowed")
    return 0


def travelling() -> int:
    """Bytes the device call sends: the tracked files but the bundled weights (moved aside
    for the call), the pack and the wheels."""
    tracked = subprocess.run(["git", "ls-files", "-z"], capture_output=True, check=True).stdout
    names = [n for n in tracked.decode().split("\0") if n and not n.startswith(WEIGHTS)]
    carried = [PACKED / "colour.zip", PACKED / "encoder_fp16.safetensors", *Path(".whl").glob("*")]
    return sum(Path(n).stat().st_size for n in [*names, *carried] if Path(n).is_file())


if __name__ == "__main__":
    sys.exit(main())
