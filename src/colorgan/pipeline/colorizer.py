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
from pathlib import Path

import numpy as np
from PIL import Image

from colorgan.base.errors import ColorganError, ColorganTypeError
from colorgan.base.images import BadImage, prepare_images
from colorgan.colour import pixels, srgb
from colorgan.engines import Engine
from colorgan.pipeline import compose, encoding, reference
from colorgan.pipeline.bank import Bank
from colorgan.pipeline.prediction import Asked, Prediction, require_hints
from colorgan.pipeline.reference import Reference
from colorgan.pipeline.request import Request, alternatives_of, file_requests
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
        bank: Bank | None = None,
        bank_k: int = 3,
    ) -> Image.Image:
        """Any PIL image or array (grey or colour; alpha is kept) -> colorized PIL image;
        `hints`: colour points (spec.hints.Hint, in the image's pixels) the colour follows;
        `references`: colour photos whose colours it takes where it shows what they show;
        `bank`: a reference bank (pipeline.bank.Bank) whose `bank_k` nearest photos join them."""
        request = Request(image, saturation, hints, references, hint_reach, (), bank, bank_k)
        [result] = self.run([request])
        if isinstance(result, BadImage):
            raise result
        return result

    def alternatives(
        self,
        image: Image.Image | np.ndarray,
        count: int,
        references=None,  # noqa: ANN001
        bank: Bank | None = None,
        saturation: float = 1.0,
    ) -> list[Image.Image]:
        """The photo coloured `count` ways, each from one reference alone (`references` in
        turn, else the `bank`'s nearest photos in turn): plausible wholes to choose from."""
        base = Request(image, saturation, (), references, bank=bank)
        results = self.run(alternatives_of(base, count))
        for result in results:
            if isinstance(result, BadImage):
                raise result
        return results

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
        """The requests with each reference photo and key frame encoded, each distinct one
        once (pipeline.encoding.encode_requests)."""
        return encoding.encode_requests(self.engine.features, requests)

    def encode(self, photos: Sequence) -> list[Reference]:
        """Reference photos (images, arrays, files; encoded ones are kept) -> References, in
        one run of the reference encoder (pipeline.encoding.encode)."""
        return encoding.encode(self.engine.features, photos)

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
            [None if r.bank is None else (r.bank, r.bank_k, r.bank_skip) for r in chosen],
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
        bank: Bank | None = None,
        bank_k: int = 3,
        alternatives: int = 1,
    ) -> Iterator:
        """pipeline.batch.colorize_files with this colorizer: a FileResult per (source,
        output path relative to `out_dir`) job, in order. `hints`: colour points by source
        path; `references`: reference photos by source path, or one list for every photo;
        `bank`, `bank_k`: a reference bank and how many of its nearest photos each takes;
        `alternatives` N: each photo N ways (pipeline.request.file_requests). Every request
        is checked, and every reference read, before anything is written."""
        from colorgan.pipeline.batch import colorize_files

        if batch < 1:
            raise ColorganError(f"--batch must be at least 1 (it is {batch})")
        items = file_requests(
            jobs, saturation, hints, references, None, hint_reach, bank, bank_k, alternatives
        )
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

    def bank_references(self, photo: Image.Image, request: Request) -> list[Reference]:
        """The request's bank's nearest photos to `photo` (its bank_k, after bank_skip)."""
        return encoding.from_bank(self.engine.features, photo, request)

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

    def lightness_colour(
        self, l_norm: np.ndarray, saturation: float = 1.0, bank: Bank | None = None, k: int = 3
    ) -> np.ndarray:
        """Normalized L (B, 1, SIZE, SIZE) -> the ab the model gives it at (B, 2, SIZE,
        SIZE), times the model's stored saturation, with the colour of the `k` nearest photos
        of a reference `bank` where they match, then times `saturation`: what evaluation
        scores."""
        ab = self.engine.predict_full(l_norm) * self.spec.saturation
        if bank is not None:
            local, descriptors = self.engine.features(l_norm)
            for i, (query, descriptor) in enumerate(zip(local, descriptors, strict=True)):
                found = bank.retrieve(descriptor, k)
                colour, confidence = reference.match(query, found)
                size = l_norm.shape[-1]
                scale = srgb.AB_SCALE / self.spec.ab_scale
                maps = (
                    reference.at_size(colour, size) * scale,
                    reference.at_size(confidence, size),
                )
                ab[i] = reference.blend(ab[i], reference.follow_edges(maps, l_norm[i, 0]))
        return ab if saturation == 1 else ab * saturation
