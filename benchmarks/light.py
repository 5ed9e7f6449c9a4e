"""The light engine (ONNX Runtime, no torch) against the torch engine, side by side in one run.

Run: `.venv/bin/python -m benchmarks.light [--images 4] [--shared ../shared/datasets/eval]`
(or `--models default old.onnx ...`: only item 1's onnx row for each model, side by side;
or `--code ../other-checkout`: only item 1's onnx row with this checkout's code and another's,
interleaved over `--rounds` rounds, 3 by default).

1. `colorgan colorize` on 4000x3000 (12 MP) JPEGs, grey and colour, with `--engine onnx` and
   `--engine torch`: per photo after start-up is (all - one) / (n - 1) of two process times;
   peak memory is the largest resident set of each engine's processes.
2. Start-up: `colorgan colorize examples/astronaut.jpg` from process start to the file
   written (median of 5), each engine.
3. A busy machine: the light engine's per-photo time again while two processes spin on the
   CPU, against the quiet one.
4. Many small photos: 64 grey 256x256 JPEGs, `--batch 1` against `--batch 16`, each engine.
5. Where the light engine's time goes on one 12 MP photo, stage by stage.
6. How far the light output is from the torch engine's exact Lab path: PSNR on the eval
   photos (grey and colour) where `--shared` has them, else on the bundled examples.
"""

from __future__ import annotations

import argparse
import multiprocessing
import os
import resource
import statistics
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path

import numpy as np
from PIL import Image

from benchmarks.colorize_fullres import make_jpeg
from benchmarks.common import colorize_command, machine, run_measured

ROOT = Path(__file__).resolve().parents[1]


def run_seconds(
    paths: list[Path],
    out: Path,
    engine: str,
    batch: int = 1,
    extra: Sequence[str] = (),
    code: Path | None = None,
) -> tuple[float, float]:
    """Seconds of one `colorgan colorize` process and its peak resident memory in GB; `code`:
    another checkout of colorgan, whose src/ the process runs instead of this one's."""
    cmd = colorize_command(paths, out, engine, "--batch", str(batch), *extra)
    env = None if code is None else {**os.environ, "PYTHONPATH": str(code / "src")}
    return run_measured(cmd, env)


def per_photo(
    paths: list[Path],
    tmp: Path,
    engine: str,
    tag: str,
    extra: Sequence[str] = (),
    code: Path | None = None,
) -> tuple[float, float, float]:
    one, mem1 = run_seconds(paths[:1], tmp / f"{tag}-{engine}-one", engine, extra=extra, code=code)
    every, mem2 = run_seconds(paths, tmp / f"{tag}-{engine}-all", engine, extra=extra, code=code)
    return (every - one) / (len(paths) - 1), one, max(mem1, mem2)


def compare_code(
    photos: dict[str, list[Path]], tmp: Path, checkouts: Sequence[Path], rounds: int = 3
) -> None:
    """The onnx engine's 12 MP per-photo time with each checkout's code (this one's first),
    interleaved round by round so that both see the same machine; the median of the rounds."""
    codes = [None, *checkouts]
    times: dict[int, dict[str, list[float]]] = {
        k: {"grey": [], "colour": []} for k in range(len(codes))
    }
    for r in range(rounds):
        for k, code in enumerate(codes):
            for kind in ("grey", "colour"):
                seconds = per_photo(photos[kind], tmp, "onnx", f"c{k}-{kind}-{r}", code=code)[0]
                times[k][kind].append(seconds)
    print("| code (onnx engine) | grey: s per photo | colour: s per photo | rounds |")
    print("|---|---|---|---|")
    for k, code in enumerate(codes):
        grey, colour = (statistics.median(times[k][kind]) for kind in ("grey", "colour"))
        name = "this checkout" if code is None else str(code)
        each = ", ".join(
            f"{g:.3f}/{c:.3f}" for g, c in zip(times[k]["grey"], times[k]["colour"], strict=True)
        )
        print(f"| {name} | {grey:.3f} | {colour:.3f} | {each} |", flush=True)


