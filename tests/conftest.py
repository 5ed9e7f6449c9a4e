"""Shared fixtures: synthetic colour photos and small generator files, all made on the spot.

torch is imported only inside what needs it (write_generator), so that the tests that need
none run without it (`make test-fast` runs them with it made impossible to import)."""

from __future__ import annotations

import ast
import functools
import os
import socket
import subprocess
import tempfile
import time
import urllib.request
from fractions import Fraction
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from colorgan.config import Config, config_from_dict

# Makes torch and the training libraries impossible to import, as in an environment where
# only the light install (`pip install .`) was run: WITHOUT_TORCH runs `colorgan` so
# (`python -c WITHOUT_TORCH ARGS`), tests/torch_free.py the tests that need none of them.
BLOCK_TORCH = r"""
import importlib.abc, sys

class Missing(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path, target=None):
        if name.split(".")[0] in {"torch", "torchvision", "timm", "kornia", "safetensors",
                                  "skimage", "tensorboard", "onnx"}:
            raise ModuleNotFoundError(f"No module named {name!r}", name=name)

sys.meta_path.insert(0, Missing())
"""
WITHOUT_TORCH = (
    BLOCK_TORCH
    + r"""
from colorgan.apps.cli import main
sys.exit(main(sys.argv[1:]))
"""
)


def start_server(python: list[str], *options: str, log: Path, env: dict | None = None):
    """`colorgan serve` (run as `python` + "serve") on a free local port in its own process,
    its output going to `log`: (the process, its address) once the page answers.
    RuntimeError with the log's text where it exits or stays silent for two minutes."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    command = [*python, "serve", "--port", str(port), *options]
    with open(log, "wb") as out:
        process = subprocess.Popen(command, stdout=out, stderr=subprocess.STDOUT, env=env)
    url = f"http://127.0.0.1:{port}"
    deadline = time.time() + 120
    while True:
        try:
            urllib.request.urlopen(url, timeout=5).close()
            return process, url
        except OSError:
            if process.poll() is not None or time.time() > deadline:
                process.kill()
                raise RuntimeError(f"colorgan serve did not start: {log.read_text()}") from None
            time.sleep(0.5)


SHARED = Path(__file__).resolve().parents[1].parent / "shared" / "datasets"

# Under pytest-xdist (`make test` runs two workers), each worker's torch, and the commands it
# starts, use one thread: two workers of two threads each on two cores would spin waiting on
# each other, several times slower than each alone. Set here, before any test module imports
# torch (conftest imports none).
if os.environ.get("PYTEST_XDIST_WORKER"):
    os.environ.setdefault("OMP_NUM_THREADS", "1")


@pytest.fixture(autouse=True, scope="session")
def _graph_cache(tmp_path_factory: pytest.TempPathFactory) -> None:
    """ONNX Runtime's optimized graphs (engines.sessions) kept in the session's own folder,
    for the suite's processes and the commands they start, never in the user's cache."""
    os.environ["COLORGAN_CACHE"] = str(tmp_path_factory.mktemp("graphs"))


def make_photo(seed: int, size: tuple[int, int] = (96, 80)) -> Image.Image:
    """A smooth, colourful synthetic photo: where colour follows from content, as in real ones.

    Bright regions are warm (orange), dark regions cool (blue), so L predicts ab and a
    colorizer has something to learn.
    """
    rng = np.random.default_rng(seed)
    w, h = size
    yy, xx = np.mgrid[0:h, 0:w] / max(h, w)
    light = 0.5 + 0.4 * np.sin(6 * xx + rng.uniform(0, 6)) * np.cos(5 * yy + rng.uniform(0, 6))
    warm = np.stack([light, light * 0.6, light * 0.2], -1)
    cool = np.stack([(1 - light) * 0.2, (1 - light) * 0.4, (1 - light) * 0.9], -1)
    rgb = np.where(light[..., None] > 0.5, warm, cool) + rng.normal(0, 0.01, (h, w, 3))
    return Image.fromarray((np.clip(rgb, 0, 1) * 255).astype(np.uint8))


def make_clip(path: Path, frames: int = 24, fps: int = 12, size=(160, 120), audio=True) -> None:
    """A grey clip with a camera pan over one photo, a hard cut to another, and a tone
    (H.264 in MP4, AAC)."""
    import av

    w, h = size
    scenes = [make_photo(3, (w * 2, h)), make_photo(8, (w * 2, h))]
    with av.open(str(path), "w") as out:
        video = out.add_stream("libx264", rate=fps)
        video.width, video.height, video.pix_fmt = w, h, "yuv420p"
        sound = out.add_stream("aac", rate=16000) if audio else None
        for i in range(frames):
            scene = scenes[0] if i < frames // 2 else scenes[1]
            x = (i % (frames // 2)) * 4
            grey = scene.crop((x, 0, x + w, h)).convert("L").convert("RGB")
            frame = av.VideoFrame.from_image(grey)
            frame.pts, frame.time_base = i, Fraction(1, fps)
            for packet in video.encode(frame):
                out.mux(packet)
        for packet in video.encode(None):
            out.mux(packet)
        if sound is not None:
            t = np.arange(int(16000 * frames / fps)) / 16000
            tone = (0.2 * np.sin(2 * np.pi * 440 * t)).astype(np.float32)[None]
            for start in range(0, tone.shape[1], 1024):
                samples = np.ascontiguousarray(tone[:, start : start + 1024])
                chunk = av.AudioFrame.from_ndarray(samples, format="fltp", layout="mono")
                chunk.sample_rate, chunk.pts = 16000, start
                for packet in sound.encode(chunk):
                    out.mux(packet)
            for packet in sound.encode(None):
                out.mux(packet)


@pytest.fixture
def photo_dir(tmp_path: Path) -> Path:
    root = tmp_path / "photos"
    (root / "sub").mkdir(parents=True)
    for i in range(12):
        folder = root / "sub" if i % 3 == 0 else root
        make_photo(i).save(folder / f"photo{i:02d}.{'png' if i % 2 else 'jpg'}")
    return root


def small_config(tmp_path: Path, data_root: Path, **sections: dict) -> Config:
    values = {
        "name": "tiny",
        "out_dir": str(tmp_path / "runs"),
        "data": {"root": str(data_root), "image_size": 32, "val_fraction": 0.25, "seed": 0},
        "priors": {"cache_dir": str(tmp_path / "cache")},
        "model": {"fusion": {"use_segmentation": False, "use_embedding": False}},
        # fp32 pinned: `auto` picks bf16 on CPUs with AMX, and the suite's numbers must not
        # depend on which CPU runs it
        "train": {
            "batch_size": 4,
            "pretrain_epochs": 1,
            "adversarial_epochs": 1,
            "checkpoint_every": 1000,
            "log_every": 1,
            "val_images": 4,
            "precision": "fp32",
        },
    }
    if "generator" in sections.get("model", {}):
        values["model"] = {}  # another generator: the fusion options above do not apply
    for section, extra in sections.items():
        values.setdefault(section, {}).update(extra)
    return config_from_dict(values)


NO_PRIORS = {"fusion": {"use_segmentation": False, "use_embedding": False}}


def write_generator(path: Path, model: dict | None = None, image_size: int = 32) -> Path:
    """A randomly initialised generator file (enough to test everything but colour quality),
    seeded: torch's random state after it is as if it had just been built."""
    import torch

    written, state = _built(repr(model or NO_PRIORS), image_size)
    path.write_bytes(written)
    torch.set_rng_state(state)
    return path


