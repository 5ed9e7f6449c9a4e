"""A corpus of bad inputs and mistakes, made at test time: each must end in its exit code
with one line per problem on stderr, no traceback, and no existing file changed."""

from __future__ import annotations

import hashlib
import io
import json
import os
import zipfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image
from safetensors.torch import save_file

from colorgan.apps.cli import main
from colorgan.models.file import FORMAT
from tests.conftest import make_photo, write_generator


@dataclass
class World:
    """A user's folder: photos, an output already there, a model, a recipe, a run."""

    root: Path

    def __post_init__(self) -> None:
        r = self.root
        (r / "photos").mkdir()
        make_photo(0, (64, 48)).save(r / "photos" / "good.jpg")
        (r / "out").mkdir()
        (r / "out" / "earlier.jpg").write_bytes((r / "photos" / "good.jpg").read_bytes())
        write_generator(r / "model.safetensors")
        (r / "recipe.yaml").write_text(
            f"data: {{root: {r / 'photos'}, image_size: 32}}\n"
            "model: {fusion: {use_segmentation: false, use_embedding: false}}\n"
            "train: {batch_size: 1}\n"
        )

    def snapshot(self) -> dict[str, str]:
        """Every path under the user's folder, files by their content and folders as such (an
        empty folder left behind is a change too)."""
        return {
            str(p.relative_to(self.root)): hashlib.sha256(p.read_bytes()).hexdigest()
            if p.is_file()
            else "folder"
            for p in sorted(self.root.rglob("*"))
        }

    def weights(self, name: str, tensors: dict | None = None, meta: dict | None = None) -> str:
        path = self.root / name
        save_file(tensors or {"w": torch.zeros(2)}, str(path), meta)
        return str(path)


def colorize(w: World, *extra: str, source: str = "photos/good.jpg") -> list[str]:
    return ["colorize", str(w.root / source), "--out", str(w.root / "out"), *extra]


def train(w: World, *sets: str) -> list[str]:
    args = ["train", str(w.root / "recipe.yaml"), "--out-dir", str(w.root / "runs"), "-q"]
    for item in sets:
        args += ["--set", item]
    return args


def write(w: World, name: str, data: bytes | str = b"") -> str:
    """A file under the user's folder (a folder where the name ends in /)."""
    path = w.root / name
    if name.endswith("/"):
        path.mkdir(parents=True)
        return str(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data.encode() if isinstance(data, str) else data)
    return str(path)


def input_file(w: World, name: str, data: bytes) -> list[str]:
    return ["colorize", write(w, f"in/{name}", data), "--out", str(w.root / "out")]


def good_bytes(w: World) -> bytes:
    return (w.root / "photos" / "good.jpg").read_bytes()


def png(size: tuple[int, int]) -> bytes:
    """A PNG of this size; 30000 x 30000 is a decompression bomb (tiny file, 900 MP)."""
    buffer = io.BytesIO()
    Image.new("L", size).save(buffer, format="PNG")
    return buffer.getvalue()


def film_bytes(w: World) -> bytes:
    """A 40-frame MP4 with its index first (faststart), as phones write them."""
    from tests.test_video import write_clip

    write_clip(w.root / "whole.mp4", pts=range(40), options={"movflags": "faststart"})
    data = (w.root / "whole.mp4").read_bytes()
    (w.root / "whole.mp4").unlink()
    return data


def png_claiming(size: tuple[int, int]) -> bytes:
    """A small PNG whose header claims `size`: Pillow reads the size before any pixel."""
    import struct
    import zlib

    data = bytearray(png((8, 8)))
    ihdr = struct.pack(">II", *size) + bytes(data[24:29])
    data[16:29] = ihdr
    data[29:33] = struct.pack(">I", zlib.crc32(b"IHDR" + ihdr))
    return bytes(data)


