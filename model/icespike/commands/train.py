"""``icespike train``: quantisation-aware training of a spiking network on MNIST.

Writes a checkpoint (``.npz`` + ``.json`` manifest) after every epoch, so an interrupted run
continues with ``--resume``. The final line (or ``--json`` document) gives the integer golden
model's test accuracy of the trained network.
"""

from __future__ import annotations

import argparse
import statistics
import time
from pathlib import Path

import numpy as np

from .. import golden, progress
from ..checkpoint import load_checkpoint, save_checkpoint
from ..data import default_data_dir, load_mnist
from ..quant import bits_name, parse_bits
from ..train import SNNModel, TrainConfig, Trainer, evaluate
from . import add_parser, emit

__all__ = ["register", "run", "run_training", "default_out"]


def default_out(bits, hidden) -> Path:
    sizes = "-".join(str(h) for h in (784, *hidden, 10))
    return Path("build") / "train" / f"mnist-{sizes}-{bits_name(bits)}.npz"


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


def run_training(
    cfg: TrainConfig,
    out: Path,
    *,
    data=None,
    data_dir=None,
    init: Path | None = None,
    resume: bool = False,
    stop_after: int | None = None,
    log=progress.log,
) -> dict:
    """Train per ``cfg``, save the checkpoint at ``out`` after every epoch; returns a summary dict.

    ``stop_after``: run at most this many epochs now (the checkpoint stays resumable).
    """
    cfg.validate()
    out = Path(out)
    if out.suffix != ".npz":
        raise ValueError(f"--out must end in .npz, got {out}")
    if init is not None and resume:
        raise ValueError("--init and --resume exclude each other")
    mnist = data if data is not None else load_mnist(data_dir)
    checksum = mnist.checksum()
    x = mnist.train_images.reshape(len(mnist.train_images), -1)
    y = mnist.train_labels
    if cfg.train_subset is not None:
        x, y = x[: cfg.train_subset], y[: cfg.train_subset]
    sizes = [x.shape[1], *cfg.hidden, 10]
    model_kw = dict(
        timesteps=cfg.timesteps,
        leak_shift=cfg.leak_shift,
        reset=cfg.reset,
        scale=cfg.scale,
        threshold_ratio=cfg.threshold_ratio,
        threshold_init=cfg.threshold_init,
        surrogate_slope=cfg.surrogate_slope,
        detach_reset=cfg.detach_reset,
        gain=cfg.gain,
    )
    state = None
    if resume:
        ck = load_checkpoint(out)
        old = ck.config
        if old is None:
            raise ValueError(f"{out}: checkpoint has no training settings to resume")
        a, b = old.to_dict(), cfg.to_dict()
        a.pop("epochs"), b.pop("epochs")
        a.pop("init", None), b.pop("init", None)
        if a != b:
            diff = sorted(k for k in a if a[k] != b.get(k))
            raise ValueError(f"{out}: cannot resume with different settings ({', '.join(diff)})")
        cfg.init = old.init
        state = ck.trainer_state()
        if state is None:
            raise ValueError(f"{out}: checkpoint holds no optimiser state to resume from")
        model = SNNModel(
            sizes,
            cfg.bits,
            weights=[ck.arrays[f"w{i}"] for i in range(len(sizes) - 1)],
            theta_f=ck.manifest["thresholds_float"],
            **model_kw,
        )
    elif init is not None:
        ck = load_checkpoint(init)
        if ck.manifest["sizes"] != sizes:
            raise ValueError(f"--init {init}: layer sizes {ck.manifest['sizes']} differ from {sizes}")
        cfg.init = str(init)
        model = SNNModel(
            sizes,
            cfg.bits,
            weights=[ck.arrays[f"w{i}"] for i in range(len(sizes) - 1)],
            theta_f=ck.manifest["thresholds_float"],
            **model_kw,
        )
    else:
        model = SNNModel(sizes, cfg.bits, rng=np.random.default_rng(cfg.seed), **model_kw)
    trainer = Trainer(model, cfg)
    if state is not None:
        trainer.load_state(state)
        log(f"resuming {out} at epoch {trainer.epoch}/{cfg.epochs}")
    tx = mnist.test_images.reshape(len(mnist.test_images), -1)
    ty = mnist.test_labels
    name = bits_name(cfg.bits)
    t_start = time.perf_counter()
    if trainer.epoch == 0 and state is None:
        # an untrained (or --init) model is saved first, so that --resume always has a file
        save_checkpoint(
            out,
            model,
            cfg,
            history=[],
            data_checksum=checksum,
            trainer_state=trainer.state(),
            complete=False,
        )
    if stop_after is not None and stop_after < 1:
        raise ValueError(f"--stop-after must be >= 1, got {stop_after}")
    last = cfg.epochs if stop_after is None else min(cfg.epochs, trainer.epoch + stop_after)
    while trainer.epoch < last:
        e = trainer.epoch + 1
        with progress.bar(
            total=len(x), desc=f"train {name} epoch {e}/{cfg.epochs}", unit="img", unit_scale=True
        ) as pb:

            def tick(k, stats, pb=pb):
                pb.update(k)
                pb.set_postfix(
                    loss=f"{stats['loss']:.4f}",
                    acc=f"{stats['acc']:.4f}",
                    ips=f"{stats['img/s']:.0f}",
                    refresh=False,
                )

            rec = trainer.train_epoch(x, y, progress=tick)
        rec["test_accuracy"] = evaluate(model, tx, ty)
        trainer.history.append(rec)
        log(
            f"epoch {e}/{cfg.epochs}: loss {rec['loss']:.4f} train {rec['train_accuracy']:.4f} "
            f"test {rec['test_accuracy']:.4f} ({rec['images_per_s']:.0f} img/s, {rec['seconds']:.1f} s)"
        )
        save_checkpoint(
            out,
            model,
            cfg,
            history=trainer.history,
            data_checksum=checksum,
            trainer_state=trainer.state(),
            complete=trainer.epoch >= cfg.epochs,
        )
    wall = time.perf_counter() - t_start
    ck = load_checkpoint(out)
    res = golden.run(ck.to_int_network(), tx)
    acc = golden.accuracy(res.predictions, ty)
    hist = trainer.history
    return {
        "checkpoint": str(out),
        "bits": name,
        "epochs": trainer.epoch,
        "complete": trainer.epoch >= cfg.epochs,
        "timesteps": cfg.timesteps,
        "hidden": list(cfg.hidden),
        "accuracy": acc,
        "images": int(len(ty)),
        "float_accuracy": hist[-1]["test_accuracy"] if hist else evaluate(model, tx, ty),
        "train_seconds": sum(h["seconds"] for h in hist),
        "wall_seconds": wall,
        "images_per_s_median": statistics.median(h["images_per_s"] for h in hist) if hist else None,
        "thresholds_int": ck.manifest["thresholds_int"],
        "scales": ck.manifest["scales"],
        "sparsity": ck.manifest["sparsity"],
        "history": hist,
    }


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
