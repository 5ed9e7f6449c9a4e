"""One run of the engine for a batch, and what becomes of its answer: the photos' hints as maps
at the model's size, the model's change for them kept within each hint's reach (reach.py),
the references' colour blended in where they are confident (reference.py), and each photo's
colour at the model's own saturation times the one it was asked for."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from PIL import Image

from colorgan.base.errors import ColorganError
from colorgan.engines import Engine
from colorgan.pipeline import reference
from colorgan.pipeline.reach import reach
from colorgan.pipeline.request import Request
from colorgan.spec.hints import Hint, hint_maps
from colorgan.spec.meta import ModelSpec

Colour = tuple[np.ndarray, np.ndarray]  # the references' ab (2, S, S) and confidence (S, S)


@dataclass
class Asked:
    """What one photo of a batch asks of the model's answer."""

    saturation: float
    hints: Sequence[Hint]
    size: tuple[int, int]  # the photo's (width, height): where its hints are
    colour: Colour | None = None  # its references' colour at the model's size
    confined: bool = True  # its hints' change kept within their reach

    @classmethod
    def of(
        cls, request: Request, photo: Image.Image, colour: Colour | None, with_hints: bool = True
    ) -> Asked:
        settings = request.settings
        hints = settings.hints if with_hints else ()
        confined = settings.hint_reach == "object"
        return cls(settings.saturation, hints, photo.size, colour, confined)


def require_hints(spec: ModelSpec) -> None:
    """ColorganError (one line) where the model takes no colour hints."""
    if not spec.hints:
        raise ColorganError(
            "this model takes no colour hints (train one with model.lite_unet.hints: true)"
        )


class Prediction:
    """(normalized L at the model's size, L at the priors' size) -> each photo's ab, as its
    request asks: pipeline.compose calls it once for a batch."""

    def __init__(self, engine: Engine, asked: Sequence[Asked]) -> None:
        self.engine, self.asked = engine, list(asked)
        self.maps = self._hint_maps()

    def __call__(self, l_small: np.ndarray, prior: np.ndarray | None) -> np.ndarray:
        if self.maps is None:
            ab = self.engine.predict(l_small, prior, None)
        else:
            ab = self._within_reach(l_small, prior)
        return self.answer(ab, l_small)

    def answer(self, ab: np.ndarray, l_norm: np.ndarray) -> np.ndarray:
        """The model's ab for each photo (B, 2, H, W) and its normalized L (B, 1, H, W), at
        any one size -> the colour each photo asks: times the model's stored saturation, its
        references' colour blended in where confident (following the photo's edges), times
        its own saturation. The one chain of photos, films and evaluation."""
        own = self.engine.spec.saturation
        out = []
        for k, asked in enumerate(self.asked):
            if asked.colour is None:
                out.append(ab[k] * (asked.saturation * own))
            else:
                colour = reference.follow_edges(asked.colour, l_norm[k, 0])
                out.append(reference.blend(ab[k] * own, colour) * asked.saturation)
        return np.stack(out)

    def _hint_maps(self) -> np.ndarray | None:
        """Each photo's hints as maps at the model's size (B, CHANNELS, S, S); None without."""
        if not any(asked.hints for asked in self.asked):
            return None
        require_hints(self.engine.spec)
        size = self.engine.spec.size
        maps = [hint_maps(list(a.hints), *a.size, size) for a in self.asked]
        return np.stack(maps)

    def _within_reach(self, l_small: np.ndarray, prior: np.ndarray | None) -> np.ndarray:
        """The model's ab with the hints, its change for them kept within each hint's reach
        where the photo asks it; within it, the user's points also win over the references'
        colour. One run of the engine: the hinted photos are run again without their hints
        beside."""
        maps = self.maps
        hinted = [k for k in range(len(maps)) if maps[k, -1].any()]
        runs = self.engine.predict(
            np.concatenate([l_small, l_small[hinted]]),
            None if prior is None else np.concatenate([prior, prior[hinted]]),
            np.concatenate([maps, np.zeros_like(maps[hinted])]),
        )
        ab, auto = runs[: len(maps)], runs[len(maps) :]
        for j, k in enumerate(hinted):
            asked = self.asked[k]
            weight = reach(l_small[k, 0], maps[k, -1] > 0)
            if asked.confined:
                ab[k] = auto[j] + weight * (ab[k] - auto[j])
            if asked.colour is not None:  # the user's points win over the references' colour
                colour, confidence = asked.colour
                asked.colour = (colour, confidence * (1.0 - weight))
        return ab
