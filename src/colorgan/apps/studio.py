"""The page's work, apart from the page: `Studio` checks each upload against the `Limits`,
runs the accepted photos through the same streaming file loop as `colorgan colorize` and the
films through the same video path, into a folder of the request's own, and returns
full-resolution results, small previews for the page and a zip; and re-colours one photo
with the user's colour points (`recolour`)."""

from __future__ import annotations

import shutil
import tempfile
import threading
import time
import zipfile
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from PIL import Image

from colorgan.base.errors import ColorganError, install_hint
from colorgan.base.files import atomic_file
from colorgan.base.images import (
    IMAGE_EXTENSIONS,
    VIDEO_SUFFIXES,
    BadImage,
    open_image,
    open_unloaded,
    save_image,
)
from colorgan.pipeline.bank import Bank
from colorgan.pipeline.batch import unclaimed
from colorgan.pipeline.colorizer import Colorizer
from colorgan.pipeline.film import colorize_videos
from colorgan.pipeline.request import Request, alternatives_of
from colorgan.pipeline.settings import Settings, settings_of

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
            return f"films need PyAV, which this install leaves out: {install_hint('video')}"
        try:
            with av.open(str(path)) as f:
                w, h = (
                    (f.streams.video[0].width, f.streams.video[0].height)
                    if (f.streams.video)
                    else (0, 0)
                )
        except (av.FFmpegError, OSError, ValueError):
            return "not a film colorgan can read"
        if w * h > self.megapixels * 1e6:
            return (
                f"its frames are {w}x{h} ({w * h / 1e6:.0f} MP), over the "
                f"{self.megapixels:g} MP limit"
            )
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
    sources: list[Path] = field(default_factory=list)  # the upload of each of `photos`
    ways: list[int] = field(default_factory=list)  # which alternative each is, from 0


