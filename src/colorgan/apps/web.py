"""`colorgan serve`: colorize in a local web page (Gradio).

The page is a thin layer over `Studio`, which checks each upload against the limits, runs
the accepted photos through the same streaming file loop as `colorgan colorize` and the films
through the same video path, into a folder of the request's own, and returns full-resolution
results, small previews for the page and a zip.
Gradio's queue runs one request at a time (the model uses every core anyway); the others wait
in line, and no request ever reads another's folder.
"""

import argparse
import logging
import os
import shutil
import signal
import socket
import sys
import tempfile
import threading
import time
import zipfile
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from PIL import Image

from colorgan.apps.video import colorize_videos
from colorgan.batch import unclaimed
from colorgan.bundled import BUNDLED
from colorgan.colorizer import Colorizer
from colorgan.engines import MAX_SATURATION, check_saturation
from colorgan.errors import ColorganError
from colorgan.files import atomic_file
from colorgan.images import IMAGE_EXTENSIONS, VIDEO_SUFFIXES, open_unloaded

PREVIEW_SIDE = 1600  # the page shows previews at most this large; downloads are full size
KEEP_SECONDS = 3600  # a request's folder is removed this long after it was written
MB = 1 << 20  # a megabyte as Gradio counts them in its upload limit


@dataclass
class Limits:
    """What an upload may be: at most `megabytes` on disk and `megapixels` decoded."""

    megabytes: float = 50.0
    megapixels: float = 100.0

    def refusal(self, path: Path, video: bool = False) -> str | None:
        """Why the upload at `path` is refused, or None; reads only a photo's header, or a
        film's stream header (the pixel limit is for each of its frames)."""
        size = path.stat().st_size
        if size > self.megabytes * MB:
            return f"{size / MB:.1f} MB is over the {self.megabytes:g} MB limit"
        if video:
            return self._film_refusal(path)
        try:
            with open_unloaded(path) as img:
                w, h = img.size
        except Image.DecompressionBombError:
            return f"over the {self.megapixels:g} megapixel limit"
        except (OSError, ValueError, SyntaxError):
            photos = ", ".join(s[1:].upper() for s in IMAGE_EXTENSIONS if s != ".jpeg")
            films = ", ".join(sorted(s[1:].upper() for s in VIDEO_SUFFIXES))
            return f"not a photo or film colorgan can read (photos: {photos}; films: {films})"
        if w * h > self.megapixels * 1e6:
            return f"{w}x{h} ({w * h / 1e6:.0f} MP) is over the {self.megapixels:g} MP limit"
        return None

    def _film_refusal(self, path: Path) -> str | None:
        try:
            import av
        except ModuleNotFoundError:
            return "films need PyAV, which this install leaves out: pip install colorgan[video]"
        try:
            with av.open(str(path)) as f:
                w, h = (f.streams.video[0].width, f.streams.video[0].height) if (
                    f.streams.video) else (0, 0)  # fmt: skip
        except (av.FFmpegError, OSError, ValueError):
            return "not a film colorgan can read"
        if w * h > self.megapixels * 1e6:
            return (f"its frames are {w}x{h} ({w * h / 1e6:.0f} MP), over the "
                    f"{self.megapixels:g} MP limit")  # fmt: skip
        return None


@dataclass
class Outcome:
    """One request's results: full-size photos and videos, (grey, colour) preview pairs of
    the photos, a zip of everything where there is more than one, and a summary."""

    message: str
    photos: list[Path] = field(default_factory=list)
    videos: list[Path] = field(default_factory=list)
    previews: list[tuple[Path, Path]] = field(default_factory=list)
    archive: Path | None = None


