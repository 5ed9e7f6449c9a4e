"""The package's shape: no import cycles, modules and classes a newcomer can read whole."""

import ast
import re
import shutil
import subprocess
import sys
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


# The layers from the bottom up (docs/architecture.md draws them): a module imports only from
# its own folder and the folders below it. The package's front door (colorgan/__init__.py,
# __main__.py) re-exports the public API and may name any layer.
LAYERS = (
    "base",
    "colour",
    "spec",
    "config",
    "priors",
    "models",
    "engines",
    "pipeline",
    "training",
    "evaluation",
    "apps",
)
FRONT_DOOR = {"colorgan", "colorgan.__main__"}


def layer(module: str) -> str:
    return module.split(".")[1] if module.count(".") >= 1 else ""


def test_every_module_lives_in_a_layer():
    for name in MODULES:
        assert name in FRONT_DOOR or layer(name) in LAYERS, f"{name} is in no layer"


def test_imports_point_down_the_layers():
    """Every import, lazy ones included, names a module of the importer's folder or of a
    folder below it."""
    for name, path in MODULES.items():
        if name in FRONT_DOOR:
            continue
        rank = LAYERS.index(layer(name))
        for other in imports(path):
            assert LAYERS.index(layer(other)) <= rank, f"{name} imports {other}, a layer above"


def test_the_architecture_page_draws_the_layers_in_order():
    text = (ROOT / "docs" / "architecture.md").read_text()
    drawn = [
        line.split()[0].rstrip("/")
        for line in text.split("```")[1].splitlines()[1:]
        if line[:1].isalpha()
    ]
    assert drawn == list(reversed(LAYERS))


def test_the_architecture_page_names_every_module():
    """Each layer's lines of the drawing name every module of that folder (a module added
    without a word there is a module a newcomer cannot find)."""
    text = (ROOT / "docs" / "architecture.md").read_text().split("```")[1]
    blocks: dict[str, str] = {}
    for line in text.splitlines()[1:]:
        if line[:1].isalpha():
            name = line.split()[0].rstrip("/")
        blocks[name] = blocks.get(name, "") + " " + line.lower()
    for module, path in MODULES.items():
        if module in FRONT_DOOR or path.stem == "__init__":
            continue
        words = re.findall(r"\w+", blocks[layer(module)])
        assert path.stem in words, f"docs/architecture.md does not name {module}"


def test_only_the_engine_protocol_is_used_outside_engines():
    """Outside engines/, an engine is used through `spec`, `predict`, `predict_full` and
    `features`: no
    module reads its device, session, generator or sizes."""
    allowed = {"spec", "predict", "predict_full", "features", "damage"}
    for name, path in MODULES.items():
        if layer(name) == "engines":
            continue
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Attribute) and _names_an_engine(node.value):
                assert node.attr in allowed, f"{name} reads engine.{node.attr}"


def test_training_needs_no_pipeline_nor_engine_and_evaluation_builds_no_engine():
    """Training feeds its own batches to the networks (the device and precision from
    models.runtime); evaluation scores models through the pipeline's Colorizer, as users
    colorize, and never opens an engine itself."""
    for name, path in MODULES.items():
        found = imports(path)
        if layer(name) == "training":
            assert not [m for m in found if layer(m) in ("pipeline", "engines")], name
        if layer(name) == "evaluation":
            engines = [m for m in found if layer(m) == "engines"]
            assert not engines, f"{name} imports {engines}"


def _names_an_engine(node: ast.AST) -> bool:
    end = node.attr if isinstance(node, ast.Attribute) else getattr(node, "id", "")
    return end == "engine" or end.endswith("_engine")


def test_modules_and_classes_stay_readable():
    """Modules of at most 350 lines, classes of 250, functions of 80, as `ruff format` lays
    them out: no line anywhere in the project kept from it by a skip or off comment."""
    marker = "# fmt" + ":"  # spelt in two so that this file does not hold it
    kept = [
        str(path.relative_to(ROOT))
        for folder in ("src", "tests", "benchmarks", "scripts", "examples")
        for path in (ROOT / folder).rglob("*.py")
        if marker in path.read_text()
    ]
    assert not kept, f"lines kept from ruff format in {kept}"
    for name, path in MODULES.items():
        text = path.read_text()
        lines = len(text.splitlines())
        assert lines <= 350, f"{name} has {lines} lines"
        for node in ast.walk(ast.parse(text)):
            length = getattr(node, "end_lineno", 0) - getattr(node, "lineno", 0) + 1
            if isinstance(node, ast.ClassDef):
                assert length <= 250, f"{name}.{node.name} has {length} lines"
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                assert length <= 80, f"{name}.{node.name} has {length} lines"


