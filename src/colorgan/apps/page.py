"""The Gradio page of `colorgan serve`: its parts (the upload controls, the colour points, the
result views) and how their events reach `studio.Studio`, which does the work. Events that
run the model share one queue slot, so a visitor's clicks are taken in order and none is
lost (the points live on the server, page_points.py)."""

from pathlib import Path
from types import SimpleNamespace

from colorgan.apps.page_points import PointEvents
from colorgan.apps.studio import KEEP_SECONDS, Studio
from colorgan.base.errors import ColorganError
from colorgan.base.images import IMAGE_EXTENSIONS, VIDEO_SUFFIXES
from colorgan.pipeline.settings import DEFAULTS, Settings
from colorgan.spec.meta import MAX_SATURATION

MODEL_SLOT = "model"  # the queue slot of every event that runs the model (one at a time)
MAX_ALTERNATIVES = 4  # the ways an upload may be coloured at once on the page
RESTORE = "Repair scratches and dust (old prints), then colour"
BANK = "Colours from the reference bank (the photos nearest to each upload)"


def build_page(studio: Studio, default_model: str):  # gradio's Blocks
    """The Gradio Blocks of the page."""
    import gradio as gr

    # analytics off: Gradio's telemetry would tell a server about each page started here
    with gr.Blocks(
        title="colorgan", delete_cache=(600, KEEP_SECONDS), analytics_enabled=False
    ) as page:
        gr.Markdown(
            "# colorgan\nColorize black-and-white photos and films. Everything stays "
            "on this machine; results keep each photo's full resolution."
        )
        with gr.Row():
            with gr.Column():
                controls = _controls(gr, studio, default_model)
                points = _point_controls(gr)
            with gr.Column():
                views = _views(gr)
        state = SimpleNamespace(
            previews=gr.State([]), photos=gr.State([]), photo=gr.State(None), rows=gr.State([])
        )
        _wire_colorize(gr, studio, controls, views, state)
        _wire_points(gr, studio, controls, points, views, state)
    return page


def _controls(gr, studio: Studio, default_model: str) -> SimpleNamespace:
    with gr.Tab("Photos"):
        photos = gr.File(file_count="multiple", label="Photos and videos", elem_id="photos")
    with gr.Tab("A folder"):
        folder = gr.File(file_count="directory", label="Folder", elem_id="folder")
    references = gr.File(
        file_count="multiple",
        file_types=["image"],
        label="Reference photos (optional): colour photos of the same scene or things; "
        "every upload takes their colours where it shows what they show",
        elem_id="references",
    )
    with gr.Row():
        choices = [RESTORE] + ([BANK] if studio.bank is not None else [])
        options = gr.CheckboxGroup(choices, label="Options", elem_id="options")
        alternatives = gr.Slider(
            1,
            MAX_ALTERNATIVES,
            value=DEFAULTS.alternatives,
            step=1,
            label="Alternatives: each upload coloured this many ways, one reference each",
            elem_id="alternatives",
        )
    model = gr.Dropdown(studio.models, value=default_model, label="Model")
    saturation = gr.Slider(
        0,
        MAX_SATURATION,
        value=DEFAULTS.saturation,
        step=0.05,
        label="Colour intensity",
        info="1: the model's own colour; 0: grey",
    )
    button = gr.Button("Colorize", variant="primary", elem_id="colorize")
    status = gr.Markdown(elem_id="status")
    return SimpleNamespace(
        photos=photos,
        folder=folder,
        references=references,
        options=options,
        alternatives=alternatives,
        model=model,
        saturation=saturation,
        button=button,
        status=status,
    )


def _point_controls(gr) -> SimpleNamespace:
    with gr.Accordion("Colour hints: click the grey photo where you know the colour", open=True):
        colour = gr.ColorPicker("#b22222", label="Colour of the next point", elem_id="hint-colour")
        table = gr.Dataframe(
            headers=["x", "y", "color"],
            type="array",
            datatype=["number", "number", "str"],
            column_count=(3, "fixed"),
            interactive=True,
            label="Points (edit to move one; pixels of the photo)",
            elem_id="points",
        )
        with gr.Row():
            undo = gr.Button("Remove the last point", elem_id="undo")
            clear = gr.Button("Remove all", elem_id="clear")
        with gr.Row():
            save = gr.DownloadButton("Save the points", elem_id="save-points")
            load = gr.UploadButton("Load points", file_types=[".json"], elem_id="load-points")
    return SimpleNamespace(colour=colour, table=table, undo=undo, clear=clear, save=save, load=load)


def _views(gr) -> SimpleNamespace:
    with gr.Tabs() as tabs:
        with gr.Tab("Slider", id="slider"):
            slider = gr.ImageSlider(label="Grey | colour", type="filepath", elem_id="slider")
        with gr.Tab("Side by side", id="side"), gr.Row(elem_id="side"):
            grey = gr.Image(label="Grey", type="filepath")
            colour = gr.Image(label="Colour", type="filepath")
        with gr.Tab("Video", id="video"):
            video = gr.Video(label="Colour (the first video)", elem_id="video")
    # no download buttons here: the gallery holds previews, the Download box the full-size
    # results
    gallery = gr.Gallery(
        label="Results (select one to compare)",
        columns=6,
        height=200,
        preview=False,
        buttons=["fullscreen"],
        elem_id="gallery",
    )
    downloads = gr.File(
        label="Download (full resolution)",
        file_count="multiple",
        interactive=False,
        elem_id="downloads",
    )
    return SimpleNamespace(
        tabs=tabs,
        slider=slider,
        grey=grey,
        colour=colour,
        video=video,
        gallery=gallery,
        downloads=downloads,
    )


