"""Saturation about each photo's own mean colour, beside the plain saturation that every
colorgan engine applies: ab' = mean + k (ab - mean) keeps the photo's overall colour, and so
its colour cast, while the colours around it spread. Does that buy colourfulness without the
cost in KID that scaling ab pays? (docs/results/centred-saturation.md.)

Run from the repository root: `.venv/bin/python scripts/research/centred_saturation.py --val-of
configs/default.yaml --k 1,1.25,1.5,1.75` (or `--data FOLDER`; `--weights FILE` for a run's
generator instead of the bundled default). Scored as `colorgan evaluate` scores, with KID.
"""

from __future__ import annotations

import argparse

import torch

from colorgan.config import load_config
from colorgan.evaluation import evaluate as ev
from colorgan.evaluation.fid import InceptionFeatures
from colorgan.training.photos import split_paths


class Centred:
    """A colorizer whose ab is spread by `k` about its own per-photo mean ab."""

    def __init__(self, colorizer: ev.Scored, k: float) -> None:
        self.colorizer, self.k = colorizer, k

    def predict_ab(self, l_norm: torch.Tensor) -> torch.Tensor:
        ab = self.colorizer.predict_ab(l_norm)
        mean = ab.mean(dim=(-2, -1), keepdim=True)
        return mean + self.k * (ab - mean)


def main() -> None:
    parser = argparse.ArgumentParser()
    where = parser.add_mutually_exclusive_group(required=True)
    where.add_argument("--data", help="a folder of photos")
    where.add_argument("--val-of", metavar="CONFIG.yaml", help="that config's validation split")
    parser.add_argument("--weights", help="a generator file (default: the bundled default)")
    parser.add_argument("--k", default="1.25,1.5,1.75", help="spreads about the mean")
    args = parser.parse_args()
    torch.set_num_threads(2)
    data = args.data or split_paths(load_config(args.val_of).data)[1]
    label, model = next(iter(ev.open_colorizers([args.weights or "default"], ev.CPU_FP32).items()))
    colorizers: dict[str, object] = {}
    for k in (float(v) for v in args.k.split(",")):
        colorizers[f"{label} scaled by {k:g}"] = model.at(k)
        colorizers[f"{label} spread by {k:g} about its mean"] = Centred(model, k)
    report = ev.evaluate(colorizers, data, features=InceptionFeatures())
    print(ev.metrics_table({ev.TITLES.get(k, k): v for k, v in report["results"].items()}))


if __name__ == "__main__":
    main()
