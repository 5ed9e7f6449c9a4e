"""Training: `ColorGAN` (the nets and their steps), `Trainer` (the loop), and what feeds them.

gan.py         ColorGAN: G, D, the EMA of G, optimizers, the two steps, checkpoint state
trainer.py     Trainer: epochs, validation, samples, checkpoints, logging
data.py        TrainingData: the run's photos, priors and colour weights as device batches
photos.py      finding, sampling, splitting and checking training photos
datasets.py    the seeded epoch sampler, the photo dataset, batching
cache.py       the on-disk cache of the priors' outputs
checkpoint.py  atomic checkpoint folders
runlog.py      losses.csv, TensorBoard, sample grids and the loss plots
distributed.py torchrun / DistributedDataParallel helpers
"""

from __future__ import annotations

__all__ = ["ColorGAN", "Trainer"]


def __getattr__(name: str):  # lazy, so that light modules import light
    if name == "ColorGAN":
        from colorgan.training.gan import ColorGAN

        return ColorGAN
    if name == "Trainer":
        from colorgan.training.trainer import Trainer

        return Trainer
    raise AttributeError(name)
