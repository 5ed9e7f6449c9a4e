"""Films at the speed of the codec: `colorgan colorize` of a film against PyAV decoding and
re-encoding the same clip with the same codec and settings (the floor), side by side.

Run: `.venv/bin/python -m benchmarks.films [--sizes 720p 1080p 4k] [--codecs h264 ...]
[--frames 48] [--rounds 2]` (or `--code ../other-checkout`: only `colorgan colorize` of the
H.264 clip with this checkout's code and the other's). Each (size, codec) runs in a process of
its own:

- the clip: a grey pan over a photo with film grain and a hard cut half-way, `--frames`
  long (half of it at 4K), kept as a restorer would for that codec: H.264 (8-bit) for
  h264, H.265 10-bit for h265, ProRes 422 HQ for prores, FFV1 10-bit for ffv1, a 10-bit
  Y4M file for y4m, 16-bit grey PNG and TIFF frames for png and tiff;
- the floor: the clip decoded and each frame encoded again in the output's pixel format
  with the encoder and options colorgan uses (pipeline.film_out.encoder_options), nothing
  else; colorgan: `pipeline.film.colorize_video` of the clip (the bundled default on the
  default engine, loaded and warmed up first), as `colorgan colorize --codec CODEC` runs it;
- in `--rounds` rounds, floor and colorgan one after the other; frames/s from the median
  round of each; the model alone (the engine on batches of 8 at its size) beside them;
- peak memory: the process's largest resident set (the model and both runs included);
- a 90-minute film at 24 frames a second (129,600 frames): hours at the measured rate on 2
  cores, and projected on 16 cores as eight 2-core workers each colouring an eighth of it
  (a projection, not a measurement: no 16-core machine was lent).
"""

from __future__ import annotations

import argparse
import json
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from fractions import Fraction
from pathlib import Path

import numpy as np
from PIL import Image

ROOT = Path(__file__).resolve().parents[1]
SIZES = {"720p": (1280, 720), "1080p": (1920, 1080), "4k": (3840, 2160)}
CODECS = ("h264", "h265", "prores", "ffv1", "y4m", "png", "tiff")
# the clip each codec is measured on: (encoder, pixel format, container or "image2", name)
SOURCES = {
    "h264": ("libx264", "yuv420p", None, "clip.mp4"),
    "h265": ("libx265", "yuv420p10le", None, "clip.mp4"),
    "prores": ("prores_ks", "yuv422p10le", None, "clip.mov"),
    "ffv1": ("ffv1", "yuv420p10le", None, "clip.mkv"),
    "y4m": ("rawvideo", "yuv420p10le", "yuv4mpegpipe", "clip.y4m"),
    "png": ("png", "gray16be", "image2", "f%06d.png"),
    "tiff": ("tiff", "gray16le", "image2", "f%06d.tif"),
}
FILM_FRAMES = 90 * 60 * 24


