"""A model card's picture: eval photos drawn by seed (not picked), grey | colorgan | original,
or with `--compare` another model beside it (grey | colorgan | the other | original), or with
`--bank DIR` the model with a reference bank beside it.

Run from the repository root: `.venv/bin/python scripts/figures/model_card_grid.py --model paper
--out docs/models/paper.jpg` (or `--weights FILE`; `--compare FILE --compare-title "before"`).
Each photo is shown at the evaluation protocol's 256 x 256, as `colorgan evaluate` scores it.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw

from colorgan.base.images import find_images
from colorgan.engines.torch_engine import TorchEngine
from colorgan.evaluation.evaluate import EvalPhoto, Scored
from colorgan.pipeline.colorizer import Colorizer
from colorgan.pipeline.settings import Settings

EVAL = Path(__file__).resolve().parents[2].parent / "shared" / "datasets" / "eval"


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--model", default="default")
    parser.add_argument("--weights")
    parser.add_argument("--data", default=str(EVAL))
    parser.add_argument("--photos", type=int, default=24)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--cell", type=int, default=160)
    parser.add_argument("--compare", help="a generator file shown beside the model")
    parser.add_argument("--title", default="colorgan")
    parser.add_argument("--compare-title", default="before")
    parser.add_argument("--bank", help="a reference bank: a column of the model with it")
    parser.add_argument("--bank-k", type=int, default=3)
    parser.add_argument("--bank-trust", default="0.7,0.95", help="its LOW,HIGH confidence")
    parser.add_argument("--bank-title", default="retrieved references")
    parser.add_argument("--out", required=True)
    args = parser.parse_args()
    models = [Scored(Colorizer(TorchEngine(args.weights, model=args.model, precision="fp32")))]
    titles = ["grey input", args.title]
    if args.compare:
        models.append(Scored(Colorizer(TorchEngine(args.compare, precision="fp32"))))
        titles.append(args.compare_title)
    if args.bank:
        from dataclasses import replace

        from colorgan.pipeline.bank import Bank

        low, high = (float(v) for v in args.bank_trust.split(","))
        bank = replace(Bank.load(args.bank), low=low, high=high)
        models.append(Scored(models[0].colorizer, Settings(bank=bank, bank_k=args.bank_k)))
        titles.append(args.bank_title)
    titles.append("original")
    columns = len(titles)
    paths = find_images(args.data)
    rng = np.random.default_rng(args.seed)
    chosen = sorted(rng.choice(len(paths), min(args.photos, len(paths)), replace=False))
    per_row, cell, header = 2, args.cell, 18  # two photos (six cells) per line
    rows = -(-len(chosen) // per_row)
    grid = Image.new("RGB", (cell * columns * per_row + 8, header + cell * rows), "white")
    draw = ImageDraw.Draw(grid)
    for k in range(per_row):
        for c, title in enumerate(titles):
            draw.text((k * (columns * cell + 8) + c * cell + 4, 3), title, fill="black")
    for n, index in enumerate(chosen):
        photo = EvalPhoto.load(paths[index])
        tiles = (photo.grey(), *(photo.colorized(m) for m in models), photo.target)
        left, top = (n % per_row) * (columns * cell + 8), header + (n // per_row) * cell
        for c, tile in enumerate(tiles):
            image = Image.fromarray(tile).resize((cell, cell), Image.Resampling.BICUBIC)
            grid.paste(image, (left + c * cell, top))
    grid.save(args.out, quality=85)
    print(f"wrote {args.out}: {len(chosen)} photos of {args.data}, seed {args.seed}")


if __name__ == "__main__":
    main()
