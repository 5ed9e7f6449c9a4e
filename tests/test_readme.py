"""The README's Python example runs as a user pastes it, from the clone, and saves what it
colours (once, it raised at a line that needed the user's own file)."""

import re
import shutil
from pathlib import Path

import numpy as np
from PIL import Image

ROOT = Path(__file__).resolve().parents[1]


def test_the_readmes_python_example_runs_as_given(tmp_path, monkeypatch, capsys):
    [example] = re.findall(r"```python\n(.*?)```", (ROOT / "README.md").read_text(), re.S)
    shutil.copytree(ROOT / "examples", tmp_path / "examples")
    monkeypatch.chdir(tmp_path)
    exec(compile(example, "README.md", "exec"), {})
    chroma = {}
    for name in ("colour", "strong", "hinted", "paper"):
        with Image.open(tmp_path / f"astronaut_{name}.jpg") as saved:
            assert saved.mode == "RGB" and saved.size == (512, 512)
            chroma[name] = np.asarray(saved.convert("YCbCr"), float)[..., 1:].std()
    assert chroma["strong"] > chroma["colour"] > 1  # coloured, and more so at 1.3
    printed = capsys.readouterr().out.splitlines()
    assert len(printed) == 5 and all(line.split()[1].startswith("coloured/") for line in printed)