def compare_models(photos: dict[str, list[Path]], tmp: Path, models: Sequence[str]) -> None:
    """The onnx engine with each model (bundled names or .onnx files), side by side."""
    print("| model (onnx engine) | grey: s per photo | colour: s per photo | peak GB |")
    print("|---|---|---|---|")
    for k, model in enumerate(models):
        extra = ["--weights", model] if Path(model).is_file() else ["--model", model]
        grey, _, mem_g = per_photo(photos["grey"], tmp, "onnx", f"m{k}-grey", extra)
        colour, _, mem_c = per_photo(photos["colour"], tmp, "onnx", f"m{k}-colour", extra)
        print(f"| {model} | {grey:.3f} | {colour:.3f} | {max(mem_g, mem_c):.2f} |", flush=True)


def spin(seconds: float) -> None:
    end = time.time() + seconds
    while time.time() < end:
        pass


def stages(path: Path) -> dict[str, float]:
    from colorgan.base.images import open_image, save_image, to_8bit
    from colorgan.colour.pixels import compose_ycbcr, lightness_grey
    from colorgan.engines.onnx_engine import OnnxEngine
    from colorgan.pipeline.colorizer import Colorizer

    light = Colorizer(OnnxEngine())
    times: dict[str, float] = {}
    for _ in range(2):  # the second pass is timed
        t = time.perf_counter()
        pixels = to_8bit(open_image(path))
        times["decode"] = time.perf_counter() - t
        t = time.perf_counter()
        grey = pixels if pixels.mode == "L" else lightness_grey(pixels)
        times["grey of the CIE lightness (colour photos)"] = time.perf_counter() - t
        t = time.perf_counter()
        l_small, ab = light.frames([grey])
        times["small L and the ONNX model"] = time.perf_counter() - t
        t = time.perf_counter()
        result = compose_ycbcr(grey, l_small[0], ab[0], light.engine.spec.ab_scale)
        times["chroma upsampled, YCbCr composed"] = time.perf_counter() - t
        t = time.perf_counter()
        with tempfile.TemporaryDirectory() as out:
            save_image(result, Path(out) / "out.jpg")
        times["JPEG encode (from YCbCr)"] = time.perf_counter() - t
    return times


