"""A run folder as the rest of colorgan sees it once training is done: its latest checkpoint's
generator, written as one generator file (what `colorgan export RUN_DIR` starts from)."""

from __future__ import annotations

from pathlib import Path


def export_run(run_dir: Path, target: Path, half: bool = False) -> None:
    """The generator (its EMA where the run keeps one) of the run's latest checkpoint, as a
    generator file at `target` (fp16 weights with `half`)."""
    from colorgan.training.gan import ColorGAN

    ColorGAN.from_checkpoint(run_dir).export(target, half=half)
