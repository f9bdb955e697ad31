"""Training throughput benchmarks (sections ``train_float`` and ``train_ternary`` of scripts/bench.py).

One timed run is one full epoch over the 60,000 MNIST training images (batch 128, T time
steps, 784-128-10, Adam, surrogate-gradient BPTT in integer units); the figure is the median
over ``--repeats`` runs after one untimed warm-up epoch. Run alone with
``python scripts/bench.py --only train_float,train_ternary``.
"""

from __future__ import annotations

import os
import statistics
import sys
import time
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "model"))

from icespike.data import load_mnist  # noqa: E402
from icespike.quant import bits_name  # noqa: E402
from icespike.train import SNNModel, TrainConfig, Trainer  # noqa: E402


def _bench(bits, ctx) -> dict:
    mnist = load_mnist()
    x = mnist.train_images.reshape(len(mnist.train_images), -1)
    y = mnist.train_labels
    T = int(getattr(ctx, "timesteps", 16))
    repeats = max(1, int(getattr(ctx, "repeats", 5)))
    cfg = TrainConfig(bits=bits, epochs=repeats + 1, timesteps=T, batch_size=128)
    model = SNNModel([784, 128, 10], cfg.bits, timesteps=T, rng=np.random.default_rng(0))
    tr = Trainer(model, cfg)
    tr.train_epoch(x, y)  # warm-up
    times = []
    load = [os.getloadavg()[0]]
    for _ in range(repeats):
        t0 = time.perf_counter()
        rec = tr.train_epoch(x, y)
        times.append(time.perf_counter() - t0)
        load.append(os.getloadavg()[0])
        print(
            f"  train {bits_name(bits)}: {len(x) / times[-1]:,.0f} images/s (loss {rec['loss']:.4f})",
            file=sys.stderr,
        )
    med = statistics.median(times)
    row = {
        "bits": bits_name(bits),
        "images": len(x),
        "batch": cfg.batch_size,
        "timesteps": T,
        "median_s_per_epoch": round(med, 3),
        "min_s": round(min(times), 3),
        "max_s": round(max(times), 3),
        "images_per_s": round(len(x) / med, 1),
        "best_images_per_s": round(len(x) / min(times), 1),
        "load_avg_1min": round(statistics.median(load), 2),
        "runs_s": [round(t, 3) for t in times],
    }
    return {
        "title": f"Training throughput, {bits_name(bits)}: 784-128-10, {len(x)} images/epoch, batch {cfg.batch_size}, "
        f"T={T}, median of {repeats} epochs",
        "columns": [
            "bits",
            "images",
            "batch",
            "timesteps",
            "median_s_per_epoch",
            "min_s",
            "max_s",
            "images_per_s",
            "best_images_per_s",
            "load_avg_1min",
        ],
        "note": "load_avg_1min: the 1-minute load average of the (2-core, shared) machine during the runs",
        "rows": [row],
    }


def bench_train_float(ctx) -> dict:
    """Training throughput of the float model (one epoch of 60k images per run)."""
    return _bench("float", ctx)


def bench_train_ternary(ctx) -> dict:
    """Training throughput of ternary QAT (one epoch of 60k images per run)."""
    return _bench(2, ctx)


BENCHES = {"train_float": bench_train_float, "train_ternary": bench_train_ternary}
