"""Colouring across a Ray cluster against one machine, on this machine's cores, side by side
in one run (needs the cluster extra).

Run: `.venv/bin/python -m benchmarks.cluster [--photos 48] [--rounds 2]`.

1. Photos: grey 4000x3000 (12 MP) JPEGs through `colorgan colorize` (one machine: ONNX
   Runtime on every core) and through `colorgan colorize --ray=ADDRESS` on a local cluster
   (Ray's testing cluster) of one node with one worker of 2 CPUs, and of two nodes of one CPU
   with a worker each: equal cores. End to end is the command's process, start to exit (for
   Ray: the driver's start, joining the cluster, the actors' start and model loads); steady
   is photos/s from the first output written to the last. Each worker's peak memory, the
   resident memory of Ray's own processes, and the cluster's start-up (nodes up, joined).
2. A film: 1280x720, four shots of 24 frames (a pan over an example photo each), one
   machine against two workers, end to end; and each stage on its own, at 720p and at 4K
   (3840x2160, 12 frames): the driver's read of the film (pipeline.film_split) and its join
   (the film core taking the parts' colour, pipeline.film_parts.Parts), which are serial,
   beside one process colouring the parts, and a part's size a frame (its frames' ab).
3. A seam inside a shot: a pan of 48 frames coloured whole and as two parts cut in its
   middle; the colour's change across the seam against its change from frame to frame within
   the shot (mean |delta ab| in CIE Lab over the frame, at the model's size).
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import replace
from fractions import Fraction
from pathlib import Path

import numpy as np
from PIL import Image

from benchmarks.colorize_fullres import make_jpeg
from benchmarks.common import machine

ROOT = Path(__file__).resolve().parents[1]


class Memory(threading.Thread):
    """Peak resident memory (VmHWM) of the processes whose command line holds `name`."""

    def __init__(self, name: bytes) -> None:
        super().__init__(daemon=True)
        self.pattern, self.peaks, self.done = name, {}, False

    def run(self) -> None:
        while not self.done:
            for pid, status in processes(self.pattern).items():
                self.peaks[pid] = max(self.peaks.get(pid, 0), kb(status, "VmHWM"))
            time.sleep(0.2)


def processes(name: bytes) -> dict[int, str]:
    found = {}
    for entry in Path("/proc").iterdir():
        try:
            if entry.name.isdigit() and name in (entry / "cmdline").read_bytes():
                found[int(entry.name)] = (entry / "status").read_text()
        except OSError:
            continue
    return found


def kb(status: str, field: str) -> int:
    line = next((x for x in status.splitlines() if x.startswith(field + ":")), f"{field}: 0 kB")
    return int(line.split()[1])


def start_cluster(nodes: int, cpus: int):
    """A local cluster of `nodes` nodes of `cpus` CPUs each, and the seconds it took."""
    import ray
    from ray.cluster_utils import Cluster

    start = time.perf_counter()
    cluster = Cluster(initialize_head=True, head_node_args={"num_cpus": cpus})
    for _ in range(nodes - 1):
        cluster.add_node(num_cpus=cpus)
    cluster.wait_for_nodes()
    ray.init(address=cluster.address, include_dashboard=False, log_to_driver=False)
    seconds = time.perf_counter() - start
    ray.shutdown()  # the benchmark is no driver: the commands are
    return cluster, seconds


def colorize(inputs: Path, out: Path, *extra: str) -> tuple[float, float]:
    """The command's seconds, start to exit, and its steady outputs a second."""
    command = [sys.executable, "-m", "colorgan", "colorize", str(inputs), "--out", str(out)]
    start = time.perf_counter()
    subprocess.run([*command, "-q", *extra], check=True, stdout=subprocess.DEVNULL)
    seconds = time.perf_counter() - start
    times = sorted(p.stat().st_mtime_ns for p in out.iterdir() if p.is_file())
    steady = (len(times) - 1) / ((times[-1] - times[0]) / 1e9) if len(times) > 2 else 0.0
    return seconds, steady


