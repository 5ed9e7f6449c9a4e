"""`colorgan serve`: colorize in a local web page (Gradio).

The page is a thin layer over `studio.Studio`, which does the work: uploads checked against
the limits, photos and films coloured into a folder of the request's own, previews, a zip,
and a photo re-coloured with the user's colour points (clicked on the grey photo).
Gradio's queue runs one request at a time (the model uses every core anyway); the others wait
in line, and no request ever reads another's folder.
"""

import argparse
import logging
import os
import signal
import socket
import sys
import tempfile
import threading
from pathlib import Path

from PIL import Image

from colorgan.apps.studio import KEEP_SECONDS, MB, Limits, Studio
from colorgan.bundled import BUNDLED
from colorgan.colorizer import Colorizer
from colorgan.engines import MAX_SATURATION
from colorgan.errors import ColorganError
from colorgan.hints import hints_json, make_hint, read_hints_file
from colorgan.images import IMAGE_EXTENSIONS, VIDEO_SUFFIXES

__all__ = ["KEEP_SECONDS", "Limits", "Studio", "build_page", "serve"]


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
            return f"**Error:** {exc}", [], [], None, None, None, None, None, gr.Tabs(), None
        if len(in_folder) < len(folder or []):
            skipped = len(folder) - len(in_folder)
            outcome.message += f"\n\nSkipped {skipped} file(s) of the folder that are not photos."
        first = None  # the photo colour points apply to: the first one shown
        if outcome.sources:
            first = {"upload": str(outcome.sources[0]), "result": str(outcome.photos[0]),
                     "preview": str(outcome.previews[0][0])}  # fmt: skip
        pairs = [(str(grey), str(colour)) for grey, colour in outcome.previews]
        shown = pairs[0] if pairs else (None, None)
        results = [outcome.archive, *outcome.photos, *outcome.videos]
        files = [str(path) for path in results if path]
        gallery = [(colour, path.name) for (_, colour), path in
                   zip(pairs, outcome.photos, strict=True)]  # fmt: skip
        video = str(outcome.videos[0]) if outcome.videos else None
        view = gr.Tabs(selected="video" if video and not pairs else "slider")
        return outcome.message, pairs, gallery, shown, *shown, video, files or None, view, first

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
                with gr.Accordion("Colour hints: click the grey photo where you know the colour",
                                  open=True):  # fmt: skip
                    hint_colour = gr.ColorPicker("#b22222", label="Colour of the next point",
                                                 elem_id="hint-colour")  # fmt: skip
                    points = gr.Dataframe(headers=["x", "y", "color"], type="array",
                                          datatype=["number", "number", "str"],
                                          column_count=(3, "fixed"), interactive=True,
                                          label="Points (edit to move one; pixels of the photo)",
                                          elem_id="points")  # fmt: skip
                    with gr.Row():
                        undo = gr.Button("Remove the last point", elem_id="undo")
                        clear = gr.Button("Remove all", elem_id="clear")
                    with gr.Row():
                        save = gr.DownloadButton("Save the points", elem_id="save-points")
                        load = gr.UploadButton("Load points", file_types=[".json"],
                                               elem_id="load-points")  # fmt: skip
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
        photo = gr.State(None)
        button.click(colorize, [photos, folder, model, saturation],
                     [status, previews, gallery, slider, grey, colour, video, downloads,
                      views, photo])  # fmt: skip
        gallery.select(show, previews, [slider, grey, colour])
        hinted = HintEvents(studio, gr)
        shown = [points, status, slider, grey, colour, downloads, save]

        def click(points, hint_colour, photo, model, saturation, evt: gr.SelectData):
            return hinted.add(points, hint_colour, photo, model, saturation, evt)

        grey.select(click, [points, hint_colour, photo, model, saturation], shown)
        points.input(hinted.edit, [points, photo, model, saturation], shown)
        undo.click(hinted.undo, [points, photo, model, saturation], shown)
        clear.click(hinted.clear, [points, photo, model, saturation], shown)
        load.upload(hinted.load, [load, photo, model, saturation], shown)
    return page


class HintEvents:
    """The colour points of the page: each change re-colours the first photo shown (about a
    second at 1 MP) and keeps a points file to save, in the CLI's --hints format."""

    def __init__(self, studio: Studio, gr) -> None:  # noqa: ANN001 - the gradio module
        self.studio, self.gr = studio, gr

    def add(self, points, colour, photo, model, saturation, evt=None):  # noqa: ANN001, ANN201
        if photo is None or evt is None:
            return self._nothing("Colorize a photo first, then click its grey")
        x, y = evt.index
        with Image.open(photo["result"]) as full, Image.open(photo["preview"]) as small:
            sx, sy = full.width / small.width, full.height / small.height
        row = [round((x + 0.5) * sx - 0.5), round((y + 0.5) * sy - 0.5), colour]
        return self._recolour([*self._rows(points), row], photo, model, saturation)

    def edit(self, points, photo, model, saturation):  # noqa: ANN001, ANN201
        return self._recolour(self._rows(points), photo, model, saturation)

    def undo(self, points, photo, model, saturation):  # noqa: ANN001, ANN201
        return self._recolour(self._rows(points)[:-1], photo, model, saturation)

    def clear(self, points, photo, model, saturation):  # noqa: ANN001, ANN201
        return self._recolour([], photo, model, saturation)

    def load(self, file, photo, model, saturation):  # noqa: ANN001, ANN201
        try:
            given = read_hints_file(file if isinstance(file, str) else file.name)
        except ColorganError as exc:
            return self._nothing(str(exc))
        name = Path(photo["upload"]).name if photo else None
        hints = given.get(name) or (next(iter(given.values())) if len(given) == 1 else [])
        return self._recolour([[h.x, h.y, h.color] for h in hints], photo, model, saturation)

    @staticmethod
    def _rows(points) -> list[list]:  # noqa: ANN001
        rows = points.values.tolist() if hasattr(points, "values") else (points or [])
        return [list(r) for r in rows if any(v not in (None, "") for v in r)]

    def _nothing(self, message: str):  # noqa: ANN202
        skip = self.gr.skip()
        return skip, f"**Error:** {message}", skip, skip, skip, skip, skip

    def _recolour(self, rows: list[list], photo, model, saturation):  # noqa: ANN001, ANN202
        if photo is None:
            return self._nothing("Colorize a photo first, then click its grey")
        try:
            hints = [make_hint(*row, where=f"point {k + 1}") for k, row in enumerate(rows)]
            result, (grey, colour) = self.studio.recolour(photo["upload"], model,
                                                          float(saturation), hints)  # fmt: skip
        except ColorganError as exc:
            return self._nothing(str(exc))
        saved = result.parent / f"{Path(photo['upload']).stem}-points.json"
        saved.write_text(hints_json({Path(photo["upload"]).name: hints}))
        message = f"Re-coloured with {len(hints)} colour point(s)."
        pair = (str(grey), str(colour))
        return rows, message, pair, *pair, [str(result), str(saved)], str(saved)


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
