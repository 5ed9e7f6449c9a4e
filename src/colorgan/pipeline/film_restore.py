"""A film's frames restored before they are coloured and written (Settings.restore):
`FilmRestore`, a Colouring that repairs each frame's luma and hands it on.

A film's damage is of two kinds, told apart by what a film alone tells:

1. **Dust and spots** sit on one frame, not its neighbours. A place is a spot where the frame
   differs, by more than SPOT grey levels and in the same sign, from both the frame before
   and the frame after as they look once moved onto it (OpenCV's DIS optical flow, on the
   8-bit grey), and those two moved neighbours agree with each other within AGREE (where
   they do not, something moves, appears or is hidden, and the frame's own pixel is the only
   witness). A moving object is in both neighbours and moves with the flow, so it is not
   taken for dust. A spot, grown by RIM pixels (its soft edge), takes the moved neighbours'
   mean.
2. **Scratches and cracks** that run over many frames are in the neighbours too, so the
   temporal test cannot see them: the spatial detector photos use (pipeline.restore's
   network, `damage_mask`) finds them on each frame, and OpenCV's inpainting fills them.

Everything is at the source's depth: the flow on the 8-bit grey, the test and the fill on the
luma itself (10 and 16-bit lumas included), so the output's luma is the restored one and the
colour is predicted from it. No neighbour is taken across a cut (shots.Shots on the frames as
decoded): a shot's first and last frames have one neighbour, which cannot tell this frame's
dust from its own, so they get the spatial detector alone. A frame's repair depends on the
decoded frames around it in its shot and never on another frame's repair, so a cluster's part,
which starts and ends at a cut (film_split), restores its frames as one machine does.

A photo's levels and grain (pipeline.restore) are left alone: stretched frame by frame they
would flicker, and the source's luma is otherwise passed through as it is.
"""

from __future__ import annotations

from collections import deque
from dataclasses import replace

import numpy as np
from PIL import Image

from colorgan.colour.planes import Levels, grey8
from colorgan.pipeline.colorizer import Colorizer
from colorgan.pipeline.film_colour import Coloured, Colouring
from colorgan.pipeline.film_in import Picture
from colorgan.pipeline.request import Request
from colorgan.pipeline.restore import Damage, Repair, damage_mask, inpainted, network_output
from colorgan.pipeline.shots import Shots

SPOT = 25.0  # a spot differs from both moved neighbours by more than this (8-bit grey levels)
AGREE = 15.0  # ... where they agree with each other within this
RIM = 1  # a spot is grown by this many pixels: its soft edge


def restoring(colour: Colouring, colorizer: Colorizer, request: Request) -> Colouring:
    """What colours the film of `request`: `colour`, each frame restored before it, where
    its settings ask it (one machine's film and a cluster's parts alike)."""
    if not request.settings.restore:
        return colour
    return FilmRestore(colour, colorizer.engine.damage)


class FilmRestore:
    """Frames restored in order, then coloured by `colour` (film_colour.Colouring), one frame
    late: a frame waits for the next, its neighbour in time. `damage`: the spatial detector's
    network (engines.Engine.damage)."""

    def __init__(self, colour: Colouring, damage: Damage) -> None:
        import cv2

        self.colour, self.damage = colour, damage
        self.flow = cv2.DISOpticalFlow_create(cv2.DISOPTICAL_FLOW_PRESET_MEDIUM)
        self.shots = Shots()
        self.window: deque[tuple[Picture, int]] = deque(maxlen=3)  # (frame, its shot)

    @property
    def waiting(self) -> int:
        return self.colour.waiting + bool(self.window)

    def add(self, picture: Picture) -> Coloured:
        """The film's next frame; the frame before it, restored and coloured where `colour`
        gives it back."""
        self.window.append((picture, self.shots(picture.grey)))
        return self.colour.add(self._restored(-2)) if len(self.window) > 1 else []

    def flush(self) -> Coloured:
        """The last frame restored (it has no next), then the rest coloured."""
        done = self.colour.add(self._restored(-1)) if self.window else []
        self.window.clear()
        return done + self.colour.flush()

    def _restored(self, k: int) -> Picture:
        """The window's k-th frame restored: spots by its neighbours within its shot where
        it has both, then the spatial detector's damage."""
        k %= len(self.window)
        picture, shot = self.window[k]
        near = [
            self.window[j][0]
            for j in (k - 1, k + 1)
            if 0 <= j < len(self.window) and self.window[j][1] == shot
        ]
        luma = np.ascontiguousarray(picture.luma)
        if len(near) == 2:
            luma = self._despotted(picture, luma, near)
        mask = damage_mask(network_output(grey8(luma, picture.levels), self.damage), Repair())
        if mask.any():
            luma = inpainted(luma, mask)
        grey = Image.fromarray(grey8(luma, picture.levels), "L")
        return replace(picture, luma=luma, grey=grey)

    def _despotted(self, picture: Picture, luma: np.ndarray, near: list[Picture]) -> np.ndarray:
        """The frame's luma with its spots (the module's doc) filled from its two neighbours."""
        import cv2

        grey = np.asarray(picture.grey)
        before, after = (
            moved_onto(n.luma, self.flow.calc(grey, np.asarray(n.grey), None)) for n in near
        )
        found = spots(luma.astype(np.float32), before, after, picture.levels)
        if not found.any():
            return luma
        rim = np.ones((2 * RIM + 1,) * 2, np.uint8)
        found = cv2.dilate(found.astype(np.uint8), rim) > 0
        fill = np.round((before + after) / 2).clip(0, picture.levels.top).astype(luma.dtype)
        return np.where(found, fill, luma)


def spots(luma: np.ndarray, before: np.ndarray, after: np.ndarray, levels: Levels) -> np.ndarray:
    """Where a frame's luma (float32) holds a spot its moved neighbours (`before`, `after`,
    float32, the same levels) do not: brighter or darker than both by more than SPOT, and
    they agree within AGREE (grey levels, at the levels' own scale)."""
    scale = (levels.white - levels.black) / 255.0
    lighter, darker = (
        np.minimum(luma - before, luma - after),
        np.maximum(luma - before, luma - after),
    )
    agree = np.abs(before - after) < AGREE * scale
    return ((lighter > SPOT * scale) | (darker < -SPOT * scale)) & agree


def moved_onto(plane: np.ndarray, flow: np.ndarray) -> np.ndarray:
    """A neighbour's plane (any depth) moved onto the frame by the flow from the frame to it
    ((H, W, 2), in pixels): float32, each place what the neighbour shows there."""
    import cv2

    h, w = flow.shape[:2]
    grid = np.stack(np.meshgrid(np.arange(w), np.arange(h)), axis=-1).astype(np.float32)
    return cv2.remap(
        plane.astype(np.float32),
        grid + flow,
        None,
        cv2.INTER_LINEAR,
        borderMode=cv2.BORDER_REPLICATE,
    )
