#!/usr/bin/env python3
"""One-epoch timing of snnTorch on an icespike network, for ``scripts/bench_snntorch.py``.

Runs under an interpreter that has torch and snntorch (it imports nothing of icespike):

    $ICESPIKE_SNNTORCH_PYTHON scripts/snntorch_epoch.py --data subset.npz --hidden 256,128 --timesteps 16

It reads commands from stdin, one per line: ``epoch`` trains one epoch over the images of
``--data`` (uint8 pixels ``x`` (N, 784), labels ``y``) and prints one JSON line
``{"seconds": ..., "cpu_seconds": ..., "loss": ..., "accuracy": ...}`` (wall-clock and
process CPU time); ``quit`` (or end of input) stops. So the
caller can interleave these epochs with its own, side by side under the same machine load.

The network is the one icespike trains: bias-free linear layers, LIF hidden layers
(``snn.Leaky``, beta = 1 - 2^-leak_shift, reset by subtraction, learnt threshold, fast-sigmoid
surrogate), pixels / 255 as a constant input, the output layer summed over the T steps;
cross-entropy, Adam; float32, ``--threads`` torch threads. ``--loop tutorial`` writes the time
loop as snnTorch's tutorials do (every layer at every step); ``--loop hoisted`` uses icespike's
shortcuts (the input current computed once per image, the output layer applied once to the
spike counts), which compute the same function with fewer operations.
"""

from __future__ import annotations

import argparse
import json
import sys
import time

import numpy as np
import snntorch as snn
import torch
from snntorch import surrogate
from torch import nn


class Net(nn.Module):
    def __init__(self, sizes: list[int], timesteps: int, beta: float, slope: float, hoisted: bool):
        super().__init__()
        self.timesteps = timesteps
        self.hoisted = hoisted
        self.fcs = nn.ModuleList(nn.Linear(a, b, bias=False) for a, b in zip(sizes[:-1], sizes[1:]))
        grad = surrogate.fast_sigmoid(slope=slope)
        self.lifs = nn.ModuleList(
            snn.Leaky(
                beta=beta, threshold=1.0, spike_grad=grad, learn_threshold=True, reset_mechanism="subtract"
            )
            for _ in sizes[1:-1]
        )

    def forward(self, x):
        cur0 = self.fcs[0](x) if self.hoisted else None  # constant input current, once per image
        mems = [lif.reset_mem() for lif in self.lifs]
        total = 0
        for _ in range(self.timesteps):
            s = x
            for li, lif in enumerate(self.lifs):
                cur = cur0 if li == 0 and self.hoisted else self.fcs[li](s)
                s, mems[li] = lif(cur, mems[li])
            total = total + (s if self.hoisted else self.fcs[-1](s))
        return self.fcs[-1](total) if self.hoisted else total


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--data", required=True)
    ap.add_argument("--hidden", default="256,128")
    ap.add_argument("--timesteps", type=int, default=16)
    ap.add_argument("--batch-size", type=int, default=128)
    ap.add_argument("--leak-shift", type=int, default=4)
    ap.add_argument("--slope", type=float, default=2.0)
    ap.add_argument("--lr", type=float, default=1e-3)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--loop", choices=("tutorial", "hoisted"), default="tutorial")
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    torch.manual_seed(args.seed)
    d = np.load(args.data)
    x = torch.from_numpy(d["x"].reshape(len(d["x"]), -1).astype(np.float32) / 255.0)
    y = torch.from_numpy(d["y"].astype(np.int64))
    sizes = [x.shape[1], *(int(h) for h in args.hidden.split(",")), 10]
    net = Net(sizes, args.timesteps, 1.0 - 2.0**-args.leak_shift, args.slope, args.loop == "hoisted")
    opt = torch.optim.Adam(net.parameters(), lr=args.lr)
    loss_fn = nn.CrossEntropyLoss()
    gen = torch.Generator().manual_seed(args.seed)
    print(json.dumps({"ready": True, "torch": torch.__version__, "snntorch": snn.__version__}), flush=True)
    for line in sys.stdin:
        cmd = line.strip()
        if cmd == "quit":
            break
        if cmd != "epoch":
            print(json.dumps({"error": f"unknown command {cmd!r}"}), flush=True)
            return 2
        order = torch.randperm(len(x), generator=gen)
        t0, c0 = time.perf_counter(), time.process_time()
        tot_loss = correct = 0.0
        for b in range(0, len(x), args.batch_size):
            idx = order[b : b + args.batch_size]
            out = net(x[idx])
            loss = loss_fn(out, y[idx])
            opt.zero_grad()
            loss.backward()
            opt.step()
            tot_loss += float(loss.detach()) * len(idx)
            correct += float((out.argmax(1) == y[idx]).sum())
        dt, cpu = time.perf_counter() - t0, time.process_time() - c0
        print(
            json.dumps(
                {"seconds": dt, "cpu_seconds": cpu, "loss": tot_loss / len(x), "accuracy": correct / len(x)}
            ),
            flush=True,
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
