"""Training the restorer's network (models.damage.DamageNet) on synthetic damage
(training.damage), read top to bottom: the photos, the data, the loop, the checkpoints.

Each step draws fresh damage over random crops of the training photos (the same photos each
time, never the same damage), so the network sees millions of scratches and no two alike; the
damage of a step is fixed by (seed, step), so a resumed run draws what the stopped one would
have. The loss is the mask's (binary cross-entropy, damaged places weighted up as they are
few, plus a soft Dice term that thin lines need) and the fill's (L1 to the photo without the
marks, on the marks and a pixel around them). Validation is a fixed set of held-out photos
damaged once by seed: the mask's F1 and the fill's PSNR there, logged and kept with each
checkpoint; the best checkpoint's network is what `export` writes.
"""

from __future__ import annotations

import json
import logging
import math
import time
from dataclasses import asdict, dataclass
from pathlib import Path

import cv2
import numpy as np
import torch
import torch.nn.functional as F
from PIL import Image

from colorgan.base.images import load_rgb
from colorgan.colour.pixels import lightness_grey
from colorgan.models.damage import MULTIPLE, DamageNet
from colorgan.training.checkpoint import latest_checkpoint, load_latest, save_checkpoint
from colorgan.training.damage import damage

log = logging.getLogger("colorgan")


@dataclass
class RestorerRecipe:
    """How the restorer is trained (saved with the run; a resume keeps it)."""

    steps: int = 6000
    batch: int = 12
    crop: int = 192  # the side of a training crop
    lr: float = 2e-3
    encoder_lr_scale: float = 0.1  # Lite0's pretrained stages learn at this share of lr
    mask_weight: float = 1.0  # damaged places weighed against clean ones in the mask's loss
    fill_weight: float = 1.0
    seed: int = 0
    val_photos: int = 96
    every: int = 250  # validate and checkpoint this often
    workers: int = 1
    clean_share: float = 0.4  # crops left without local damage: what not to mark
    worn: float = 0.4  # crops faded, and grainy, each with this probability (training.damage)
    # a network's weights to start from (a run's best): its tensors of the same name and
    # shape; the rest (a grown network's new layers) start afresh
    init_from: str | None = None
    # photos are drawn with their short side from this share of 512 pixels to 1.5 times it:
    # a 256-pixel photo's texture is twice as fine as a 512-pixel one's, and a network that
    # has only seen the latter marks the former's texture as scratches
    smallest: float = 0.4


def large_enough(paths: list[Path], side: int) -> list[Path]:
    """The photos whose short side is at least a crop's: smaller ones would be enlarged,
    blurring the texture the network must learn to leave alone."""
    from colorgan.base.images import open_unloaded

    kept = []
    for path in paths:
        try:
            with open_unloaded(path) as image:
                if min(image.size) >= side:
                    kept.append(path)
        except (OSError, ValueError, SyntaxError):
            continue  # unreadable: not drawn
    return kept


def grey_crop(path: Path, side: int, rng: np.random.Generator, smallest: float = 0.4) -> np.ndarray:
    """A photo's grey of CIE lightness, a random square of it at `side` (the photo scaled
    from `smallest` to 1.5 of 512 pixels first, so that damage meets texture at the scales
    photos come at)."""
    rgb = Image.fromarray(load_rgb(path, 512, reduced=True))
    scale = float(np.exp(rng.uniform(np.log(smallest), np.log(1.5))))
    short = max(side, int(min(rgb.size) * scale))
    factor = short / min(rgb.size)
    rgb = rgb.resize((max(side, round(rgb.width * factor)), max(side, round(rgb.height * factor))))
    x = int(rng.integers(0, rgb.width - side + 1))
    y = int(rng.integers(0, rgb.height - side + 1))
    return np.asarray(lightness_grey(rgb.crop((x, y, x + side, y + side))))


class Damages(torch.utils.data.Dataset):
    """Item i of step s: a fresh crop of a photo drawn by (seed, s, i), freshly damaged."""

    def __init__(self, paths: list[Path], recipe: RestorerRecipe, step: int) -> None:
        self.paths, self.recipe, self.step = paths, recipe, step

    def __len__(self) -> int:
        return (self.recipe.steps - self.step) * self.recipe.batch

    def __getitem__(self, index: int) -> tuple[torch.Tensor, ...]:
        step, slot = divmod(index, self.recipe.batch)
        rng = np.random.default_rng([self.recipe.seed, self.step + step, slot])
        path = self.paths[int(rng.integers(len(self.paths)))]
        crop = grey_crop(path, self.recipe.crop, rng, self.recipe.smallest)
        made = damage(crop, rng, 1 - self.recipe.clean_share, self.recipe.worn)
        return _tensors(made)


def _tensors(made) -> tuple[torch.Tensor, ...]:  # a training.damage.Damaged
    around = cv2.dilate(made.mask.astype(np.uint8), np.ones((3, 3), np.uint8)) > 0
    planes = (made.damaged / 255.0, made.mask, made.unmarked / 255.0, around)
    return tuple(torch.from_numpy(np.asarray(p, np.float32))[None] for p in planes)


def losses(
    out: torch.Tensor,
    mask: torch.Tensor,
    unmarked: torch.Tensor,
    around: torch.Tensor,
    recipe: RestorerRecipe,
) -> dict[str, torch.Tensor]:
    logit, fill = out[:, :1], out[:, 1:]
    weight = 1 + (recipe.mask_weight - 1) * mask
    bce = F.binary_cross_entropy_with_logits(logit, mask, weight=weight)
    p = torch.sigmoid(logit)
    dice = 1 - (2 * (p * mask).sum() + 1) / (p.sum() + mask.sum() + 1)
    fill_l1 = ((fill - unmarked).abs() * around).sum() / around.sum().clamp(min=1)
    return {
        "bce": bce,
        "dice": dice,
        "fill": fill_l1,
        "total": bce + dice + recipe.fill_weight * fill_l1,
    }


