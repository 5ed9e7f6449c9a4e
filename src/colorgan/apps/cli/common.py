"""What the subcommands share: the parser that says every mistake in one line, the option
groups several commands take (the model, where it runs, prior weight files), and the words
for a missing extra."""

from __future__ import annotations

import argparse
import os
import re
import sys
from collections.abc import Iterable
from typing import NoReturn

from colorgan.base.errors import shown

_IMPORT_NAMES = {"skimage": "scikit-image"}  # import names that are not their package's


class OneLineParser(argparse.ArgumentParser):
    """argparse, with a mistake (a missing --out, `--saturation lots`) said in one line."""

    def error(self, message: str) -> NoReturn:
        command = self.prog.removeprefix("colorgan").strip()
        where = f" {command}" if command else ""
        print(f"colorgan: error: {shown(message)} (see colorgan{where} --help)", file=sys.stderr)
        sys.exit(2)


def extra_for(module: str) -> str | None:
    """The extra of pyproject.toml (read from the installed metadata) that brings the
    module the light install left out, or None where no extra does."""
    from importlib.metadata import PackageNotFoundError, requires

    wanted = _IMPORT_NAMES.get(module, module).replace("_", "-").lower()
    try:
        requirements = requires("colorgan") or []
    except PackageNotFoundError:
        return None
    for requirement in requirements:
        found = re.match(r"\s*([\w.-]+)[^;]*;\s*extra\s*==\s*[\"'](\w+)[\"']", requirement)
        if found and found[2] != "dev" and found[1].replace("_", "-").lower() == wanted:
            return found[2]
    return None


# the options that give a setting of pipeline.settings.Settings where they are not its name
SETTING_FLAGS = {
    "hints": "--hint/--hints",
    "references": "--reference/--references",
    "key_frames": "--reference-frame",
    "bank": "--reference-bank",
    "workers": "--ray-workers",  # apps.cluster.Cluster's
    "cpus": "--ray-cpus",
}


def flag_of(setting: str) -> str:
    """How the command line names a setting a SettingError names: its option."""
    if setting.startswith("-"):
        return setting
    return SETTING_FLAGS.get(setting, "--" + setting.replace("_", "-"))


def said(results: Iterable) -> tuple[int, int]:
    """Each failed output of a file loop (FileResults) said in one line on stderr, with the
    option that replaces an output it kept: (outputs written, outputs in all)."""
    from tqdm import tqdm

    written = total = 0
    for result in results:
        total += 1
        if result.error is None:
            written += 1
        else:
            kept = " (pass --overwrite to replace it)" if result.kept else ""
            line = shown(f"{result.source}: {result.error}{kept}")
            tqdm.write(f"colorgan: error: {line}", file=sys.stderr)
    return written, total


def rank_prefix() -> str:
    """Under torchrun, which process speaks ('rank 1: '); nothing otherwise."""
    return f"rank {os.environ['RANK']}: " if "RANK" in os.environ else ""


def runtime_options(p: argparse.ArgumentParser) -> None:
    p.add_argument("--device", default="auto", help="auto, cpu, cuda or cuda:N")
    p.add_argument("--precision", default="auto", choices=["auto", "fp32", "bf16", "fp16"])
    p.add_argument("-q", "--quiet", action="store_true", help="no progress bars")


def model_choice(p: argparse.ArgumentParser) -> None:
    from colorgan.spec.bundled import BUNDLED

    which = p.add_mutually_exclusive_group()
    which.add_argument(
        "--weights",
        "-w",
        metavar="FILE",
        help="a generator file (colorgan train / export wrote it; colorize and serve also "
        "take .onnx ones)",
    )
    which.add_argument(
        "--model",
        "-m",
        default="default",
        choices=list(BUNDLED),
        help="a bundled model (cards in docs/models/)",
    )


def prior_files(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--embedding-weights", metavar="FILE", help="local Inception-ResNet-v2 (or Lite0) weights"
    )
    p.add_argument(
        "--segmentation-weights", metavar="FILE", help="local DeepLabV3-ResNet50 weights"
    )


def model_identity(args: argparse.Namespace) -> str:
    """What a bank's trust records of the model it was fitted for: the bundled model's name,
    or the generator file's SHA-256 (OSError where it cannot be read)."""
    from colorgan.base.files import file_sha256

    return file_sha256(args.weights) if args.weights else args.model


def warn_of_trust(bank, args: argparse.Namespace) -> None:  # a Bank
    """One line on stderr where the bank's learned trust was fitted for another model."""
    if bank.trust is None:
        return
    try:
        model = model_identity(args)
    except OSError:  # a missing generator file: the engine says so next, in one line
        return
    warning = bank.trust_warning(model)
    if warning:
        print(f"colorgan: warning: {warning}", file=sys.stderr)
