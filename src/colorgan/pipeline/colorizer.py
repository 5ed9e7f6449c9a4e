"""Photos in, full-resolution colour out, through any engine: what every front end (the CLI's
photos and films, the page, the Python API) and evaluation run.

A `Colorizer` holds an engine and nothing a call asks: every call's settings (intensity,
hints, references, a bank) come in a `Settings` (pipeline.settings), or by name as arguments
that make one, so one colorizer serves the page's requests at different intensities, and
threads may share it. `plan` is the one planning step of the photo and film loops; the colour
of every photo, frame and evaluated square goes through one chain (prediction.Prediction), and
is composed at full resolution (compose.py); films (film.py) get their frames' small colour and
Lab composition from it. Nothing here imports torch.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from pathlib import Path

import numpy as np
from PIL import Image

from colorgan.base.errors import ColorganError, ColorganTypeError
from colorgan.base.images import BadImage, prepare_image, prepare_images
from colorgan.colour import pixels
from colorgan.engines import Engine
from colorgan.pipeline import compose, encoding, reference
from colorgan.pipeline.prediction import Asked, Prediction, require_hints
from colorgan.pipeline.reference import Reference
from colorgan.pipeline.request import Request, alternatives_of, plan
from colorgan.pipeline.restore import Restored, restore_image, restore_prepared
from colorgan.pipeline.settings import Settings, settings_of
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
        self, image: Image.Image | np.ndarray, settings: Settings | None = None, **given: object
    ) -> Image.Image:
        """Any PIL image or array (grey or colour; alpha is kept) -> colorized PIL image, as
        `settings` (pipeline.settings.Settings) and the settings `given` by name say:
        `saturation=1.2`, `hints=[Hint(120, 48, "#b22222")]` (colour points in the image's
        pixels), `references=[...]` (colour photos whose colours it takes where it shows what
        they show), `bank=` a reference bank whose `bank_k` nearest photos join them."""
        [result] = self.run([Request(image, settings_of(settings, **given))])
        if isinstance(result, BadImage):
            raise result
        return result

    def alternatives(
        self,
        image: Image.Image | np.ndarray,
        count: int,
        settings: Settings | None = None,
        **given: object,
    ) -> list[Image.Image]:
        """The photo coloured `count` ways, each from one reference alone (the settings'
        `references` in turn, else its `bank`'s nearest photos in turn): plausible wholes to
        choose from."""
        request = Request(image, settings_of(settings, alternatives=count, **given))
        results = self.run(alternatives_of(request))
        for result in results:
            if isinstance(result, BadImage):
                raise result
        return results

    def run(self, requests: Sequence[Request], keep_ycbcr: bool = False) -> list:
        """Requests through the engine in one run: a colorized image for each, or the
        BadImage that says why not. With `keep_ycbcr`, the ycbcr composition returns the
        YCbCr image (which JPEG stores directly) rather than RGB."""
        if not all(isinstance(r, Request) for r in requests):
            raise ColorganTypeError("run takes a list of Requests")
        requests = self.encode_references(requests)
        results = self._colour(requests, [r.photo for r in requests], keep_ycbcr)
        return [r[0] if isinstance(r, tuple) else r for r in results]  # masks: files only

    def encode_references(self, requests: Sequence[Request]) -> list[Request]:
        """The requests with each reference photo and key frame encoded, each distinct one
        once (pipeline.encoding.encode_requests)."""
        return encoding.encode_requests(self.engine.features, requests)

    def encode_settings(self, settings: Settings) -> Settings:
        """The settings with every reference photo and key frame encoded, each distinct one
        once (pipeline.encoding.encode_settings): what a cluster ships to its workers."""
        return encoding.encode_settings(self.engine.features, settings)

    def encode(self, photos: Sequence) -> list[Reference]:
        """Reference photos (images, arrays, files; encoded ones are kept) -> References, in
        one run of the reference encoder (pipeline.encoding.encode)."""
        return encoding.encode(self.engine.features, photos)

    def _colour(self, requests: Sequence[Request], photos: Sequence, keep_ycbcr: bool) -> list:
        """`run`, with each request's photo given decoded (the file loop decodes ahead);
        where a request asks for its damage mask, (image, {"damage": mask}) in its place."""
        results, good = prepare_images(photos)
        if not good:
            return results
        good, masks = restore_prepared(good, requests, self.engine.damage)
        chosen = [requests[i] for i, _, _ in good]
        photos_ = [p for _, p, _ in good]
        maps = reference.colour_maps(
            self.engine.features,
            photos_,
            [r.settings.references for r in chosen],
            self.spec.size,
            self.spec.ab_scale,
            [_banked(r) for r in chosen],
        )
        predict = Prediction(
            self.engine, [Asked.of(r, p, m) for r, p, m in zip(chosen, photos_, maps, strict=True)]
        )
        if self.composition == "lab":
            compose.compose_lab(good, results, self.spec, predict)
        else:
            compose.compose_ycbcr(good, results, self.spec, predict, keep_ycbcr)
        for i, mask in masks.items():
            results[i] = (results[i], {"damage": mask})
        return results

    def restore(self, image: Image.Image | np.ndarray) -> Restored:
        """An old print (a PIL image or an array) restored, grey or colour as it was (its
        alpha kept): scratches, cracks, dust and tears found and filled, faded levels and
        grain repaired (pipeline.restore); with the mask of what was filled."""
        pixels, alpha = prepare_image(image)
        restored = restore_image(pixels, self.engine.damage)
        if alpha is not None:
            restored.grey = restored.grey.convert("LA" if restored.grey.mode == "L" else "RGBA")
            restored.grey.putalpha(alpha)
        return restored

    def plan(
        self, jobs: Sequence[tuple[Path, Path]], settings: Settings
    ) -> list[tuple[Request, Path]]:
        """The one planning step of the photo and film loops: (source, output path) jobs ->
        (Request, output path), an input's alternatives included, every request checked and
        every reference photo and key frame read and encoded before anything is written; a
        model without hints says so before any input."""
        items = plan(jobs, settings)
        if any(request.settings.hints for request, _ in items):
            require_hints(self.spec)
        encoded = self.encode_references([request for request, _ in items])
        return [(request, rel) for request, (_, rel) in zip(encoded, items, strict=True)]

    def colorize_files(
        self,
        jobs: Sequence[tuple[Path, Path]],
        out_dir: Path,
        settings: Settings | None = None,
        *,
        overwrite: bool = False,
        progress: bool = False,
        sweep: bool = True,
    ) -> Iterator:
        """pipeline.batch.colorize_files with this colorizer, as `settings` say: a FileResult
        per (source, output path relative to `out_dir`) job, in order (an input's
        alternatives one after another). Nothing is written before every request is
        checked and every reference read. `sweep`: first delete the temporary files that
        killed writers left in `out_dir` (a cluster's driver does it once, its workers
        never)."""
        from colorgan.pipeline.batch import colorize_files

        settings = settings or Settings()
        items = self.plan(jobs, settings)

        def colour(images: list, requests: list[Request]) -> list:
            return self._colour(requests, images, keep_ycbcr=True)

        how = {"overwrite": overwrite, "progress": progress, "sweep": sweep}
        return colorize_files(colour, items, out_dir, settings.photo_batch, **how)

    def film_references(self, request: Request) -> tuple[list[Reference], dict[int, Reference]]:
        """A film request's references and its key frames (by frame number), encoded."""
        [encoded] = self.encode_references([request])
        return list(encoded.settings.references), dict(encoded.settings.key_frames)

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

    def lightness_colour(self, l_norm: np.ndarray, settings: Settings | None = None) -> np.ndarray:
        """Normalized L (B, 1, H, W) -> the colour `settings` give it, (B, 2, H, W): the
        engine's ab upsampled bilinearly to H x W, through the chain photos and films take
        (Prediction.answer: the model's stored saturation, the references' and the bank's
        colour where they match, the settings' saturation). What evaluation scores."""
        settings = settings or Settings()
        if settings.hints:
            raise ColorganError("lightness_colour takes no hints: colour points need a photo")
        squares = list(l_norm[:, 0])
        references = self.encode(settings.references) if settings.references else []
        banked = None if settings.bank is None else (settings.bank, settings.bank_k, 0)
        maps = reference.colour_maps(
            self.engine.features,
            squares,
            [references] * len(squares),
            l_norm.shape[-1],
            self.spec.ab_scale,
            [banked] * len(squares),
        )
        size = (l_norm.shape[-1], l_norm.shape[-2])
        asked = [Asked(settings.saturation, (), size, colour) for colour in maps]
        return Prediction(self.engine, asked).answer(self.engine.predict_full(l_norm), l_norm)


def _banked(request: Request) -> tuple | None:
    """A request's bank as reference.colour_maps takes it: (bank, k, skip), or None."""
    settings = request.settings
    if settings.bank is None:
        return None
    return settings.bank, settings.bank_k, request.bank_skip
