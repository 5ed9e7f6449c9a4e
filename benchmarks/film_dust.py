"""Film dust: how much of a film's single-frame dust `colorize --restore` takes away, whether
a moving object is left alone, what becomes of a scratch that runs for many frames, and what
restoring costs in frames a second (pipeline.film_restore).

Run: `.venv/bin/python -m benchmarks.film_dust [--size 1280x720] [--frames 24] [--grid F]`

The clip is made here from a real photo (examples/coffee.jpg), grey, lossless (FFV1): the
camera pans PAN px a frame, a textured disc (another part of the photo) crosses the frame
fast, and the clean frames are damaged three ways: dust on single frames (SPOTS a frame,
bright and dark, 1 to 6 px across, on every frame but the first and last), and a bright
vertical scratch, 2 px wide and slowly drifting, on every frame but the first two and last
two. The clip goes through the film core (film.colorize_video, the ONNX engine, FFV1 out) and
the output's luma is decoded back as the film core reads a film (film_in) and set against the
clean frames, in 8-bit grey levels:

- spots gone: the share of spots whose pixels' mean error falls below GONE (over the middle
  frames, which have both neighbours, and over every frame);
- the moving object's mean error where no dust lies (it must stay untouched), and the rest
  of the frame's, away from all damage;
- the scratch's mean error before and after;
- frames a second of the whole film core with --restore and without (best of two).
"""

from __future__ import annotations

import argparse
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

import cv2
import numpy as np
from PIL import Image

ROOT = Path(__file__).resolve().parents[1]
PAN = 4  # the camera's pan, px a frame
SPOTS = 30  # dust spots a frame
GONE = 10.0  # a spot is gone where its pixels' mean error to the clean frame is below this


@dataclass
class Clip:
    """A clip's clean and damaged frames (uint8 grey) and where its damage and object are."""

    clean: list[np.ndarray] = field(default_factory=list)
    damaged: list[np.ndarray] = field(default_factory=list)
    dust: list[np.ndarray] = field(default_factory=list)  # int labels, one a spot, 0 none
    scratch: list[np.ndarray] = field(default_factory=list)  # bool
    thing: list[np.ndarray] = field(default_factory=list)  # bool: the moving object


