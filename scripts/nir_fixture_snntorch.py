"""Train a 784-128-10 snnTorch ``Leaky`` network with biases and export it as NIR (a test fixture).

Writes ``tests/data/snntorch_784_128_10.nir`` (the graph ``snntorch.export_to_nir`` makes) and
``tests/data/snntorch_784_128_10.json`` (the test accuracy snnTorch measured, the settings and
the versions). torch and snntorch are not dependencies of icespike; run this script in a
separate environment outside the repository, from the repository root::

    python3 -m venv /tmp/snntorch-venv
    /tmp/snntorch-venv/bin/pip install torch snntorch==1.0.0 nir==1.0.8 nirtorch
    /tmp/snntorch-venv/bin/python scripts/nir_fixture_snntorch.py [--epochs 3]

The network sees what icespike's engine sees: the pixels ``x / 255`` as a constant input
current at each of ``T`` steps; ``Linear(784, 128)`` -> ``Leaky`` (per-neuron beta and
threshold, reset by subtraction) -> ``Linear(128, 10)``, whose outputs are summed over the
``T`` steps into the class scores (icespike's output integrator). MNIST comes from the bundled
``data/mnist`` through ``icespike.data`` (numpy only).
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import nir
import snntorch as snn
import torch
from snntorch.export_nir import export_to_nir

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "model"))
from icespike.data import load_mnist  # noqa: E402  (numpy-only module of this repository)

OUT = ROOT / "tests" / "data" / "snntorch_784_128_10"


class Net(torch.nn.Module):
    def __init__(self, hidden: int, beta: float, threshold: float, timesteps: int):
        super().__init__()
        self.timesteps = timesteps
        self.fc1 = torch.nn.Linear(784, hidden)
        # per-neuron arrays: snnTorch 1.0's NIR export fails on scalar beta/threshold
        self.lif1 = snn.Leaky(
            beta=torch.full((hidden,), beta),
            threshold=torch.full((hidden,), threshold),
            reset_mechanism="subtract",
            init_hidden=True,
        )
        self.fc2 = torch.nn.Linear(hidden, 10)
        self.seq = torch.nn.Sequential(self.fc1, self.lif1, self.fc2)  # the exported graph

    def forward(self, x):  # x: (B, 784) in [0, 1]
        self.lif1.reset_hidden()
        score = 0.0
        for _ in range(self.timesteps):
            score = score + self.seq(x)
        return score


def accuracy(net: Net, x: torch.Tensor, y: torch.Tensor) -> float:
    net.eval()
    correct = 0
    with torch.no_grad():
        for i in range(0, len(x), 1000):
            correct += int((net(x[i : i + 1000]).argmax(1) == y[i : i + 1000]).sum())
    return correct / len(x)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--epochs", type=int, default=3)
    ap.add_argument("--timesteps", type=int, default=16)
    ap.add_argument("--hidden", type=int, default=128)
    ap.add_argument("--beta", type=float, default=0.9)
    ap.add_argument("--threshold", type=float, default=1.0)
    ap.add_argument("--lr", type=float, default=2e-3)
    ap.add_argument("--batch-size", type=int, default=128)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--out", default=str(OUT), help="output path without suffix")
    a = ap.parse_args(argv)
    torch.manual_seed(a.seed)
    torch.set_num_threads(1)
    m = load_mnist()
    xtr = torch.tensor(m.train_images.reshape(-1, 784), dtype=torch.float32) / 255.0
    ytr = torch.tensor(m.train_labels, dtype=torch.long)
    xte = torch.tensor(m.test_images.reshape(-1, 784), dtype=torch.float32) / 255.0
    yte = torch.tensor(m.test_labels, dtype=torch.long)
    net = Net(a.hidden, a.beta, a.threshold, a.timesteps)
    opt = torch.optim.Adam(net.parameters(), lr=a.lr)
    history = []
    t_start = time.time()
    for ep in range(a.epochs):
        net.train()
        t0 = time.time()
        perm = torch.randperm(len(xtr))
        for i in range(0, len(xtr), a.batch_size):
            idx = perm[i : i + a.batch_size]
            loss = torch.nn.functional.cross_entropy(net(xtr[idx]) / a.timesteps, ytr[idx])
            opt.zero_grad()
            loss.backward()
            opt.step()
        acc = accuracy(net, xte, yte)
        history.append({"epoch": ep + 1, "test_accuracy": acc, "seconds": round(time.time() - t0, 1)})
        print(f"epoch {ep + 1}: loss {loss.item():.4f}, test accuracy {acc:.4f} ({time.time() - t0:.0f} s)")
    acc = accuracy(net, xte, yte)
    graph = export_to_nir(net.seq, torch.zeros(1, 784), ignore_dims=[0])
    out = Path(a.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    nir.write(str(out.with_suffix(".nir")), graph)
    info = {
        "test_accuracy": acc,
        "test_images": len(xte),
        "readout": "sum over the timesteps of the last Linear's output; argmax",
        "input": "pixels / 255, the same at every time step",
        "timesteps": a.timesteps,
        "hidden": a.hidden,
        "beta": a.beta,
        "threshold": a.threshold,
        "reset": "subtract",
        "epochs": a.epochs,
        "lr": a.lr,
        "batch_size": a.batch_size,
        "seed": a.seed,
        "train_seconds": round(time.time() - t_start, 1),
        "history": history,
        "versions": {
            "torch": torch.__version__,
            "snntorch": snn.__version__,
            "nir": nir.__version__ if hasattr(nir, "__version__") else "unknown",
            "python": sys.version.split()[0],
        },
    }
    out.with_suffix(".json").write_text(json.dumps(info, indent=1) + "\n")
    print(f"wrote {out.with_suffix('.nir')} and {out.with_suffix('.json')}: snnTorch test accuracy {acc:.4f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
