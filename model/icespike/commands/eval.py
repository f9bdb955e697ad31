"""``icespike eval``: test-set accuracy of a checkpoint, measured by the integer golden model.

``--float`` evaluates the training forward pass instead (float64; for quantised models it is
the same integer arithmetic, for a ``float`` checkpoint it runs the unrounded weights while
the golden model runs the checkpoint's 16-bit export).
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import numpy as np

from .. import golden, progress
from ..checkpoint import load_checkpoint
from ..data import default_data_dir, load_mnist
from ..train import evaluate
from . import add_parser, emit, select_test_images

__all__ = ["register", "run", "evaluate_checkpoint"]


def register(subparsers) -> None:
    p = add_parser(
        subparsers,
        "eval",
        help="accuracy of a checkpoint on the MNIST test set (integer golden model)",
    )
    p.add_argument(
        "checkpoint", type=Path, metavar="CHECKPOINT", help="model checkpoint (.npz with its .json manifest)"
    )
    p.add_argument(
        "--float",
        dest="float_eval",
        action="store_true",
        help="evaluate the float64 training forward pass instead",
    )
    p.add_argument(
        "--data",
        type=Path,
        default=None,
        metavar="DIR",
        help=f"MNIST directory (default {default_data_dir()})",
    )
    p.add_argument(
        "--images",
        type=int,
        default=None,
        metavar="N",
        help="only the first N test images (more than the test set is an error)",
    )
    p.set_defaults(func=run)


def evaluate_checkpoint(
    path, *, float_eval: bool = False, data=None, data_dir=None, images: int | None = None
) -> dict:
    """Accuracy of checkpoint ``path`` on the test set; returns the result dict of ``icespike eval``."""
    ck = load_checkpoint(path)
    mnist = data if data is not None else load_mnist(data_dir)
    x = mnist.test_images.reshape(len(mnist.test_images), -1)
    y = mnist.test_labels
    sl = select_test_images(len(y), images)
    x, y = x[sl], y[sl]
    t0 = time.perf_counter()
    net = ck.to_int_network()
    if float_eval:
        acc = evaluate(ck.model(), x, y)
        correct = int(round(acc * len(y)))
        spikes = None
    else:
        with progress.bar(total=1, desc="golden model", unit="run"):
            res = golden.run(net, x)
        acc = golden.accuracy(res.predictions, y)
        correct = int((res.predictions == y).sum())
        spikes = float(np.mean([c.sum(axis=1).mean() for c in res.spike_counts]))
    dt = time.perf_counter() - t0
    m = ck.manifest
    return {
        "checkpoint": str(ck.path),
        "evaluator": "float" if float_eval else "golden",
        "accuracy": acc,
        "correct": correct,
        "images": int(len(y)),
        "bits": m["bits"],
        "weight_bits": m["weight_bits"],
        "timesteps": m["timesteps"],
        "sizes": m["sizes"],
        "thresholds_int": m["thresholds_int"],
        "leak_shift": m["leak_shift"],
        "sparsity": m["sparsity"],
        "mean_hidden_spikes_per_image": spikes,
        "data_checksum_match": m.get("data_checksum") in (None, mnist.checksum()),
        "seconds": dt,
    }


def run(args: argparse.Namespace) -> int:
    r = evaluate_checkpoint(
        args.checkpoint, float_eval=args.float_eval, data_dir=args.data, images=args.images
    )
    emit(args, r, _text)
    return 0


def _text(r: dict) -> str:
    what = "float64 forward pass" if r["evaluator"] == "float" else "integer golden model"
    return (
        f"{r['checkpoint']}: {r['bits']}, T={r['timesteps']}, {what}: accuracy {100 * r['accuracy']:.2f}% "
        f"({r['correct']}/{r['images']})"
    )
