"""A training run: settings and data in, a resumable checkpoint after every epoch out.

The library behind ``icespike train``, ``scripts/models.py`` and every ``icespike sweep`` trial
(one flow, three callers): :func:`run_training` trains per a :class:`icespike.train.TrainConfig`
and measures the result with the integer golden model; :func:`publish_checkpoint` writes the
copy of a finished run that the repository keeps (no optimiser state) and measures it again.
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np

from . import golden, progress
from .checkpoint import load_checkpoint, provenance, save_checkpoint
from .data import load_mnist
from .quant import bits_name
from .train import SNNModel, TrainConfig, Trainer, evaluate, spike_rates

__all__ = ["run_training", "publish_checkpoint", "checkpoint_name"]


def checkpoint_name(bits, hidden) -> str:
    """File name of a model checkpoint: ``mnist-784-<hidden...>-10-<bits>.npz``."""
    sizes = "-".join(str(int(h)) for h in (784, *hidden, 10))
    return f"mnist-{sizes}-{bits_name(bits)}.npz"


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
    on_epoch: Callable[[dict], bool | None] | None = None,
    on_batch: Callable[[int, dict], None] | None = None,
) -> dict:
    """Train per ``cfg``, save the checkpoint at ``out`` after every epoch; returns a summary dict.

    ``stop_after``: run at most this many epochs now (the checkpoint stays resumable).
    ``on_epoch(rec)``: called after each epoch's checkpoint is saved with the epoch's record
    (loss, train/test accuracy, images/s, seconds, lr, and ``spike_rates``: mean spikes per
    neuron per time step of each hidden layer on the first 1,000 test images); returning False
    stops the run there (resumable). A sweep hands the checkpoint to Ray Tune there, so that an
    interrupted trial resumes at that epoch; the Studio streams the record.
    ``on_batch(done, stats)``: called after every batch with the images done in this epoch and
    the running loss/acc/img/s; an exception it raises aborts the run, keeping the checkpoint of
    the last finished epoch.
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
            biases=ck.model().biases,
            **model_kw,
        )
    elif init is not None:
        ck = load_checkpoint(init)
        if ck.manifest["sizes"] != sizes:
            raise ValueError(f"--init {init}: layer sizes {ck.manifest['sizes']} differ from {sizes}")
        cfg.init = provenance(init, ck.manifest["arrays_sha256"])
        model = SNNModel(
            sizes,
            cfg.bits,
            weights=[ck.arrays[f"w{i}"] for i in range(len(sizes) - 1)],
            theta_f=ck.manifest["thresholds_float"],
            biases=ck.model().biases,
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
            done = [0]

            def tick(k, stats, pb=pb, done=done):
                pb.update(k)
                done[0] += k
                if on_batch is not None:
                    on_batch(done[0], stats)
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
        if on_epoch is not None:
            if on_epoch({**rec, "spike_rates": spike_rates(model, tx[:1000])}) is False:
                break
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


def publish_checkpoint(work: str | Path, final: str | Path, mnist, *, extra: dict | None = None) -> dict:
    """Copy the finished run ``work`` to ``final`` without optimiser state; measure the copy.

    Returns the entry ``models/models.json`` keeps for it: bits, epochs, init, the golden-model
    and float64 accuracies on the test set and the training time of its history.
    """
    ck = load_checkpoint(work)
    if not ck.manifest["complete"]:
        raise ValueError(f"{work}: training is not complete ({ck.manifest['epochs_done']} epochs done)")
    save_checkpoint(
        final,
        ck.model(),
        ck.config,
        history=ck.history,
        data_checksum=ck.manifest["data_checksum"],
        extra=extra,
    )
    ck = load_checkpoint(final)
    x = mnist.test_images.reshape(len(mnist.test_images), -1)
    res = golden.run(ck.to_int_network(), x)
    return {
        "bits": ck.bits_name,
        "epochs": len(ck.history),
        "init": ck.config.init,
        "golden_accuracy": golden.accuracy(res.predictions, mnist.test_labels),
        "float_eval_accuracy": ck.evaluate_float(x, mnist.test_labels),
        "train_seconds": sum(h["seconds"] for h in ck.history),
    }
