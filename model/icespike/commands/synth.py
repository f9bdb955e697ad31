"""``icespike synth``: synthesise one network's engine for an iCE40 (Yosys + nextpnr-ice40).

``icespike synth CHECKPOINT_OR_DIR --device {up5k,hx8k} [--json]`` takes a checkpoint (.npz,
exported first into ``build/export/<name>/``) or an export directory, checks from the numbers
that the weights can fit the device, then runs synth_ice40 (UP5K with ``-dsp``) and
nextpnr-ice40 on ``synth/top_engine.v`` (registered I/O, the device's PCF). The report
(``build/synth/<config>/<device>/report.json``) has LUT4/carry/DFF/EBR/SPRAM/DSP counts, I/O,
logic-cell utilisation, Fmax, critical path, cycles per inference and inferences per second.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from .. import progress
from .. import synth as flow
from . import UserError, add_parser, emit
from .sim import add_lane_options


def register(subparsers) -> None:
    p = add_parser(
        subparsers,
        "synth",
        help="synthesise a network engine for iCE40 (LUTs, RAM, DSP, Fmax, inferences/s)",
        description=__doc__.splitlines()[0],
    )
    p.add_argument(
        "network", type=Path, metavar="CHECKPOINT_OR_DIR", help="checkpoint (.npz) or export directory"
    )
    p.add_argument(
        "--device", required=True, type=str.lower, choices=sorted(flow.DEVICES), help="target device"
    )
    p.add_argument(
        "--out",
        type=Path,
        default=None,
        metavar="DIR",
        help="run directory (default build/synth/<config>/<device>)",
    )
    p.add_argument("--config", default=None, help="configuration name in reports (default <sizes>-<format>)")
    p.add_argument(
        "--freq", type=float, default=48.0, help="nextpnr target frequency in MHz (a miss is reported)"
    )
    add_lane_options(p)
    p.add_argument(
        "--bitstream",
        action=argparse.BooleanOptionalAction,
        default=None,
        help="also pack a bitstream with icepack (default: on for up5k)",
    )
    p.set_defaults(func=run)


def export_dir_for(path: Path) -> Path:
    """An export directory for ``path``: the directory itself, or a fresh export of a checkpoint."""
    from ..export import export_network, is_export_dir, load_network

    if path.is_dir():
        if not is_export_dir(path):
            raise UserError(f"{path}: directory has no manifest.json (run `icespike export` first)")
        load_network(path)  # verifies checksums and parameters before any tool runs
        return path
    if not path.exists():
        raise UserError(f"{path}: no such checkpoint file or export directory")
    net = load_network(path)
    out = flow.ROOT / "build" / "export" / path.stem
    export_network(net, out, source=str(path))
    return out


def _text(rep: dict) -> str:
    head = f"{rep['config']} on {rep['device']} ({rep.get('part')}, {rep.get('package')})"
    if not rep.get("fits"):
        return head + ": does not fit\n  " + "\n  ".join(rep.get("fit_problems") or ["?"])
    lines = [head + ": fits"]
    lines.append(
        f"  SB_LUT4 {rep['lut4']:,}  SB_CARRY {rep['carry']:,}  DFF {rep['ff']:,}  EBR {rep['ebr']}  "
        f"SPRAM {rep['spram']}  DSP {rep['dsp']}  I/O {rep['io']}"
    )
    if rep.get("lc_used") is not None:
        lines.append(
            f"  logic cells {rep['lc_used']:,}/{rep['lc_available']:,} ({100 * rep['lc_utilisation']:.1f}%)"
        )
    if rep.get("fmax_mhz") is not None:
        met = "met" if rep.get("timing_met") else "MISSED"
        lines.append(f"  Fmax {rep['fmax_mhz']:.2f} MHz (target {rep['freq_target_mhz']:g} MHz {met})")
        cp = rep.get("critical_path") or {}
        if cp:
            lines.append(
                f"  critical path {cp['delay_ns']:.2f} ns ({cp['logic_levels']} logic levels): "
                f"{cp['start_cell']} -> {cp['end_cell']}"
            )
    if rep.get("cycles_per_inference"):
        lines.append(f"  cycles/inference {rep['cycles_per_inference']:,} ({rep.get('cycle_model')})")
    if rep.get("inferences_per_s"):
        lines.append(f"  inferences/s at Fmax {rep['inferences_per_s']:,.0f}")
    if rep.get("bitstream"):
        lines.append(f"  bitstream {rep['bitstream']} ({rep['bitstream_bytes']:,} bytes)")
    elif rep.get("bitstream_error"):
        lines.append(f"  bitstream: {rep['bitstream_error']}")
    lines.append("  tools: " + "; ".join(f"{k} = {v}" for k, v in rep.get("tools", {}).items()))
    return "\n".join(lines)


def run(args: argparse.Namespace) -> int:
    d = export_dir_for(args.network)
    dev = flow.device(args.device)
    bitstream = bool(dev.spram) if args.bitstream is None else args.bitstream
    try:
        rep = flow.synth_engine(
            d,
            dev.name,
            args.out,
            config=args.config,
            bitstream=bitstream,
            freq_mhz=args.freq,
            progress_log=progress.log,
            p_lif=args.lif_lanes,
            lanes=args.lanes,
        )
    except flow.SynthError as exc:
        raise UserError(str(exc)) from None
    emit(args, rep, _text)
    return 0 if rep.get("fits") else 1