# What a user gets: the code, the README and its guides, the model cards, the Makefile.
PRODUCT = [
    *SRC.rglob("*.py"),
    ROOT / "README.md",
    *(ROOT / "docs" / "guide").glob("*.md"),
    ROOT / "docs" / "architecture.md",
    *(ROOT / "docs" / "models").glob("*.md"),
    ROOT / "Makefile",
    ROOT / "pyproject.toml",
]
UP_PATH = re.compile(r"\.\./[\w./-]*")


@pytest.mark.subprocess
def test_the_python_in_the_docs_is_laid_out_as_the_code_is():
    """Every Python example in the README and the guides parses, and is as `ruff format`
    lays it out (the code's house style holds where users copy from)."""
    ruff = shutil.which("ruff") or str(Path(sys.executable).parent / "ruff")
    if not Path(ruff).is_file():
        pytest.skip("ruff is not installed here (the dev extra)")
    blocks = [
        (doc, block)
        for doc in [ROOT / "README.md", *(ROOT / "docs" / "guide").glob("*.md")]
        for block in re.findall(r"```python\n(.*?)```", doc.read_text(), re.S)
    ]
    assert blocks
    for doc, block in blocks:
        ast.parse(block)
        laid_out = subprocess.run(
            [ruff, "format", "--stdin-filename", "example.py", "-"],
            input=block,
            capture_output=True,
            text=True,
            check=True,
        ).stdout
        assert laid_out == block, f"a Python example in {doc.name} is not as ruff lays it out"


def test_the_product_names_no_path_outside_the_repository():
    """No default, example or link of the product leads out of the repository (a folder
    beside the clone is not there on a user's machine): every ../ path stays inside, read
    from its file's folder or from the root. Recipes under configs/ name the photos they
    were trained on; a user names theirs with --set data.root=FOLDER."""
    for path in PRODUCT:
        for match in UP_PATH.finditer(path.read_text()):
            inside = [
                base
                for base in (path.parent, ROOT)
                if (base / match.group()).resolve().is_relative_to(ROOT)
            ]
            assert inside, f"{path.relative_to(ROOT)} names {match.group()}, outside the repository"


def test_the_research_record_keeps_its_artefacts():
    """Training logs, loss tables, result JSON and experiment reports live in the research
    record's folder (docs/results/); the rest of docs/ is the guides, the model cards and this
    page, and the root holds no reports/."""
    artefacts = [
        path.relative_to(ROOT)
        for path in (ROOT / "docs").rglob("*")
        if (path.suffix in {".json", ".csv", ".log"} or path.name == "RESULTS.md")
        and not path.is_relative_to(ROOT / "docs" / "results")
    ]
    assert not artefacts, f"research artefacts outside docs/results/: {artefacts}"
    assert not (ROOT / "reports").exists()


def test_nothing_cites_the_developers_reference():
    tracked = [
        *PRODUCT,
        *(ROOT / "configs").rglob("*.yaml"),
        *(ROOT / "docs").rglob("*.md"),
        *(ROOT / "tests").rglob("*.py"),
        *(ROOT / "benchmarks").rglob("*.py"),
        *(ROOT / "scripts").rglob("*.*"),
        ROOT / "BENCHMARKS.md",
    ]
    for path in tracked:
        assert "REFERENCE" + ".md" not in path.read_text(errors="ignore"), path


def test_the_top_level_shows_the_layers():
    """At most 12 modules beside the layer folders, each folder saying in its docstring what
    it holds."""
    top = sorted(p.name for p in SRC.glob("*.py"))
    assert len(top) <= 12, top
    for package in (p for p in SRC.iterdir() if p.is_dir() and any(p.glob("*.py"))):
        assert (package / "__init__.py").is_file(), f"{package.name}/ has no __init__.py"
        doc = ast.get_docstring(ast.parse((package / "__init__.py").read_text()))
        assert doc and len(doc) > 40, f"{package.name}/__init__.py says nothing of what it holds"


@pytest.mark.subprocess
def test_reading_a_config_imports_no_torch():
    import subprocess
    import sys

    probe = (
        "import sys; from colorgan.config import load_config; "
        "load_config('configs/default.yaml'); load_config('configs/paper.yaml'); "
        "print(sorted(m for m in sys.modules if m.split('.')[0] in "
        "('torch', 'kornia', 'timm', 'torchvision', 'onnxruntime')))"
    )
    run = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, cwd=ROOT, check=True
    )
    assert run.stdout.strip() == "[]"
