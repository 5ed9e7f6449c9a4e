"""Fit a bank's trust: how far its references deserve to be trusted, learnt from what it
really returns for training photos (study 27, docs/results/learned-trust.md).

Run from the repository root with the training extra:
`.venv/bin/python -m scripts.research.fit_trust BANK --train-of CONFIG.yaml [--photos 2000]
[--model NAME | --weights FILE] [--seed 0] [-q]`.

It colours training photos of the config's split (never its validation ones) from what the bank
returns for each, from the photo itself and from an unrelated banked photo
(scripts.research.trust_evidence, resumable under BANK/.trust/), fits the gate that brings the
blend nearest their true colour (scripts.research.trust_gate), and writes it into the bank's
manifest (pipeline.bank.write_trust), which `colorgan colorize --reference-bank` then applies in
place of the ramp. Study 27 found that a general bank's retrievals deserve almost no trust, so
the product does not offer this; a bank of one subject may deserve more. A mistake in what it
is asked is one line and exit status 2.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path

from colorgan.apps.cli.common import model_choice, model_identity
from colorgan.base.errors import ColorganError, shown


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="fit_trust", description=__doc__.split("\n\n")[0])
    p.add_argument("bank", metavar="BANK", help="the bank's folder (its manifest is updated)")
    p.add_argument(
        "--train-of",
        required=True,
        metavar="CONFIG.yaml",
        help="the training photos of this config's split (never its validation ones)",
    )
    p.add_argument("--photos", type=int, default=2000, help="how many, drawn by --seed")
    model_choice(p)  # the trust is the model's: how far a reference beats its colour
    p.add_argument("--seed", type=int, default=0, help="which photos (0 or more)")
    p.add_argument("-q", "--quiet", action="store_true", help="no progress bar")
    return p


def fit_trust(args: argparse.Namespace) -> None:
    """Gather the evidence, fit the gate, write it into the bank and say how it did."""
    import numpy as np

    from colorgan.config import load_config
    from colorgan.engines.choose import EngineOptions, open_engine
    from colorgan.pipeline import bank
    from colorgan.pipeline.colorizer import Colorizer
    from colorgan.training.photos import split_paths
    from scripts.research import trust_evidence, trust_gate

    if args.photos < 2:
        raise ColorganError(f"--photos must be at least 2, not {args.photos}")
    if args.seed < 0:
        raise ColorganError(f"--seed must be 0 or more, not {args.seed}")
    paths = split_paths(load_config(args.train_of).data)[0]
    if not paths:
        raise ColorganError(f"{shown(args.train_of)} has no training photos in its split")
    order = np.random.default_rng(args.seed).permutation(len(paths))[: args.photos]
    chosen = [paths[i] for i in sorted(order)]
    options = EngineOptions(args.model, args.weights, engine="torch", precision="fp32")
    colorizer = Colorizer(open_engine(options))
    model = model_identity(args)
    folder = Path(args.bank)
    evidence = trust_evidence.gather(colorizer, folder, chosen, model, not args.quiet, args.seed)
    result = trust_gate.fit_and_report(evidence, bank.LOW, bank.HIGH, args.seed)
    bank.write_trust(folder, result["weights"], model)
    trust_evidence.discard(folder)
    weights = ", ".join(f"{w:.3g}" for w in result["weights"])
    fitted = result["photos"] - result["held_out"]
    print(f"fitted the trust of {args.bank} on {fitted} photos: weights {weights}")
    print(f"held-out error (CIE ab, rms) on {result['held_out']} photos:")
    for kind, row in result["held_out_error"].items():
        print(
            f"  {kind}: model alone {row['model']:.2f}, ramp {row['ramp']:.2f}, "
            f"learned {row['learned']:.2f} (mean confidence {row['confidence']:.2f})"
        )


def main(argv: Sequence[str] | None = None) -> int:
    """0 once the trust is written; 2, with one line on stderr, for any mistake."""
    args = parser().parse_args(argv)
    try:
        fit_trust(args)
    except ColorganError as exc:
        print(f"fit_trust: error: {shown(str(exc))}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