def photos(tmp: Path, count: int, rounds: int) -> None:
    folder = tmp / "scans"
    folder.mkdir()
    for i in range(count):
        make_jpeg(folder / f"scan{i:03d}.jpg", i, grey=True)
    rows: dict[str, list] = {"one machine": [], "ray, 1 worker x 2 CPUs": []}
    rows["ray, 2 workers x 1 CPU"] = []
    extra: dict[str, list] = {"memory": [], "ray": [], "start": []}
    for r in range(rounds):
        rows["one machine"].append(colorize(folder, tmp / f"one{r}"))
        for label, nodes, cpus in (
            ("ray, 1 worker x 2 CPUs", 1, 2),
            ("ray, 2 workers x 1 CPU", 2, 1),
        ):
            cluster, seconds = start_cluster(nodes, cpus)
            extra["start"].append(seconds)
            memory = Memory(b"_PhotoWorker")
            memory.start()
            try:
                options = [f"--ray={cluster.address}", "--ray-cpus", str(cpus)]
                rows[label].append(colorize(folder, tmp / f"ray{nodes}-{r}", *options))
                ray_own = sum(kb(s, "VmRSS") for s in processes(b"raylet").values())
                ray_own += sum(kb(s, "VmRSS") for s in processes(b"gcs_server").values())
                extra["ray"].append(ray_own / 1024**2)
            finally:
                memory.done = True
                memory.join()
                cluster.shutdown()
            extra["memory"] += [peak / 1024**2 for peak in memory.peaks.values()]
    print(f"\n{count} grey 4000x3000 JPEGs, best of {rounds} rounds (interleaved):")
    print("| run | end to end s | photos/s end to end | steady photos/s | steady vs one machine |")
    print("|---|---|---|---|---|")
    base = max(s for _, s in rows["one machine"])
    for label, found in rows.items():
        seconds, steady = min(s for s, _ in found), max(s for _, s in found)
        print(
            f"| {label} | {seconds:.1f} | {count / seconds:.2f} | {steady:.2f} | "
            f"{steady / base:.2f}x |"
        )
    print(f"worker peak memory: {min(extra['memory']):.2f}-{max(extra['memory']):.2f} GB each")
    print(f"Ray's own processes (raylets, GCS), resident: {max(extra['ray']):.2f} GB")
    start = f"{min(extra['start']):.1f}-{max(extra['start']):.1f}"
    print(f"cluster start-up (nodes up, joined): {start} s")


