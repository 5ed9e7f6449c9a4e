"""`colorgan serve`: the local web page (apps.web)."""

from __future__ import annotations

import argparse

from colorgan.apps.cli.common import model_choice


def add_parser(sub) -> argparse.ArgumentParser:  # argparse's subparsers
    p = sub.add_parser("serve", help="colorize in a local web page (needs the web extra)")
    model_choice(p)
    p.add_argument(
        "--reference-bank",
        metavar="DIR",
        help="a bank of colour photos (colorgan bank build) the page may take references from",
    )
    p.add_argument(
        "--host", default="127.0.0.1", help="address to listen on (0.0.0.0: other machines too)"
    )
    p.add_argument("--port", type=int, default=7860, help="default 7860")
    p.add_argument(
        "--max-megabytes",
        type=float,
        default=50.0,
        metavar="MB",
        help="largest upload, photo or film (default 50)",
    )
    p.add_argument(
        "--max-megapixels",
        type=float,
        default=100.0,
        metavar="MP",
        help="largest photo (default 100)",
    )
    p.add_argument("--engine", default="auto", choices=["auto", "onnx", "torch"])
    p.add_argument("--device", default="auto", help="torch engine: auto, cpu, cuda or cuda:N")
    return p


def run(args: argparse.Namespace) -> int:
    from colorgan.apps.web import serve

    return serve(args)