def optimizer(net: DamageNet, recipe: RestorerRecipe) -> torch.optim.Optimizer:
    encoder = [p for p in net.encoder.parameters() if p.requires_grad]
    rest = [p for n, p in net.named_parameters() if not n.startswith("encoder.")]
    groups = [
        {"params": encoder, "lr": recipe.lr * recipe.encoder_lr_scale},
        {"params": rest, "lr": recipe.lr},
    ]
    return torch.optim.AdamW(groups, weight_decay=1e-4)


def validation_set(paths: list[Path], recipe: RestorerRecipe) -> list:
    """Held-out photos damaged once, by seed: the same set for every validation."""
    rng = np.random.default_rng([recipe.seed, 1 << 20])
    side = recipe.crop // MULTIPLE * MULTIPLE
    crops = [grey_crop(p, side, rng, recipe.smallest) for p in paths[: recipe.val_photos]]
    return [damage(crop, rng) for crop in crops]


@torch.no_grad()
def validate(net: DamageNet, held: list) -> dict[str, float]:
    net.eval()
    tp = fp = fn = 0.0
    errors = []
    for made in held:
        out = net(torch.from_numpy(made.damaged / np.float32(255))[None, None])[0]
        found = (out[0] > 0).numpy()
        tp += float((found & made.mask).sum())
        fp += float((found & ~made.mask).sum())
        fn += float((~found & made.mask).sum())
        fill = out[1].numpy() * 255
        restored = np.where(made.mask, fill, made.damaged)
        errors.append(((restored - made.unmarked.astype(np.float32)) ** 2).mean())
    net.train()
    f1 = 2 * tp / max(2 * tp + fp + fn, 1)
    psnr = float(np.mean([10 * np.log10(255**2 / max(e, 1e-6)) for e in errors]))
    return {
        "f1": f1,
        "precision": tp / max(tp + fp, 1),
        "recall": tp / max(tp + fn, 1),
        "fill_psnr": psnr,
    }


BEST = "best.safetensors"  # the network of the best validation F1 so far


def _save_best(net: DamageNet, path: Path) -> None:
    from safetensors.torch import save_file

    from colorgan.base.files import atomic_file

    tensors = {k: v.detach().cpu().contiguous() for k, v in net.state_dict().items()}
    with atomic_file(path) as tmp:
        save_file(tensors, str(tmp))


def train(
    run_dir: Path, train_paths: list[Path], val_paths: list[Path], recipe: RestorerRecipe
) -> Path:
    """Train (or resume, where `run_dir` holds checkpoints) and return the run folder."""
    run_dir.mkdir(parents=True, exist_ok=True)
    net = DamageNet()
    for p in net.encoder._conv_stem.parameters():  # the stem stays ImageNet's
        p.requires_grad = False
    opt = optimizer(net, recipe)
    step, best = 0, {"f1": -1.0}
    if recipe.init_from and latest_checkpoint(run_dir) is None:
        from safetensors.torch import load_file

        own = net.state_dict()
        given = load_file(recipe.init_from)
        kept = {k: v for k, v in given.items() if k in own and own[k].shape == v.shape}
        net.load_state_dict(kept, strict=False)
        log.info("started from %d of %d tensors of %s", len(kept), len(own), recipe.init_from)
    if latest_checkpoint(run_dir) is not None:
        _, state = load_latest(run_dir, {"net": net})
        opt.load_state_dict(state["optimizer"])
        step, best = state["step"], json.loads(state["best"])
        log.info("resumed at step %d", step)
    (run_dir / "recipe.json").write_text(json.dumps(asdict(recipe), indent=1))
    held = validation_set(large_enough(val_paths, recipe.crop), recipe)
    train_paths = large_enough(train_paths, recipe.crop)
    log.info("%d photos to damage, %d held out", len(train_paths), len(held))
    data = torch.utils.data.DataLoader(
        Damages(train_paths, recipe, step), batch_size=recipe.batch, num_workers=recipe.workers
    )
    started = time.time()
    for damaged, mask, unmarked, around in data:
        for group, base in zip(
            opt.param_groups, (recipe.lr * recipe.encoder_lr_scale, recipe.lr), strict=True
        ):
            group["lr"] = base * 0.5 * (1 + math.cos(math.pi * step / recipe.steps))  # cosine
        terms = losses(net(damaged), mask, unmarked, around, recipe)
        opt.zero_grad(set_to_none=True)
        terms["total"].backward()
        opt.step()
        step += 1
        if step % 25 == 0:
            rate = (time.time() - started) / 25
            started = time.time()
            log.info(
                "step %d %s (%.1f s/step)",
                step,
                " ".join(f"{k} {v.item():.4f}" for k, v in terms.items()),
                rate,
            )
        if step % recipe.every == 0 or step == recipe.steps:
            scores = validate(net, held)
            log.info(
                "step %d validation %s",
                step,
                json.dumps({k: round(v, 4) for k, v in scores.items()}),
            )
            if scores["f1"] > best["f1"]:
                best = {**scores, "step": step}
                _save_best(net, run_dir / BEST)
            state = {
                "optimizer": opt.state_dict(),
                "step": step,
                "best": json.dumps(best),
                "scores": json.dumps(scores),
            }
            save_checkpoint(run_dir, step, {"net": net}, state, json.dumps(asdict(recipe)))
    return run_dir
