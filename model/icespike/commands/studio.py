"""``icespike studio``: the local web app (Training Monitor, FPGA tab, synthesis jobs).

Serves the page and its JSON API on ``--host`` (default 127.0.0.1, this machine only) and
``--port``; runs and their checkpoints, events and synthesis results are kept in SQLite and
job directories under ``--root`` (default build/studio/). The accuracy-vs-resources chart
shows the sweeps under build/sweeps/ (where ``icespike sweep`` writes) and under ``--sweeps``.
"""

from __future__ import annotations

import argparse
import socket
from pathlib import Path

from . import UserError, add_parser


def register(subparsers) -> None:
    p = add_parser(
        subparsers,
        "studio",
        help="start the local web app (training monitor, FPGA tab, synthesis)",
        description=__doc__.splitlines()[0],
    )
    p.add_argument("--host", default="127.0.0.1", help="address to bind (other machines: 0.0.0.0)")
    p.add_argument("--port", type=int, default=8765, help="TCP port")
    p.add_argument(
        "--root", type=Path, default=None, metavar="DIR", help="where runs are stored (default build/studio)"
    )
    p.add_argument(
        "--sweeps",
        type=Path,
        action="append",
        default=[],
        metavar="DIR",
        help="also show the sweeps in DIR (a sweep's --out, or a directory of them); "
        "build/sweeps is always searched (repeatable)",
    )
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    import uvicorn

    from ..studio.app import DEFAULT_ROOT, SWEEPS_DIR, create_app

    if not 1 <= args.port <= 65535:
        raise UserError(f"--port must be in 1..65535, got {args.port}")
    root = args.root if args.root is not None else DEFAULT_ROOT
    if root.exists() and not root.is_dir():
        raise UserError(f"--root {root} exists and is not a directory")
    for d in args.sweeps:
        if not d.is_dir():
            raise UserError(f"--sweeps {d}: no such directory")
    try:  # a taken port or a foreign address is the user's to fix: say so in one line
        with socket.create_server((args.host, args.port)):
            pass
    except OSError as e:
        raise UserError(f"cannot listen on {args.host}:{args.port}: {e.strerror or e}") from None
    app = create_app(root, sweeps=[SWEEPS_DIR, *args.sweeps])
    print(f"icespike studio: http://{args.host}:{args.port}/ (runs in {root})", flush=True)
    uvicorn.run(app, host=args.host, port=args.port, log_level="warning")
    return 0
