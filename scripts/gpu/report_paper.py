"""Figures of the H100 run for docs/results/paper-on-an-h100.md: its loss curves and its last
sample grid.

Usage: python scripts/gpu/report_paper.py RUN_FILES_DIR docs/results/artefacts/h100
(RUN_FILES_DIR holds what scripts/gpu/run_paper.sh wrote under $OUT: losses.csv, samples.png.)
"""

from __future__ import annotations

import sys
from pathlib import Path

from PIL import Image

from colorgan.training.runlog import plot_losses


def main(src: str, dst: str) -> int:
    out = Path(dst)
    out.mkdir(parents=True, exist_ok=True)
    plot_losses({"H100 run (configs/gpu.yaml)": Path(src) / "losses.csv"}, out / "losses.png")
    Image.open(Path(src) / "samples.png").convert("RGB").save(out / "samples.jpg", quality=85)
    return 0


if __name__ == "__main__":
    sys.exit(main(*sys.argv[1:3]))
