"""``icespike export``: a checkpoint (or an export directory) to the network engine's files.

Writes ``w0.hex`` (layer-0 weights packed into 64-bit words), ``w1.hex`` (output-layer
weights), ``net_params.vh`` (the engine's Verilog parameters as macros) and ``manifest.json``
(parameters and the SHA-256 of every file) into ``--out``; see docs/engine.md.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from ..export import engine_params, export_network, load_export, load_network
from ..rtlsim import dense_bound_cycles
from . import UserError, add_parser, emit

__all__ = ["register", "run"]


def register(subparsers) -> None:
    p = add_parser(
        subparsers,
        "export",
        help="write the network engine's weight images, net_params.vh and manifest.json",
    )
    p.add_argument(
        "checkpoint",
        type=Path,
        metavar="CHECKPOINT_OR_DIR",
        help="model checkpoint (.npz with its manifest) or an existing export directory",
    )
    p.add_argument("--out", type=Path, required=True, metavar="DIR", help="output directory (created)")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    net = load_network(args.checkpoint)
    out = Path(args.out)
    if out.exists() and not out.is_dir():
        raise UserError(f"{out}: exists and is not a directory")
    if out.resolve() == Path(args.checkpoint).resolve():
        raise UserError(f"{out}: the output directory must differ from the input")
    manifest = export_network(net, out, source=str(args.checkpoint))
    load_export(out)  # read back and verify what was written
    p = engine_params(net)
    result = {
        "out": str(out),
        "source": str(args.checkpoint),
        "sizes": net.sizes,
        "bits": [lay.bits for lay in net.layers],
        "timesteps": int(net.timesteps),
        "engine": p.as_dict(),
        "dense_bound_cycles": dense_bound_cycles(p),
        "files": manifest["files"],
    }
    emit(args, result, _text)
    return 0


def _text(r: dict) -> str:
    e = r["engine"]
    lines = [
        f"exported {r['source']} -> {r['out']}",
        f"  network {'-'.join(str(s) for s in r['sizes'])}, bits {r['bits']}, T={r['timesteps']}",
        f"  layer 0: {e['W0_DEPTH']} words x 64 bits ({e['LANES']} codes per word, {e['WPR']} words per pixel)",
        f"  output layer: {e['W1_DEPTH']} words x {e['W1_DATA_W']} bits",
        f"  widths: current {e['ACC_W']}, membrane {e['MEM_W']}, score {e['SCORE_W']}; threshold {e['THRESHOLD']}",
    ]
    for name, f in r["files"].items():
        lines.append(f"  {name:<14} {f['bytes']:>8} bytes  sha256 {f['sha256'][:16]}...")
    return "\n".join(lines)
