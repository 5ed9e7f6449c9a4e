"""Photos in, full-resolution colour out, through any engine: what every front end (the CLI's
photos and films, the page, the Python API) runs.

The engine predicts ab on its small square; the ab is put back onto the photo's own
full-resolution lightness, so the output keeps the input's size, sharpness and lightness (the
approach of richzhang/colorization). Two compositions (colour.pixels, colour.bands): "lab",
exact CIE Lab in row bands, and "ycbcr", the model's chroma upsampled in C onto the photo's
grey, 3-4x faster and within an 8-bit level of it. The saturation is an argument of each
call (the colorizer's own is only the default), so one colorizer serves requests at
different intensities. Nothing here imports torch.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from pathlib import Path

import numpy as np
from PIL import Image

from colorgan.colour import bands, pixels
from colorgan.engines import Engine, check_saturation, model_saturation
from colorgan.errors import ColorganError
from colorgan.hints import Hint, check_inside, hint_maps
from colorgan.images import BadImage, prepare_images

# Up to this many pixels the full-size L (4 bytes a pixel) is kept between the two passes over
# the photo, which saves computing it twice (0.2 s of a 12 MP colour photo); beyond it, L is
# computed again band by band, so memory stays bounded (BENCHMARKS.md).
KEEP_L_PIXELS = 40_000_000
COMPOSITIONS = ("lab", "ycbcr")


class Colorizer:
    """Colorize PIL images, arrays or files with an engine.

    >>> Colorizer().colorize(Image.open("old.jpg"), saturation=1.2).save("old_colour.jpg")
    >>> Colorizer.open("paper", engine="torch").colorize(Image.open("old.jpg"))
    """

    def __init__(
        self, engine: Engine | None = None, composition: str | None = None, saturation: float = 1.0
    ) -> None:
        """`engine`: default, the bundled default model on the engine engines.choose picks
        (`Colorizer.open` for others). `composition`: "lab" or "ycbcr" (default: the
        engine's). `saturation`: the default colour intensity of every call (1: the model's
        own; 0: grey)."""
        if engine is None:
            from colorgan.engines.choose import EngineOptions, open_engine

            engine = open_engine(EngineOptions())
        composition = composition or engine.composition
        if composition not in COMPOSITIONS:
            raise ColorganError(f"composition must be one of {', '.join(COMPOSITIONS)}")
        self.engine, self.composition = engine, composition
        self.saturation = check_saturation(saturation)
        self.model_saturation = model_saturation(engine.meta)  # refused when it is opened

    @classmethod
    def open(
        cls,
        model: str = "default",
        weights: str | Path | None = None,
        saturation: float = 1.0,
        **options,
    ) -> Colorizer:
        """The bundled `model` (or the file `weights`) on the engine engines.choose picks;
        `options`: the rest of engines.choose.EngineOptions (engine, device, precision, ...)."""
        from colorgan.engines.choose import EngineOptions, open_engine

        weights = None if weights is None else str(weights)
        return cls(open_engine(EngineOptions(model, weights, **options)), saturation=saturation)

    @property
    def meta(self) -> dict:
        return self.engine.meta

    def chroma(self, saturation: float | None = None) -> float:
        """What the predicted ab is multiplied by: the asked saturation (the colorizer's own
        where none is) times the model's default, chosen on validation photos and stored in
        its file (1 where none was)."""
        asked = self.saturation if saturation is None else check_saturation(saturation)
        return asked * self.model_saturation

    def small_colour(
        self,
        greys: Sequence[Image.Image],
        saturation: float | None = None,
        hints: Sequence[Sequence[Hint] | None] | None = None,
    ) -> tuple[np.ndarray, np.ndarray]:
        """Grey images ("L") of any sizes, and each one's colour hints (in its pixels) ->
        normalized L (B, S, S) and ab (B, 2, S, S) at the model's size S, one run of the
        engine (video composes frames from these)."""
        maps = self._hint_maps(hints, [grey.size for grey in greys])
        return self._predict_greys(greys, self.chroma(saturation), maps)

    def _predict_greys(
        self, greys: Sequence[Image.Image], chroma: float, maps: np.ndarray | None
    ) -> tuple[np.ndarray, np.ndarray]:
        l_small, prior = pixels.small_inputs(greys, self.engine.size, self.engine.prior_size)
        return l_small[:, 0], self.engine.predict(l_small, prior, maps) * chroma

    def _hint_maps(
        self, hints: Sequence[Sequence[Hint] | None] | None, sizes: Sequence[tuple[int, int]]
    ) -> np.ndarray | None:
        """Each photo's hints as maps at the model's size (B, 3, S, S); None without any."""
        if hints is None or not any(hints):
            return None
        self._require_hints()
        for points, (w, h) in zip(hints, sizes, strict=True):
            check_inside(list(points or []), w, h, "hint")
        size = self.engine.size
        return np.stack([hint_maps(list(points or []), w, h, size)
                         for points, (w, h) in zip(hints, sizes, strict=True)])  # fmt: skip

    def _require_hints(self) -> None:
        if not self.engine.hints:
            raise ColorganError("this model takes no colour hints (train one with "
                                "model.lite_unet.hints: true)")  # fmt: skip

    def colorize(
        self, image, saturation: float | None = None, hints: Sequence[Hint] | None = None
    ) -> Image.Image:  # noqa: ANN001
        """Any PIL image or array (grey or colour; alpha is kept) -> colorized PIL image;
        `hints`: colour points (hints.Hint, in the image's pixels) the colour follows."""
        [result] = self.colorize_batch(
            [image], saturation, hints=None if hints is None else [hints]
        )
        if isinstance(result, BadImage):
            raise result
        return result

    def colorize_batch(
        self,
        images: Sequence[Image.Image | np.ndarray],
        saturation: float | None = None,
        keep_ycbcr: bool = False,
        hints: Sequence[Sequence[Hint] | None] | None = None,
    ) -> list[Image.Image | BadImage]:
        """Several photos through the engine in one run (any sizes): a colorized image for
        each, or the BadImage that says why not. With `keep_ycbcr`, the ycbcr composition
        returns the YCbCr image (which JPEG stores directly) rather than RGB. `hints`: each
        photo's colour points, or None."""
        chroma = self.chroma(saturation)
        results, good = prepare_images(images)
        if hints is not None and len(hints) != len(images):
            raise ColorganError("give one list of hints (or None) for each photo")
        given = None if hints is None else [hints[i] for i, _, _ in good]
        maps = self._hint_maps(given, [photo.size for _, photo, _ in good]) if good else None
        if good and self.composition == "lab":
            self._lab_batch(good, results, chroma, maps)
        elif good:
            self._ycbcr_batch(good, results, chroma, keep_ycbcr, maps)
        return results

    def colorize_files(
        self,
        jobs: Sequence[tuple[Path, Path]],
        out_dir: Path,
        overwrite: bool = False,
        progress: bool = False,
        batch: int = 1,
        saturation: float | None = None,
        hints: dict[str, Sequence[Hint]] | None = None,
    ) -> Iterator:
        """batch.colorize_files with this colorizer: a FileResult per input, in order;
        `hints`: colour points by input file name (hints.read_hints_file)."""
        from colorgan.batch import colorize_files

        if hints and any(hints.values()):
            self._require_hints()

        def run(images: list, sources: list[Path]) -> list:
            points = None if not hints else [hints.get(src.name) for src in sources]
            return self.colorize_batch(images, saturation, keep_ycbcr=True, hints=points)

        return colorize_files(run, jobs, out_dir, overwrite, progress, batch)

    def _sizes(self) -> list[int]:
        prior = self.engine.prior_size
        return [self.engine.size] + ([prior] if prior not in (None, self.engine.size) else [])

    def _lab_batch(self, good: list, results: list, chroma: float, maps: np.ndarray | None) -> None:
        """Each photo's bands pasted straight into its output image: no full-size array."""
        prepared = []
        for i, photo, alpha in good:
            w, h = photo.size

            def read(top: int, rows: int, photo=photo, w=w) -> np.ndarray:  # one band
                return np.asarray(photo.crop((0, top, w, top + rows)))

            small, full = bands.small_lightness(read, h, w, self._sizes(), h * w <= KEEP_L_PIXELS)
            prepared.append((i, read, h, w, alpha, small, full))
        l_small = np.stack([p[5][0] for p in prepared])[:, None]
        prior = np.stack([p[5][-1] for p in prepared])[:, None]
        ab = self.engine.predict(l_small, prior if self.engine.prior_size else None, maps) * chroma
        for k, (i, read, h, w, alpha, _, full) in enumerate(prepared):
            if full is not None:
                read_l = lambda top, rows, full=full: full[top : top + rows]  # noqa: E731
            else:
                read_l = lambda top, rows, read=read: bands.lightness_rows(read(top, rows))  # noqa: E731
            result = Image.new("RGB", (w, h))
            for top, band in bands.lab_bands(read_l, h, w, ab[k]):
                rows = Image.frombuffer("RGB", (w, len(band)), band, "raw", "RGB", 0, 1)
                result.paste(rows, (0, top))
            if alpha is not None:
                result.putalpha(alpha)
            results[i] = result

    def _ycbcr_batch(
        self, good: list, results: list, chroma: float, keep_ycbcr: bool, maps: np.ndarray | None
    ) -> None:
        greys = [(i, pixels.grey_of(photo), alpha) for i, photo, alpha in good]
        l_small, ab = self._predict_greys([grey for _, grey, _ in greys], chroma, maps)
        for k, (i, grey, alpha) in enumerate(greys):
            result = pixels.compose_ycbcr(grey, l_small[k], ab[k], self.engine.ab_scale)
            if alpha is not None or not keep_ycbcr:
                result = result.convert("RGB")
            if alpha is not None:
                result.putalpha(alpha)
            results[i] = result