def dusty_clip(size: tuple[int, int], frames: int, seed: int = 0) -> Clip:
    """The module's clip: `frames` frames of `size` (width, height)."""
    rng = np.random.default_rng(seed)
    w, h = size
    photo = Image.open(ROOT / "examples" / "coffee.jpg").convert("L")
    wide = np.asarray(photo.resize((w + PAN * frames, h + 40), Image.Resampling.LANCZOS))
    r = max(8, h // 14)
    texture = np.asarray(photo.resize((w, h)))[::-1, ::-1][h // 3 : h // 3 + 2 * r + 1, :][
        :, w // 3 : w // 3 + 2 * r + 1
    ]  # the object's own face, which moves with it
    disc = np.zeros((2 * r + 1, 2 * r + 1), np.uint8)
    cv2.circle(disc, (r, r), r, 1, -1)
    clip = Clip()
    for t in range(frames):
        frame = wide[20 : 20 + h, PAN * t : PAN * t + w].copy()
        x, y = int(w * 0.1 + t * w * 0.8 / frames) - r, h // 2 - r
        thing = np.zeros((h, w), bool)
        thing[y : y + 2 * r + 1, x : x + 2 * r + 1] = disc > 0
        frame[thing] = texture[disc > 0]
        clip.clean.append(frame.copy())
        clip.thing.append(thing)
        dust = _dust(rng, (h, w)) if 0 < t < frames - 1 else np.zeros((h, w), np.int32)
        frame = np.where(dust > 0, np.where(dust % 2, 245, 12), frame).astype(np.uint8)
        scratch = np.zeros((h, w), bool)
        if 1 < t < frames - 2:
            x = int(w * 0.7 + 0.3 * t)
            scratch[:, x : x + 2] = True
            frame[scratch] = np.clip(frame[scratch].astype(int) + 90, 0, 255)
        clip.damaged.append(frame)
        clip.dust.append(dust)
        clip.scratch.append(scratch)
    return clip


def _dust(rng, shape: tuple[int, int]) -> np.ndarray:
    """SPOTS round spots, 1 to 6 px across, labelled 1.. (odd: bright, even: dark)."""
    h, w = shape
    dust = np.zeros(shape, np.int32)
    for k in range(1, SPOTS + 1):
        spot = np.zeros(shape, np.uint8)
        across = int(rng.integers(1, 7))
        x, y = int(rng.integers(8, w - 8)), int(rng.integers(8, h - 8))
        cv2.ellipse(spot, (x, y), (across // 2, across // 2), 0, 0, 360, 1, -1)
        dust[(spot > 0) & (dust == 0)] = k
    return dust


def write_grey(path: Path, frames: list[np.ndarray], rate: int = 24) -> None:
    """Grey frames into a lossless film (FFV1 in Matroska, full-range grey)."""
    import av

    h, w = frames[0].shape
    with av.open(str(path), "w") as out:
        video = out.add_stream("ffv1", rate=rate)
        video.width, video.height, video.pix_fmt = w, h, "gray"
        for t, plane in enumerate(frames):
            frame = av.VideoFrame.from_ndarray(plane, format="gray")
            frame.pts = t
            out.mux(video.encode(frame))
        out.mux(video.encode(None))


def read_grey(path: Path) -> list[np.ndarray]:
    """A film's frames as the film core reads them: each one's 8-bit grey (film_in)."""
    from colorgan.pipeline.film_in import form_of, open_video, picture_of

    greys, matrix = [], None
    with open_video(path) as film:
        video = film.streams.video[0]
        for frame in film.decode(video):
            matrix = matrix or form_of(video, frame).matrix
            greys.append(np.asarray(picture_of(frame, (video.width, video.height), matrix).grey))
    return greys


def colour(colorizer, source: Path, target: Path, restore: bool) -> float:
    """The film through the film core into FFV1; its seconds."""
    from colorgan.pipeline.film import colorize_video
    from colorgan.pipeline.request import Request
    from colorgan.pipeline.settings import Settings

    start = time.perf_counter()
    request = Request(source, Settings(restore=restore, codec="ffv1"))
    colorize_video(colorizer, request, target, overwrite=True)
    return time.perf_counter() - start


def scores(clip: Clip, out: list[np.ndarray]) -> dict[str, float]:
    """What the module's doc says is measured, of the output's greys `out`."""
    gone = {"middle": [], "every": []}
    thing, rest, scratch_before, scratch_after = [], [], [], []
    n = len(out)
    for t, (clean, damaged, got) in enumerate(zip(clip.clean, clip.damaged, out, strict=True)):
        error = np.abs(got.astype(float) - clean)
        dust = clip.dust[t]
        for k in np.unique(dust[dust > 0]):
            spot = error[dust == k].mean() < GONE
            gone["every"].append(spot)
            if 1 < t < n - 2:
                gone["middle"].append(spot)
        near = cv2.dilate((dust > 0).astype(np.uint8), np.ones((7, 7), np.uint8)) > 0
        thing.append(error[clip.thing[t] & ~near].mean())
        away = cv2.dilate((clip.scratch[t] | clip.thing[t]).astype(np.uint8), np.ones((9, 9)))
        rest.append(error[~near & (away == 0)].mean())
        if clip.scratch[t].any():
            scratch_before.append(np.abs(damaged.astype(float) - clean)[clip.scratch[t]].mean())
            scratch_after.append(error[clip.scratch[t]].mean())
    return {
        "spots gone (middle frames)": float(np.mean(gone["middle"])),
        "spots gone (every frame)": float(np.mean(gone["every"])),
        "moving object's error": float(np.mean(thing)),
        "rest of the frame's error": float(np.mean(rest)),
        "scratch's error before": float(np.mean(scratch_before)),
        "scratch's error after": float(np.mean(scratch_after)),
    }


def grid(clip: Clip, out: list[np.ndarray], t: int, path: Path) -> None:
    """Frame t, damaged | restored, side by side, as a PNG."""
    Image.fromarray(np.hstack([clip.damaged[t], out[t]])).save(path)


def main() -> None:
    from colorgan.engines.onnx_engine import OnnxEngine
    from colorgan.pipeline.colorizer import Colorizer

    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--size", default="1280x720", help="WIDTHxHEIGHT")
    p.add_argument("--frames", type=int, default=24)
    p.add_argument("--grid", type=Path, help="a PNG of the middle frame, damaged | restored")
    args = p.parse_args()
    size = tuple(int(v) for v in args.size.split("x"))
    clip = dusty_clip(size, args.frames)
    colorizer = Colorizer(OnnxEngine())
    with tempfile.TemporaryDirectory() as tmp:
        source, target = Path(tmp) / "dusty.mkv", Path(tmp) / "out.mkv"
        write_grey(source, clip.damaged)
        seconds = {
            r: min(colour(colorizer, source, target, r) for _ in range(2)) for r in (False, True)
        }
        out = read_grey(target)  # the last run's: restored
    assert len(out) == args.frames
    print(f"clip {size[0]}x{size[1]}, {args.frames} frames, {SPOTS} spots a frame")
    for name, value in scores(clip, out).items():
        print(f"{name}: {value:.3f}")
    for restore, spent in seconds.items():
        print(
            f"frames a second {'with' if restore else 'without'} --restore: "
            f"{args.frames / spent:.2f}"
        )
    if args.grid:
        grid(clip, out, args.frames // 2, args.grid)


if __name__ == "__main__":
    main()
