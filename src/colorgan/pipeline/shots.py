"""A film's shots, what each frame is coloured from, and its colour steadied over time.

A hard cut is where the frame's lightness changes beyond what motion does: the mean change of
L on a SIDE x SIDE thumbnail, less the whole frame's change (old film's exposure flicker),
over CUT. On the thumbnail a pan or zoom of a few pixels a frame moves little (at most 0.053
over twenty photos panned by 6 px of 240) and another picture much (at least 0.22 between
them), where at the model's size a textured photo panned by 3 px counts as a cut. The user's colour
hints are for the first frame and hold over the first shot; the film's references hold over
every frame; a key frame (a coloured frame N of the film) holds from frame N to the next cut;
a bank's nearest photos to a shot's first frame hold over that shot.
Where a frame has references, the frame before it, as coloured, is one more (within the shot):
matched to it, a pan's or zoom's colour moves with the picture instead of jumping between
matches from frame to frame (flicker on a pan 0.27 against 0.42 without, benchmarks/
references.py). The `Stabiliser` then steadies every frame's colour over time, within a shot.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence

import numpy as np
from PIL import Image

from colorgan.colour.pixels import small_lightness
from colorgan.pipeline.reference import Reference

SIDE = 8  # the thumbnail shots are told apart on
CUT = 0.12  # a shot ends where the thumbnail's mean change of L (less the frame's) is above it


def moved(before: np.ndarray, after: np.ndarray) -> np.ndarray:
    """How much normalized L changed at each place between two frames, less the whole
    frame's change: old film's exposure flicker is neither motion nor a cut. The one measure
    of change that Shots (its mean on the thumbnail), the Stabiliser (at the model's size)
    and film_split (where both start afresh) share."""
    step = after - before
    return np.abs(step - step.mean())


class Shots:
    """Frame by frame, in order: the index of the shot each frame is in (0, 1, ...)."""

    def __init__(self, cut: float = CUT) -> None:
        self.cut = cut
        self.prev: np.ndarray | None = None
        self.shot = 0

    def __call__(self, grey: Image.Image) -> int:
        l_small = small_lightness(grey, SIDE)
        if self.prev is not None:
            self.shot += bool(moved(self.prev, l_small).mean() > self.cut)
        self.prev = l_small
        return self.shot


class FrameSources:
    """Frame by frame, in order: (whether the film's hints hold, the references that do)."""

    def __init__(
        self,
        hinted: bool,
        references: Sequence[Reference],
        key_frames: Mapping[int, Reference],
        retrieve: Callable[[Image.Image], list[Reference]] | None = None,
    ) -> None:
        self.shots = Shots()
        self.hinted, self.references, self.key_frames = hinted, list(references), key_frames
        self.retrieve = retrieve  # a bank's references for a shot, from its first frame
        self.found: list[Reference] = []
        self.index = 0
        self.held: list[tuple[int, Reference]] = []  # (its shot, a key frame's reference)
        self.previous: Reference | None = None  # the frame before, in colour (the film sets it)
        self.shot = 0

    @property
    def propagates(self) -> bool:
        """Whether frames are coloured one after another, each a reference for the next: in
        a film with references or key frames, which then hold steady over a pan or a zoom."""
        return bool(self.references or self.key_frames or self.retrieve)

    def __call__(self, grey: Image.Image) -> tuple[bool, list[Reference]]:
        shot = self.shots(grey)
        if shot != self.shot:  # a cut: the frame before shows another picture
            self.previous, self.shot = None, shot
            self.found = []
        if self.retrieve is not None and not self.found:  # a shot's first frame
            self.found = self.retrieve(grey)
        if self.index in self.key_frames:
            self.held.append((shot, self.key_frames[self.index]))
        self.held = [(s, ref) for s, ref in self.held if s == shot]
        self.index += 1
        sources = [*self.references, *(ref for _, ref in self.held), *self.found]
        if sources and self.previous is not None:
            sources.append(self.previous)
        return self.hinted and shot == 0, sources


class Stabiliser:
    """Running average of the small ab over frames, per pixel, where lightness holds still.

    Changes of L are taken less the whole frame's mean change, so a frame brightening or
    darkening as a whole (the exposure flicker of old film) counts as still. `keep`: the
    weight of the past where nothing moved (0: per-frame colour). `motion`: a change of
    normalized L (of 2) at which the past's weight has fallen to a third. `cut`: the frame's
    mean change of L that starts the average afresh. The defaults were chosen on clips
    made from training photos (benchmarks/video.py). `anchored`: for a film whose colour
    comes from references (key frames, photos, a bank), where a frame's own prediction adds
    less: steadier, so that a pan's matches do not flicker (benchmarks/references.py: on
    the pan 0.228 against 0.264, and the other clips no less steady, at 0.2-0.3 dB of PSNR
    on the moving ones).
    """

    ANCHORED = {"keep": 0.97, "motion": 0.3}

    def __init__(self, keep: float = 0.95, motion: float = 0.15, cut: float = 0.12) -> None:
        self.keep, self.motion, self.cut = keep, motion, cut
        self.l_prev: np.ndarray | None = None
        self.ab: np.ndarray | None = None

    def __call__(self, l_small: np.ndarray, ab: np.ndarray) -> np.ndarray:
        change = None if self.l_prev is None else moved(self.l_prev, l_small)
        if change is None or change.mean() > self.cut:
            self.ab = ab.copy()
        else:  # where the past does not match (moving things) the new prediction wins
            weight = self.keep * np.exp(-change / self.motion)
            self.ab = weight * self.ab + (1 - weight) * ab
        self.l_prev = l_small
        return self.ab