def pan_film(path: Path, shots: int, each: int, size=(1280, 720), step: int = 8) -> None:
    """A grey H.264 film of `shots` pans over the example photos (`step` pixels a frame; 0:
    a still shot, with film grain), a cut between each."""
    import av

    w, h = size
    examples = sorted((ROOT / "examples").glob("*.jpg"))
    scenes = [
        Image.open(examples[s % len(examples)]).convert("L").resize((w * 2, h))
        for s in range(shots)
    ]
    rng = np.random.default_rng(0)
    with av.open(str(path), "w") as out:
        video = out.add_stream("libx264", rate=24)
        video.width, video.height, video.pix_fmt = w, h, "yuv420p"
        for i in range(shots * each):
            x = (i % each) * step
            grey = np.asarray(scenes[i // each].crop((x, 0, x + w, h)), np.float32)
            if not step:
                grey = np.clip(grey + rng.normal(0, 6, grey.shape), 0, 255)
            frame = av.VideoFrame.from_image(Image.fromarray(grey.astype(np.uint8)).convert("RGB"))
            frame.pts, frame.time_base = i, Fraction(1, 24)
            out.mux(video.encode(frame))
        out.mux(video.encode(None))


def film(tmp: Path, rounds: int) -> None:
    clip = tmp / "film" / "film.mp4"
    clip.parent.mkdir()
    pan_film(clip, 4, 24)
    frames = 96
    one, many = [], []
    for r in range(rounds):
        one.append(colorize(clip.parent, tmp / f"film-one{r}")[0])
        cluster, _ = start_cluster(2, 1)
        try:
            many.append(colorize(clip.parent, tmp / f"film-ray{r}", f"--ray={cluster.address}")[0])
        finally:
            cluster.shutdown()
    print(f"\nA 1280x720 film, {frames} frames in 4 shots, best of {rounds}:")
    print("| run | end to end s | frames/s | vs one machine |\n|---|---|---|---|")
    print(f"| one machine | {min(one):.1f} | {frames / min(one):.2f} | 1.00x |")
    ratio = min(one) / min(many)
    print(f"| ray, 2 workers x 1 CPU | {min(many):.1f} | {frames / min(many):.2f} | {ratio:.2f}x |")
    print("\nThe parts alone, in this process (the driver's read and join are serial):")
    print("| film | read frames/s | colour frames/s (2 threads) | join frames/s | MB a frame |")
    print("|---|---|---|---|---|")
    stages(clip, "1280x720, 96 frames")
    uhd = tmp / "uhd.mp4"
    pan_film(uhd, 2, 6, size=(3840, 2160))
    stages(uhd, "3840x2160, 12 frames")


def stages(clip: Path, label: str) -> None:
    """One film's parts, each stage timed alone: the driver's read (film_split), one
    process colouring every part (film_parts), the driver's join (decode + H.264)."""
    from colorgan.pipeline.colorizer import Colorizer
    from colorgan.pipeline.film import colorize_video
    from colorgan.pipeline.film_parts import SUFFIX, Parts, colour_part
    from colorgan.pipeline.film_split import plan_film
    from colorgan.pipeline.request import Request

    colorizer, request = Colorizer(), Request(clip)
    start = time.perf_counter()
    plan = plan_film(colorizer, request, 8)
    times = [time.perf_counter() - start]
    parts = [clip.with_name(f"{clip.stem}-part{k}{SUFFIX}") for k in range(len(plan.parts))]
    start = time.perf_counter()
    for k, part in enumerate(parts):
        colour_part(colorizer, request, plan, k, part)
    times.append(time.perf_counter() - start)
    start = time.perf_counter()
    output = clip.with_name(f"{clip.stem}-joined.mp4")
    colorize_video(colorizer, request, output, overwrite=True, colour=Parts(plan, parts))
    times.append(time.perf_counter() - start)
    read, coloured, joined = (plan.frames / t for t in times)
    kept = sum(p.stat().st_size for p in parts) / plan.frames / 1e6
    print(f"| {label} | {read:.1f} | {coloured:.2f} | {joined:.1f} | {kept:.2f} |")


def seam(tmp: Path) -> None:
    """A shot of 48 frames coloured whole and as two parts cut in its middle: a pan, and a
    still shot with grain (where the steadying averages most)."""
    from colorgan.pipeline.colorizer import Colorizer
    from colorgan.pipeline.film_parts import SUFFIX, colour_part
    from colorgan.pipeline.film_split import plan_film
    from colorgan.pipeline.request import Request

    colorizer = Colorizer()

    def ab(request: Request, plan, name: str) -> np.ndarray:
        parts = []  # each frame's ab in CIE Lab, at the model's size
        for k in range(len(plan.parts)):
            colour_part(colorizer, request, plan, k, tmp / f"{name}{k}{SUFFIX}")
            parts.append(np.load(tmp / f"{name}{k}{SUFFIX}") * colorizer.spec.ab_scale)
        return np.concatenate(parts)

    print("\nA seam in the middle of a 48-frame shot (640x360), mean |delta ab| over the frame:")
    print("| shot | across the seam | frame to frame, whole: median | max | seam / median |")
    print("|---|---|---|---|---|")
    for label, step in (("pan, 8 px a frame", 8), ("still, with grain", 0)):
        clip = tmp / f"shot{step}.mp4"
        pan_film(clip, 1, 48, size=(640, 360), step=step)
        request = Request(clip)
        whole = plan_film(colorizer, request, 2)
        one = ab(request, whole, f"whole{step}-")
        two = ab(request, replace(whole, parts=((0, 24), (24, 48))), f"halves{step}-")
        steps = np.abs(one[1:] - one[:-1]).mean(axis=(1, 2, 3))
        at_seam = float(np.abs(two[24] - two[23]).mean())
        median = float(np.median(steps))
        print(
            f"| {label} | {at_seam:.2f} | {median:.2f} | {steps.max():.2f} | "
            f"{at_seam / median:.1f}x |"
        )


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--photos", type=int, default=48)
    parser.add_argument("--rounds", type=int, default=2)
    args = parser.parse_args()
    print(machine())
    with tempfile.TemporaryDirectory() as name:
        tmp = Path(name)
        photos(tmp, args.photos, args.rounds)
        film(tmp, args.rounds)
        seam(tmp)


if __name__ == "__main__":
    main()
