"""`colorgan serve`: colorize in a local web page (Gradio).

The page (page.py, page_points.py) is a thin layer over `studio.Studio`, which does the
work: uploads checked against the limits, photos and films coloured into a folder of the
request's own, previews, a zip, and a photo re-coloured with the user's colour points
(clicked on the grey photo).
Gradio's queue runs one request at a time (the model uses every core anyway); the others wait
in line, and no request ever reads another's folder.
"""

import argparse
import logging
import os
import signal
import socket
import sys
import tempfile
import threading
from pathlib import Path

from colorgan.apps.cli.common import warn_of_trust
from colorgan.apps.page import build_page
from colorgan.apps.studio import KEEP_SECONDS, MB, Limits, Studio
from colorgan.base.errors import ColorganError
from colorgan.pipeline.colorizer import Colorizer
from colorgan.spec.bundled import BUNDLED

__all__ = ["KEEP_SECONDS", "Limits", "Studio", "build_page", "serve"]


def serve(args: argparse.Namespace) -> int:
    """`colorgan serve`: build the page and serve it until Ctrl-C."""
    from colorgan.engines.choose import EngineOptions, open_engine

    logging.getLogger("httpx").setLevel(logging.WARNING)  # Gradio's own requests to itself
    os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")  # also its version check
    limits = Limits(args.max_megabytes, args.max_megapixels)
    if limits.megabytes <= 0 or limits.megapixels <= 0:
        raise ColorganError("--max-megabytes and --max-megapixels must be positive")
    if not 0 < args.port < 65536:
        raise ColorganError(f"--port must be 1 to 65535, not {args.port}")
    try:  # a taken port or an address not on this machine: one line, before the model loads
        with socket.socket(socket.AF_INET6 if ":" in args.host else socket.AF_INET) as probe:
            probe.bind((args.host, args.port))
    except OSError as exc:
        why = exc.strerror or exc
        raise ColorganError(
            f"cannot listen on {args.host}:{args.port}: {why} (choose another --port or --host)"
        ) from None
    models = [Path(args.weights).name] if args.weights else list(BUNDLED)
    bank = None
    if getattr(args, "reference_bank", None):  # a bad bank fails here, before the page starts
        from colorgan.pipeline.bank import Bank

        bank = Bank.load(args.reference_bank)
        warn_of_trust(bank, args)

    options = EngineOptions.of(args)

    def open_model(name: str) -> Colorizer:
        return Colorizer(
            open_engine(options.with_model(None if args.weights else name, args.weights))
        )

    first = args.model if not args.weights else models[0]
    if threading.current_thread() is threading.main_thread():  # `kill` stops it as Ctrl-C does
        signal.signal(signal.SIGTERM, signal.default_int_handler)
    with tempfile.TemporaryDirectory(prefix="colorgan-serve-") as workdir:
        # Gradio's own copies of uploads (and what it serves) go in here too, so that stopping
        # the server, even mid-request, removes every visitor's file; read when gradio loads
        os.environ["GRADIO_TEMP_DIR"] = str(Path(workdir) / "gradio")
        studio = Studio(open_model, models, limits, Path(workdir), bank)
        studio.colorizer(first)  # a bad --weights file fails here, before the page starts
        page = build_page(studio, first)
        page.queue(default_concurrency_limit=1)
        print(f"colorgan: serving on http://{args.host}:{args.port} (Ctrl-C stops)", flush=True)
        page.launch(
            server_name=args.host,
            server_port=args.port,
            max_file_size=int(limits.megabytes * MB),
            allowed_paths=[workdir],
            quiet=True,
            footer_links=[],
        )
        busy = studio.busy()
    if busy:  # stopped mid-request: the files are gone; the request's thread cannot be
        sys.stdout.flush()  # joined (it is inside the model), and ending the interpreter
        sys.stderr.flush()  # around it would abort, so the process ends here
        os._exit(0)
    return 0
