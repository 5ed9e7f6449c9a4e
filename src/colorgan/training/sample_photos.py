"""`colorgan data sample`: a folder of colour photos anyone may use, to try training from a
fresh clone before pointing it at photos of one's own.

They are crops (random position, size and aspect, some mirrored) of the public-domain and
CC0 colour photos that ship inside scikit-image (an astronaut, a cat, a cup of coffee, a
rocket launch, the Hubble deep field). A model trained on them learns these five scenes'
colours, not the world's: the set shows the path end to end, not what a large set teaches.
"""

from __future__ import annotations

import random
from pathlib import Path

from PIL import Image
from tqdm import tqdm

from colorgan.base.errors import ColorganError, shown
from colorgan.base.files import folder_written_whole, output_folder

SOURCES = ("astronaut", "chelsea", "coffee", "rocket", "hubble_deep_field")
SIDE = 160  # pixels of each crop's short side: above the quick recipe's 128


def write_sample_photos(out: Path, count: int = 600, seed: int = 0, progress: bool = True) -> int:
    """`count` JPEG crops in the new (or empty) folder `out`, written whole; returns how
    many."""
    import skimage.data

    output_folder(str(out), "the folder")
    if out.is_dir() and any(out.iterdir()):
        raise ColorganError(f"{shown(str(out))} already holds files; choose a new folder")
    if count < 1:
        raise ColorganError(f"--count must be at least 1, not {count}")
    photos = [Image.fromarray(getattr(skimage.data, name)()) for name in SOURCES]
    rng = random.Random(seed)
    with folder_written_whole(out) as tmp:
        for i in tqdm(range(count), desc="sample photos", unit="photo", disable=not progress):
            k = i % len(SOURCES)
            crop = _crop(photos[k], rng)
            crop.save(tmp / f"{SOURCES[k]}-{i:04d}.jpg", quality=92)
    return count


def _crop(photo: Image.Image, rng: random.Random) -> Image.Image:
    """A random crop of 20% to 100% of the photo's area, aspect 3/4 to 4/3, mirrored half the
    time, its short side SIDE pixels."""
    w, h = photo.size
    area = rng.uniform(0.2, 1.0) * w * h
    aspect = rng.uniform(3 / 4, 4 / 3)
    cw, ch = min(w, round((area * aspect) ** 0.5)), min(h, round((area / aspect) ** 0.5))
    x, y = rng.randint(0, w - cw), rng.randint(0, h - ch)
    crop = photo.crop((x, y, x + cw, y + ch))
    if rng.random() < 0.5:
        crop = crop.transpose(Image.Transpose.FLIP_LEFT_RIGHT)
    scale = SIDE / min(crop.size)
    return crop.resize((round(cw * scale), round(ch * scale)), Image.Resampling.BICUBIC)
