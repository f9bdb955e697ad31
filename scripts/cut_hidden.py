"""Write the export directory of a network cut to its first N hidden neurons.

The cut is not a trained network (its accuracy means nothing): it exists to place and time a
board build whose full network does not fit the device, with the same board logic and the same
engine at a smaller N_HID (docs/board.md, "Board builds"). The output layer keeps the weights
of the neurons that remain.

    .venv/bin/python scripts/cut_hidden.py models/mnist-784-128-10-ternary.npz 64 build/cut64
    .venv/bin/icespike board build build/cut64 --board icebreaker --out build/board/cut64 --json
"""

from __future__ import annotations

import argparse
import dataclasses
import sys

from icespike.export import export_network, load_network
from icespike.network import IntNetwork


def cut_hidden(net: IntNetwork, n_hid: int) -> IntNetwork:
    """``net`` (one hidden layer) with hidden neurons n_hid.. removed from both layers."""
    if len(net.layers) != 2:
        raise ValueError(f"cut_hidden needs one hidden layer, the network has {len(net.layers) - 1}")
    hid, out = net.layers
    if not 2 <= n_hid <= hid.n_out:
        raise ValueError(f"N must be 2..{hid.n_out}, got {n_hid}")
    return IntNetwork(
        [
            dataclasses.replace(
                hid,
                codes=hid.codes[:n_hid].copy(),
                bias=None if hid.bias is None else hid.bias[:n_hid].copy(),
            ),
            dataclasses.replace(out, codes=out.codes[:, :n_hid].copy()),
        ],
        net.timesteps,
        dict(net.meta),
    )


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("source", help="checkpoint (.npz) or export directory")
    ap.add_argument("n_hid", type=int, help="hidden neurons to keep")
    ap.add_argument("out", help="export directory to write")
    a = ap.parse_args(argv)
    try:
        net = cut_hidden(load_network(a.source), a.n_hid)
        export_network(net, a.out, source=f"{a.source} cut to {a.n_hid} hidden neurons")
    except (ValueError, OSError) as e:
        print(f"cut_hidden: error: {e}", file=sys.stderr)
        return 2
    print(a.out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
