"""What a run measures of itself on its validation photos: the mean L1 of ab with its standard
error (each epoch's log line and losses.csv), and the grid of sample colorizations."""

from __future__ import annotations

import math

import torch
from torchvision.utils import make_grid

from colorgan.colour.tensors import lab_normalized_to_rgb
from colorgan.training import distributed
from colorgan.training.data import TrainingData
from colorgan.training.gan import ColorGAN
from colorgan.training.losses import photo_l1


@torch.no_grad()
def validation_l1(
    gan: ColorGAN, data: TrainingData, world: distributed.World, device: torch.device
) -> tuple[float, float]:
    """Mean L1 of ab on the validation photos (unflipped), with its standard error over the
    photos, so that two epochs' figures can be told apart from noise; over every rank's."""
    if len(data.val_set) == 0:
        return float("nan"), float("nan")
    n, total, squares = 0.0, 0.0, 0.0  # photos, their L1s' sum and sum of squares
    for batch in data.val_loader:
        if batch is None:
            continue
        x = data.inputs(batch)
        per_photo = photo_l1(gan.predict(x), x["ab"]).double()
        n += len(per_photo)
        total += per_photo.sum().item()
        squares += per_photo.square().sum().item()
    n, total, squares = distributed.all_sum([n, total, squares], world, device)
    mean = total / max(n, 1)
    variance = max(squares - n * mean**2, 0.0) / (n - 1) if n > 1 else float("nan")
    return mean, math.sqrt(variance / max(n, 1))


@torch.no_grad()
def sample_grid(gan: ColorGAN, data: TrainingData, photos: int) -> torch.Tensor | None:
    """A grid of validation photos, one per row: grey input, colorization, original."""
    x = data.validation_batch(photos)
    if x is None:
        return None
    fake = gan.predict(x)
    l_norm = x["l_norm"]
    grey = lab_normalized_to_rgb(l_norm, torch.zeros_like(x["ab"]))
    columns = [grey, lab_normalized_to_rgb(l_norm, fake), lab_normalized_to_rgb(l_norm, x["ab"])]
    return make_grid(torch.stack(columns, 1).flatten(0, 1).cpu(), nrow=3, padding=2, pad_value=1.0)
