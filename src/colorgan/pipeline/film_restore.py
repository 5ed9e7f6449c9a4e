"""A film's frames restored before they are coloured and written (Settings.restore):
`FilmRestore`, a Colouring that repairs each frame's luma and hands it on.

A film's damage is of two kinds, told apart by what a film alone tells:

1. **Dust and spots** sit on one frame, not its neighbours. A place is a spot where the frame
   differs, by more than SPOT grey levels and in the same sign, from both the frame before
   and the frame after as they look once moved onto it (OpenCV's DIS optical flow, on the
   8-bit grey), and those two moved neighbours agree with each other within AGREE (where
   they do not, something moves, appears or is hidden, and the frame's own pixel is the only
   witness). A moving object is in both neighbours and moves with the flow, so it is not
   taken for dust; where the flow loses it, the frame differs from its moved neighbours
   around the place too, so a spot is kept only where it is small (MAX_SPOT) and most of
   the frame around it agrees with them (`kept_spots`). A spot, grown by RIM pixels, takes
   the moved neighbours' mean.
2. **Scratches and cracks** run over many frames at about the same place, so the temporal
   test cannot see them: the spatial detector photos use (pipeline.restore's network) marks
   each frame, and what it marks that stays within DRIFT pixels on the frame's neighbours
   is filled by OpenCV's inpainting. A mark that moves with the picture (an edge the network
   takes for a scratch, a moving object) or is on one frame alone is left.

A shot's first and last frames have one neighbour, which alone cannot tell this frame's dust
from its own: there a spot must also be marked by the spatial detector. No neighbour is taken
across a cut (shots.Shots on the frames as decoded), and a frame alone in its shot is
repaired as a photo's damage is. Everything is at the source's depth: the flow on the 8-bit
grey, the test and the fill on the luma itself (10 and 16-bit lumas included), so the output's
luma is the restored one and the colour is predicted from it. A frame's repair depends on
the decoded frames around it in its shot, never on another frame's repair, so a cluster's
part, which starts and ends at a cut (film_split), restores its frames as one machine does.

A photo's levels and grain (pipeline.restore) are left alone: stretched frame by frame they
would flicker, and the source's luma is otherwise passed through as it is.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, replace

import numpy as np
from PIL import Image

from colorgan.colour.planes import Levels, grey8
from colorgan.pipeline.colorizer import Colorizer
from colorgan.pipeline.film_colour import Coloured, Colouring
from colorgan.pipeline.film_in import Picture
from colorgan.pipeline.request import Request
from colorgan.pipeline.restore import Damage, Repair, damage_mask, inpainted, network_output
from colorgan.pipeline.shots import Shots

SPOT = 12.0  # a spot differs from both moved neighbours by more than this (8-bit grey levels)
AGREE = 15.0  # ... where they agree with each other within this
RIM = 1  # a spot is grown by this many pixels: its soft edge
MAX_SPOT = 400  # pixels: a larger spot is something the flow lost, not dust
DRIFT = 2  # pixels a scratch may drift from frame to frame and still be the same
SURROUND = 3  # pixels around a spot where the frame must agree with its moved neighbours
AROUND = 0.5  # ... on more than this share of them


def restoring(colour: Colouring, colorizer: Colorizer, request: Request) -> Colouring:
    """What colours the film of `request`: `colour`, each frame restored before it, where
    its settings ask it (one machine's film and a cluster's parts alike)."""
    if not request.settings.restore:
        return colour
    return FilmRestore(colour, colorizer.engine.damage)


class FilmRestore:
    """Frames restored in order, then coloured by `colour` (film_colour.Colouring), one frame
    late: a frame waits for the next, its neighbour in time. `damage`: the spatial detector's
    network (engines.Engine.damage), run once on each frame as decoded."""

    def __init__(self, colour: Colouring, damage: Damage) -> None:
        import cv2

        self.colour, self.damage = colour, damage
        self.flow = cv2.DISOpticalFlow_create(cv2.DISOPTICAL_FLOW_PRESET_MEDIUM)
        self.shots = Shots()
        self.window: deque[_Frame] = deque(maxlen=3)

    @property
    def waiting(self) -> int:
        return self.colour.waiting + bool(self.window)

    def add(self, picture: Picture) -> Coloured:
        """The film's next frame; the frame before it, restored and coloured where `colour`
        gives it back."""
        found = damage_mask(network_output(np.asarray(picture.grey), self.damage), Repair())
        self.window.append(_Frame(picture, self.shots(picture.grey), found))
        return self.colour.add(self._restored(-2)) if len(self.window) > 1 else []

    def flush(self) -> Coloured:
        """The last frame restored (it has no next), then the rest coloured."""
        done = self.colour.add(self._restored(-1)) if self.window else []
        self.window.clear()
        return done + self.colour.flush()

    def _restored(self, k: int) -> Picture:
        """The window's k-th frame restored: its spots from its neighbours within its shot,
        then the detector's damage that stays where it is on them (a scratch, a crack)."""
        import cv2

        k %= len(self.window)
        frame = self.window[k]
        near = [
            self.window[j]
            for j in (k - 1, k + 1)
            if 0 <= j < len(self.window) and self.window[j].shot == frame.shot
        ]
        picture, luma = frame.picture, np.ascontiguousarray(frame.picture.luma)
        lasting = frame.found.copy()
        if near:
            luma, filled = self._despotted(frame, luma, [n.picture for n in near])
            lasting &= ~filled  # a spot is filled already, and lasts no longer than its frame
        steady = np.ones((2 * DRIFT + 1,) * 2, np.uint8)
        for n in near:
            lasting &= cv2.dilate(n.found.astype(np.uint8), steady) > 0
        if lasting.any():
            luma = inpainted(luma, lasting)
        grey = Image.fromarray(grey8(luma, picture.levels), "L")
        return replace(picture, luma=luma, grey=grey)

    def _despotted(self, frame: _Frame, luma: np.ndarray, near: list[Picture]) -> tuple:
        """The frame's luma with its spots (the module's doc) filled from its neighbours: two,
        or one where the detector found damage there too; and where they were (bool)."""
        import cv2

        grey, levels = np.asarray(frame.picture.grey), frame.picture.levels
        moved = [moved_onto(n.luma, self.flow.calc(grey, np.asarray(n.grey), None)) for n in near]
        plane, fill = luma.astype(np.float32), sum(moved) / len(moved)
        found = spots(plane, moved, levels)
        if len(moved) == 1:  # one witness: this frame's dust, or the neighbour's?
            found &= frame.found
        if not found.any():
            return luma, found
        rim = np.ones((2 * RIM + 1,) * 2, np.uint8)
        found = cv2.dilate(found.astype(np.uint8), rim) > 0
        found = kept_spots(found, np.abs(plane - fill), levels)
        fill = np.round(fill).clip(0, levels.top).astype(luma.dtype)
        return np.where(found, fill, luma), found


