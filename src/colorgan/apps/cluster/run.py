"""A run across a Ray cluster, its choices made once on the driver: where it goes and how
wide (`Cluster`), Ray joined or started, and the engines of the driver and of the workers
(`connect`, a `Run`)."""

from __future__ import annotations

import logging
import socket
from dataclasses import dataclass, replace

from colorgan.base.errors import ColorganError, SettingError, install_hint, short
from colorgan.engines.choose import EngineOptions, open_engine
from colorgan.pipeline.colorizer import Colorizer


@dataclass(frozen=True)
class Cluster:
    """Where and how wide a run goes. `address`: a running cluster's (HOST:PORT, or "auto");
    None: Ray's own choice (RAY_ADDRESS, else a cluster started on this machine with `ray
    start`, else a new one here for this run). `workers`: actors (default: as many as the
    cluster's GPUs, else its CPUs by `cpus` each). `cpus`: each worker's CPUs (its ONNX
    Runtime threads)."""

    address: str | None = None
    workers: int | None = None
    cpus: int = 1

    def __post_init__(self) -> None:
        for name in ("workers", "cpus"):
            value = getattr(self, name)
            whole = isinstance(value, int) and not isinstance(value, bool)
            if (value is not None or name == "cpus") and not (whole and value >= 1):
                raise SettingError(name, f"must be a whole number from 1, not {short(value)}")


def ray_module():
    """Ray, or one line saying which extra brings it."""
    try:
        import ray
        import ray.data
    except ModuleNotFoundError:
        raise ColorganError(
            f"a run on a Ray cluster needs Ray, which this install leaves out: "
            f"{install_hint('cluster')}"
        ) from None
    return ray


@dataclass
class Run:
    """One run's choices, made once on the driver."""

    ray: object  # the ray module
    driver: Colorizer  # checks the requests and encodes the references
    worker: EngineOptions  # what each worker opens
    workers: int
    cpus: int
    gpus: int  # each worker's
    overwrite: bool
    progress: bool


def connect(cluster: Cluster, asked: EngineOptions, overwrite: bool, progress: bool) -> Run:
    """Ray joined (or started), and the engines chosen: torch on one GPU a worker where the
    cluster has GPUs and the options leave the engine open, the options' engine on CPUs
    otherwise (the driver plans on its CPU with the same engine)."""
    ray = ray_module()
    if not ray.is_initialized():  # else the caller's own connection, as it was made
        _check_answers(cluster.address)
        ray.init(
            address=cluster.address,
            include_dashboard=False,
            log_to_driver=False,
            logging_level=logging.WARNING,
        )
    ray.data.DataContext.get_current().enable_progress_bars = False  # the run's one bar
    logging.getLogger("ray.data").setLevel(logging.ERROR)
    gpus = int(ray.cluster_resources().get("GPU", 0))
    onnx_file = (asked.weights or "").lower().endswith(".onnx")
    if gpus and asked.engine != "onnx" and not onnx_file:
        device = "cuda" if asked.device == "auto" else asked.device
        worker = replace(asked, engine="torch", device=device)
        driver = replace(asked, engine="torch", device="cpu")
        workers = cluster.workers or gpus
        return Run(ray, Colorizer(open_engine(driver)), worker, workers, 1, 1, overwrite, progress)
    if asked.device not in ("auto", "cpu"):
        raise SettingError("device", f"{asked.device}: the cluster has no GPU")
    cpus = int(ray.cluster_resources().get("CPU", 1))
    workers = cluster.workers or max(1, cpus // cluster.cpus)
    worker = replace(asked, threads=cluster.cpus)
    return Run(
        ray, Colorizer(open_engine(asked)), worker, workers, cluster.cpus, 0, overwrite, progress
    )


def _check_answers(address: str | None) -> None:
    """One line where nothing answers at a HOST:PORT address (Ray itself would wait for
    minutes, saying so in many)."""
    if not address or address == "auto" or "://" in address:
        return
    host, _, port = address.rpartition(":")
    try:
        socket.create_connection((host or "127.0.0.1", int(port)), timeout=5).close()
    except ValueError:
        raise ColorganError(f"a Ray address is HOST:PORT or auto, not {short(address)}") from None
    except OSError as exc:
        raise ColorganError(
            f"no Ray cluster answers at {short(address)} ({exc.strerror or exc}); start one "
            "with `ray start --head`, or leave the address out for one on this machine"
        ) from None
