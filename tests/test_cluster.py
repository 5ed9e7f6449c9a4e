"""Colouring across a Ray cluster (apps.cluster): a local cluster of two nodes of one CPU each
on this machine (Ray's own testing cluster), its outputs compared byte for byte (photos) and
frame for frame (films) with one machine's; a worker killed and the driver stopped mid run
lose nothing, and a rerun writes nothing new; without Ray, `--ray` says which extra to
install (tests/test_cli.py)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from fractions import Fraction
from pathlib import Path

import numpy as np
import pytest

from colorgan.apps.cli import main
from colorgan.base.images import expand_inputs
from tests.conftest import make_photo

ray = pytest.importorskip("ray")
pytestmark = pytest.mark.subprocess  # a cluster is processes


@pytest.fixture(scope="module")
def cluster():
    """Two nodes of one CPU each; this process its driver. Their workers import colorgan as
    this process does (PYTHONPATH is passed on)."""
    from ray.cluster_utils import Cluster

    nodes = Cluster(initialize_head=True, head_node_args={"num_cpus": 1})
    nodes.add_node(num_cpus=1)
    nodes.wait_for_nodes()
    ray.init(address=nodes.address, include_dashboard=False, log_to_driver=False)
    yield nodes.address
    ray.shutdown()
    nodes.shutdown()


def outputs(folder: Path) -> dict[str, bytes]:
    """Every file under `folder` by its relative path, with its bytes."""
    return {
        str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()
    }


def scans(folder: Path, count: int, size=(96, 80)) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    for i in range(count):
        make_photo(i, size).convert("L").save(folder / f"scan{i:03d}.{'png' if i % 2 else 'jpg'}")
    return folder


def test_photos_on_two_nodes_are_those_of_one_machine_byte_for_byte(cluster, photo_dir, tmp_path):
    """Names that meet (two photo01.png, alternatives, damage masks, an RGBA photo named .jpg
    that becomes PNG beside a PNG of its name), references, restoration and saturation."""
    other = tmp_path / "other"
    other.mkdir()
    make_photo(50).save(other / "photo01.png")  # photo_dir has a photo01.png too: -2
    make_photo(51).convert("RGBA").save(other / "photo03-alt1.png")
    make_photo(52).convert("LA").save(other / "sneaky.jpg", format="PNG")  # alpha: sneaky.png
    make_photo(53).save(other / "sneaky.png")
    for name in ("warm.png", "cool.png"):
        make_photo(60 + len(name), (64, 64)).save(tmp_path / name)
    given = [str(photo_dir), *(str(p) for p in sorted(other.iterdir()))]
    options = ["--saturation", "1.3", "--restore", "--restore-mask", "--alternatives", "2"]
    options += [
        "--reference",
        str(tmp_path / "warm.png"),
        "--reference",
        str(tmp_path / "cool.png"),
    ]
    one, many = tmp_path / "one", tmp_path / "many"
    assert main(["colorize", *given, "--out", str(one), "-q", *options]) == 0
    assert main(["colorize", *given, "--out", str(many), "-q", *options, "--ray"]) == 0
    assert {"photo01-alt1-2.png", "sneaky-alt1-2.png", "sneaky-alt1-2-damage.png"} <= set(
        outputs(one)
    )
    assert outputs(many) == outputs(one)


def test_a_bank_and_hints_reach_the_workers(cluster, photo_dir, tmp_path):
    bank = tmp_path / "bank"
    assert main(["bank", "build", str(photo_dir), "--out", str(bank), "-q"]) == 0
    hints = tmp_path / "hints.json"
    hints.write_text('{"photo02.jpg": [{"x": 10, "y": 12, "color": "#b22222"}]}')
    options = ["--reference-bank", str(bank), "--bank-k", "2", "--hints", str(hints)]
    one, many = tmp_path / "one", tmp_path / "many"
    assert main(["colorize", str(photo_dir), "--out", str(one), "-q", *options]) == 0
    assert main(["colorize", str(photo_dir), "--out", str(many), "-q", *options, "--ray"]) == 0
    assert outputs(many) == outputs(one)


def worker_pids(name: bytes = b"_PhotoWorker") -> set[int]:
    """The processes of the workers that run `name` (Ray names each after what it runs)."""
    found = set()
    for entry in Path("/proc").iterdir():
        try:
            if entry.name.isdigit() and name in (entry / "cmdline").read_bytes():
                found.add(int(entry.name))
        except OSError:
            continue
    return found


def stop(driver: subprocess.Popen, name: bytes) -> None:
    """The driver killed, and its workers gone with it (Ray ends them)."""
    driver.send_signal(signal.SIGKILL)
    driver.wait()
    deadline = time.time() + 120
    while worker_pids(name) and time.time() < deadline:
        time.sleep(0.2)


def test_a_worker_killed_mid_run_loses_nothing_and_a_rerun_writes_nothing(cluster, tmp_path):
    from colorgan.apps.cluster import colorize_on_ray

    jobs, _ = expand_inputs([str(scans(tmp_path / "scans", 48))])
    out = tmp_path / "out"
    results, killed = [], None
    for result in colorize_on_ray(jobs, out):
        results.append(result)
        if killed is None:  # a batch is done: the others are on their way
            killed = sorted(worker_pids())[0]
            os.kill(killed, signal.SIGKILL)
    assert killed is not None and killed not in worker_pids()
    assert [r.error for r in results] == [None] * 48
    assert not list(out.rglob(".*.tmp"))  # nothing half-written
    one = tmp_path / "one"
    assert main(["colorize", str(tmp_path / "scans"), "--out", str(one), "-q"]) == 0
    assert outputs(out) == outputs(one)
    times = {p: p.stat().st_mtime_ns for p in out.iterdir()}
    again = list(colorize_on_ray(jobs, out))
    assert all(r.kept and r.target is not None for r in again) and len(again) == 48
    assert {p: p.stat().st_mtime_ns for p in out.iterdir()} == times


def test_a_driver_stopped_mid_run_resumes_where_it_stopped(cluster, tmp_path):
    scans(tmp_path / "scans", 64)
    out = tmp_path / "out"
    command = ["colorize", str(tmp_path / "scans"), "--out", str(out), "-q", f"--ray={cluster}"]
    driver = subprocess.Popen([sys.executable, "-m", "colorgan", *command])
    deadline = time.time() + 300
    while not any(out.glob("scan*")) and driver.poll() is None and time.time() < deadline:
        time.sleep(0.2)
    stop(driver, b"_PhotoWorker")
    before = {p.name for p in out.glob("scan*")}
    assert 0 < len(before) < 64, "the driver should stop mid run"
    assert main(command) == 1  # those written before are kept, and said to be
    one = tmp_path / "one"
    assert main(["colorize", str(tmp_path / "scans"), "--out", str(one), "-q"]) == 0
    assert outputs(out) == outputs(one)  # and no temporary file left


def test_an_address_where_no_cluster_answers_is_one_line(tmp_path):
    """In a process of its own, that has joined no cluster (Ray would wait for minutes)."""
    make_photo(0).save(tmp_path / "photo.png")
    given = ["colorize", str(tmp_path / "photo.png"), "--out", str(tmp_path / "out")]
    for address, words in (("127.0.0.1:1", "no Ray cluster answers at"), ("x", "HOST:PORT")):
        command = [sys.executable, "-m", "colorgan", *given, f"--ray={address}"]
        done = subprocess.run(command, capture_output=True, text=True, timeout=120)
        err = done.stderr.strip().splitlines()
        assert done.returncode == 2 and len(err) == 1 and words in err[0], err


def cut_film(path: Path, scenes: int = 3, each: int = 8, size=(160, 120)) -> None:
    """A grey film of `scenes` panned photos, a hard cut between each, with a tone."""
    import av

    w, h = size
    photos = [make_photo(5 * s + 1, (w * 2, h)) for s in range(scenes)]
    with av.open(str(path), "w") as out:
        video = out.add_stream("libx264", rate=12)
        video.width, video.height, video.pix_fmt = w, h, "yuv420p"
        sound = out.add_stream("aac", rate=16000)
        for i in range(scenes * each):
            x = (i % each) * 4
            grey = photos[i // each].crop((x, 0, x + w, h)).convert("L").convert("RGB")
            frame = av.VideoFrame.from_image(grey)
            frame.pts, frame.time_base = i, Fraction(1, 12)
            out.mux(video.encode(frame))
        out.mux(video.encode(None))
        t = np.arange(16000 * scenes * each // 12) / 16000
        tone = (0.2 * np.sin(2 * np.pi * 440 * t)).astype(np.float32)[None]
        for start in range(0, tone.shape[1], 1024):
            chunk = np.ascontiguousarray(tone[:, start : start + 1024])
            samples = av.AudioFrame.from_ndarray(chunk, format="fltp", layout="mono")
            samples.sample_rate, samples.pts = 16000, start
            out.mux(sound.encode(samples))
        out.mux(sound.encode(None))


def film_of(path: Path) -> tuple[list[np.ndarray], list[int], list[tuple[int, bytes]]]:
    """A film's decoded frames, their timestamps, and its sound's packets (time, bytes)."""
    import av

    with av.open(str(path)) as f:
        frames = [(frame.to_ndarray(format="rgb24"), frame.pts) for frame in f.decode(video=0)]
    with av.open(str(path)) as f:
        sound = [(p.pts, bytes(p)) for p in f.demux(audio=0) if p.size]
    return [a for a, _ in frames], [t for _, t in frames], sound


@pytest.mark.film
def test_a_film_with_two_cuts_is_coloured_in_parts_frame_for_frame_as_on_one_machine(
    cluster, tmp_path, capsys
):
    """Lossless output (CRF 0), so that the frames the encoder was given are compared; with
    a reference and a key frame in the second shot, each frame a reference for the next. A
    film that cannot be read is one line, and nothing is written."""
    from colorgan.pipeline.colorizer import Colorizer
    from colorgan.pipeline.film_split import plan_film
    from colorgan.pipeline.request import Request

    pytest.importorskip("av")
    film = tmp_path / "film.mp4"
    cut_film(film)
    assert plan_film(Colorizer(), Request(film), 6).parts == ((0, 8), (8, 16), (16, 24))
    make_photo(40, (160, 120)).save(tmp_path / "ref.png")
    make_photo(41, (160, 120)).save(tmp_path / "key.png")
    options = ["-q", "--video-quality", "0", "--reference", str(tmp_path / "ref.png")]
    options += ["--reference-frame", f"12:{tmp_path / 'key.png'}"]
    one, many = tmp_path / "one", tmp_path / "many"
    assert main(["colorize", str(film), "--out", str(one), *options]) == 0
    assert main(["colorize", str(film), "--out", str(many), *options, "--ray"]) == 0
    frames, times, sound = film_of(many / "film.mp4")
    frames_one, times_one, sound_one = film_of(one / "film.mp4")
    assert len(frames) == 24 and times == times_one and sound == sound_one
    assert all(np.array_equal(a, b) for a, b in zip(frames, frames_one, strict=True))
    assert sorted(p.name for p in many.iterdir()) == ["film.mp4"]  # the parts are gone
    (tmp_path / "bad.mp4").write_bytes(b"not a video")
    assert main(["colorize", str(tmp_path / "bad.mp4"), "--out", str(many), "--ray"]) == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "bad.mp4: not a readable video" in err[0], err
    assert sorted(p.name for p in many.iterdir()) == ["film.mp4"]


@pytest.mark.film
def test_a_films_codec_is_honoured_and_standard_output_refused_in_one_line(cluster, tmp_path):
    """FFV1 (lossless, the source's depth) on two nodes is one machine's, plane for plane; a
    film asked for standard output goes on one machine, and the cluster says so."""
    import av

    from colorgan.apps.cluster import colorize_on_ray
    from colorgan.pipeline.film_out import STDOUT
    from colorgan.pipeline.settings import Settings

    film = tmp_path / "film.mp4"
    cut_film(film, scenes=2)
    one, many = tmp_path / "one", tmp_path / "many"
    assert main(["colorize", str(film), "--out", str(one), "-q", "--codec", "ffv1"]) == 0
    assert main(["colorize", str(film), "--out", str(many), "-q", "--codec", "ffv1", "--ray"]) == 0
    assert list(outputs(many)) == ["film.mkv"]
    stored = []
    for path in (one / "film.mkv", many / "film.mkv"):
        with av.open(str(path)) as f:
            stored.append([(x.format.name, x.pts, x.to_ndarray()) for x in f.decode(video=0)])
    assert len(stored[0]) == len(stored[1]) == 16
    for (fmt, pts, planes), (fmt_one, pts_one, planes_one) in zip(*stored, strict=True):
        assert (fmt, pts) == (fmt_one, pts_one) and np.array_equal(planes, planes_one)
    [result] = colorize_on_ray([(film, STDOUT)], many, Settings(codec="y4m"))
    assert result.target is None and "standard output is coloured on one machine" in result.error


@pytest.mark.film
def test_a_films_finished_parts_are_kept_for_the_next_run(cluster, tmp_path):
    """The driver stopped once a part is finished: the next run takes that part as it is
    (a part put in its place, without colour, shows in the output) and colours the rest."""
    film, out = tmp_path / "film.mp4", tmp_path / "out"
    cut_film(film, scenes=4, each=12)
    command = ["colorize", str(film), "--out", str(out), "-q", f"--ray={cluster}"]
    driver = subprocess.Popen([sys.executable, "-m", "colorgan", *command])
    parts = out / ".film.mp4.parts"
    deadline = time.time() + 300
    while not any(parts.glob("part-*.npy")) and driver.poll() is None and time.time() < deadline:
        time.sleep(0.1)
    stop(driver, b"_colour_part")
    finished = sorted(parts.glob("part-*.npy"))
    assert finished and not (out / "film.mp4").exists()
    part = int(finished[0].stem.split("-")[1])  # its frames: 12 a shot, a shot a part
    np.save(finished[0], np.zeros_like(np.load(finished[0])))  # each frame's ab: grey
    assert main(command) == 0
    frames, _, _ = film_of(out / "film.mp4")
    chroma = [np.abs(np.diff(frame.astype(int), axis=-1)).mean() for frame in frames]
    grey = [k for k, c in enumerate(chroma) if c < 1]
    assert len(frames) == 48 and grey == list(range(12 * part, 12 * part + 12)), chroma
    assert not parts.exists()


@pytest.mark.film
def test_a_restored_film_on_two_nodes_is_one_machines_and_its_dust_is_gone(cluster, tmp_path):
    """`--restore` on the cluster: each part restored on its worker once, its repairs put back
    in the luma the driver writes; FFV1 (lossless) frames equal to one machine's, the dust
    gone from the middle of each shot. Two dusty clips of the film-dust benchmark, the second
    upside down: a cut between them, a part each."""
    import av

    from benchmarks.film_dust import dusty_clip, read_grey, scores, write_grey
    from colorgan.pipeline.colorizer import Colorizer
    from colorgan.pipeline.film_split import plan_film
    from colorgan.pipeline.request import Request

    clips = [dusty_clip((240, 136), 8, seed=s) for s in (0, 1)]
    for field in ("clean", "damaged", "dust", "scratch", "thing"):
        setattr(clips[1], field, [np.flipud(a) for a in getattr(clips[1], field)])
    film = tmp_path / "dusty.mkv"
    write_grey(film, clips[0].damaged + clips[1].damaged)
    assert plan_film(Colorizer(), Request(film), 6).parts == ((0, 8), (8, 16))
    one, many = tmp_path / "one", tmp_path / "many"
    command = ["colorize", str(film), "-q", "--restore", "--codec", "ffv1", "--out"]
    assert main([*command, str(one)]) == 0
    assert main([*command, str(many), "--ray"]) == 0
    stored = []
    for path in (one / "dusty.mkv", many / "dusty.mkv"):
        with av.open(str(path)) as f:
            stored.append([x.to_ndarray() for x in f.decode(video=0)])
    assert len(stored[1]) == 16
    assert all(np.array_equal(a, b) for a, b in zip(*stored, strict=True))
    written = read_grey(many / "dusty.mkv")
    for k, clip in enumerate(clips):
        got = scores(clip, written[8 * k : 8 * k + 8])  # small frames: the flow sees less
        assert got["spots gone (middle frames)"] >= 0.6, (k, got)
        assert scores(clip, clip.damaged)["spots gone (every frame)"] < 0.1
    assert list(outputs(many)) == ["dusty.mkv"]  # the parts and their repairs are gone
