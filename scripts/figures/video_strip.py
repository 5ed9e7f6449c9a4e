"""docs/video.jpg: a grey clip (a pan across a bundled example photo) and what
`colorgan colorize` made of it, four frames each, decoded from the written MP4.

Run: `.venv/bin/python scripts/figures/video_strip.py`. The light engine, the bundled default.
"""

from __future__ import annotations

import tempfile
from fractions import Fraction
from pathlib import Path

import av
from PIL import Image

from colorgan.base.files import atomic_file
from colorgan.engines.onnx_engine import OnnxEngine
from colorgan.pipeline.colorizer import Colorizer
from colorgan.pipeline.film import colorize_video
from colorgan.pipeline.request import Request

ROOT = Path(__file__).resolve().parents[2]
W, H, FRAMES, SHOWN = 320, 240, 48, (0, 15, 31, 47)


def frames_of(path: Path) -> list[Image.Image]:
    with av.open(str(path)) as f:
        return [frame.to_image() for frame in f.decode(f.streams.video[0])]


def main() -> None:
    photo = Image.open(ROOT / "examples" / "coffee.jpg").convert("RGB").resize((W + 2 * FRAMES, H))
    with tempfile.TemporaryDirectory() as tmp:
        clip, out = Path(tmp) / "clip.mp4", Path(tmp) / "out.mp4"
        with av.open(str(clip), "w") as f:
            stream = f.add_stream("libx264", rate=24)
            stream.width, stream.height, stream.pix_fmt = W, H, "yuv420p"
            for t in range(FRAMES):
                frame = av.VideoFrame.from_image(photo.crop((2 * t, 0, 2 * t + W, H)))
                frame.pts, frame.time_base = t, Fraction(1, 24)
                f.mux(stream.encode(frame))
            f.mux(stream.encode(None))
        colorize_video(Colorizer(OnnxEngine()), Request(clip), out)
        rows = [frames_of(clip), frames_of(out)]
    sheet = Image.new("RGB", (W * len(SHOWN), H * 2))
    for r, frames in enumerate(rows):
        for c, t in enumerate(SHOWN):
            sheet.paste(frames[t].convert("RGB"), (c * W, r * H))
    with atomic_file(ROOT / "docs" / "video.jpg") as tmp_file:
        sheet.save(tmp_file, format="JPEG", quality=88)


if __name__ == "__main__":
    main()