class Studio:
    """The page's work, apart from the page: one colorizer per model, opened on first use
    and kept; one request at a time on them, each at its own saturation."""

    def __init__(
        self,
        open_model: Callable[[str], Colorizer],
        models: Sequence[str],
        limits: Limits,
        workdir: Path,
        bank: Bank | None = None,
    ) -> None:
        self.open_model, self.models, self.limits = open_model, list(models), limits
        self.workdir, self.bank = workdir, bank
        self._colorizers: dict[str, Colorizer] = {}
        self._lock = threading.Lock()

    def busy(self) -> bool:
        """Whether a request is being coloured now."""
        return self._lock.locked()

    def settings(
        self,
        saturation: float,
        references: Sequence[str | Path] = (),
        use_bank: bool = False,
        alternatives: int | None = None,
        hints: Sequence = (),
        restore: bool | None = None,
    ) -> Settings:
        """The page's controls as pipeline.settings.Settings: the colour intensity, uploaded
        reference photos (each within the limits), the server's reference bank where asked,
        the alternatives, colour points (as the page's table gives them) and whether an old
        print is repaired first."""
        if use_bank and self.bank is None:
            raise ColorganError("this server has no reference bank (serve --reference-bank)")
        given = {"alternatives": alternatives, "restore": restore}
        given = {name: value for name, value in given.items() if value is not None}
        return settings_of(
            None,
            saturation=saturation,
            hints=hints,
            references=self._references(references),
            bank=self.bank if use_bank else None,
            **given,
        )

    def run(self, uploads: Sequence[str | Path], model: str, settings: Settings) -> Outcome:
        """Colorize `uploads` (paths of uploaded photos and videos) with `model`, as
        `settings` say (Studio.settings: every upload taking the colours of its references
        where it shows what they show, the bank's nearest photos, N alternatives each)."""
        self._check(model)
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
        private = [*map(Path, uploads), *_paths(settings.references), folder]
        with self._lock, _private(private):
            colorizer = self.colorizer(model)
            photo_results = list(colorizer.colorize_files(photos, out, settings, progress=True))
            video_results = list(colorize_videos(colorizer, videos, out, settings, progress=True))
        results = photo_results + video_results
        refused += [f"{r.source.name}: {_hidden(r.error, private)}" for r in results if r.error]
        outcome = Outcome("")
        outcome.photos = [r.target for r in photo_results if r.target is not None]
        outcome.sources = [r.source for r in photo_results if r.target is not None]
        outcome.ways = _ways(photo_results)
        outcome.videos = [r.target for r in video_results if r.target is not None]
        done = outcome.photos + outcome.videos
        coloured = {r.source for r in results if r.target is not None}
        outcome.message = f"Colorized {len(coloured)} of {len(uploads)} file(s)."
        if settings.alternatives > 1:
            outcome.message += f" {settings.alternatives} ways each: {len(done)} results."
        outcome.previews = [
            _previews(path, folder / "previews" / str(i)) for i, path in enumerate(outcome.photos)
        ]
        if len(done) > 1:
            outcome.archive = _zip(done, folder / f"colorgan-{len(done)}-files.zip")
        if refused:
            outcome.message += "\n\n" + "\n".join(f"- Refused {line}" for line in refused)
        return outcome

    def recolour(
        self, upload: str | Path, model: str, settings: Settings, way: int = 0
    ) -> tuple[Path, tuple[Path, Path]]:
        """One uploaded photo again, as `settings` say (with its colour points), as `run`
        coloured it (of its alternatives, the `way`-th): the full-size result and its (grey,
        colour) previews, in a folder of their own."""
        self._check(model)
        upload = Path(upload)
        why = self.limits.refusal(upload)
        if why:
            raise ColorganError(f"{upload.name}: {why}")
        request = Request(open_image(upload), settings, where=upload.name)
        if settings.alternatives > 1:
            request = alternatives_of(request)[way]
        folder = Path(tempfile.mkdtemp(prefix="request-", dir=self.workdir))
        with self._lock, _private([upload, *_paths(settings.references), folder]):
            [colour] = self.colorizer(model).run([request])
        if isinstance(colour, BadImage):
            raise ColorganError(f"{upload.name}: {colour}")
        target = folder / f"{upload.stem}-colorized{upload.suffix}"
        save_image(colour, target)
        return target, _previews(target, folder / "previews")

    def _references(self, uploads: Sequence[str | Path]) -> list[Path]:
        """Uploaded reference photos, each within the limits; ColorganError naming the one
        that is not (a reference serves every photo of the request, so none goes without)."""
        out = []
        for upload in map(Path, uploads):
            why = self.limits.refusal(upload)
            if why:
                raise ColorganError(f"reference {upload.name}: {why}")
            out.append(upload)
        return out

    def _check(self, model: str) -> None:
        if model not in self.models:
            raise ColorganError(f"no model {model!r} here; here: {', '.join(self.models)}")

    def colorizer(self, model: str) -> Colorizer:
        if model not in self._colorizers:
            self._colorizers[model] = self.open_model(model)
        return self._colorizers[model]

    def _forget_old_requests(self) -> None:
        cutoff = time.time() - KEEP_SECONDS
        for old in self.workdir.glob("request-*"):
            if old.stat().st_mtime < cutoff:
                shutil.rmtree(old, ignore_errors=True)


@contextmanager
def _private(paths: Sequence[Path]) -> Iterator[None]:
    """A ColorganError raised within says no path of the server's own (an upload's place in
    Gradio's cache, a request's folder): each is named by its file name."""
    try:
        yield
    except ColorganError as exc:
        raise ColorganError(_hidden(str(exc), paths)) from None


def _hidden(message: str, paths: Sequence[Path]) -> str:
    for path in sorted(paths, key=lambda p: -len(str(p))):  # the longest first
        message = message.replace(str(path), path.name)
    return message


def _paths(photos: Sequence) -> list[Path]:
    return [photo for photo in photos if isinstance(photo, Path)]


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


def _ways(results: list) -> list[int]:
    """Which alternative of its photo each written result is (results come in order, a
    photo's alternatives one after another)."""
    seen: dict[Path, int] = {}
    out = []
    for result in results:
        way = seen.get(result.source, 0)
        seen[result.source] = way + 1
        if result.target is not None:
            out.append(way)
    return out
