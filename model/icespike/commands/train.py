"""``icespike train``: quantisation-aware training of a spiking network on MNIST.

Writes a checkpoint (``.npz`` + ``.json`` manifest) after every epoch, so an interrupted run
continues with ``--resume``. The final line (or ``--json`` document) gives the integer golden
model's test accuracy of the trained network.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from ..data import default_data_dir
from ..quant import parse_bits
from ..train import TrainConfig
from ..training import checkpoint_name, run_training
from . import add_parser, emit

__all__ = ["register", "run", "run_training", "default_out"]


def default_out(bits, hidden) -> Path:
    return Path("build") / "train" / checkpoint_name(bits, hidden)


def _hidden(text: str) -> tuple[int, ...]:
    try:
        h = tuple(int(v) for v in str(text).split(","))
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"--hidden must be an integer (or a comma list), got {text!r}"
        ) from None
    if not h or min(h) < 1:
        raise argparse.ArgumentTypeError(f"--hidden sizes must be positive, got {text!r}")
    return h


def _bits(text: str):
    try:
        return parse_bits(text)
    except ValueError as e:
        raise argparse.ArgumentTypeError(str(e)) from None


def register(subparsers) -> None:
    p = add_parser(
        subparsers,
        "train",
        help="train a spiking 784-H-10 network with quantisation-aware training",
        description="Surrogate-gradient BPTT in the hardware's integer units; the trained network's "
        "accuracy is the integer golden model's.",
    )
    p.add_argument("--bits", type=_bits, required=True, help="float, 16, 8, 4, 2 (ternary) or 1 (binary)")
    p.add_argument("--epochs", type=int, default=10, help="number of epochs (total, when resuming)")
    p.add_argument("--timesteps", type=int, default=16, help="time steps per image")
    p.add_argument(
        "--hidden", type=_hidden, default=(128,), help="hidden layer size (comma list for several)"
    )
    p.add_argument("--seed", type=int, default=0, help="random seed (initialisation and batch order)")
    p.add_argument(
        "--init",
        type=Path,
        default=None,
        metavar="CKPT",
        help="initialise weights and thresholds from a checkpoint",
    )
    p.add_argument(
        "--out",
        type=Path,
        default=None,
        metavar="PATH",
        help="checkpoint path (.npz); default build/train/mnist-784-H-10-<bits>.npz",
    )
    p.add_argument("--resume", action="store_true", help="continue the run saved at --out (same settings)")
    p.add_argument(
        "--stop-after", type=int, default=None, metavar="N", help="run at most N epochs now (resume later)"
    )
    p.add_argument(
        "--data",
        type=Path,
        default=None,
        metavar="DIR",
        help=f"MNIST directory (default {default_data_dir()})",
    )
    p.add_argument(
        "--lr", type=float, default=TrainConfig.lr, help="Adam learning rate (cosine schedule to --lr-final)"
    )
    p.add_argument(
        "--lr-final",
        type=float,
        default=TrainConfig.lr_final,
        help="learning rate at the end of the schedule",
    )
    p.add_argument("--batch-size", type=int, default=TrainConfig.batch_size, help="images per batch")
    p.add_argument(
        "--leak-shift", type=int, default=TrainConfig.leak_shift, help="leak v -= v >>> k (tau_mem ~ 2^k)"
    )
    p.add_argument(
        "--scale", choices=("maxabs", "fixed"), default="maxabs", help="scale rule for 16/8/4 bits"
    )
    p.add_argument(
        "--threshold-ratio",
        type=float,
        default=TrainConfig.threshold_ratio,
        help="TWN ternary threshold ratio",
    )
    p.add_argument("--augment", type=int, default=0, help="random shift of up to N pixels (0 = off)")
    p.add_argument(
        "--train-subset", type=int, default=None, metavar="N", help="use only the first N training images"
    )
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    cfg = TrainConfig(
        bits=args.bits,
        epochs=args.epochs,
        timesteps=args.timesteps,
        hidden=args.hidden,
        seed=args.seed,
        batch_size=args.batch_size,
        lr=args.lr,
        lr_final=args.lr_final,
        leak_shift=args.leak_shift,
        scale=args.scale,
        threshold_ratio=args.threshold_ratio,
        augment=args.augment,
        train_subset=args.train_subset,
    )
    out = args.out if args.out is not None else default_out(args.bits, args.hidden)
    r = run_training(
        cfg, out, data_dir=args.data, init=args.init, resume=args.resume, stop_after=args.stop_after
    )
    emit(args, r, _text)
    return 0


def _text(r: dict) -> str:
    ips = r["images_per_s_median"]
    return (
        f"{r['checkpoint']}: {r['bits']} 784-{'-'.join(map(str, r['hidden']))}-10, T={r['timesteps']}, "
        f"{r['epochs']} epochs, golden-model test accuracy {100 * r['accuracy']:.2f}% "
        f"({r['images']} images); training {r['train_seconds']:.1f} s"
        + (f", {ips:.0f} images/s" if ips else "")
    )
