"""The exceptions the CLI turns into a one-line message instead of a traceback, and how a
message shows what it was given (on one line, cut short)."""


class ColorganError(ValueError):
    """A user-facing error: bad input, missing weights, bad config. A ValueError, so that a
    Python caller handles a bad argument as any library's."""


def shown(text: str) -> str:
    """A message on one line whatever a file name holds (a newline in it is shown as \\n)."""
    return "".join(c if c.isprintable() else c.encode("unicode_escape").decode() for c in text)


def short(value: object, limit: int = 60) -> str:
    """repr(value), cut to `limit` characters: an error never echoes a whole value (a
    5,000-digit number, a file's contents)."""
    text = repr(value)
    return text if len(text) <= limit else f"{text[: limit - 3]}..."


class ColorganTypeError(ColorganError, TypeError):
    """A value of the wrong type given to the Python API (a TypeError too)."""


class SettingError(ColorganError):
    """A per-call setting refused. `setting` names it as the Python API does (a field of
    pipeline.settings.Settings), and the message reads "setting: why"; a front end that
    calls it otherwise says `named(its name)` (the CLI its flag), the same sentence."""

    def __init__(self, setting: str, rest: str) -> None:
        super().__init__(f"{setting}: {rest}")
        self.setting, self.rest = setting, rest

    def named(self, name: str) -> str:
        return f"{name}: {self.rest}"

    def __reduce__(self) -> tuple:  # pickled whole (a process pool's, a cluster's workers)
        return type(self), (self.setting, self.rest)


class SettingTypeError(SettingError, ColorganTypeError):
    """A per-call setting of the wrong type (a TypeError too)."""


def install_hint(extra: str) -> str:
    """How to add an extra of pyproject.toml: colorgan installs from a clone, not an index."""
    return f"from a clone of colorgan, pip install '.[{extra}]'"