@functools.cache
def _built(model: str, image_size: int) -> tuple[bytes, object]:
    """The file write_generator writes and torch's random state once it is built: built once
    a session for each model (a hundred tests need one, and building it is most of their
    time)."""
    import torch

    from colorgan.models.file import build_generator, generator_meta, save_generator

    values = {"model": ast.literal_eval(model), "data": {"image_size": image_size}}
    cfg: Config = config_from_dict(values)
    torch.manual_seed(0)
    generator = build_generator(cfg.model, cfg.priors)
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "generator.safetensors"
        save_generator(path, generator, generator_meta(cfg))
        return path.read_bytes(), torch.get_rng_state()


@pytest.fixture
def tiny_weights(tmp_path: Path) -> Path:
    return write_generator(tmp_path / "tiny.safetensors")


@pytest.fixture
def shared_datasets() -> Path:
    if not (SHARED / "train").is_dir():
        pytest.skip(f"needs the shared photo sets at {SHARED} (absent in a fresh clone)")
    return SHARED


def write_film(
    path: Path,
    codec: str = "ffv1",
    pix_fmt: str = "yuv420p10le",
    frames: int = 6,
    size: tuple[int, int] = (64, 48),
    fmt: str | None = None,
    timecode: str | None = None,
    options: dict | None = None,
) -> None:
    """A grey film panning over a photo, at 16-bit precision in any codec and pixel format
    FFmpeg's converter reaches from rgb48 (10-bit ProRes, 16-bit PNG frames through a
    printf pattern with fmt="image2", ...), 24 frames a second, with a start timecode."""
    import av

    w, h = size
    scene = np.asarray(make_photo(4, (w * 2, h)).convert("L"), np.float64)
    scene = (scene / 255.0) ** 1.1 * 65535  # levels between 8-bit ones
    with av.open(str(path), "w", format=fmt, options=options or {}) as out:
        stream = out.add_stream(codec, rate=24)
        stream.width, stream.height, stream.pix_fmt = w, h, pix_fmt
        if codec == "prores_ks":
            stream.options = {"profile": "3"}
        if timecode:
            stream.metadata["timecode"] = timecode
        for i in range(frames):
            grey = scene[:, 2 * i : 2 * i + w].astype(np.uint16)
            rgb = av.VideoFrame.from_ndarray(np.repeat(grey[..., None], 3, -1), format="rgb48le")
            frame = rgb.reformat(format=pix_fmt)
            frame.pts, frame.time_base = i, Fraction(1, 24)
            for packet in stream.encode(frame):
                out.mux(packet)
        for packet in stream.encode(None):
            out.mux(packet)
