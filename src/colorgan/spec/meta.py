"""What a model file says of itself beyond its weights, read the same way by both engines: its
default colour intensity (`saturation`, chosen on validation photos), mirror averaging
(`mirror`) and the square it predicts on. Each value is checked here, once, when a model is
opened, so a damaged file is refused with one line before any photo."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from colorgan.base.errors import ColorganError, short

# The largest colour-intensity factor, stored or asked: beyond it everything saturates.
MAX_SATURATION = 4.0
# The squares a model may predict on: below 8 there is nothing to colour, above 2048 a photo's
# colour costs minutes and gigabytes for nothing a 256-px model can use.
MIN_SIZE, MAX_SIZE = 8, 2048


def is_number(value: object) -> bool:
    """An int or float (numpy's scalars included) that is not a bool."""
    return not isinstance(value, bool | np.bool_) and isinstance(
        value, int | float | np.integer | np.floating
    )


def stored_saturation(meta: dict) -> float:
    """A model's default saturation (1 where it has none); ColorganError if damaged."""
    value = meta.get("saturation", 1.0)
    if not is_number(value) or not (0 < value <= MAX_SATURATION):
        raise ColorganError(
            f"the model's stored saturation {short(value)} is not in (0, {MAX_SATURATION:g}]"
        )
    return float(value)


def stored_mirror(meta: dict) -> bool:
    """Whether a model asks for mirror averaging (False where it does not say)."""
    value = meta.get("mirror", False)
    if not isinstance(value, bool):
        raise ColorganError(
            f"the model's stored mirror setting {short(value)} is not true or false"
        )
    return value


def check_size(value: object, what: str = "image_size") -> int:
    """A prediction square's side: a whole number of pixels, a multiple of 8, within
    [MIN_SIZE, MAX_SIZE]; ColorganError otherwise."""
    if (
        isinstance(value, bool)
        or not isinstance(value, int)
        or not MIN_SIZE <= value <= MAX_SIZE
        or value % 8
    ):
        raise ColorganError(
            f"{what} {short(value)} is not a multiple of 8 from {MIN_SIZE} to {MAX_SIZE} pixels"
        )
    return value


@dataclass(frozen=True)
class ModelSpec:
    """What the code around an engine needs to know of its model, and all it may know: the
    square it predicts on, the priors' square (None: no priors), the ab scale (CIE ab =
    normalized ab * ab_scale), whether it takes colour hints, its stored saturation and how
    photos are composed from its colour by default ("lab" or "ycbcr")."""

    size: int
    prior_size: int | None
    ab_scale: float
    hints: bool
    saturation: float
    composition: str
    meta: dict = field(default_factory=dict, compare=False)  # the file's metadata, as read

    @classmethod
    def of(
        cls,
        meta: dict,
        size: int,
        prior_size: int | None,
        ab_scale: float,
        hints: bool,
        composition: str,
    ) -> ModelSpec:
        """The spec of a model file with this metadata, each stored value checked."""
        stored_mirror(meta)
        return cls(
            check_size(size),
            prior_size,
            ab_scale,
            hints,
            stored_saturation(meta),
            composition,
            meta,
        )