def make_source(folder: Path, codec: str, size: tuple[int, int], frames: int) -> Path:
    """The clip for `codec`: a grey pan with grain over two photos (a cut half-way)."""
    import av

    w, h = size
    encoder, pix_fmt, fmt, name = SOURCES[codec]
    photos = [ROOT / "examples" / f"{n}.jpg" for n in ("coffee", "rocket")]
    scenes = [
        np.asarray(Image.open(p).convert("L").resize((w + 4 * frames, h)), np.float32)
        for p in photos
    ]
    rng = np.random.default_rng(0)
    path = folder / name
    options = {"x265-params": "log-level=error"} if encoder == "libx265" else {}
    with av.open(str(path), "w", format=fmt, options={"strict": "-1"} if fmt else {}) as out:
        stream = out.add_stream(encoder, rate=24)
        stream.width, stream.height, stream.pix_fmt = w, h, pix_fmt
        stream.options = {**options, **({"profile": "3"} if encoder == "prores_ks" else {})}
        for i in range(frames):
            scene = scenes[i >= frames // 2]
            grey = scene[:, 4 * i : 4 * i + w] + rng.normal(0, 3, (h, w)).astype(np.float32)
            grey16 = (grey.clip(0, 255) * 257).astype(np.uint16)
            rgb = np.repeat(grey16[..., None], 3, -1)
            frame = av.VideoFrame.from_ndarray(rgb, format="rgb48le").reformat(format=pix_fmt)
            frame.pts, frame.time_base = i, Fraction(1, 24)
            for packet in stream.encode(frame):
                out.mux(packet)
        for packet in stream.encode(None):
            out.mux(packet)
    return path


def floor(source: Path, codec: str, folder: Path) -> int:
    """The clip decoded and encoded again as colorgan's output of it is, nothing else."""
    import av

    from colorgan.pipeline.film_in import Form, form_of, open_video
    from colorgan.pipeline.film_out import CODECS as WRITTEN
    from colorgan.pipeline.film_out import encoder_options, encoding_of

    encoder, container, suffix = WRITTEN[codec]
    count = 0
    with open_video(source, Fraction(24)) as clip:
        video = clip.streams.video[0]
        frames = clip.decode(video)
        first = next(frames)
        form: Form = form_of(video, first)
        encoding = encoding_of(codec, form, (video.width, video.height))
        if container is None:
            context = av.CodecContext.create(encoder, "w")
            context.width, context.height = video.width, video.height
            context.pix_fmt, context.time_base = encoding.pix_fmt, Fraction(1, 25)
            for frame in (first, *frames):
                for packet in context.encode(frame.reformat(format=encoding.pix_fmt)):
                    (folder / f"{count:06d}{suffix}").write_bytes(bytes(packet))
                count += 1
            return count
        options = {"strict": "-1"} if codec == "y4m" else {}
        with av.open(str(folder / f"floor{suffix}"), "w", format=container, options=options) as out:
            stream = out.add_stream(encoder, rate=video.average_rate or 24)
            stream.width, stream.height = video.width, video.height
            stream.pix_fmt, stream.options = encoding.pix_fmt, encoder_options(encoding, 20)
            for frame in (first, *frames):
                frame = frame.reformat(format=encoding.pix_fmt)
                frame.pts, frame.time_base = count, Fraction(1, 24)
                frame.pict_type = av.video.frame.PictureType.NONE
                for packet in stream.encode(frame):
                    out.mux(packet)
                count += 1
            for packet in stream.encode(None):
                out.mux(packet)
    return count


def one(size: str, codec: str, frames: int, rounds: int) -> dict:
    """One (size, codec), in this process: frames/s of the floor, of colorgan and of the
    model alone, and this process's peak memory."""
    from colorgan.pipeline.colorizer import Colorizer
    from colorgan.pipeline.film import colorize_video
    from colorgan.pipeline.request import Request
    from colorgan.pipeline.settings import Settings

    frames = frames // 2 if size == "4k" else frames
    with tempfile.TemporaryDirectory() as name:
        tmp = Path(name)
        source = make_source(tmp, codec, SIZES[size], frames)
        colorizer = Colorizer()
        settings = Settings(codec=codec, frame_rate=24)
        (tmp / "w").mkdir()
        warm = make_source(tmp / "w", codec, (128, 96), 4)
        colorize_video(colorizer, Request(warm, settings), tmp / "w" / "out", overwrite=True)
        times: dict[str, list[float]] = {"floor": [], "colorgan": []}
        for r in range(rounds):
            (tmp / f"f{r}").mkdir()
            start = time.perf_counter()
            assert floor(source, codec, tmp / f"f{r}") == frames
            times["floor"].append(time.perf_counter() - start)
            start = time.perf_counter()
            made = colorize_video(colorizer, Request(source, settings), tmp / f"c{r}")
            times["colorgan"].append(time.perf_counter() - start)
            assert made == frames
        batch = np.zeros((8, 1, colorizer.spec.size, colorizer.spec.size), np.float32)
        colorizer.engine.predict(batch, None)
        start = time.perf_counter()
        for _ in range(3):
            colorizer.engine.predict(batch, None)
        model = 24 / (time.perf_counter() - start)
    rates = {k: frames / statistics.median(v) for k, v in times.items()}
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024**2
    return {"frames": frames, **rates, "model": model, "peak GB": peak, "rounds": times}


def against(size: str, frames: int, checkouts: list[Path | None]) -> list[float]:
    """`colorgan colorize` of the H.264 clip (the default codec) with each checkout's code
    (None: this one's), frames/s after start-up: (2n - n frames) over the time between two
    runs of n and 2n frames, each run in a process of its own; bytecode and graphs kept."""
    import os

    rates = []
    with tempfile.TemporaryDirectory() as name:
        tmp = Path(name)
        clips = []
        for n in (frames, 2 * frames):
            (tmp / str(n)).mkdir()
            clips.append(make_source(tmp / str(n), "h264", SIZES[size], n))
        env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
        env["PYTHONPYCACHEPREFIX"], env["COLORGAN_CACHE"] = str(tmp / "b"), str(tmp / "g")
        for code in checkouts:
            env["PYTHONPATH"] = str((code or ROOT) / "src")
            seconds = []
            for clip in [clips[0], *clips]:  # the first run writes bytecode and graphs
                out = tmp / f"out-{len(seconds)}-{code is None}"
                command = [sys.executable, "-m", "colorgan", "colorize", str(clip), "--out"]
                start = time.perf_counter()
                run = [*command, str(out), "-q"]
                subprocess.run(run, env=env, check=True, stdout=subprocess.DEVNULL)
                seconds.append(time.perf_counter() - start)
            rates.append(frames / (seconds[2] - seconds[1]))
    return rates


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--sizes", nargs="+", default=list(SIZES), choices=list(SIZES))
    parser.add_argument("--codecs", nargs="+", default=list(CODECS), choices=CODECS)
    parser.add_argument("--frames", type=int, default=48)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--one", nargs=2, metavar=("SIZE", "CODEC"), help=argparse.SUPPRESS)
    parser.add_argument(
        "--code",
        type=Path,
        help="only: `colorgan colorize` of the H.264 clip at --sizes with this checkout's "
        "code and another's, after start-up, one after the other",
    )
    args = parser.parse_args()
    if args.one:
        print(json.dumps(one(*args.one, args.frames, args.rounds)))
        return
    from benchmarks.common import machine

    print(machine())
    if args.code:
        print(f"\n`colorgan colorize` of the H.264 clip, frames/s after start-up ({args.frames}):")
        print(f"| size | this checkout | {args.code} |\n|---|---|---|")
        for size in args.sizes:
            ours, theirs = against(size, args.frames, [None, args.code])
            print(f"| {size} | {ours:.1f} | {theirs:.1f} |", flush=True)
        return
    print(
        f"\n{args.frames} frames (4K: half), {args.rounds} rounds, frames/s (median round):\n"
        "| size | codec | floor | colorgan | floor / colorgan | model alone | peak GB | "
        "90-min film, 2 cores (h) | 16 cores, projected (h) |\n"
        "|---|---|---|---|---|---|---|---|---|"
    )
    for size in args.sizes:
        for codec in args.codecs:
            command = [sys.executable, "-m", "benchmarks.films", "--one", size, codec]
            command += ["--frames", str(args.frames), "--rounds", str(args.rounds)]
            done = subprocess.run(command, capture_output=True, text=True, check=True, cwd=ROOT)
            got = json.loads(done.stdout.strip().splitlines()[-1])
            hours = FILM_FRAMES / got["colorgan"] / 3600
            print(
                f"| {size} | {codec} | {got['floor']:.1f} | {got['colorgan']:.1f} | "
                f"{got['floor'] / got['colorgan']:.2f}x | {got['model']:.1f} | "
                f"{got['peak GB']:.2f} | {hours:.1f} | {hours / 8:.2f} |",
                flush=True,
            )


if __name__ == "__main__":
    main()