def _wire_colorize(gr, studio: Studio, c, v, state) -> None:
    """The Colorize button, and the gallery's choice of which result to compare."""
    track = gr.Progress(track_tqdm=True)  # the file loop's tqdm bar, shown in the page

    def colorize(photos, folder, references, options, ways, model, saturation, progress=track):
        """Messages go to the status line (a user's mistake is not a server error)."""
        kinds = (*IMAGE_EXTENSIONS, *VIDEO_SUFFIXES)
        in_folder = [f for f in folder or [] if Path(f).suffix.lower() in kinds]
        uploads = [*(photos or []), *in_folder]
        try:
            if not uploads:
                raise ColorganError("upload a photo or video (or a folder of them) first")
            chosen = {"use_bank": BANK in options, "restore": RESTORE in options}
            settings = studio.settings(saturation, references or [], alternatives=ways, **chosen)
            outcome = studio.run(uploads, model, settings)
        except ColorganError as exc:
            nothing = (None, None, None, None, None, gr.Tabs(), None, [], [])
            return f"**Error:** {exc}", [], [], *nothing
        if len(in_folder) < len(folder or []):
            skipped = len(folder) - len(in_folder)
            outcome.message += f"\n\nSkipped {skipped} file(s) of the folder that are not photos."
        return _shown(gr, outcome, references or [], settings)

    outputs = [
        c.status,
        state.previews,
        v.gallery,
        v.slider,
        v.grey,
        v.colour,
        v.video,
        v.downloads,
        v.tabs,
        state.photo,
        state.rows,
        state.photos,
    ]
    inputs = [c.photos, c.folder, c.references, c.options, c.alternatives, c.model, c.saturation]
    c.button.click(colorize, inputs, outputs, concurrency_id=MODEL_SLOT)


def _shown(gr, outcome, references: list, settings: Settings) -> tuple:
    """A request's outcome as the page shows it: the first photo compared, the rest in the
    gallery, every file to download, and the photo the colour points apply to (with what it
    was coloured from: the references, the bank, which of the alternatives)."""
    photos = [  # what colour points need of each photo shown
        {
            "upload": str(source),
            "result": str(result),
            "preview": str(grey),
            "references": [str(r) for r in references],
            "bank": settings.bank is not None,
            "alternatives": settings.alternatives,
            "restore": settings.restore,
            "way": way,
        }
        for source, result, (grey, _), way in zip(
            outcome.sources, outcome.photos, outcome.previews, outcome.ways, strict=True
        )
    ]
    pairs = [(str(grey), str(colour)) for grey, colour in outcome.previews]
    compared = pairs[0] if pairs else (None, None)
    files = [str(path) for path in [outcome.archive, *outcome.photos, *outcome.videos] if path]
    gallery = [(colour, path.name) for (_, colour), path in zip(pairs, outcome.photos, strict=True)]
    video = str(outcome.videos[0]) if outcome.videos else None
    view = gr.Tabs(selected="video" if video and not pairs else "slider")
    message = outcome.message
    first = photos[0] if photos else None  # colour points apply to the one compared
    return (
        message,
        pairs,
        gallery,
        compared,
        *compared,
        video,
        files or None,
        view,
        first,
        [],
        photos,
    )


def _wire_points(gr, studio: Studio, c, p, v, state) -> None:
    """Clicks on the grey photo, edits of the points table, undo, clear and load: each
    re-colours the photo with the points, in the model's queue slot."""
    events = PointEvents(studio, gr)
    # not the grey photo: it is what the visitor clicks, and an event's output is covered
    # while the event runs, which would swallow the clicks made meanwhile
    shown = [state.rows, p.table, c.status, v.slider, v.colour, v.downloads, p.save]
    settings = [state.photo, c.model, c.saturation]

    def click(rows, colour, photo, model, saturation, evt: gr.SelectData):
        return events.add(rows, colour, photo, model, saturation, evt)

    # "multiple": a click made while the last one re-colours is queued, not dropped (Gradio's
    # default for clicks, "once", drops it)
    slot = {"concurrency_id": MODEL_SLOT, "trigger_mode": "multiple"}
    v.grey.select(click, [state.rows, p.colour, *settings], shown, **slot)
    # a photo picked in the gallery is compared, and the colour points then apply to it
    picked = [v.slider, v.grey, v.colour, state.photo, state.rows, p.table]

    def pick(previews, photos, evt: gr.SelectData):
        return _pick(previews, photos, evt.index)

    v.gallery.select(pick, [state.previews, state.photos], picked)
    p.table.input(events.edit, [p.table, *settings], shown, **slot)
    p.undo.click(events.undo, [state.rows, *settings], shown, **slot)
    p.clear.click(events.clear, [state.rows, *settings], shown, **slot)
    p.load.upload(events.load, [p.load, *settings], shown, **slot)


def _pick(previews: list, photos: list, index: int) -> tuple:
    """The gallery's choice: its pair compared, and the photo colour points apply to (with
    none yet, in the session and the table)."""
    pair = previews[index]
    return pair, *pair, photos[index], [], []
