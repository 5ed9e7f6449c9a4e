"""Install size and time: `pip install colorgan` (the light install), `colorgan[web]` (the
light install and the page of `colorgan serve`) and `colorgan[train]`, each into a fresh
virtual environment, side by side in one run; then the light environment colorizes the
bundled examples, with torch not importable.

Run: `.venv/bin/python -m benchmarks.install`. pip reads the same package index as `make`
(here a local mirror, so the times are install times, not download times).
"""

from __future__ import annotations

import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def folder_mb(path: Path) -> float:
    return sum(f.stat().st_size for f in path.rglob("*") if f.is_file()) / 1e6


def install(venv: Path, spec: str) -> tuple[float, float]:
    """Seconds to create the environment and install `spec`; MB it takes on disk."""
    start = time.perf_counter()
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    subprocess.run(
        [str(venv / "bin/pip"), "install", "--quiet", spec], check=True, stderr=subprocess.DEVNULL
    )
    return time.perf_counter() - start, folder_mb(venv)


def main() -> None:
    with tempfile.TemporaryDirectory() as name:
        tmp = Path(name)
        rows = {}
        for label, spec in (
            ("light", str(ROOT)),
            ("web", f"{ROOT}[web]"),
            ("train", f"{ROOT}[train]"),
        ):
            rows[label] = install(tmp / label, spec)
        print("| install | seconds | MB on disk |\n|---|---|---|")
        for label, spec in (
            ("light", "pip install colorgan"),
            ("web", "pip install 'colorgan[web]'"),
            ("train", "pip install 'colorgan[train]'"),
        ):
            seconds, mb = rows[label]
            print(f"| `{spec}` ({label}) | {seconds:.0f} | {mb:.0f} |")
        light = tmp / "light/bin"
        print()
        for label in ("light", "web"):
            torch = subprocess.run(
                [str(tmp / label / "bin/python"), "-c", "import torch"], capture_output=True
            )
            print(f"{label} environment: `import torch` exits {torch.returncode} (no torch)")
        start = time.perf_counter()
        cmd = [
            str(light / "colorgan"),
            "colorize",
            str(ROOT / "examples"),
            "--out",
            str(tmp / "out"),
            "-q",
        ]
        run = subprocess.run(cmd, capture_output=True, text=True)
        print(
            f"light environment: `colorgan colorize examples/` -> {run.stdout.strip()} "
            f"(exit {run.returncode}, {time.perf_counter() - start:.1f} s)"
        )
        cmd = [str(light / "colorgan"), "train", str(ROOT / "configs/default.yaml")]
        train = subprocess.run(cmd, capture_output=True, text=True)
        print(
            f"light environment: `colorgan train` -> exit {train.returncode}: "
            f"{train.stderr.strip()}"
        )


if __name__ == "__main__":
    main()
