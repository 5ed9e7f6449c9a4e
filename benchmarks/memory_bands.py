"""Peak memory of colorizing one very large photo three ways, each in a fresh process, side
by side in one run: L and ab both at full size (the first pipeline); the full-size L with
ab upsampled band by band inside the colour conversion (the second); and neither held at
full size, L read in bands from the photo to resize it down and again to convert it (now).

Run: `.venv/bin/python -m benchmarks.memory_bands [--side 10000]`. The photo is a smooth
synthetic side x side image (100 megapixels by default), colour and grey; each process loads
the bundled model, builds the photo, then colorizes it once. Printed: the process's peak
resident memory, and how much of it the colorization added above the loaded photo.
"""

from __future__ import annotations

import argparse
import subprocess
import sys

from benchmarks.common import machine

CHILD = r"""
import sys
import numpy as np, torch
from PIL import Image
from colorgan.pipeline.colorizer import Colorizer
from colorgan.colour.bands import lab_to_uint8, lightness
from colorgan.engines.torch_engine import TorchEngine
from colorgan.base.images import to_8bit

side, way, kind = int(sys.argv[1]), sys.argv[2], sys.argv[3]
colorizer = Colorizer(TorchEngine(model="paper", precision="fp32"))
engine = colorizer.engine
rng = np.random.default_rng(0)
seed = rng.integers(0, 256, (64, 64, 3), dtype=np.uint8)
image = Image.fromarray(seed).resize((side, side), Image.Resampling.BILINEAR)
if kind == "grey":
    image = image.convert("L")
def hwm():  # this process's own peak in kB (getrusage also counts what it was forked from)
    return int(open("/proc/self/status").read().split("VmHWM:")[1].split()[0])


before = hwm()
if way == "banded":
    out = colorizer.colorize(image)
else:  # the earlier pipelines: the full-size L, and the full-size ab or a small one
    pixels = np.array(to_8bit(image))
    l_norm = lightness(pixels)
    l_tensor = torch.from_numpy(l_norm)[None, None]
    if way == "full":
        ab = engine.predict_full(l_tensor)[0].cpu().numpy()
    else:
        ab = engine.predict_tensor(l_tensor)[0].cpu().numpy()
    out = Image.fromarray(lab_to_uint8(l_norm, ab))
assert out.size == (side, side)
peak = hwm()
print(before / 1e6, peak / 1e6)
"""


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--side", type=int, default=10000)
    args = parser.parse_args()
    print(machine())
    print(f"{args.side}x{args.side} photo ({args.side**2 / 1e6:.0f} MP), the bundled paper model")
    print(
        "| photo | L and ab at full size: peak GB (added) | full-size L, ab in bands "
        "| both in bands (now) |"
    )
    print("|---|---|---|---|")
    for kind in ("colour", "grey"):
        cells = []
        for way in ("full", "full_l", "banded"):
            out = subprocess.run(
                [sys.executable, "-c", CHILD, str(args.side), way, kind],
                capture_output=True,
                text=True,
                check=True,
            )
            before, peak = map(float, out.stdout.split())
            cells.append(f"{peak:.2f} (+{peak - before:.2f})")
        print(f"| {kind} | {' | '.join(cells)} |")


if __name__ == "__main__":
    main()
