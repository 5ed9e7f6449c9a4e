"""`colorgan data`: photos to train on. `data sample` writes a folder of colour photos anyone
may use (to try training from a fresh clone); `data pack` writes folders of photos as
WebDataset shards (`data.shards` in a config streams them: training at scale)."""

from __future__ import annotations

import argparse
from pathlib import Path


def add_parser(sub) -> argparse.ArgumentParser:  # argparse's subparsers
    p = sub.add_parser("data", help="photos to train on (data sample, data pack)")
    actions = p.add_subparsers(dest="action", required=True, metavar="ACTION")
    sample = actions.add_parser(
        "sample", help="a folder of free colour photos (crops of scikit-image's samples)"
    )
    sample.add_argument("out", metavar="DIR", help="a new folder to write them in")
    sample.add_argument("--count", type=int, default=600, help="how many (default 600)")
    sample.add_argument("-q", "--quiet", action="store_true", help="no progress bar")
    pack = actions.add_parser("pack", help="folders of colour photos -> WebDataset tar shards")
    pack.add_argument("sources", nargs="+", metavar="FOLDER", help="folders of colour photos")
    pack.add_argument("--out", "-o", required=True, metavar="DIR", help="a new folder")
    pack.add_argument(
        "--size",
        type=int,
        default=288,
        help="each photo's short side in pixels, never enlarged (default 288: a bit above "
        "the 256 px of the recipes at scale, for random crops)",
    )
    pack.add_argument("--shard-mb", type=float, default=256.0, help="size of a shard (MB)")
    pack.add_argument("--shard-photos", type=int, help="at most this many photos a shard")
    pack.add_argument(
        "--val-fraction", type=float, default=0.02, help="share held out for validation"
    )
    pack.add_argument("--quality", type=int, default=90, help="JPEG quality (default 90)")
    pack.add_argument("--seed", type=int, default=0, help="of the photos' order")
    pack.add_argument("-q", "--quiet", action="store_true", help="no progress bar")
    return p


def run(args: argparse.Namespace) -> int:
    if args.action == "sample":
        from colorgan.training.sample_photos import write_sample_photos

        count = write_sample_photos(Path(args.out), args.count, progress=not args.quiet)
        print(f"wrote {count} colour photos to {args.out}; train on them with:")
        print(f"  colorgan train --data {args.out}")
        return 0
    from colorgan.training.pack import pack

    manifest = pack(
        args.sources,
        Path(args.out),
        args.size,
        args.shard_mb,
        args.val_fraction,
        args.quality,
        args.seed,
        progress=not args.quiet,
        shard_photos=args.shard_photos,
    )
    photos, skipped = manifest["photos"], manifest["skipped"]
    print(
        f"packed {photos['train']} training and {photos['val']} validation photos into "
        f"{len(manifest['train'])} + {len(manifest['val'])} shards in {args.out} (skipped: "
        f"{skipped['unusable']} unusable, {skipped['duplicate']} duplicates); train on them "
        f"with:\n  colorgan train --data {args.out}"
    )
    return 0
