"""Photos at the speed of their codec: `colorgan colorize` of 12 MP grey JPEGs against Pillow
decoding and encoding the same files (quality 95, as colorgan saves them), and start-up;
this checkout's code beside another checkout's (`--code`), interleaved round by round.

Run: `.venv/bin/python -m benchmarks.photo_floor [--code ../main] [--rounds 5]`.

- Per photo: (five photos - one photo) / 4 of two process times (the onnx engine, fp32), as
  benchmarks.light measures it; Pillow's the same way, in a process doing nothing but
  `Image.open(p).save(out, quality=95)` for each photo.
- Start-up: `colorgan colorize examples/astronaut.jpg`, process start to the file written,
  with Python's bytecode written (as an install has it; this project's shell sets
  PYTHONDONTWRITEBYTECODE, which would compile every module every time) and ONNX Runtime's
  optimized graph kept (engines.sessions) after a first run.
- Each figure is the median over the rounds, wall and CPU (user + system) seconds side by
  side: on a machine shared with other work the wall is the machine's, the CPU the program's.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

from benchmarks.colorize_fullres import make_jpeg
from benchmarks.common import colorize_command, machine

ROOT = Path(__file__).resolve().parents[1]
CACHES = ["", ""]  # Python's bytecode, ONNX Runtime's graphs: folders of this run (main sets)
# a command's wall and CPU seconds, from a small launcher (as benchmarks.common's)
_LAUNCHER = (
    "import resource, subprocess, sys, time; t = time.perf_counter(); "
    "subprocess.run(sys.argv[1:], check=True, stdout=subprocess.DEVNULL); "
    "u = resource.getrusage(resource.RUSAGE_CHILDREN); "
    "print(time.perf_counter() - t, u.ru_utime + u.ru_stime)"
)
_PILLOW = (
    "import sys; from pathlib import Path; from PIL import Image\n"
    "for p in sys.argv[2:]: Image.open(p).save(Path(sys.argv[1]) / Path(p).name, quality=95)"
)


def timed(command: list[str], code: Path | None) -> tuple[float, float]:
    """(wall, CPU) seconds of a command, with `code`'s src/ on the path (None: this one's);
    its bytecode and optimized graphs kept in this run's own folders (CACHES), never in a
    checkout or the user's cache."""
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    env["PYTHONPATH"] = str((code or ROOT) / "src")
    env["PYTHONPYCACHEPREFIX"], env["COLORGAN_CACHE"] = CACHES
    done = subprocess.run(
        [sys.executable, "-c", _LAUNCHER, *command],
        check=True,
        capture_output=True,
        text=True,
        env=env,
    )
    wall, cpu = done.stdout.split()
    return float(wall), float(cpu)


def per_photo(photos: list[Path], out: Path, code: Path | None) -> dict[str, tuple]:
    """(wall, CPU) seconds per photo after start-up: colorgan's and Pillow's."""
    found = {}
    for name in ("colorgan", "pillow"):
        times = []
        for paths in (photos[:1], photos):
            folder = out / f"{name}-{len(paths)}"
            folder.mkdir(parents=True)
            if name == "colorgan":
                command = colorize_command(paths, folder, "onnx")
            else:
                command = [sys.executable, "-c", _PILLOW, str(folder), *map(str, paths)]
            times.append(timed(command, code))
        one, every = times
        found[name] = tuple((b - a) / (len(photos) - 1) for a, b in zip(one, every, strict=True))
    return found


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--code", type=Path, help="another checkout, measured beside this one")
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    print(machine())
    codes = [None, args.code] if args.code else [None]
    rows: dict = {k: {"photo": [], "pillow": [], "start": []} for k in range(len(codes))}
    with tempfile.TemporaryDirectory() as name:
        tmp = Path(name)
        CACHES[:] = [str(tmp / "bytecode"), str(tmp / "graphs")]
        photos = [tmp / f"grey{i}.jpg" for i in range(5)]
        for i, path in enumerate(photos):
            make_jpeg(path, i, grey=True)
        start = colorize_command([ROOT / "examples" / "astronaut.jpg"], tmp / "s", "onnx")
        for code in codes:  # bytecode written, the optimized graph kept
            timed([*start, "--overwrite"], code)
        for r in range(args.rounds):
            for k, code in enumerate(codes):
                found = per_photo(photos, tmp / f"r{r}-{k}", code)
                rows[k]["photo"].append(found["colorgan"])
                rows[k]["pillow"].append(found["pillow"])
                rows[k]["start"].append(timed([*start, "--overwrite"], code))
    print(
        f"\n4000x3000 grey JPEGs (5), per photo after start-up; start-up on a small photo; "
        f"median of {args.rounds} rounds, wall / CPU seconds:\n"
        "| code | colorgan per photo | Pillow decode + encode | colorgan / Pillow | "
        "start-up |\n|---|---|---|---|---|"
    )
    for k, code in enumerate(codes):
        med = {m: [statistics.median(t[i] for t in v) for i in (0, 1)] for m, v in rows[k].items()}
        ratio = [med["photo"][i] / med["pillow"][i] for i in (0, 1)]
        print(
            f"| {code or 'this checkout'} | {med['photo'][0]:.3f} / {med['photo'][1]:.3f} | "
            f"{med['pillow'][0]:.3f} / {med['pillow'][1]:.3f} | {ratio[0]:.2f}x / "
            f"{ratio[1]:.2f}x | {med['start'][0]:.2f} / {med['start'][1]:.2f} |"
        )


if __name__ == "__main__":
    main()