def fidelity(folder: Path | None) -> str:
    from colorgan.engines.onnx_engine import OnnxEngine
    from colorgan.engines.torch_engine import TorchEngine
    from colorgan.pipeline.colorizer import Colorizer

    light, exact = Colorizer(OnnxEngine()), Colorizer(TorchEngine(precision="fp32"))
    paths = sorted(folder.glob("*")) if folder else sorted((ROOT / "examples").glob("*.jpg"))
    scores: dict[str, list[float]] = {"grey": [], "colour": []}
    for path in paths:
        photo = Image.open(path).convert("RGB")
        for kind, source in (("grey", photo.convert("L")), ("colour", photo)):
            a = np.asarray(light.colorize(source), np.float64)
            b = np.asarray(exact.colorize(source), np.float64)
            scores[kind].append(10 * np.log10(255**2 / ((a - b) ** 2).mean()))
    lines = [
        f"PSNR of the light output against the Lab path, {len(paths)} photos of "
        f"{folder or 'examples/'}:",
        "| input | mean dB | 5th percentile | min |",
        "|---|---|---|---|",
    ]
    for kind, s in scores.items():
        lines.append(f"| {kind} | {np.mean(s):.2f} | {np.percentile(s, 5):.2f} | {min(s):.2f} |")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--images", type=int, default=4)
    parser.add_argument("--shared", type=Path, default=ROOT.parent / "shared/datasets/eval")
    parser.add_argument(
        "--models",
        nargs="+",
        metavar="MODEL",
        help="only: 12 MP per photo on the onnx engine with each model "
        "(bundled names or .onnx files), side by side",
    )
    parser.add_argument(
        "--code",
        nargs="+",
        type=Path,
        metavar="CHECKOUT",
        help="only: 12 MP per photo on the onnx engine with this checkout's "
        "code and each other checkout's (its src/), interleaved",
    )
    parser.add_argument("--rounds", type=int, default=3, help="--code's rounds (default 3)")
    args = parser.parse_args()
    print(machine())
    with tempfile.TemporaryDirectory() as name:
        tmp = Path(name)
        photos = {}
        for kind in ("grey", "colour"):
            photos[kind] = [tmp / f"{kind}{i}.jpg" for i in range(args.images + 1)]
            for i, p in enumerate(photos[kind]):
                make_jpeg(p, i, grey=kind == "grey")
        if args.code:
            print(f"\n4000x3000 JPEG, {args.images + 1} per kind, `colorgan colorize`:")
            compare_code(photos, tmp, args.code, args.rounds)
            return
        if args.models:
            print(f"\n4000x3000 JPEG, {args.images + 1} per kind, `colorgan colorize`:")
            compare_models(photos, tmp, args.models)
            return
        print(f"\n4000x3000 JPEG, {args.images + 1} per kind, `colorgan colorize`:")
        print(
            "| engine | grey: s per photo | colour: s per photo | start-up + first 12 MP "
            "photo (grey) | peak GB |\n|---|---|---|---|---|"
        )
        for engine in ("onnx", "torch"):
            grey, first, mem_g = per_photo(photos["grey"], tmp, engine, "grey")
            colour, _, mem_c = per_photo(photos["colour"], tmp, engine, "colour")
            print(
                f"| {engine} | {grey:.3f} | {colour:.3f} | {first:.2f} | {max(mem_g, mem_c):.2f} |"
            )
        print(
            "\nStart-up: `colorgan colorize examples/astronaut.jpg`, process start to file "
            "written, median of 5:"
        )
        for engine in ("onnx", "torch"):
            times = [
                run_seconds([ROOT / "examples/astronaut.jpg"], tmp / f"start-{engine}-{i}", engine)[
                    0
                ]
                for i in range(5)
            ]
            print(f"- {engine}: {statistics.median(times):.2f} s")
        quiet = per_photo(photos["grey"], tmp, "onnx", "quiet")[0]
        busy_procs = [multiprocessing.Process(target=spin, args=(600,)) for _ in range(2)]
        for p in busy_procs:
            p.start()
        try:
            busy = per_photo(photos["grey"], tmp, "onnx", "busy")[0]
        finally:
            for p in busy_procs:
                p.terminate()
        print(
            f"\nBusy machine (two processes spinning on the 2 cores), light engine, grey: "
            f"{busy:.3f} s per photo against {quiet:.3f} s quiet ({busy / quiet:.2f}x)"
        )
        small = []
        for i in range(64):
            small.append(tmp / f"small{i}.jpg")
            Image.open(photos["grey"][i % len(photos["grey"])]).resize((256, 256)).save(small[-1])
        print("\n64 grey 256x256 JPEGs in one `colorgan colorize` (photos/s, start-up included):")
        print("| engine | --batch 1 | --batch 16 |\n|---|---|---|")
        for engine in ("onnx", "torch"):
            rates = [
                64 / run_seconds(small, tmp / f"small-{engine}-{b}", engine, b)[0] for b in (1, 16)
            ]
            print(f"| {engine} | {rates[0]:.1f} | {rates[1]:.1f} |")
        print("\nThe light engine's stages on one 12 MP photo (s):")
        print("| stage | grey | colour |\n|---|---|---|")
        grey_t, colour_t = stages(photos["grey"][0]), stages(photos["colour"][0])
        for stage in grey_t:
            print(f"| {stage} | {grey_t[stage]:.3f} | {colour_t[stage]:.3f} |")
        print(f"| total | {sum(grey_t.values()):.3f} | {sum(colour_t.values()):.3f} |")
    print()
    print(fidelity(args.shared if args.shared.is_dir() else None))
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024**2
    print(f"\n(this script's own peak: {peak:.2f} GB)")


if __name__ == "__main__":
    main()
