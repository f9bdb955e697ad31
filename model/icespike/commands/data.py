"""``icespike data``: check the MNIST files and print their image and label counts."""

from __future__ import annotations

import argparse
from pathlib import Path

from ..data import default_data_dir, load_mnist, summary
from . import add_parser, emit


def register(subparsers) -> None:
    p = add_parser(
        subparsers,
        "data",
        help="check the MNIST files (magic, sizes, SHA-256) and print image and label counts",
    )
    p.add_argument(
        "--data",
        type=Path,
        default=None,
        metavar="DIR",
        help="directory holding the four IDX files, gzip or raw (default: $ICESPIKE_DATA or the bundled "
        f"{default_data_dir()})",
    )
    p.add_argument(
        "--no-verify", action="store_true", help="skip the SHA-256 check against the directory's SHA256SUMS"
    )
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    m = load_mnist(args.data, verify=not args.no_verify)
    s = summary(m)
    s["verified"] = not args.no_verify and (Path(m.directory) / "SHA256SUMS").is_file()
    emit(args, s, format_summary)
    return 0


def format_summary(s: dict) -> str:
    """Human-readable table of :func:`icespike.data.summary`."""
    shape = "x".join(str(d) for d in s["image_shape"])
    check = "SHA-256 verified" if s.get("verified") else "SHA-256 not checked"
    lines = [
        f"MNIST in {s['directory']} ({check})",
        f"  train: {s['train_images']:>6} images {shape}",
        f"  test:  {s['test_images']:>6} images {shape}",
        "  label " + "".join(f"{d:>6}" for d in range(10)),
        "  train " + "".join(f"{c:>6}" for c in s["train_label_counts"]),
        "  test  " + "".join(f"{c:>6}" for c in s["test_label_counts"]),
        f"  checksum {s['checksum']}",
    ]
    return "\n".join(lines)
