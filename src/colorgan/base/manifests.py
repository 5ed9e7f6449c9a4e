"""A folder's manifest (a reference bank's, a shard pack's): a JSON object naming its format,
read within bounds from a file a user may have damaged or made. One reader, so that every
manifest is refused the same way: too large, not UTF-8, not JSON, or of another format."""

from __future__ import annotations

import json
from pathlib import Path

from colorgan.base.errors import ColorganError, shown
from colorgan.base.files import read_text


def read_manifest(path: Path, what: str, fmt: str, kind: str, limit: int) -> dict:
    """The JSON object in `path` whose "format" is `fmt`; one ColorganError naming it as
    `what` and its path otherwise (`kind` says what it should have been: "a colorgan bank")."""
    text = read_text(path, what, limit)
    name = f"{what} {shown(str(path))}"
    try:
        manifest = json.loads(text)
    except (ValueError, RecursionError):  # RecursionError: "[[[[..." nested past the stack
        raise ColorganError(f"{name} is not JSON") from None
    if not isinstance(manifest, dict) or manifest.get("format") != fmt:
        raise ColorganError(f"{name} is not {kind} ({fmt})")
    return manifest
