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


def install_hint(extra: str) -> str:
    """How to add an extra of pyproject.toml: colorgan installs from a clone, not an index."""
    return f"from a clone of colorgan, pip install '.[{extra}]'"