class Studio:
    """The page's work, apart from the page: one colorizer per model, opened on first use
    and kept; one request at a time on them, each at its own saturation."""

    def __init__(
        self,
        open_model: Callable[[str], Colorizer],
        models: Sequence[str],
        limits: Limits,
        workdir: Path,
    ) -> None:
        self.open_model, self.models, self.limits = open_model, list(models), limits
        self.workdir = workdir
        self._colorizers: dict[str, Colorizer] = {}
        self._lock = threading.Lock()

    def busy(self) -> bool:
        """Whether a request is being coloured now."""
        return self._lock.locked()

    def run(self, uploads: Sequence[str | Path], model: str, saturation: float) -> Outcome:
        """Colorize `uploads` (paths of uploaded photos and videos) with `model` at
        `saturation`."""
        if model not in self.models:
            raise ColorganError(f"no model {model!r} here; here: {', '.join(self.models)}")
        check_saturation(saturation, "colour intensity")
        self._forget_old_requests()
        folder = Path(tempfile.mkdtemp(prefix="request-", dir=self.workdir))
        refused, photos, videos, claimed = [], [], [], set()
        for upload in map(Path, uploads):
            video = upload.suffix.lower() in VIDEO_SUFFIXES
            why = self.limits.refusal(upload, video)
            name = Path(f"{upload.stem}-colorized{'.mp4' if video else upload.suffix}")
            if why:
                refused.append(f"{upload.name}: {why}")
            elif video:  # (photos get names of their own in colorize_files)
                videos.append((upload, unclaimed(name, claimed)))
            else:
                photos.append((upload, name))
        out = folder / "colour"
        with self._lock:
            colorizer = self.colorizer(model)
            photo_results = list(colorizer.colorize_files(photos, out, progress=True,
                                                          saturation=saturation))  # fmt: skip
            video_results = list(colorize_videos(colorizer, videos, out, progress=True,
                                                 saturation=saturation))  # fmt: skip
        results = photo_results + video_results
        refused += [f"{r.source.name}: {r.error}" for r in results if r.error]
        outcome = Outcome("")
        outcome.photos = [r.target for r in photo_results if r.target is not None]
        outcome.videos = [r.target for r in video_results if r.target is not None]
        done = outcome.photos + outcome.videos
        outcome.message = f"Colorized {len(done)} of {len(uploads)} file(s)."
        outcome.previews = [_previews(path, folder / "previews" / str(i))
                            for i, path in enumerate(outcome.photos)]  # fmt: skip
        if len(done) > 1:
            outcome.archive = _zip(done, folder / f"colorgan-{len(done)}-files.zip")
        if refused:
            outcome.message += "\n\n" + "\n".join(f"- Refused {line}" for line in refused)
        return outcome

    def colorizer(self, model: str) -> Colorizer:
        if model not in self._colorizers:
            self._colorizers[model] = self.open_model(model)
        return self._colorizers[model]

    def _forget_old_requests(self) -> None:
        cutoff = time.time() - KEEP_SECONDS
        for old in self.workdir.glob("request-*"):
            if old.stat().st_mtime < cutoff:
                shutil.rmtree(old, ignore_errors=True)


def _previews(result: Path, folder: Path) -> tuple[Path, Path]:
    """Small JPEGs of a result and of its grey (the lightness the result keeps: the input as
    the model saw it, upright), in a folder of their own (a.png and a.jpg both preview as
    a.jpg)."""
    folder.mkdir(parents=True, exist_ok=True)
    with Image.open(result) as img:
        colour = img.convert("RGB")
    colour.thumbnail((PREVIEW_SIDE, PREVIEW_SIDE))
    pair = folder / f"{result.stem}-grey.jpg", folder / f"{result.stem}.jpg"
    colour.convert("L").save(pair[0], quality=90)
    colour.save(pair[1], quality=90)
    return pair


def _zip(files: Sequence[Path], target: Path) -> Path:
    with atomic_file(target) as tmp, zipfile.ZipFile(tmp, "w") as archive:
        for path in files:  # JPEG and PNG are compressed already
            archive.write(path, path.name, compress_type=zipfile.ZIP_STORED)
    return target


