"""The `colorgan` command: one module per subcommand (colorize, restore, serve, train,
train-restorer, data, evaluate, experiment, export, bank), each adding its parser
(`add_parser`) and running it (`run`). Every mistake a user can make ends as one `colorgan:
error:` line and exit status 2, never a traceback or argparse's usage block."""

from __future__ import annotations

import logging
import sys
from collections.abc import Sequence

from colorgan.apps.cli import (
    bank,
    colorize,
    data,
    evaluate,
    experiment,
    export,
    restore,
    serve,
    train,
    train_restorer,
)
from colorgan.apps.cli.common import OneLineParser, extra_for, flag_of, rank_prefix
from colorgan.base import __version__
from colorgan.base.errors import ColorganError, SettingError, install_hint, shown

COMMANDS = (
    colorize,
    restore,
    serve,
    train,
    train_restorer,
    data,
    evaluate,
    experiment,
    export,
    bank,
)


def build_parser() -> OneLineParser:
    parser = OneLineParser(
        prog="colorgan",
        description="Colorize black-and-white photos and films with a semantic-prior "
        "conditional GAN.",
    )
    parser.add_argument("--version", action="version", version=f"colorgan {__version__}")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for command in COMMANDS:
        command.add_parser(sub).set_defaults(func=command.run)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="colorgan: %(message)s")
    try:
        return int(args.func(args) or 0)
    except SettingError as exc:  # said with the option that gave it
        print(
            f"colorgan: error: {rank_prefix()}{shown(exc.named(flag_of(exc.setting)))}",
            file=sys.stderr,
        )
        return 2
    except ColorganError as exc:
        print(f"colorgan: error: {rank_prefix()}{shown(str(exc))}", file=sys.stderr)
        return 2
    except ModuleNotFoundError as exc:
        extra = extra_for((exc.name or "").split(".")[0])
        if extra is None:
            raise
        print(
            f"colorgan: error: `colorgan {args.command}` needs {exc.name}, which this install "
            f"leaves out: {install_hint(extra)}",
            file=sys.stderr,
        )
        return 2
    except KeyboardInterrupt:
        print(f"colorgan: {rank_prefix()}interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
