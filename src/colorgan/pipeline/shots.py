"""A film's shots, and what each frame is coloured from.

A hard cut is where the frame's lightness changes beyond what motion does: the mean change of
L on a SIDE x SIDE thumbnail, less the whole frame's change (old film's exposure flicker),
over CUT. On the thumbnail a pan or zoom of a few pixels a frame moves little (at most 0.053
over twenty photos panned by 6 px of 240) and another picture much (at least 0.22 between
them), where at the model's size a textured photo panned by 3 px counts as a cut. The user's colour
hints are for the first frame and hold over the first shot; the film's references hold over
every frame; a key frame (a coloured frame N of the film) holds from frame N to the next cut.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
from PIL import Image

from colorgan.colour.pixels import small_lightness
from colorgan.pipeline.reference import Reference

SIDE = 8  # the thumbnail shots are told apart on
CUT = 0.12  # a shot ends where the thumbnail's mean change of L (less the frame's) is above it


class Shots:
    """Frame by frame, in order: the index of the shot each frame is in (0, 1, ...)."""

    def __init__(self, cut: float = CUT) -> None:
        self.cut = cut
        self.prev: np.ndarray | None = None
        self.shot = 0

    def __call__(self, grey: Image.Image) -> int:
        l_small = small_lightness(grey, SIDE)
        if self.prev is not None:
            step = l_small - self.prev
            self.shot += bool(np.abs(step - step.mean()).mean() > self.cut)
        self.prev = l_small
        return self.shot


class FrameSources:
    """Frame by frame, in order: (whether the film's hints hold, the references that do)."""

    def __init__(
        self,
        hinted: bool,
        references: Sequence[Reference],
        key_frames: Mapping[int, Reference],
    ) -> None:
        self.shots = Shots()
        self.hinted, self.references, self.key_frames = hinted, list(references), key_frames
        self.index = 0
        self.held: list[tuple[int, Reference]] = []  # (its shot, a key frame's reference)

    def __call__(self, grey: Image.Image) -> tuple[bool, list[Reference]]:
        shot = self.shots(grey)
        if self.index in self.key_frames:
            self.held.append((shot, self.key_frames[self.index]))
        self.held = [(s, ref) for s, ref in self.held if s == shot]
        self.index += 1
        return self.hinted and shot == 0, [*self.references, *(ref for _, ref in self.held)]
