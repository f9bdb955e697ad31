"""``icespike estimate``: analytic LUT4/EBR/SPRAM/DSP estimate of a network's engine, before Yosys.

``icespike estimate CHECKPOINT_OR_DIR --device {up5k,hx8k} [--json]``: the memory plan and fit
rules of ``icespike.synth``, a per-lane LUT4 model fitted to the committed synthesis table, the
cycles per inference of the engine's cycle model and inferences/s at the Fmax measured for the
same kind of lane. ``--error`` prints the model's error against every committed synthesis run.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from .. import estimate as est
from .. import synth as flow
from . import UserError, add_parser, emit


def register(subparsers) -> None:
    p = add_parser(
        subparsers,
        "estimate",
        help="estimate a network engine's iCE40 resources and speed without synthesis",
        description=__doc__.splitlines()[0],
    )
    p.add_argument(
        "network",
        type=Path,
        nargs="?",
        metavar="CHECKPOINT_OR_DIR",
        help="checkpoint (.npz) or export directory",
    )
    p.add_argument(
        "--device", type=str.lower, choices=sorted(flow.DEVICES), default="up5k", help="target device"
    )
    p.add_argument(
        "--error",
        action="store_true",
        help="instead: the estimate against every committed synthesis run (README synth table)",
    )
    p.set_defaults(func=run)


def _text(r: dict) -> str:
    fit = "fits" if r["fits"] else "does not fit: " + "; ".join(r["fit_problems"])
    ips = (
        f", {r['inferences_per_s']:,.0f} inferences/s at {r['fmax_mhz']:.1f} MHz"
        if r["inferences_per_s"]
        else ""
    )
    return (
        f"{r['network']} {r['bits']} on {r['device']} (estimate): SB_LUT4 ~{r['lut4']:,}/{r['logic_cells_available']:,}, "
        f"EBR {r['ebr']}/{r['ebr_available']}, SPRAM {r['spram']}/{r['spram_available']}, "
        f"DSP {r['dsp']}/{r['dsp_available']}; {fit}\n"
        f"  cycles/inference {r['cycles_per_inference']:,}{ips}"
    )


def _error_text(rows: list[dict]) -> str:
    lines = ["config device: LUT4 real / estimate (error, leave-one-out error); EBR; SPRAM; DSP; Fmax MHz"]
    for e in rows:
        fmax = (
            f"{e['fmax_mhz']:.1f}/{e['fmax_est_mhz']:.1f}"
            if e["fmax_mhz"]
            else f"not placed/{e['fmax_est_mhz']:.1f}"
        )
        lines.append(
            f"{e['config']} {e['device']}: {e['lut4']:,} / {e['lut4_est']:,} ({e['lut4_err_pct']:+.1f}%, "
            f"LOO {e['lut4_err_loo_pct']:+.1f}%); EBR {e['ebr']}/{e['ebr_est']}; SPRAM {e['spram']}/{e['spram_est']}; "
            f"DSP {e['dsp']}/{e['dsp_est']}; Fmax {fmax}"
        )
    mean = sum(abs(e["lut4_err_pct"]) for e in rows) / len(rows)
    loo = sum(abs(e["lut4_err_loo_pct"]) for e in rows) / len(rows)
    lines.append(f"mean |LUT4 error| {mean:.1f}% in-sample, {loo:.1f}% leave-one-out ({len(rows)} runs)")
    return "\n".join(lines)


def run(args: argparse.Namespace) -> int:
    if args.error:
        emit(args, est.estimate_error(), _error_text)
        return 0
    if args.network is None:
        raise UserError("give a CHECKPOINT_OR_DIR (or --error)")
    if not args.network.exists():
        raise UserError(f"{args.network}: no such checkpoint file or export directory")
    from ..export import load_network

    emit(args, est.estimate_network(load_network(args.network), args.device), _text)
    return 0
