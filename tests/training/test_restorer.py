"""The restorer's training (training.restorer): it runs, keeps its best network, and resumes
from its checkpoints (read back weights-only) where it stopped."""

from dataclasses import replace

import pytest
from safetensors.torch import load_file

from colorgan.training.checkpoint import read_checkpoint
from colorgan.training.restorer import RestorerRecipe, train
from tests.conftest import make_photo

TINY = RestorerRecipe(steps=4, batch=2, crop=64, val_photos=2, every=2, workers=0)


@pytest.mark.training
def test_the_restorer_trains_keeps_its_best_and_resumes(tmp_path):
    photos = []
    for k in range(6):
        photos.append(tmp_path / f"p{k}.png")
        make_photo(k, (96, 80)).save(photos[-1])
    run = tmp_path / "run"
    train(run, photos[:4], photos[4:], replace(TINY, steps=2))
    weights, state = read_checkpoint(run / "checkpoints" / "step-00000002", ["net"])
    assert state["step"] == 2 and "head.weight" in weights["net"]
    assert "head.weight" in load_file(str(run / "best.safetensors"))
    train(run, photos[:4], photos[4:], TINY)  # goes on from step 2 to 4
    _, state = read_checkpoint(run / "checkpoints" / "step-00000004", ["net"])
    assert state["step"] == 4


def test_the_pipeline_tiles_photos_at_sides_the_network_takes():
    """pipeline.restore (no torch) rounds each tile to SIDES; the network needs its own
    multiple: if the network grows a coarser stage, this says the pipeline must follow."""
    from colorgan.models.damage import MULTIPLE
    from colorgan.pipeline import restore

    assert restore.SIDES % MULTIPLE == 0 and restore.TILE % restore.SIDES == 0
