"""Video: flicker and fidelity of per-frame colour against the stabilised colour, and the
speed of the video path against colorizing the same frames as photos, side by side.

Run: `.venv/bin/python -m benchmarks.video [--photos ../shared/datasets/train]`. Test clips
are made from colour photos (so the true colour of every frame is known), 48 frames of
256x192 each: `static` (one photo, sensor noise on every frame), `pan` (the camera moving
3 px a frame across a wider crop), `zoom` (a slow zoom in), `cuts` (a hard cut every 12
frames) and `exposure` (a still shot whose brightness flickers by up to 8% from frame to
frame, as old film's does). Each clip's grey frames are colorized per frame and stabilised;
measured:

- flicker: the mean |ab(t) - ab(t-1)| of the output (CIE ab units) over pixels whose true
  colour does not change between the two frames (|true ab(t) - ab(t-1)| < 1), excluding the
  frame after a cut; lower is steadier;
- PSNR of the output frames against the true colour frames.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from dataclasses import replace
from pathlib import Path

import numpy as np
from PIL import Image
from tests.conftest import make_clip

from colorgan.colour.pixels import lightness_grey
from colorgan.engines.onnx_engine import OnnxEngine
from colorgan.pipeline.colorizer import Colorizer
from colorgan.pipeline.film import colorize_video
from colorgan.pipeline.request import Request
from colorgan.pipeline.settings import Settings

ROOT = Path(__file__).resolve().parents[1]
W, H, FRAMES = 256, 192, 48


def clips(photos: list[Path]) -> dict[str, list[Image.Image]]:
    rng = np.random.default_rng(0)
    wide = [Image.open(p).convert("RGB").resize((W * 2, H)) for p in photos]
    base = [Image.open(p).convert("RGB").resize((W, H)) for p in photos]

    def noisy(image: Image.Image) -> Image.Image:
        arr = np.asarray(image, np.float32) + rng.normal(0, 3, (H, W, 3))
        return Image.fromarray(arr.clip(0, 255).astype(np.uint8))

    def exposed(image: Image.Image, gain: float) -> Image.Image:  # old film's exposure flicker
        return noisy(
            Image.fromarray((np.asarray(image, np.float32) * gain).clip(0, 255).astype(np.uint8))
        )

    zoom = []
    for t in range(FRAMES):
        m = t * 1.5
        zoom.append(base[1].crop((m, m * 0.75, W - m, H - m * 0.75)).resize((W, H)))
    return {
        "static": [noisy(base[0]) for _ in range(FRAMES)],
        "pan": [wide[2].crop((3 * t, 0, 3 * t + W, H)) for t in range(FRAMES)],
        "zoom": zoom,
        "cuts": [noisy(base[3 + t // 12]) for t in range(FRAMES)],
        "exposure": [exposed(base[0], rng.uniform(0.92, 1.08)) for _ in range(FRAMES)],
    }


def lab_ab(images: list[Image.Image]) -> np.ndarray:
    from skimage.color import rgb2lab

    return np.stack([rgb2lab(np.asarray(i))[..., 1:] for i in images])


def through_the_film(
    colorizer: Colorizer,
    frames: list[Image.Image],
    settings: Settings | None = None,
    steady: bool = True,
) -> list[Image.Image]:
    """Frames (colour or grey) through the film core as `colorgan colorize` runs a film
    (pipeline.film): their grey of CIE lightness written as lossless PNG frames, coloured
    into PNG frames, read back."""
    with tempfile.TemporaryDirectory() as name:
        folder = Path(name) / "frames"
        folder.mkdir()
        for k, frame in enumerate(frames):
            lightness_grey(frame.convert("RGB")).save(folder / f"{k:06d}.png")
        settings = replace(settings or Settings(), codec="png", frame_rate=24)
        out = Path(name) / "out"
        colorize_video(colorizer, Request(folder, settings), out, stabilise=steady)
        return [Image.open(p).convert("RGB") for p in sorted(out.iterdir())]


def colour(light: Colorizer, frames: list[Image.Image], steady: bool) -> list[Image.Image]:
    return through_the_film(light, frames, steady=steady)


def measure(truth: list[Image.Image], out: list[Image.Image]) -> tuple[float, float]:
    true_ab, out_ab = lab_ab(truth), lab_ab(out)
    still = np.abs(true_ab[1:] - true_ab[:-1]).max(-1) < 1.0  # true colour unchanged
    moved = np.abs(out_ab[1:] - out_ab[:-1]).mean(-1)
    flicker = float(moved[still].mean())
    a = np.stack([np.asarray(i, np.float64) for i in out])
    b = np.stack([np.asarray(i, np.float64) for i in truth])
    return flicker, float(10 * np.log10(255**2 / ((a - b) ** 2).mean()))


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--photos", type=Path, default=ROOT.parent / "shared/datasets/train")
    args = parser.parse_args()
    folder = args.photos if args.photos.is_dir() else ROOT / "examples"
    photos = sorted(p for p in folder.iterdir() if p.suffix.lower() in (".jpg", ".png"))[:8]
    light = Colorizer(OnnxEngine())
    print(f"clips of {FRAMES} frames at {W}x{H} from {folder}; the bundled default, onnx engine")
    print(
        "| clip | flicker per-frame | flicker stabilised | ratio | PSNR per-frame | "
        "PSNR stabilised |\n|---|---|---|---|---|---|"
    )
    for name, frames in clips(photos).items():
        greys = [f.convert("L").convert("RGB") for f in frames]
        f0, p0 = measure(frames, colour(light, greys, steady=False))
        f1, p1 = measure(frames, colour(light, greys, steady=True))
        print(f"| {name} | {f0:.3f} | {f1:.3f} | {f1 / f0:.2f} | {p0:.2f} | {p1:.2f} |")
    # speed: the whole video path (decode, colour, encode) against the frames as photos
    import av

    with tempfile.TemporaryDirectory() as tmp:
        clip = Path(tmp) / "clip.mp4"
        make_clip(clip, frames=96, fps=24, size=(1280, 720))
        start = time.perf_counter()
        n = colorize_video(light, Request(clip), Path(tmp) / "out.mp4")
        video_fps = n / (time.perf_counter() - start)
        with av.open(str(clip)) as f:
            frames = [fr.to_image() for fr in f.decode(f.streams.video[0])]
        start = time.perf_counter()
        for frame in frames:
            light.colorize(frame)
        photo_fps = len(frames) / (time.perf_counter() - start)
    print(
        f"\n1280x720, 96 frames: the video path {video_fps:.1f} frames/s (decode, batches of 8, "
        f"stabilise, H.264 encode) against {photo_fps:.1f} frames/s colorizing the decoded "
        "frames one by one as photos (no decode, no encode)"
    )


if __name__ == "__main__":
    main()