def onnx_file(
    w: World,
    name: str,
    meta: dict | None = None,
    input_name: str = "l",
    channels: int = 2,
    gain: float = 0.1,
) -> str:
    """A hand-made ONNX graph with colorgan's metadata: ab = gain x L in `channels` channels;
    by default one colorgan would open and run."""
    import onnx
    from onnx import TensorProto, helper

    size = 32
    nodes = [
        helper.make_node("Mul", [input_name, "gain"], ["scaled"]),
        helper.make_node("Concat", ["scaled"] * channels, ["ab"], axis=1),
    ]
    graph = helper.make_graph(
        nodes,
        "g",
        [helper.make_tensor_value_info(input_name, TensorProto.FLOAT, ["n", 1, size, size])],
        [helper.make_tensor_value_info("ab", TensorProto.FLOAT, ["n", channels, size, size])],
        [helper.make_tensor("gain", TensorProto.FLOAT, [], [gain])],
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    model.ir_version = 8
    values = {"size": size, "prior_size": None, "ab_scale": 110.0, "generator": {}, **(meta or {})}
    model.metadata_props.add(key="colorgan", value=json.dumps(values))
    path = w.root / name
    onnx.save(model, str(path))
    return str(path)


def nan_weights(w: World) -> str:
    from colorgan.models.file import write_generator_file

    tensors = {k: v.clone() for k, v in _generator(w)[0].items()}
    next(v for v in tensors.values() if v.is_floating_point()).fill_(float("nan"))
    write_generator_file(w.root / "nan.safetensors", tensors, _meta(w))
    return str(w.root / "nan.safetensors")


# name -> (argv builder, exit code, words the one-line message must hold)
CASES = {
    # configs and overrides
    "override with broken YAML": (lambda w: train(w, "train.betas=[0.5"), 2, "not valid YAML"),
    "override without =": (lambda w: train(w, "train.betas"), 2, "section.key=value"),
    "log_every 0": (lambda w: train(w, "train.log_every=0"), 2, "train.log_every"),
    "checkpoint_every 0": (lambda w: train(w, "train.checkpoint_every=0"), 2, "checkpoint_every"),
    "keep_checkpoints -1": (lambda w: train(w, "train.keep_checkpoints=-1"), 2, "keep_checkpoints"),
    "priors batch 0": (lambda w: train(w, "priors.batch_size=0"), 2, "priors.batch_size"),
    "image size 0": (lambda w: train(w, "data.image_size=0"), 2, "image_size"),
    "unknown key": (lambda w: train(w, "train.lr=1"), 2, "lr"),
    "wrong type": (lambda w: train(w, "train.batch_size=abc"), 2, "batch_size"),
    "val fraction 1.5": (lambda w: train(w, "data.val_fraction=1.5"), 2, "val_fraction"),
    "unknown loss term": (lambda w: train(w, "loss.pretrain={nope: 1}"), 2, "unknown term"),
    "U-Net too shallow": (
        lambda w: train(w, "model={generator: unet, unet: {downs: 5}}"),
        2,
        "downs",
    ),
    "dropout 1": (
        lambda w: train(w, "model={generator: unet, unet: {downs: 5, dropout: 1}}"),
        2,
        "unet",
    ),
    "unknown generator": (lambda w: train(w, "model.generator=nope"), 2, "nope"),
    "inverted crop": (lambda w: train(w, "data.random_crop=[0.9, 0.5]"), 2, "random_crop"),
    "rebalance lambda 0": (lambda w: train(w, "loss.rebalance_lambda=0"), 2, "rebalance_lambda"),
    "negative source weight": (
        lambda w: train(w, f"data.sources=[{{root: {w.root / 'photos'}, weight: -1}}]"),
        2,
        "weights",
    ),
    "source without a root": (lambda w: train(w, "data.sources=[{weight: 1}]"), 2, "root"),
    "unknown schedule": (lambda w: train(w, "train.lr_schedule=linear"), 2, "lr_schedule"),
    "grad clip 0": (lambda w: train(w, "train.grad_clip=0"), 2, "grad_clip"),
    "classification without its head": (
        lambda w: train(w, "loss.pretrain={classification: 1}"),
        2,
        "head: classification",
    ),
    "init_from another model": (
        lambda w: train(
            w,
            f"train.init_from={write_generator(w.root / 'u.safetensors', _UNET, 64)}",
            "data.image_size=64",
        ),
        2,
        "not this config's model",
    ),
    "init_from a missing file": (
        lambda w: train(w, f"train.init_from={w.root / 'gone.safetensors'}"),
        2,
        "not found",
    ),
    "missing data folder": (lambda w: train(w, f"data.root={w.root / 'nowhere'}"), 2, "data.root"),
    "missing config": (lambda w: ["train", str(w.root / "none.yaml")], 2, "not found"),
    "config not YAML": (lambda w: ["train", write(w, "bad.yaml", "a: [1,\n")], 2, "YAML"),
    "config a list": (lambda w: ["train", write(w, "list.yaml", "- 1\n- 2\n")], 2, "mapping"),
    "missing base": (lambda w: ["train", write(w, "b.yaml", "base: gone.yaml\n")], 2, "gone.yaml"),
    # colorize: options and weight files
    "negative size": (lambda w: colorize(w, "--size", "-8"), 2, "size"),
    "size 0": (lambda w: colorize(w, "--size", "0"), 2, "size"),
    "size not a multiple of 8": (lambda w: colorize(w, "--size", "12"), 2, "multiple of 8"),
    "missing weights": (
        lambda w: colorize(w, "-w", str(w.root / "no.safetensors")),
        2,
        "not found",
    ),
    "text as weights": (
        lambda w: colorize(w, "-w", write(w, "t.safetensors", "hello")),
        2,
        "not a safetensors",
    ),
    "pickle as weights": (
        lambda w: colorize(w, "-w", write(w, "p.safetensors", b"\x80\x04\x95" + bytes(40))),
        2,
        "not a safetensors",
    ),
    "weights without metadata": (
        lambda w: colorize(w, "-w", w.weights("plain.safetensors")),
        2,
        "not a colorgan generator",
    ),
    "metadata not JSON": (
        lambda w: colorize(
            w, "-w", w.weights("j.safetensors", meta={"format": FORMAT, "colorgan": "{not json"})
        ),
        2,
        "damaged",
    ),
    "metadata empty": (
        lambda w: colorize(
            w, "-w", w.weights("e.safetensors", meta={"format": FORMAT, "colorgan": "{}"})
        ),
        2,
        "e.safetensors",
    ),
    "metadata of wrong types": (
        lambda w: colorize(
            w,
            "-w",
            w.weights(
                "t.safetensors", meta={"format": FORMAT, "colorgan": json.dumps({"model": 5})}
            ),
        ),
        2,
        "t.safetensors",
    ),
    "weights of another model": (
        lambda w: colorize(
            w,
            "-w",
            w.weights("s.safetensors", meta={"format": FORMAT, "colorgan": json.dumps(_meta(w))}),
        ),
        2,
        "s.safetensors",
    ),
    # weights that open but cannot colorize: refused when the model is opened
    "NaN weights, torch engine": (lambda w: colorize(w, "-w", nan_weights(w)), 2, "NaN"),
    "NaN weights, exported": (
        lambda w: ["export", nan_weights(w), "--onnx", "--out", str(w.root / "out" / "n.onnx")],
        2,
        "NaN",
    ),
    "an ONNX model whose colour is NaN": (
        lambda w: colorize(w, "-w", onnx_file(w, "nan.onnx", gain=float("nan"))),
        2,
        "not finite",
    ),
    "an ONNX model with other inputs": (
        lambda w: colorize(w, "-w", onnx_file(w, "x.onnx", input_name="x")),
        2,
        "inputs",
    ),
    "an ONNX model with one ab channel": (
        lambda w: colorize(w, "-w", onnx_file(w, "one.onnx", channels=1)),
        2,
        "shape",
    ),
    "an ONNX model of size 0": (
        lambda w: colorize(w, "-w", onnx_file(w, "z.onnx", {"size": 0})),
        2,
        "size",
    ),
    "an ONNX model of size -32": (
        lambda w: colorize(w, "-w", onnx_file(w, "m.onnx", {"size": -32})),
        2,
        "size",
    ),
    "an ONNX model of size 60000": (
        lambda w: colorize(w, "-w", onnx_file(w, "big.onnx", {"size": 60000})),
        2,
        "size",
    ),
    "an ONNX model whose prior size is a word": (
        lambda w: colorize(w, "-w", onnx_file(w, "p.onnx", {"prior_size": "large"})),
        2,
        "prior_size",
    ),
    # colorize: input files (one line each, exit 1, nothing written)
    "empty file": (lambda w: input_file(w, "e.jpg", b""), 1, "e.jpg"),
    "text as a photo": (lambda w: input_file(w, "t.jpg", b"not a jpeg"), 1, "t.jpg"),
    "truncated photo": (lambda w: input_file(w, "cut.jpg", good_bytes(w)[:300]), 1, "cut.jpg"),
    "one pixel": (lambda w: input_file(w, "dot.png", png((1, 1))), 1, "dot.png"),
    "decompression bomb": (lambda w: input_file(w, "bomb.png", png((30000, 30000))), 1, "bomb.png"),
    "256 megapixels": (
        lambda w: input_file(w, "scan.png", png_claiming((16000, 16000))),
        1,
        "16000x16000 (256 MP) is over the 200 MP limit",
    ),
    # films (one line each, exit 1, nothing written)
    "a text file named .mp4": (lambda w: input_file(w, "film.mp4", b"not a film"), 1, "film.mp4"),
    "a truncated film": (lambda w: input_file(w, "cut.mp4", film_bytes(w)[:-2000]), 1, "cut.mp4"),
    "a film of 256 MP frames": (
        lambda w: input_file(w, "huge.mp4", png_claiming((16000, 16000))),
        1,
        "16000x16000",
    ),
    "missing input": (lambda w: colorize(w, source="nothing.jpg"), 1, "no such file"),
    "glob matching nothing": (
        lambda w: colorize(w, source="photos/*.tif"),
        1,
        "no photo or film matches",
    ),
    "empty folder": (
        lambda w: colorize(w, source=write(w, "void/") and "void"),
        1,
        "no photos or films in this folder",
    ),
    "output exists": (lambda w: input_file(w, "earlier.jpg", good_bytes(w)), 1, "--overwrite"),
    # colorize: the output folder and the options, refused before anything is written
    "--out is a file": (
        lambda w: [
            "colorize",
            str(w.root / "photos"),
            "--out",
            str(w.root / "out" / "earlier.jpg"),
        ],
        2,
        "is a file",
    ),
    "--out with a name over 255 bytes": (
        lambda w: ["colorize", str(w.root / "photos"), "--out", str(w.root / "out" / ("n" * 300))],
        2,
        "longer than the disk allows",
    ),
    "video quality out of range": (
        lambda w: colorize(w, "--video-quality", "99"),
        2,
        "--video-quality: must be 0 to 51",
    ),
    "a newline in a bad file's name": (
        lambda w: input_file(w, "two\nlines.jpg", b"not a jpeg"),
        1,
        "two\\nlines.jpg",
    ),
    "serve on port 99999": (lambda w: ["serve", "--port", "99999"], 2, "--port"),
    # evaluate, export, experiment
    "evaluate a missing folder": (
        lambda w: ["evaluate", str(w.root / "none"), "--no-fid"],
        2,
        "not found",
    ),
    "evaluate with data and --val-of": (
        lambda w: ["evaluate", str(w.root / "photos"), "--val-of", str(w.root / "recipe.yaml")],
        2,
        "--val-of",
    ),
    "evaluate --limit -1": (
        lambda w: ["evaluate", str(w.root / "photos"), "--limit", "-1", "--no-fid"],
        2,
        "limit",
    ),
    "export without checkpoints": (
        lambda w: ["export", str(w.root / "photos"), "--out", str(w.root / "x.safetensors")],
        2,
        "no checkpoint",
    ),
    "export with saturation 9": (
        lambda w: [
            "export",
            str(w.root / "model.safetensors"),
            "--out",
            str(w.root / "x.st"),
            "--saturation",
            "9",
        ],
        2,
        "saturation",
    ),
    "a stored saturation out of range": (
        lambda w: colorize(
            w,
            "-w",
            w.weights(
                "sat.safetensors",
                _generator(w)[0],
                {"format": FORMAT, "colorgan": json.dumps({**_meta(w), "saturation": -2})},
            ),
        ),
        2,
        "saturation",
    ),
    "a sweep with nowhere to plot": (
        lambda w: [
            "evaluate",
            str(w.root / "photos"),
            "-w",
            str(w.root / "model.safetensors"),
            "--saturation-sweep",
            "--no-fid",
        ],
        2,
        "--out",
    ),
    "export over a file": (
        lambda w: ["export", str(w.root / "runs"), "--out", str(w.root / "model.safetensors")],
        2,
        "--overwrite",
    ),
    "experiment without rows": (
        lambda w: ["experiment", write(w, "x.yaml", "name: x\n")],
        2,
        "no rows",
    ),
    "experiment row missing": (
        lambda w: ["experiment", write(w, "y.yaml", "rows: {a: gone.yaml}\n")],
        2,
        "gone.yaml",
    ),
}


# ---- issue 39's kinds: values that got through to a traceback, a hang or a wrong output ------


def meta_weights(w: World, name: str, **changes: object) -> str:
    """The user's model file again, its colorgan metadata changed (None: a key removed)."""
    tensors, meta = _generator(w)
    meta = {**meta, **changes}
    return w.weights(name, tensors, {"format": FORMAT, "colorgan": json.dumps(meta)})


def lite_weights(w: World, name: str, **options: object) -> str:
    """A lite_unet generator file whose stored options are changed after it was written."""
    from colorgan.models.file import read_generator_file

    lite = {
        "generator": "lite_unet",
        "lite_unet": {"use_embedding": False, "use_segmentation": False, "out_stride": 4},
    }
    path = write_generator(w.root / f"built-{name}", lite, 64)
    tensors, meta = read_generator_file(path)
    meta["model"]["lite_unet"].update(options)
    return w.weights(name, tensors, {"format": FORMAT, "colorgan": json.dumps(meta)})


def mean_weights(w: World, name: str, members: int = 2, scales: list | None = None) -> str:
    """A mean of the user's model with itself, its stored members or scales changed."""
    tensors, meta = _generator(w)
    model = {
        "generator": "mean",
        "mean": {
            "members": [meta["model"]] * members,
            "scales": [1.0] * members if scales is None else scales,
        },
    }
    both = {f"members.{i}.{k}": v.clone() for i in range(members) for k, v in tensors.items()}
    text = json.dumps({**meta, "model": model})
    return w.weights(name, both, {"format": FORMAT, "colorgan": text})


def bomb_yaml(w: World, levels: int = 9) -> str:
    """A YAML alias bomb under train.seed: each level ten aliases of the one before."""
    lines = ["a0: &a0 [1, 1, 1, 1, 1, 1, 1, 1, 1, 1]"]
    for i in range(1, levels + 1):
        lines.append(f"a{i}: &a{i} [" + ", ".join([f"*a{i - 1}"] * 10) + "]")
    lines.append(f"train: {{seed: *a{levels}}}")
    return write(w, "bomb.yaml", "\n".join(lines) + "\n")


def hints_file(w: World, text: str) -> list[str]:
    return colorize(w, "--hints", write(w, "points.json", text))


def twice(w: World, second: str) -> list[str]:
    """Training on one folder named twice in data.sources (`second` names it again)."""
    first = w.root / "photos"
    return train(w, f"data.sources=[{{root: {first}}}, {{root: {second}}}]")


def linked(w: World) -> str:
    (w.root / "link").symlink_to(w.root / "photos")
    return str(w.root / "link")


def dup_inputs(w: World, *extra: str) -> list[str]:
    for side in ("a", "b"):
        write(w, f"dup/{side}/p.jpg", good_bytes(w))
    return ["colorize", str(w.root / "dup"), "--out", str(w.root / "out"), *extra]


HOSTILE = {
    "hints from /dev/zero": (lambda w: colorize(w, "--hints", "/dev/zero"), 2, "not a regular"),
    "hints file over a megabyte": (
        lambda w: hints_file(w, '{"good.jpg": []' + " " * (2 << 20) + "}"),
        2,
        "at most 1,048,576",
    ),
    "hints nested 100,000 deep": (
        lambda w: hints_file(w, "[" * 100_000 + "]" * 100_000),
        2,
        "nested too deeply",
    ),
    "a hint's x of 401 digits": (
        lambda w: hints_file(
            w, '{"good.jpg": [{"x": 1' + "0" * 400 + ', "y": 1, "color": "#fff"}]}'
        ),
        2,
        "not a finite number",
    ),
    "a hint's x of 5,000 digits": (
        lambda w: hints_file(
            w, '{"good.jpg": [{"x": 1' + "0" * 5000 + ', "y": 1, "color": "#fff"}]}'
        ),
        2,
        "not JSON",
    ),
    "a hint at (true, false)": (
        lambda w: hints_file(w, '{"good.jpg": [{"x": true, "y": false, "color": "#fff"}]}'),
        2,
        "must be a number",
    ),
    "--hint with a 5,000-digit x": (
        lambda w: colorize(w, "--hint", "9" * 5000 + ",1,#fff"),
        2,
        "--hint",
    ),
    "a bare name that names two inputs": (
        lambda w: dup_inputs(w, "--hints", write(w, "h.json", '{"p.jpg": []}')),
        2,
        "names 2 inputs",
    ),
    "a YAML alias bomb": (lambda w: ["train", bomb_yaml(w)], 2, "aliases expand"),
    "a YAML file that holds itself": (
        lambda w: ["train", write(w, "loop.yaml", "train: &t {seed: *t}\n")],
        2,
        "aliases expand",
    ),
    "base: /etc/passwd": (
        lambda w: ["train", write(w, "b2.yaml", "base: /etc/passwd\n")],
        2,
        "not a YAML file",
    ),
    "a config of a thousand unknown keys": (
        lambda w: ["train", write(w, "k.yaml", "".join(f"key{i}: 1\n" for i in range(1000)))],
        2,
        "and 994 more",
    ),
    "a run name that is a path": (lambda w: train(w, "name=../../escaped_run"), 2, "run name"),
    "a source weight of .nan": (
        lambda w: train(w, f"data.sources=[{{root: {w.root / 'photos'}, weight: .nan}}]"),
        2,
        "weights",
    ),
    "a source weight of .inf": (
        lambda w: train(w, f"data.sources=[{{root: {w.root / 'photos'}, weight: .inf}}]"),
        2,
        "weights",
    ),
    "a source weight of 1e12": (
        lambda w: train(w, f"data.sources=[{{root: {w.root / 'photos'}, weight: 1e12}}]"),
        2,
        "weights",
    ),
    "one folder named twice": (lambda w: twice(w, str(w.root / "photos")), 2, "share photos"),
    "one folder as a/../a": (
        lambda w: twice(w, str(w.root / "photos" / ".." / "photos")),
        2,
        "share photos",
    ),
    "one folder through a symlink": (lambda w: twice(w, linked(w)), 2, "share photos"),
    "a model of image_size 10^9, torch engine": (
        lambda w: colorize(w, "-w", meta_weights(w, "g.safetensors", image_size=10**9)),
        2,
        "image_size",
    ),
    "a model of image_size 4096, torch engine": (
        lambda w: colorize(w, "-w", meta_weights(w, "b.safetensors", image_size=4096)),
        2,
        "image_size",
    ),
    "an ONNX model of size 4096": (
        lambda w: colorize(w, "-w", onnx_file(w, "s.onnx", {"size": 4096})),
        2,
        "size",
    ),
    "metadata nested 100,000 deep": (
        lambda w: colorize(
            w,
            "-w",
            w.weights(
                "deep.safetensors", _generator(w)[0], {"format": FORMAT, "colorgan": "[" * 100_000}
            ),
        ),
        2,
        "nested too deeply",
    ),
    "a model of encoder lite9": (
        lambda w: colorize(w, "-w", lite_weights(w, "l9.safetensors", encoder="lite9")),
        2,
        "encoder",
    ),
    "a model of out_stride 3": (
        lambda w: colorize(w, "-w", lite_weights(w, "o3.safetensors", out_stride=3)),
        2,
        "out_stride",
    ),
    "a mean of scale NaN": (
        lambda w: colorize(w, "-w", mean_weights(w, "n.safetensors", scales=[float("nan"), 1])),
        2,
        "scale",
    ),
    "a mean of scale -5": (
        lambda w: colorize(w, "-w", mean_weights(w, "m5.safetensors", scales=[-5, 1])),
        2,
        "scale",
    ),
    "a mean of two members and one scale": (
        lambda w: colorize(w, "-w", mean_weights(w, "s1.safetensors", scales=[1.0])),
        2,
        "a scale each",
    ),
    "a mean of no members": (
        lambda w: colorize(w, "-w", mean_weights(w, "m0.safetensors", members=0)),
        2,
        "two or more members",
    ),
    "export over a folder": (
        lambda w: [
            "export",
            str(w.root / "model.safetensors"),
            "--out",
            write(w, "outdir/"),
            "--overwrite",
        ],
        2,
        "is a folder",
    ),
    "export ONNX over a folder": (
        lambda w: [
            "export",
            str(w.root / "model.safetensors"),
            "--onnx",
            "--out",
            write(w, "outdir2/"),
            "--overwrite",
        ],
        2,
        "is a folder",
    ),
    "a mean of a mean": (
        lambda w: ["export", "default", "--mean-with", "default", "--out", str(w.root / "m.st")],
        2,
        "default is already a mean",
    ),
    "weights that are a folder": (lambda w: colorize(w, "-w", write(w, "wdir/")), 2, "is a folder"),
}
CASES.update(HOSTILE)


# ---- issue 46's kinds: the new surfaces (banks, shards, data, resumes) keep the old promises ---


def bank(w: World, name: str, photos: int = 2, manifest: object = None, **arrays: object) -> str:
    """A bank folder as `bank build` writes one (zeros for colour), its manifest or arrays
    replaced: an array given as bytes is that member's whole .npy file."""
    from colorgan.pipeline.bank import DIMS, SIDE
    from colorgan.spec.references import DESCRIPTOR, FEATURES

    folder = w.root / name
    folder.mkdir()
    listed = {"format": "colorgan-bank/1", "photos": photos}
    listed.update(names=["p.jpg"] * photos, hashes=["0" * 16] * photos)
    (folder / "manifest.json").write_text(json.dumps(listed if manifest is None else manifest))
    shapes = {
        "descriptors": (photos, DESCRIPTOR),
        "features": (photos, DIMS, SIDE * SIDE),
        "ab": (photos, 2, SIDE * SIDE),
        "projection": (FEATURES, DIMS),
    }
    with zipfile.ZipFile(folder / "bank.npz", "w") as npz:
        for key, shape in shapes.items():
            member = arrays.get(key, np.zeros(shape, np.float16))
            npz.writestr(f"{key}.npy", member if isinstance(member, bytes) else npy(member))
    return str(folder)


def npy(array: np.ndarray) -> bytes:
    buffer = io.BytesIO()
    np.save(buffer, array)
    return buffer.getvalue()


def npy_claiming(shape: tuple[int, ...]) -> bytes:
    """A .npy header of float16 values of `shape`, and no data: a few bytes claiming any."""
    buffer = io.BytesIO()
    header = {"descr": "<f2", "fortran_order": False, "shape": shape}
    np.lib.format.write_array_header_1_0(buffer, header)
    return buffer.getvalue()


def bank_file(w: World, name: str, data: bytes) -> str:
    """A bank whose bank.npz is `data` (truncated, empty, a plain .npy)."""
    folder = bank(w, name)
    (Path(folder) / "bank.npz").write_bytes(data)
    return folder


def truncated_bank(w: World) -> str:
    folder = Path(bank(w, "b"))
    whole = (folder / "bank.npz").read_bytes()
    (folder / "bank.npz").write_bytes(whole[: len(whole) // 2])
    return str(folder)


def bank_manifest(w: World, name: str, how: str) -> str:
    """A bank whose manifest.json is missing, a FIFO, a link to /dev/zero, or 300 MB."""
    folder = Path(bank(w, name))
    manifest = folder / "manifest.json"
    manifest.unlink()
    if how == "fifo":
        os.mkfifo(manifest)
    elif how == "zero":
        manifest.symlink_to("/dev/zero")
    elif how == "huge":
        with open(manifest, "wb") as fh:
            fh.truncate(300 << 20)  # sparse: 300 MB that take no disk
    return str(folder)


def using(w: World, folder: str) -> list[str]:
    return colorize(w, "--reference-bank", folder)


def build(w: World, *inputs: str, out: str = "out/bank") -> list[str]:
    return ["bank", "build", *inputs, "--out", str(w.root / out), "-q"]


def not_photos(w: World) -> str:
    for i in range(3):
        write(w, f"junk/p{i}.jpg", f"not a photo {i}")
    return str(w.root / "junk")


def fifo(w: World, name: str) -> str:
    os.mkfifo(w.root / name)
    return str(w.root / name)


def pack_of(w: World, *shards: dict) -> str:
    """A pack folder whose manifest lists `shards` (names and counts as given)."""
    folder = w.root / "pack"
    folder.mkdir()
    manifest = {"format": "colorgan-shards/1", "train": list(shards), "val": []}
    (folder / "manifest.json").write_text(json.dumps(manifest))
    return str(folder)


def manifest_text(w: World, name: str, text: str) -> str:
    """A folder whose manifest.json holds `text` as it is."""
    folder = w.root / name
    folder.mkdir()
    (folder / "manifest.json").write_text(text)
    return str(folder)


def on_shards(w: World, folder: str) -> list[str]:
    sets = [f"data.shards={folder}", "data.root=null", "priors.cache=false"]
    return train(w, *sets)


ISSUE_46 = {
    "a NUL in a config's base:": (
        lambda w: ["train", write(w, "n.yaml", 'base: "a\\0b.yaml"\n')],
        2,
        "base must be a file name",
    ),
    "a BEL in a recipe": (
        lambda w: ["train", write(w, "bel.yaml", "train: {seed: 1}\a\n")],
        2,
        "not valid YAML",
    ),
    "a NUL in a recipe": (
        lambda w: ["train", write(w, "nul.yaml", "name: a\0b\n")],
        2,
        "not valid YAML",
    ),
    "an ESC in bank build's --train-of": (
        lambda w: [
            "bank",
            "build",
            "--train-of",
            write(w, "e.yaml", "\x1b[31m\n"),
            "-o",
            str(w.root / "out"),
        ],
        2,
        "not valid YAML",
    ),
    "a NUL in evaluate's --val-of": (
        lambda w: ["evaluate", "--val-of", write(w, "v.yaml", "data: \0\n"), "--no-fid"],
        2,
        "not valid YAML",
    ),
    "--set name=a<BEL>b": (lambda w: train(w, "name=a\ab"), 2, "not valid YAML"),
    "a NUL in a path a config names": (
        lambda w: train(w, 'data.annotations="a\\0b.json"'),
        2,
        "holds a NUL",
    ),
    "a NUL in priors.cache_dir": (lambda w: train(w, 'priors.cache_dir="c\\0x"'), 2, "holds a NUL"),
    # a bank: every array's header checked against the manifest before any data is read
    "a bank whose features claim 4e14 values": (
        lambda w: using(w, bank(w, "b", features=npy_claiming((400_000_000_000_000,)))),
        2,
        "its features are float16 (400000000000000,), not floats (2, 48, 256)",
    ),
    "a bank of integer features": (
        lambda w: using(w, bank(w, "b", features=np.zeros((2, 48, 256), np.int32))),
        2,
        "its features are int32 (2, 48, 256), not floats (2, 48, 256)",
    ),
    "a bank of pickled colour": (
        lambda w: using(w, bank(w, "b", ab=np.array([None, 1], dtype=object))),
        2,
        "its ab are object",
    ),
    "a bank whose manifest counts 10^9 photos": (
        lambda w: using(w, bank(w, "b", manifest={"format": "colorgan-bank/1", "photos": 10**9})),
        2,
        "counts 1000000000 photos",
    ),
    "a truncated bank.npz": (lambda w: using(w, truncated_bank(w)), 2, "bank.npz is damaged"),
    "an empty bank.npz": (lambda w: using(w, bank_file(w, "b", b"")), 2, "bank.npz is damaged"),
    "a plain .npy as bank.npz": (
        lambda w: using(w, bank_file(w, "b", npy(np.zeros((2, 432))))),
        2,
        "its bank.npz is damaged",
    ),
    "a bank without its manifest": (
        lambda w: using(w, bank_manifest(w, "b", "missing")),
        2,
        "manifest.json: no such file",
    ),
    "a bank whose manifest is a FIFO": (
        lambda w: using(w, bank_manifest(w, "b", "fifo")),
        2,
        "not a regular file",
    ),
    "a bank whose manifest is /dev/zero": (
        lambda w: using(w, bank_manifest(w, "b", "zero")),
        2,
        "not a regular file",
    ),
    "a bank whose manifest is 300 MB": (
        lambda w: using(w, bank_manifest(w, "b", "huge")),
        2,
        "314,572,800 bytes",
    ),
    # bank build: its inputs and its --out
    "bank build on a folder of non-images": (
        lambda w: build(w, not_photos(w)),
        2,
        "none of the 3 photos reads as a photo",
    ),
    "bank build on an empty folder": (
        lambda w: build(w, write(w, "void/")),
        2,
        "no photos to bank (",
    ),
    "bank build on a FIFO": (lambda w: build(w, fifo(w, "pipe.jpg")), 2, "a pipe or a device"),
    "bank build --out a file": (
        lambda w: build(w, str(w.root / "photos"), out="out/earlier.jpg"),
        2,
        "is a file",
    ),
    "bank build --out a name over 255 bytes": (
        lambda w: build(w, str(w.root / "photos"), out="out/" + "n" * 300),
        2,
        "longer than the disk allows",
    ),
    "bank build --out where nothing may be written": (
        lambda w: ["bank", "build", str(w.root / "photos"), "-o", "/proc/colorgan/bank", "-q"],
        2,
        "cannot write",
    ),
    # data sample and data pack
    "data sample into a file": (
        lambda w: ["data", "sample", str(w.root / "out" / "earlier.jpg"), "-q"],
        2,
        "is a file",
    ),
    "data sample under a file": (
        lambda w: ["data", "sample", str(w.root / "out" / "earlier.jpg" / "new"), "-q"],
        2,
        "is not a folder this user may write in",
    ),
    "data sample where nothing may be written": (
        lambda w: ["data", "sample", "/proc/colorgan/sample", "--count", "2", "-q"],
        2,
        "cannot write",
    ),
    "data pack --shard-mb nan": (
        lambda w: ["data", "pack", str(w.root / "photos"), "-o", "out/p", "--shard-mb", "nan"],
        2,
        "--shard-mb",
    ),
    "data pack --shard-mb inf": (
        lambda w: ["data", "pack", str(w.root / "photos"), "-o", "out/p", "--shard-mb", "inf"],
        2,
        "--shard-mb",
    ),
    "data pack where nothing may be written": (
        lambda w: ["data", "pack", str(w.root / "photos"), "-o", "/proc/colorgan/p", "-q"],
        2,
        "cannot write",
    ),
    # a shard manifest: its shards are files of the pack, its counts whole and finite
    "a shard named /etc/passwd": (
        lambda w: on_shards(w, pack_of(w, {"name": "/etc/passwd", "photos": 5})),
        2,
        "not a .tar file",
    ),
    "a shard named ../outside.tar": (
        lambda w: on_shards(w, pack_of(w, {"name": "../outside.tar", "photos": 5})),
        2,
        "not a file of the pack's own folder",
    ),
    "a shard of Infinity photos": (
        lambda w: on_shards(w, pack_of(w, {"name": "a.tar", "photos": float("inf")})),
        2,
        "counts inf photos",
    ),
    "a shard manifest that is not JSON": (
        lambda w: on_shards(w, manifest_text(w, "pack", "{'train': []}")),
        2,
        "manifest.json is not JSON",
    ),
    "a bank manifest of another format": (
        lambda w: using(w, bank(w, "b", manifest={"format": "colorgan-shards/1"})),
        2,
        "is not a colorgan bank's (colorgan-bank/1)",
    ),
    "a shard of -5 photos": (
        lambda w: on_shards(w, pack_of(w, {"name": "a.tar", "photos": -5})),
        2,
        "counts -5 photos",
    ),
    "train --out-dir a file": (
        lambda w: [
            "train",
            str(w.root / "recipe.yaml"),
            "--out-dir",
            str(w.root / "model.safetensors"),
        ],
        2,
        "cannot write the run folder",
    ),
    "train --out-dir where nothing may be written": (
        lambda w: ["train", str(w.root / "recipe.yaml"), "--out-dir", "/proc/colorgan/runs"],
        2,
        "cannot write the run folder",
    ),
}
CASES.update(ISSUE_46)

_UNET = {"generator": "unet", "unet": {"downs": 6}}


def _generator(w: World) -> tuple[dict, dict]:
    """The user's model file as (tensors, metadata)."""
    from colorgan.models.file import read_generator_file

    return read_generator_file(w.root / "model.safetensors")


def _meta(w: World) -> dict:
    return _generator(w)[1]


# Cases that need more than the rest (the markers of pyproject.toml): a film through PyAV, a
# 900 MP PNG written and refused.
NEEDS = {
    "a text file named .mp4": pytest.mark.film,
    "a truncated film": pytest.mark.film,
    "a film of 256 MP frames": pytest.mark.film,
    "decompression bomb": pytest.mark.slow,
}


@pytest.mark.parametrize("case", [pytest.param(c, marks=NEEDS.get(c, ())) for c in CASES])
def test_a_bad_input_is_one_line_its_exit_code_and_changes_nothing(case, tmp_path, capsys):
    world = World(tmp_path)
    build, code, words = CASES[case]
    argv = build(world)
    if argv[0] in ("colorize", "evaluate") and "-w" not in argv:
        argv += ["-w", str(tmp_path / "model.safetensors")]
    before = world.snapshot()
    assert main([*argv, "-q"] if argv[0] in ("colorize", "evaluate") else argv) == code
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1, err
    assert err.startswith("colorgan: error:") and "Traceback" not in err
    assert words in err, err
    assert len(err) < 600, f"{len(err)} characters: an error never echoes a whole value"
    after = world.snapshot()
    assert {k: v for k, v in after.items() if k in before} == before  # nothing changed
    added = sorted(set(after) - set(before))
    assert not added, f"left behind: {added}"  # nothing written, not even an empty folder
    assert not (tmp_path.parent / "escaped_run").exists()
