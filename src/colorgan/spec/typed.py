"""Plain values (from YAML or JSON) <-> typed dataclasses, strictly.

Each value is checked against its field's type (bool, int, float, str, lists, tuples, dicts, unions,
nested dataclasses; a class with `from_dict` builds itself), and unknown keys are an error
that lists the known ones, so a typo never silently falls back to a default.
"""

from __future__ import annotations

import dataclasses
import re
import types
import typing
from dataclasses import asdict
from typing import Any

from colorgan.base.errors import ColorganError, short

_NUMBER = re.compile(r"[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?")


def listed(names: list[str], most: int = 6) -> str:
    """Some names of a list, each cut short, and how many more: an error names what is wrong
    without echoing a whole file."""
    shown = ", ".join(short(str(name), 40) for name in names[:most])
    return shown + (f" and {len(names) - most} more" if len(names) > most else "")


def plain(value: Any) -> Any:
    if dataclasses.is_dataclass(value):
        return plain(asdict(value))
    if isinstance(value, dict):
        return {k: plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [plain(v) for v in value]
    return value


def coerce(tp: Any, value: Any, where: str) -> Any:
    origin = typing.get_origin(tp)
    if isinstance(tp, type) and hasattr(tp, "from_dict"):
        if not isinstance(value, dict):
            raise ColorganError(f"{where}: expected a mapping, got {short(value)}")
        return tp.from_dict(value, where)
    if dataclasses.is_dataclass(tp):
        return build_dataclass(tp, value, where)
    if origin in (typing.Union, types.UnionType):
        args = typing.get_args(tp)
        if value is None and type(None) in args:
            return None
        errors = []
        for arg in args:
            if arg is type(None):
                continue
            try:
                return coerce(arg, value, where)
            except ColorganError as exc:
                errors.append(str(exc))
        raise ColorganError(errors[0] if errors else f"{where}: bad value {short(value)}")
    if origin is tuple:
        args = typing.get_args(tp)
        if len(args) == 2 and args[1] is Ellipsis:
            if not isinstance(value, (list, tuple)):
                raise ColorganError(f"{where}: expected a list, got {short(value)}")
            return tuple(coerce(args[0], v, where) for v in value)
        if not isinstance(value, (list, tuple)) or len(value) != len(args):
            raise ColorganError(
                f"{where}: expected a list of {len(args)} values, got {short(value)}"
            )
        return tuple(coerce(a, v, where) for a, v in zip(args, value, strict=True))
    if origin is list:
        (item_type,) = typing.get_args(tp)
        if not isinstance(value, (list, tuple)):
            raise ColorganError(f"{where}: expected a list, got {short(value)}")
        return [coerce(item_type, v, f"{where}[{i}]") for i, v in enumerate(value)]
    if origin is dict:
        key_type, value_type = typing.get_args(tp)
        if not isinstance(value, dict):
            raise ColorganError(f"{where}: expected a mapping, got {short(value)}")
        return {
            coerce(key_type, k, where): coerce(value_type, v, f"{where}.{k}")
            for k, v in value.items()
        }
    if tp is bool:
        if not isinstance(value, bool):
            raise ColorganError(f"{where}: expected true/false, got {short(value)}")
        return value
    if tp is int:
        if isinstance(value, bool) or not isinstance(value, int):
            raise ColorganError(f"{where}: expected an integer, got {short(value)}")
        return value
    if tp is float:
        if isinstance(value, str) and _NUMBER.fullmatch(value.strip()):
            value = float(value)  # 1e12: YAML 1.1 reads a number without a dot as text
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise ColorganError(f"{where}: expected a number, got {short(value)}")
        try:
            return float(value)
        except OverflowError:
            raise ColorganError(f"{where}: {short(value)} is too large a number") from None
    if tp is str:
        if not isinstance(value, str):
            raise ColorganError(f"{where}: expected a string, got {short(value)}")
        return value
    return value


def build_dataclass(cls: type, values: Any, where: str) -> Any:
    if values is None:
        values = {}
    if not isinstance(values, dict):
        raise ColorganError(f"{where or 'config'}: expected a mapping, got {short(values)}")
    hints = typing.get_type_hints(cls)
    names = {f.name for f in dataclasses.fields(cls)}
    unknown = sorted(set(values) - names)
    if unknown:
        raise ColorganError(
            f"{where or 'config'}: unknown key(s) {listed(unknown)}; "
            f"known: {', '.join(sorted(names))}"
        )
    required = [
        f.name
        for f in dataclasses.fields(cls)
        if f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING
    ]
    missing = [name for name in required if name not in values]
    if missing:
        raise ColorganError(f"{where or 'config'}: missing key(s) {', '.join(missing)}")
    kwargs = {k: coerce(hints[k], v, f"{where}.{k}" if where else k) for k, v in values.items()}
    return cls(**kwargs)
