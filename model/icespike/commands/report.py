"""``icespike report``: accuracy tables and plots across bit widths (QAT vs PTQ, golden model)."""

from __future__ import annotations

import argparse
from pathlib import Path

from .. import progress
from ..report import REPO, build
from . import add_parser, emit

__all__ = ["register", "run"]


def register(subparsers) -> None:
    p = add_parser(
        subparsers,
        "report",
        help="accuracy table and plots of every committed model (QAT vs PTQ, integer golden model)",
    )
    p.add_argument("--models", type=Path, default=REPO / "models", metavar="DIR", help="checkpoint directory")
    p.add_argument(
        "--out", type=Path, default=REPO / "reports", metavar="DIR", help="where tables and plots go"
    )
    p.add_argument(
        "--data", type=Path, default=None, metavar="DIR", help="MNIST directory (default: bundled)"
    )
    p.add_argument(
        "--no-readme", action="store_true", help="do not refresh the accuracy table in the project README"
    )
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    if not args.models.is_dir():
        raise ValueError(f"model directory {args.models} does not exist")
    readme = None if args.no_readme else REPO / "README.md"
    with progress.bar(total=1, desc="golden model on every width", unit="report"):
        res = build(args.models, args.out, args.data, readme)
    progress.log(res["summary"])
    rep = res["report"]
    emit(
        args,
        {
            "written": res["written"],
            "unchanged": res["unchanged"],
            "rows": rep["rows"],
            "networks": rep.get("networks", {}),
        },
        res["table"],
    )
    return 0
