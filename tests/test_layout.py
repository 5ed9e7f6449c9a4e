"""The package's shape: no import cycles, modules and classes a newcomer can read whole."""

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SRC = ROOT / "src" / "colorgan"
MODULES = {
    ".".join(("colorgan", *p.relative_to(SRC).with_suffix("").parts)).removesuffix(".__init__"): p
    for p in SRC.rglob("*.py")
}


def imports(path: Path) -> set[str]:
    """colorgan modules this file imports, anywhere in it (lazy imports count too)."""
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("colorgan"):
            for alias in node.names:
                sub = f"{node.module}.{alias.name}"
                found.add(sub if sub in MODULES else node.module)
        elif isinstance(node, ast.Import):
            found |= {a.name for a in node.names if a.name.startswith("colorgan")}
    return found & set(MODULES)


def test_no_import_cycles():
    graph = {name: imports(path) - {name} for name, path in MODULES.items()}
    done: set[str] = set()

    def visit(name: str, stack: list[str]) -> None:
        if name in stack:
            pytest.fail("import cycle: " + " -> ".join([*stack[stack.index(name) :], name]))
        if name in done:
            return
        for other in sorted(graph[name]):
            visit(other, [*stack, name])
        done.add(name)

    for name in sorted(graph):
        visit(name, [])


def test_modules_and_classes_stay_readable():
    for name, path in MODULES.items():
        lines = len(path.read_text().splitlines())
        assert lines <= 350, f"{name} has {lines} lines"
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ClassDef):
                length = node.end_lineno - node.lineno + 1
                assert length <= 250, f"{name}.{node.name} has {length} lines"


def test_nothing_cites_files_outside_the_repository():
    for path in [*SRC.rglob("*.py"), *(ROOT / "configs").rglob("*.yaml"), ROOT / "README.md",
                 *(ROOT / "docs").rglob("*.md"), ROOT / "Makefile"]:  # fmt: skip
        assert "REFERENCE.md" not in path.read_text(), path


def test_the_top_level_shows_the_layers():
    """At most 12 modules beside the layer folders, each folder saying in its docstring what
    it holds."""
    top = sorted(p.name for p in SRC.glob("*.py"))
    assert len(top) <= 12, top
    for package in (p for p in SRC.iterdir() if p.is_dir() and any(p.glob("*.py"))):
        assert (package / "__init__.py").is_file(), f"{package.name}/ has no __init__.py"
        doc = ast.get_docstring(ast.parse((package / "__init__.py").read_text()))
        assert doc and len(doc) > 40, f"{package.name}/__init__.py says nothing of what it holds"


def test_reading_a_config_imports_no_torch():
    import subprocess
    import sys

    probe = ("import sys; from colorgan.config import load_config; "
             "load_config('configs/default.yaml'); load_config('configs/paper.yaml'); "
             "print(sorted(m for m in sys.modules if m.split('.')[0] in "
             "('torch', 'kornia', 'timm', 'torchvision', 'onnxruntime')))")  # fmt: skip
    run = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True,
                         cwd=ROOT, check=True)  # fmt: skip
    assert run.stdout.strip() == "[]"
