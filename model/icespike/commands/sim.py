"""``icespike sim``: MNIST test images through the RTL network engine, compared with the golden model.

The engine (rtl/snn_engine.v) runs in Verilator (``verilator --binary``) or Icarus through the
file-driven harness verif/harness/tb_engine.v: no Python per cycle. Every image's class and
scores are compared with ``icespike.golden``, and its measured cycle count with the analytic
cycle model of docs/engine.md.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from .. import progress
from ..data import default_data_dir, load_mnist
from ..export import load_network
from ..rtlsim import SIMULATORS, SimError, compare_with_golden, run_engine
from . import UserError, add_parser, emit, select_test_images

__all__ = ["register", "run"]


def register(subparsers) -> None:
    p = add_parser(
        subparsers,
        "sim",
        help="run MNIST test images through the RTL engine and compare with the golden model",
    )
    p.add_argument(
        "checkpoint",
        type=Path,
        metavar="CHECKPOINT_OR_DIR",
        help="model checkpoint (.npz with its manifest) or an export directory",
    )
    p.add_argument(
        "--images",
        type=int,
        default=100,
        metavar="N",
        help="number of test images (past the end of the test set is an error)",
    )
    p.add_argument("--offset", type=int, default=0, metavar="K", help="first test image")
    p.add_argument("--simulator", choices=SIMULATORS, default="verilator", help="RTL simulator")
    p.add_argument(
        "--data",
        type=Path,
        default=None,
        metavar="DIR",
        help=f"MNIST directory (default {default_data_dir()})",
    )
    p.add_argument(
        "--gap", type=int, default=0, metavar="PCT", help="random idle cycles on the input (percent)"
    )
    p.add_argument(
        "--backpressure", type=int, default=0, metavar="PCT", help="random cycles with m_ready low (percent)"
    )
    p.add_argument("--seed", type=int, default=1, help="seed of the gap/back-pressure patterns")
    add_lane_options(p)
    p.add_argument(
        "--build-dir",
        type=Path,
        default=None,
        metavar="DIR",
        help="simulator build cache (default build/rtlsim)",
    )
    p.set_defaults(func=run)


def add_lane_options(p) -> None:
    """The engine's lane options (``--lanes``, ``--lif-lanes``), shared by sim and synth."""
    p.add_argument(
        "--lanes",
        type=int,
        default=None,
        metavar="L",
        help="accumulation lanes of the engine (LANES: hidden neurons per group; default: the "
        "engine's, 16 for 1-2-bit codes, 8 otherwise)",
    )
    p.add_argument(
        "--lif-lanes",
        type=int,
        default=1,
        metavar="P",
        help="parallel LIF lanes of the engine (P_LIF: 1, 2, 4, ...; divides the hidden size, at most LANES/2)",
    )


def run(args: argparse.Namespace) -> int:
    select_test_images(None, args.images, args.offset)  # the signs, before anything loads
    for name in ("gap", "backpressure"):
        v = getattr(args, name)
        if not 0 <= v <= 99:
            raise UserError(f"--{name} must be 0..99 percent, got {v}")
    net = load_network(args.checkpoint)
    m = load_mnist(args.data)
    sl = select_test_images(len(m.test_images), args.images, args.offset)
    x = m.test_images[sl].reshape(args.images, -1)
    y = m.test_labels[sl]
    source = Path(args.checkpoint) if Path(args.checkpoint).is_dir() else net
    progress.log(f"sim: {args.simulator}, {args.images} images from test image {args.offset}")
    with progress.bar(total=args.images, desc=f"{args.simulator}", unit="img") as bar:

        def tick(done: int) -> None:
            bar.update(done - bar.n)

        try:
            r = run_engine(
                source,
                x,
                simulator=args.simulator,
                gap_pct=args.gap,
                bp_pct=args.backpressure,
                seed=args.seed,
                build_root=args.build_dir,
                p_lif=args.lif_lanes,
                lanes=args.lanes,
                progress=tick,
            )
        except SimError as e:
            raise UserError(str(e).splitlines()[0] if str(e) else "simulation failed") from None
        bar.update(args.images - bar.n)
    s = compare_with_golden(net, x, y, r)
    s = {"source": str(args.checkpoint), "offset": args.offset, **s}
    emit(args, s, _text)
    return 0 if s["mismatches"] == 0 and s["cycle_model_mismatches"] == 0 else 1


def _text(s: dict) -> str:
    c, b, mc = s["cycles_per_inference"], s["bound_cycles"], s["model_cycles"]
    lines = [
        f"{s['source']}: {s['images']} images on {s['simulator']} (from test image {s['offset']})",
        f"  mismatches      {s['mismatches']}"
        + (f"  first: {s['first_mismatches']}" if s["mismatches"] else ""),
        f"  rtl_accuracy    {s['rtl_accuracy']:.4f}",
        f"  golden_accuracy {s['golden_accuracy']:.4f}",
        f"  cycles/inference mean {c['mean']:.1f}  min {c['min']}  max {c['max']}"
        f"  (model mean {mc['mean']:.1f}, {s['cycle_model_mismatches']} images differ from the model)",
        f"  bound_cycles    mean {b['mean']:.1f}  min {b['min']}  max {b['max']}"
        f"  (event-driven layer-0 words; dense bound {s['dense_bound_cycles']}); "
        f"cycles/bound {s['cycles_over_bound']:.2f}",
        f"  build {s['build_seconds']:.1f} s, simulation {s['run_seconds']:.1f} s",
    ]
    return "\n".join(lines)
