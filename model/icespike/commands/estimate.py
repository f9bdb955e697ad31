"""``icespike estimate``: analytic LUT4/EBR/SPRAM/DSP estimate of a network's engine, before Yosys.

``icespike estimate CHECKPOINT_OR_DIR --device {up5k,hx8k} [--lanes L] [--lif-lanes P] [--json]``:
any network the engine runs (1 to 4 hidden layers). The engine's memories and the fit rules of
``icespike.synth``, a LUT4 model fitted to the committed synthesis table, the exact cycles per
inference of the engine's cycle model and inferences/s at the Fmax measured for the same kind of
lane. ``--error`` prints the model's error against every committed synthesis run (``--table``:
another file with the synthesis-table markers, e.g. a fresh ``make synth`` README).
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
        "--lanes",
        type=int,
        metavar="L",
        help="accumulation lanes of the engine (LANES; default: the engine's, 16 for 1-2-bit codes, 8 otherwise)",
    )
    p.add_argument(
        "--lif-lanes",
        type=int,
        default=1,
        metavar="P",
        help="parallel LIF lanes of the engine (P_LIF: 1, 2, 4, ...) (default: 1)",
    )
    p.add_argument(
        "--table",
        type=Path,
        metavar="FILE",
        help="with --error: read the synthesis table from FILE (default README.md)",
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
    cyc = f"{r['cycles_per_inference']:,}" if r["cycles_per_inference"] else f"- ({r['cycle_model']})"
    return (
        f"{r['network']} {r['bits']} on {r['device']} (estimate, LANES {r['lanes']}, P_LIF {r['p_lif']}): "
        f"SB_LUT4 ~{r['lut4']:,}/{r['logic_cells_available']:,}, "
        f"EBR {r['ebr']}/{r['ebr_available']}, SPRAM {r['spram']}/{r['spram_available']}, "
        f"DSP {r['dsp']}/{r['dsp_available']}; {fit}\n"
        f"  cycles/inference {cyc}{ips}"
    )


def _error_text(rows: list[dict]) -> str:
    lines = ["config device: LUT4 real / estimate (error, leave-one-out error); EBR; SPRAM; DSP; Fmax MHz"]
    for e in rows["rows"]:
        fmax = (
            f"{e['fmax_mhz']:.1f}/{e['fmax_est_mhz']:.1f}"
            if e["fmax_mhz"]
            else f"not placed/{e['fmax_est_mhz']:.1f}"
        )
        loo = "-" if e["lut4_err_loo_pct"] is None else f"{e['lut4_err_loo_pct']:+.1f}%"
        lines.append(
            f"{e['config']} {e['device']}: {e['lut4']:,} / {e['lut4_est']:,} ({e['lut4_err_pct']:+.1f}%, "
            f"LOO {loo}); EBR {e['ebr']}/{e['ebr_est']}; SPRAM {e['spram']}/{e['spram_est']}; "
            f"DSP {e['dsp']}/{e['dsp_est']}; Fmax {fmax}"
        )
    s, c = rows["summary"], rows["lut_coef"]
    loo = "-" if s["lut4_loo_mean_abs_err_pct"] is None else f"{s['lut4_loo_mean_abs_err_pct']:.1f}%"
    lines.append(
        f"mean |LUT4 error| {s['lut4_mean_abs_err_pct']:.1f}% in-sample (max {s['lut4_max_abs_err_pct']:.1f}%), "
        f"{loo} leave-one-out ({s['rows']} runs); EBR exact {s['ebr_exact']}/{s['rows']}, "
        f"SPRAM {s['spram_exact']}/{s['rows']}, DSP {s['dsp_exact']}/{s['rows']}"
    )
    lines.append(
        f"LUT4 = {c[0]:.1f} + {c[1]:.3f} * (LANES * ACC_W + P_LIF * N_OUT * SCORE_W) + {c[2]:.1f} * "
        f"(hidden layers - 1) + {c[3]:.3f} * width * (EBR weight blocks deep - 1) + {c[4]:.1f} * "
        "(address multipliers)"
    )
    if rows["unfitted"]:
        lines.append(f"no row exercises (coefficient 0): {', '.join(rows['unfitted'])}")
    return "\n".join(lines)


def run(args: argparse.Namespace) -> int:
    if args.error:
        if args.network is not None:
            raise UserError("--error compares with the synthesis table; give no CHECKPOINT_OR_DIR with it")
        if args.table is not None and not args.table.is_file():
            raise UserError(f"{args.table}: no such file")
        rows = est.committed_rows(args.table)
        errors = est.estimate_error(rows)
        out = {
            "table": str(args.table or "README.md"),
            "rows": errors,
            "summary": est.error_summary(errors),
        }
        out.update({k: v for k, v in est.fit(rows).items() if k in ("lut_coef", "unfitted")})
        emit(args, out, _error_text)
        return 0
    if args.table is not None:
        raise UserError("--table goes with --error")
    if args.network is None:
        raise UserError("give a CHECKPOINT_OR_DIR (or --error)")
    if not args.network.exists():
        raise UserError(f"{args.network}: no such checkpoint file or export directory")
    from ..export import load_network

    net = load_network(args.network)
    emit(args, est.estimate_network(net, args.device, lanes=args.lanes, p_lif=args.lif_lanes), _text)
    return 0
