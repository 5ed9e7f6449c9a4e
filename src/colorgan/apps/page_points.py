"""The colour points of the page: each change re-colours the photo compared (about a second
at 1 MP) and keeps a points file to save, in the CLI's --hints format (apps.points).

The points live on the server, in the visitor's session (a gr.State read when the event runs,
not when it was clicked), and every event that changes them runs in the model's one queue
slot: clicks made while a re-colour runs each wait their turn and each adds its point to the
points of the one before, so none is lost."""

from __future__ import annotations

from pathlib import Path

from PIL import Image

from colorgan.apps.points import points_json, read_points
from colorgan.apps.studio import Studio
from colorgan.base.errors import ColorganError


class PointEvents:
    """The handlers of the points' events; each returns the new points (for the session and
    the table), the status line, the compared pair and the colour, the downloads and the
    points file."""

    def __init__(self, studio: Studio, gr) -> None:  # the gradio module
        self.studio, self.gr = studio, gr

    def add(self, rows, colour, photo, model, saturation, evt=None):
        if photo is None or evt is None:
            return self._nothing("Colorize a photo first, then click its grey")
        x, y = evt.index
        with Image.open(photo["result"]) as full, Image.open(photo["preview"]) as small:
            sx, sy = full.width / small.width, full.height / small.height
        row = [round((x + 0.5) * sx - 0.5), round((y + 0.5) * sy - 0.5), colour]
        return self._recolour([*(rows or []), row], photo, model, saturation)

    def edit(self, table, photo, model, saturation):
        return self._recolour(_table_rows(table), photo, model, saturation)

    def undo(self, rows, photo, model, saturation):
        return self._recolour(list(rows or [])[:-1], photo, model, saturation)

    def clear(self, rows, photo, model, saturation):
        return self._recolour([], photo, model, saturation)

    def load(self, file, photo, model, saturation):
        """A points file the visitor gave: the points for this photo's name, or the only
        photo's points of a file that holds one. Errors name the file by its own name."""
        path = Path(file if isinstance(file, str) else file.name)
        try:
            given = read_points(path, "the points file")
        except ColorganError as exc:
            message = str(exc).replace(str(path), path.name)  # never the server's own path
            return self._nothing(message)
        name = Path(photo["upload"]).name if photo else None
        hints = given.get(name) or (next(iter(given.values())) if len(given) == 1 else [])
        return self._recolour([[h.x, h.y, h.color] for h in hints], photo, model, saturation)

    def _nothing(self, message: str):
        skip = self.gr.skip()
        return skip, skip, f"**Error:** {message}", skip, skip, skip, skip

    def _recolour(self, rows: list[list], photo, model, saturation):
        if photo is None:
            return self._nothing("Colorize a photo first, then click its grey")
        try:
            settings = self.studio.settings(
                saturation,
                photo.get("references", []),
                photo.get("bank", False),
                photo.get("alternatives"),
                hints=rows,
                restore=photo.get("restore"),
            )
            result, (grey, colour) = self.studio.recolour(
                photo["upload"], model, settings, photo.get("way", 0)
            )
        except ColorganError as exc:
            return self._nothing(str(exc))
        hints = settings.hints
        name = Path(photo["upload"]).name
        saved = result.parent / f"{Path(name).stem}-points.json"
        saved.write_text(points_json({name: hints}))
        message = f"Re-coloured with {len(hints)} colour point(s)."
        pair = (str(grey), str(colour))
        return rows, rows, message, pair, str(colour), [str(result), str(saved)], str(saved)


def _table_rows(table) -> list[list]:  # a list of rows or a DataFrame
    rows = table.values.tolist() if hasattr(table, "values") else (table or [])
    return [list(r) for r in rows if any(v not in (None, "") for v in r)]
