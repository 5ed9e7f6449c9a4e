"""Reading recipes: a YAML file (bounded in bytes, in values once its aliases are expanded, and
in depth, so a hostile file costs nothing), its `base:` chain, and `section.key=value`
overrides. Errors say what is wrong in one line and never echo a file's content."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import yaml

from colorgan.base.errors import ColorganError, short, shown
from colorgan.base.files import read_text
from colorgan.config.upgrade import upgrade_old_form
from colorgan.spec.options import OPTIONS

YAML_SUFFIXES = (".yaml", ".yml")
MAX_VALUES = 100_000  # values a YAML file may expand to: far beyond any recipe


def read_yaml(path: str | Path, what: str = "config") -> dict[str, Any]:
    """A YAML file (named .yaml or .yml) whose top level is a mapping, read within bounds;
    ColorganError (one line, never the file's content) otherwise."""
    path = Path(path)
    if path.suffix.lower() not in YAML_SUFFIXES:
        raise ColorganError(f"{what} {shown(str(path))}: not a YAML file (.yaml or .yml)")
    if not path.exists():
        raise ColorganError(f"{what} file not found: {shown(str(path))}")
    values = parse_yaml(read_text(path, what), shown(str(path))) or {}
    if not isinstance(values, dict):
        raise ColorganError(f"{shown(str(path))}: the top level must be a mapping")
    return values


def parse_yaml(text: str, where: str) -> Any:
    """YAML text -> its values, refused (ColorganError) where aliases would expand it past
    MAX_VALUES values (a "billion laughs"), where it refers to itself, or nests too deep."""
    loader = None
    try:
        loader = yaml.SafeLoader(text)  # a control character (NUL, BEL, ESC) is refused here
        node = loader.get_single_node()
        if node is None:
            return None
        if _expanded(node, {}, set()) > MAX_VALUES:
            raise ColorganError(
                f"{where}: its aliases expand to over {MAX_VALUES:,} values; at most "
                f"{MAX_VALUES:,} are read"
            )
        return loader.construct_document(node)
    except yaml.YAMLError as exc:
        raise ColorganError(f"{where}: not valid YAML ({exc.__class__.__name__})") from None
    except RecursionError:
        raise ColorganError(f"{where}: nested too deeply to be a config") from None
    finally:
        if loader is not None:
            loader.dispose()


def _expanded(node: yaml.Node, sizes: dict[int, int], open_: set[int]) -> int:
    """How many values `node` holds with every alias expanded (each alias is the node it names,
    so a shared node is counted once per reference but computed once)."""
    if id(node) in sizes:
        return sizes[id(node)]
    if id(node) in open_:  # an alias to a node that holds it: endless
        return MAX_VALUES + 1
    open_.add(id(node))
    size = 1
    if isinstance(node, yaml.SequenceNode):
        size += sum(_expanded(child, sizes, open_) for child in node.value)
    elif isinstance(node, yaml.MappingNode):
        size += sum(_expanded(k, sizes, open_) + _expanded(v, sizes, open_) for k, v in node.value)
    open_.discard(id(node))
    sizes[id(node)] = size
    return size


# Mappings that are values, not sections: an override replaces them whole (a recipe that
# names its loss terms means those terms, not those added to the base's).
WHOLE_VALUES = {("loss", "pretrain"), ("loss", "adversarial")}


def merge(base: dict[str, Any], over: dict[str, Any], path: tuple[str, ...] = ()) -> dict[str, Any]:
    """`over` on top of `base`: sections merged key by key, anything else replaced."""
    out = copy.deepcopy(base)
    for key, value in over.items():
        here = (*path, key)
        if isinstance(value, dict) and isinstance(out.get(key), dict) and here not in WHOLE_VALUES:
            out[key] = merge(out[key], value, here)
        else:
            out[key] = copy.deepcopy(value)
    if path == ("model",) and "generator" in over:
        # another generator: the base's options for a different one no longer apply
        for name in OPTIONS:
            if name != out["generator"] and name not in over:
                out.pop(name, None)
    return out


def read_recipe(path: str | Path, _seen: tuple[Path, ...] = ()) -> dict[str, Any]:
    """A config file's values with its `base:` chain applied; `name` is never inherited."""
    path = Path(path)
    values = read_yaml(path)
    base = values.pop("base", None)
    if base is None:
        return values
    if not isinstance(base, str) or "\0" in base:
        raise ColorganError(f"{shown(str(path))}: base must be a file name, got {short(base)}")
    base_path = (path.parent / base).resolve()
    if base_path in _seen or base_path == path.resolve():
        raise ColorganError(f"{path}: base files form a loop through {base_path}")
    inherited = read_recipe(base_path, (*_seen, path.resolve()))
    inherited.pop("name", None)
    return merge(upgrade_old_form(inherited), upgrade_old_form(values))


def parse_override(item: str) -> tuple[str, Any]:
    """`section.key=value` (the value in YAML) -> (key, value); ColorganError otherwise."""
    key, sep, raw = item.partition("=")
    if not sep or not key:
        raise ColorganError(f"override {short(item)} is not of the form section.key=value")
    return key, parse_yaml(raw, f"override {short(item)}")


def apply_overrides(values: dict[str, Any], overrides: list[str]) -> dict[str, Any]:
    """`section.key=value` strings (values in YAML) applied to a config's values."""
    values = copy.deepcopy(values)
    for item in overrides:
        key, value = parse_override(item)
        node = values
        parts = key.split(".")
        for part in parts[:-1]:
            node = node.setdefault(part, {})
            if not isinstance(node, dict):
                raise ColorganError(f"override {short(item)}: {short(part)} is not a section")
        node[parts[-1]] = value
    return values