@dataclass(frozen=True)
class _Frame:
    """A decoded frame in the window: its shot, and where the spatial detector found damage."""

    picture: Picture
    shot: int
    found: np.ndarray


def spots(luma: np.ndarray, moved: list[np.ndarray], levels: Levels) -> np.ndarray:
    """Where a frame's luma (float32) holds a spot its moved neighbours (one or two, float32,
    the same levels) do not: brighter or darker than each by more than SPOT, where they agree
    within AGREE (grey levels, at the levels' own scale)."""
    scale = (levels.white - levels.black) / 255.0
    lighter = np.minimum.reduce([luma - m for m in moved])
    darker = np.maximum.reduce([luma - m for m in moved])
    agree = np.abs(moved[0] - moved[-1]) < AGREE * scale
    return ((lighter > SPOT * scale) | (darker < -SPOT * scale)) & agree


def kept_spots(found: np.ndarray, error: np.ndarray, levels: Levels) -> np.ndarray:
    """The spots of `found` (bool) that are dust: each at most MAX_SPOT pixels, and most of
    the frame around it (its SURROUND pixels) within AGREE of its moved neighbours' mean
    (`error`, float32, at the levels' scale). Where the flow lost a moving object, the
    neighbours show what lay behind it: the object then differs from them around the place
    too, and is kept; around dust the frame and its neighbours agree (most of it: a scratch
    or a sharp edge may cross the surround)."""
    import cv2

    around = np.ones((2 * SURROUND + 1,) * 2, np.uint8)
    count, labels = cv2.connectedComponents(cv2.dilate(found.astype(np.uint8), around))
    ring = ~found & (labels > 0)
    scale = (levels.white - levels.black) / 255.0
    agreeing = ring & (error < AGREE * scale)
    area = np.bincount(labels[found], minlength=count)
    share = np.bincount(labels[agreeing], minlength=count) / np.maximum(
        np.bincount(labels[ring], minlength=count), 1
    )
    dust = (area <= MAX_SPOT) & (share > AROUND)
    dust[0] = False
    return found & dust[labels]


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