def build_page(studio: Studio, default_model: str):
    """The Gradio Blocks of the page."""
    import gradio as gr

    track = gr.Progress(track_tqdm=True)  # the file loop's tqdm bar, shown in the page

    def colorize(photos, folder, model, saturation, progress=track):
        """Messages go to the status line (a user's mistake is not a server error)."""
        kinds = (*IMAGE_EXTENSIONS, *VIDEO_SUFFIXES)
        in_folder = [f for f in folder or [] if Path(f).suffix.lower() in kinds]
        uploads = [*(photos or []), *in_folder]
        try:
            if not uploads:
                raise ColorganError("upload a photo or video (or a folder of them) first")
            outcome = studio.run(uploads, model, float(saturation))
        except ColorganError as exc:
            return f"**Error:** {exc}", [], [], None, None, None, None, None, gr.Tabs()
        if len(in_folder) < len(folder or []):
            skipped = len(folder) - len(in_folder)
            outcome.message += f"\n\nSkipped {skipped} file(s) of the folder that are not photos."
        pairs = [(str(grey), str(colour)) for grey, colour in outcome.previews]
        shown = pairs[0] if pairs else (None, None)
        results = [outcome.archive, *outcome.photos, *outcome.videos]
        files = [str(path) for path in results if path]
        gallery = [(colour, path.name) for (_, colour), path in
                   zip(pairs, outcome.photos, strict=True)]  # fmt: skip
        video = str(outcome.videos[0]) if outcome.videos else None
        view = gr.Tabs(selected="video" if video and not pairs else "slider")
        return outcome.message, pairs, gallery, shown, *shown, video, files or None, view

    def show(previews, evt: gr.SelectData):
        pair = previews[evt.index]
        return pair, *pair

    # analytics off: Gradio's telemetry would tell a server about each page started here
    with gr.Blocks(title="colorgan", delete_cache=(600, KEEP_SECONDS),
                   analytics_enabled=False) as page:  # fmt: skip
        gr.Markdown("# colorgan\nColorize black-and-white photos and films. Everything stays "
                    "on this machine; results keep each photo's full resolution.")  # fmt: skip
        previews = gr.State([])
        with gr.Row():
            with gr.Column():
                with gr.Tab("Photos"):
                    photos = gr.File(file_count="multiple", label="Photos and videos",
                                     elem_id="photos")  # fmt: skip
                with gr.Tab("A folder"):
                    folder = gr.File(file_count="directory", label="Folder", elem_id="folder")
                model = gr.Dropdown(studio.models, value=default_model, label="Model")
                saturation = gr.Slider(0, MAX_SATURATION, value=1, step=0.05,
                                       label="Colour intensity",
                                       info="1: the model's own colour; 0: grey")  # fmt: skip
                button = gr.Button("Colorize", variant="primary", elem_id="colorize")
                status = gr.Markdown(elem_id="status")
            with gr.Column():
                with gr.Tabs() as views:
                    with gr.Tab("Slider", id="slider"):
                        slider = gr.ImageSlider(label="Grey | colour", type="filepath",
                                                elem_id="slider")  # fmt: skip
                    with gr.Tab("Side by side", id="side"), gr.Row(elem_id="side"):
                        grey = gr.Image(label="Grey", type="filepath")
                        colour = gr.Image(label="Colour", type="filepath")
                    with gr.Tab("Video", id="video"):
                        video = gr.Video(label="Colour (the first video)", elem_id="video")
                # no download buttons here: the gallery holds previews, the Download box
                # the full-size results
                gallery = gr.Gallery(label="Results (select one to compare)", columns=6, height=200,
                                     preview=False, buttons=["fullscreen"],
                                     elem_id="gallery")  # fmt: skip
                downloads = gr.File(label="Download (full resolution)", file_count="multiple",
                                    interactive=False,
                                    elem_id="downloads")  # fmt: skip
        button.click(colorize, [photos, folder, model, saturation],
                     [status, previews, gallery, slider, grey, colour, video, downloads,
                      views])  # fmt: skip
        gallery.select(show, previews, [slider, grey, colour])
    return page


def serve(args: argparse.Namespace) -> int:
    """`colorgan serve`: build the page and serve it until Ctrl-C."""
    from colorgan.engines.choose import EngineOptions, open_engine

    logging.getLogger("httpx").setLevel(logging.WARNING)  # Gradio's own requests to itself
    os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")  # also its version check
    limits = Limits(args.max_megabytes, args.max_megapixels)
    if limits.megabytes <= 0 or limits.megapixels <= 0:
        raise ColorganError("--max-megabytes and --max-megapixels must be positive")
    if not 0 < args.port < 65536:
        raise ColorganError(f"--port must be 1 to 65535, not {args.port}")
    try:  # a taken port or an address not on this machine: one line, before the model loads
        with socket.socket(socket.AF_INET6 if ":" in args.host else socket.AF_INET) as probe:
            probe.bind((args.host, args.port))
    except OSError as exc:
        why = exc.strerror or exc
        raise ColorganError(f"cannot listen on {args.host}:{args.port}: {why} "
                            "(choose another --port or --host)") from None  # fmt: skip
    models = [Path(args.weights).name] if args.weights else list(BUNDLED)

    options = EngineOptions.of(args)

    def open_model(name: str) -> Colorizer:
        return Colorizer(open_engine(options.with_model(None if args.weights else name,
                                                        args.weights)))  # fmt: skip

    first = args.model if not args.weights else models[0]
    if threading.current_thread() is threading.main_thread():  # `kill` stops it as Ctrl-C does
        signal.signal(signal.SIGTERM, signal.default_int_handler)
    with tempfile.TemporaryDirectory(prefix="colorgan-serve-") as workdir:
        # Gradio's own copies of uploads (and what it serves) go in here too, so that stopping
        # the server, even mid-request, removes every visitor's file; read when gradio loads
        os.environ["GRADIO_TEMP_DIR"] = str(Path(workdir) / "gradio")
        studio = Studio(open_model, models, limits, Path(workdir))
        studio.colorizer(first)  # a bad --weights file fails here, before the page starts
        page = build_page(studio, first)
        page.queue(default_concurrency_limit=1)
        print(f"colorgan: serving on http://{args.host}:{args.port} (Ctrl-C stops)", flush=True)
        page.launch(
            server_name=args.host,
            server_port=args.port,
            max_file_size=int(limits.megabytes * MB),
            allowed_paths=[workdir],
            quiet=True,
            footer_links=[],
        )
        busy = studio.busy()
    if busy:  # stopped mid-request: the files are gone; the request's thread cannot be
        sys.stdout.flush()  # joined (it is inside the model), and ending the interpreter
        sys.stderr.flush()  # around it would abort, so the process ends here
        os._exit(0)
    return 0
