"""``icespike sweep``: a grid (and random samples) of training and hardware runs on Ray Tune.

Each trial trains with QAT, measures the integer golden model's accuracy and the weight memory
and, with ``--synth``, exports and synthesises the network. Without ``--address`` a local Ray
instance sized to the machine runs the trials; with ``--address`` they go to that Ray cluster.
Results (``results.json``, ``results.md``, ``pareto.png``) are written under ``--out`` as
trials finish; running the same sweep again resumes it. See docs/sweep.md.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import sys
from pathlib import Path

from .. import progress
from ..quant import parse_bits
from . import UserError, add_parser, emit
from .train import _hidden

__all__ = ["register", "run"]

EXIT_INTERRUPTED = 130  # as the CLI after Ctrl-C: the sweep stopped early and resumes when run again
# where sweeps go without --out (relative to the current directory); the Studio looks here too
DEFAULT_DIR = Path("build") / "sweeps"


def _list(conv):
    def parse(text: str) -> list:
        try:
            vals = [conv(v.strip()) for v in str(text).split(",") if v.strip()]
        except ValueError as exc:
            raise argparse.ArgumentTypeError(str(exc)) from None
        if not vals:
            raise argparse.ArgumentTypeError(f"empty list {text!r}")
        return vals

    return parse


def _device(text: str) -> str:
    from ..synth import device

    return device(text).name


def _positive(text: str) -> int:
    try:
        v = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {text!r}") from None
    if v < 1:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {text!r}")
    return v


def register(subparsers) -> None:
    p = add_parser(
        subparsers,
        "sweep",
        help="train (and synthesise) a grid of networks on Ray Tune; table, plot and Pareto front",
        description=__doc__.split("\n\n")[0],
    )
    p.add_argument(
        "spec", nargs="?", type=Path, default=None, metavar="SPEC.toml", help="sweep specification"
    )
    p.add_argument("--bits", type=_list(parse_bits), default=None, help="bit widths, comma list (a grid)")
    p.add_argument(
        "--hidden",
        type=_hidden,
        action="append",
        default=None,
        help="hidden sizes of one network (comma list for several layers); repeat the option for a grid",
    )
    p.add_argument("--epochs", type=_positive, default=None, help="training epochs of every trial")
    p.add_argument("--timesteps", type=_list(int), default=None, help="time steps T, comma list (a grid)")
    p.add_argument("--seed", type=_list(int), default=None, help="training seeds, comma list (a grid)")
    p.add_argument(
        "--train-subset", type=_positive, default=None, metavar="N", help="first N training images"
    )
    p.add_argument(
        "--synth",
        type=_list(_device),
        default=None,
        metavar="DEVICE",
        help="also export and synthesise every trial for DEVICE (up5k, hx8k; comma list for a grid)",
    )
    p.add_argument(
        "--address",
        default=None,
        metavar="ADDR",
        help="attach to this Ray cluster (e.g. HOST:6379, or 'auto'); default: a local Ray instance",
    )
    p.add_argument(
        "--cpus", type=_positive, default=None, help="CPUs of the local Ray instance (default: all of them)"
    )
    p.add_argument(
        "--out",
        type=Path,
        default=None,
        metavar="DIR",
        help="results directory (default build/sweeps/<spec name>, or build/sweeps/sweep-<hash> without a spec)",
    )
    p.add_argument(
        "--storage",
        default=None,
        metavar="PATH_OR_URI",
        help="Ray Tune storage for experiment state and checkpoints (default <out>/ray; "
        "on a cluster: a shared path or s3://...)",
    )
    p.add_argument(
        "--publish",
        type=Path,
        default=None,
        metavar="DIR",
        help="copy finished models here (with models.json)",
    )
    p.add_argument("--fresh", action="store_true", help="discard an earlier sweep in --out and start again")
    p.set_defaults(func=run)


def build_spec(args: argparse.Namespace):
    """The sweep spec of a command line: the TOML file (if any) with the options applied."""
    from ..sweep import Stage, SweepSpec, apply_overrides, load_spec

    spec = load_spec(args.spec) if args.spec is not None else SweepSpec(name="", stages=[Stage(name="main")])
    over = {}
    if args.bits is not None:
        over["bits"] = args.bits
    if args.hidden is not None:
        over["hidden"] = args.hidden
    for key in ("timesteps", "seed", "synth"):
        if getattr(args, key) is not None:
            over[key] = getattr(args, key)
    for key in ("epochs", "train_subset"):
        if getattr(args, key) is not None:
            over[key] = [getattr(args, key)]
    apply_overrides(spec, over)
    if args.spec is None:
        if "bits" not in over:
            raise UserError("give a SPEC.toml or at least --bits")
        spec.name = f"sweep-{spec.key()[:8]}"
    if args.publish is not None:
        spec.publish = str(args.publish.resolve())
    return spec


@contextlib.contextmanager
def _stdout_to_stderr():
    """Anything Ray prints on stdout goes to stderr: stdout holds only the result (one document)."""
    sys.stdout.flush()
    saved = os.dup(1)
    os.dup2(2, 1)
    try:
        with contextlib.redirect_stdout(sys.stderr):
            yield
    finally:
        sys.stdout.flush()
        os.dup2(saved, 1)
        os.close(saved)


def run(args: argparse.Namespace) -> int:
    spec = build_spec(args)
    out = args.out if args.out is not None else DEFAULT_DIR / spec.name
    from ..sweep import run_sweep

    with _stdout_to_stderr():
        doc = run_sweep(
            spec,
            out,
            address=args.address,
            num_cpus=args.cpus,
            storage=args.storage,
            fresh=args.fresh,
            log=progress.log,
        )
    emit(args, doc, _text)
    if doc["interrupted"]:
        return EXIT_INTERRUPTED
    return 0 if doc["counts"]["ok"] == len(doc["trials"]) else 1


def _text(doc: dict) -> str:
    from ..sweep import markdown_table

    c = doc["counts"]
    return (
        markdown_table(doc)
        + f"\n{c['ok']} ok, {c['error']} failed, {c['unfinished']} unfinished; results in {doc['out']}"
    )
