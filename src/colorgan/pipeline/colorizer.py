"""Photos in, full-resolution colour out, through any engine: what every front end (the CLI's
photos and films, the page, the Python API) and evaluation run.

A `Colorizer` holds an engine and nothing a call asks: every call's settings (intensity,
hints) come in a `Request` (or as arguments that make one), so one colorizer serves the page's
requests at different intensities, and threads may share it. It scales the engine's ab by the
request's saturation times the model's stored one and composes it at full resolution
(compose.py); films (film.py) get their frames' small colour and Lab composition from it.
Nothing here imports torch.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from dataclasses import replace
from pathlib import Path

import numpy as np
from PIL import Image

from colorgan.base.errors import ColorganError, ColorganTypeError, shown
from colorgan.base.images import BadImage, prepare_image, prepare_images
from colorgan.colour import pixels
from colorgan.engines import Engine
from colorgan.pipeline import compose, reference
from colorgan.pipeline.prediction import Asked, Prediction, require_hints
from colorgan.pipeline.reference import Reference
from colorgan.pipeline.request import Request, file_requests
from colorgan.spec.hints import Hint
from colorgan.spec.meta import ModelSpec

COMPOSITIONS = ("lab", "ycbcr")


class Colorizer:
    """Colorize PIL images, arrays or files with an engine.

    >>> Colorizer().colorize(Image.open("old.jpg"), saturation=1.2).save("old_colour.jpg")
    >>> Colorizer.open("paper", engine="torch").colorize(Image.open("old.jpg"))
    """

    def __init__(self, engine: Engine | None = None, composition: str | None = None) -> None:
        """`engine`: default, the bundled default model on the engine engines.choose picks
        (`Colorizer.open` for others). `composition`: "lab" or "ycbcr" (default: the
        engine's)."""
        if engine is None:
            from colorgan.engines.choose import EngineOptions, open_engine

            engine = open_engine(EngineOptions())
        composition = composition or engine.spec.composition
        if composition not in COMPOSITIONS:
            raise ColorganError(f"composition must be one of {', '.join(COMPOSITIONS)}")
        self.engine, self.composition = engine, composition

    @classmethod
    def open(
        cls, model: str = "default", weights: str | Path | None = None, **options
    ) -> Colorizer:
        """The bundled `model` (or the file `weights`) on the engine engines.choose picks;
        `options`: the rest of engines.choose.EngineOptions (engine, device, precision, ...)."""
        from colorgan.engines.choose import EngineOptions, open_engine

        weights = None if weights is None else str(weights)
        return cls(open_engine(EngineOptions(model, weights, **options)))

    @property
    def spec(self) -> ModelSpec:
        """The model's sizes, whether it takes hints, its stored saturation."""
        return self.engine.spec

    def colorize(
        self,
        image: Image.Image | np.ndarray,
        saturation: float = 1.0,
        hints=None,  # noqa: ANN001
        references=None,  # noqa: ANN001
        hint_reach: str = "object",
    ) -> Image.Image:
        """Any PIL image or array (grey or colour; alpha is kept) -> colorized PIL image;
        `hints`: colour points (spec.hints.Hint, in the image's pixels) the colour follows;
        `references`: colour photos whose colours it takes where it shows what they show."""
        [result] = self.run([Request(image, saturation, hints, references, hint_reach)])
        if isinstance(result, BadImage):
            raise result
        return result

    def colorize_batch(
        self,
        images: Sequence[Image.Image | np.ndarray],
        saturation: float = 1.0,
        keep_ycbcr: bool = False,
        hints: Sequence[Sequence[Hint] | None] | None = None,
    ) -> list[Image.Image | BadImage]:
        """Several photos through the engine in one run (any sizes): a colorized image for
        each, or the BadImage that says why not. `hints`: each photo's colour points, or
        None. With `keep_ycbcr`, see `run`."""
        if hints is not None and len(hints) != len(images):
            raise ColorganError("give one list of hints (or None) for each photo")
        each = hints if hints is not None else [None] * len(images)
        return self.run(
            [Request(im, saturation, h) for im, h in zip(images, each, strict=True)], keep_ycbcr
        )

    def run(self, requests: Sequence[Request], keep_ycbcr: bool = False) -> list:
        """Requests through the engine in one run: a colorized image for each, or the
        BadImage that says why not. With `keep_ycbcr`, the ycbcr composition returns the
        YCbCr image (which JPEG stores directly) rather than RGB."""
        if not all(isinstance(r, Request) for r in requests):
            raise ColorganTypeError("run takes a list of Requests")
        requests = self.encode_references(requests)
        return self._colour(requests, [r.photo for r in requests], keep_ycbcr)

    def encode_references(self, requests: Sequence[Request]) -> list[Request]:
        """The requests with each reference photo and key frame encoded
        (pipeline.reference.Reference), each distinct one once; ColorganError naming a
        reference that cannot be read."""
        done: dict[object, Reference] = {}

        def encoded(photo: object) -> Reference:
            if isinstance(photo, Reference):
                return photo
            if _key(photo) not in done:
                [done[_key(photo)]] = self.encode([photo])
            return done[_key(photo)]

        out = []
        for request in requests:
            if request.references or request.key_frames:
                references = tuple(encoded(p) for p in request.references)
                keys = tuple((n, encoded(p)) for n, p in request.key_frames)
                request = replace(request, references=references, key_frames=keys)
            out.append(request)
        return out

    def encode(self, photos: Sequence) -> list[Reference]:
        """Reference photos (images, arrays, files; encoded ones are kept) -> References, in
        one run of the reference encoder; ColorganError naming one that cannot be read."""
        decoded = []
        for photo in photos:
            if isinstance(photo, Reference):
                continue
            try:
                decoded.append(prepare_image(photo)[0])
            except BadImage as exc:
                name = shown(str(photo)) if isinstance(photo, Path) else "a reference photo"
                raise ColorganError(f"reference {name}: {exc}") from None
        fresh = iter(reference.encode(self.engine.features, decoded))
        return [p if isinstance(p, Reference) else next(fresh) for p in photos]

    def _colour(self, requests: Sequence[Request], photos: Sequence, keep_ycbcr: bool) -> list:
        """`run`, with each request's photo given decoded (the file loop decodes ahead)."""
        results, good = prepare_images(photos)
        if not good:
            return results
        chosen = [requests[i] for i, _, _ in good]
        photos_ = [p for _, p, _ in good]
        maps = reference.colour_maps(
            self.engine.features,
            photos_,
            [r.references for r in chosen],
            self.spec.size,
            self.spec.ab_scale,
        )
        predict = Prediction(
            self.engine, [Asked.of(r, p, m) for r, p, m in zip(chosen, photos_, maps, strict=True)]
        )
        if self.composition == "lab":
            compose.compose_lab(good, results, self.spec, predict)
        else:
            compose.compose_ycbcr(good, results, self.spec, predict, keep_ycbcr)
        return results

    def require_hints(self) -> None:
        """ColorganError (one line) where the model takes no colour hints."""
        require_hints(self.spec)

    def colorize_files(
        self,
        jobs: Sequence[tuple[Path, Path]],
        out_dir: Path,
        overwrite: bool = False,
        progress: bool = False,
        batch: int = 1,
        saturation: float = 1.0,
        hints: Mapping[Path, Sequence[Hint]] | None = None,
        references: Sequence | Mapping[Path, Sequence] | None = None,
        hint_reach: str = "object",
    ) -> Iterator:
        """pipeline.batch.colorize_files with this colorizer: a FileResult per (source,
        output path relative to `out_dir`) job, in order. `hints`: colour points by source
        path; `references`: reference photos by source path, or one list for every photo.
        Every request is checked, and every reference read, before anything is written."""
        from colorgan.pipeline.batch import colorize_files

        if batch < 1:
            raise ColorganError(f"--batch must be at least 1 (it is {batch})")
        items = file_requests(jobs, saturation, hints, references, hint_reach=hint_reach)
        if any(request.hints for request, _ in items):
            self.require_hints()  # a model without hints says so before any photo
        encoded = self.encode_references([request for request, _ in items])
        items = [(request, rel) for request, (_, rel) in zip(encoded, items, strict=True)]

        def colour(images: list, requests: list[Request]) -> list:
            return self._colour(requests, images, keep_ycbcr=True)

        return colorize_files(colour, items, out_dir, overwrite, progress, batch)

    def film_references(self, request: Request) -> tuple[list[Reference], dict[int, Reference]]:
        """A film request's references and its key frames (by frame number), encoded."""
        [encoded] = self.encode_references([request])
        return list(encoded.references), dict(encoded.key_frames)

    def frames(
        self,
        greys: Sequence[Image.Image],
        request: Request | None = None,
        hinted: Sequence[bool] | None = None,
        references: Sequence[Sequence[Reference]] | None = None,
    ) -> tuple[np.ndarray, np.ndarray]:
        """A film's grey frames ("L", all one size) -> their normalized L (B, S, S) and ab
        (B, 2, S, S) at the model's size S, in one run of the engine, at the film request's
        saturation (default: the model's own); its hints on the frames `hinted` marks, each
        frame's `references` (encoded) blended in."""
        request = request or Request(greys[0])
        l_small, prior = pixels.small_inputs(greys, self.spec.size, self.spec.prior_size)
        colours = reference.colour_maps(
            self.engine.features,
            greys,
            references or [()] * len(greys),
            self.spec.size,
            self.spec.ab_scale,
        )
        # the film's points were checked against its frame size when it was asked
        on = hinted or [False] * len(greys)
        asked = [
            Asked.of(request, grey, colour, with_hints)
            for grey, colour, with_hints in zip(greys, colours, on, strict=True)
        ]
        return l_small[:, 0], Prediction(self.engine, asked)(l_small, prior)

    def compose_frame(self, grey: Image.Image, ab: np.ndarray) -> Image.Image:
        """A frame's grey and its ab at the model's size -> the colour frame, in CIE Lab (a
        steady colour under moving texture keeps its ab, which YCbCr's chroma does not)."""
        return pixels.compose_lab(grey, ab, self.spec.ab_scale)

    def lightness_colour(self, l_norm: np.ndarray, saturation: float = 1.0) -> np.ndarray:
        """Normalized L (B, 1, H, W) -> the ab the model gives it at (B, 2, H, W), times the
        model's stored saturation and then `saturation`: what evaluation scores."""
        ab = self.engine.predict_full(l_norm) * self.spec.saturation
        return ab if saturation == 1 else ab * saturation


def _key(photo: object) -> object:
    """What identifies a reference photo within one call: its file, or the object itself."""
    return photo.resolve() if isinstance(photo, Path) else id(photo)
