"""``icespike nir``: import a NIR graph as an icespike checkpoint, or export a checkpoint as NIR.

``icespike nir import GRAPH.nir --bits B [--finetune EPOCHS] [--out CKPT]`` maps the graph onto
the contract (icespike.nir, docs/nir.md), quantises it (PTQ) or fine-tunes it with QAT on MNIST,
and writes an ordinary checkpoint that ``export``, ``sim`` and ``synth`` take unchanged. It
reports the accuracy of a float simulation of the graph's own semantics next to the integer
golden model's. ``icespike nir export CKPT --out GRAPH.nir`` writes the integer network as NIR.
"""

from __future__ import annotations

import argparse
import hashlib
import time
from pathlib import Path

from .. import golden, progress
from ..checkpoint import load_checkpoint, save_checkpoint
from ..data import default_data_dir, load_mnist
from ..nir import EXPORTERS, float_accuracy, read_graph, to_graph, to_model
from ..quant import bits_name, parse_bits
from ..train import TrainConfig, Trainer, evaluate
from . import UserError, add_parser, emit

__all__ = ["register", "run"]


def register(subparsers) -> None:
    p = add_parser(subparsers, "nir", help="import a NIR graph as a checkpoint, or export one as NIR")
    sub = p.add_subparsers(dest="nir_command", metavar="ACTION", required=True)
    im = add_parser(sub, "import", help="map a NIR graph onto the contract; PTQ or QAT fine-tune")
    im.add_argument(
        "graph", type=Path, metavar="GRAPH.nir", help="NIR file (Input -> Affine -> LIF -> Affine -> Output)"
    )
    im.add_argument("--bits", required=True, help="weight precision: 16, 8, 4, 2 (ternary), 1 (binary)")
    im.add_argument(
        "--finetune", type=int, default=0, metavar="EPOCHS", help="QAT epochs on MNIST (0: PTQ only)"
    )
    im.add_argument(
        "--out", type=Path, default=None, metavar="CKPT", help="checkpoint (default build/nir/NAME_BITS.npz)"
    )
    im.add_argument(
        "--timesteps",
        type=int,
        default=None,
        help="time steps (default: the graph's icespike metadata, else 16)",
    )
    im.add_argument(
        "--reset",
        choices=("subtract", "zero"),
        default=None,
        help="reset mechanism (not in NIR; default: the graph's icespike metadata, else the exporter's: "
        "subtract for snnTorch and SpikingJelly, zero for Norse)",
    )
    im.add_argument(
        "--exporter",
        choices=EXPORTERS,
        default="snntorch",
        help="the tool that wrote the graph (they write tau, r and dt differently; docs/nir.md)",
    )
    im.add_argument(
        "--dt",
        type=float,
        default=None,
        help="time step the exporter used (default: tau / r for snnTorch, 1e-3 for Norse; SpikingJelly needs it)",
    )
    im.add_argument("--lr", type=float, default=5e-3, help="fine-tune learning rate (cosine to 0)")
    im.add_argument(
        "--gain",
        type=float,
        default=None,
        help="fine-tune logit gain (default 1/T: the loss sees the mean output per step, as snnTorch scripts train)",
    )
    im.add_argument(
        "--data",
        type=Path,
        default=None,
        metavar="DIR",
        help=f"MNIST directory (default {default_data_dir()})",
    )
    im.set_defaults(func=run_import)
    ex = add_parser(sub, "export", help="write a checkpoint's integer network as a NIR graph")
    ex.add_argument(
        "checkpoint", type=Path, metavar="CKPT", help="icespike checkpoint (.npz with its manifest)"
    )
    ex.add_argument("--out", type=Path, required=True, metavar="GRAPH.nir", help="NIR file to write")
    ex.set_defaults(func=run_export)
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    return run_import(args) if args.nir_command == "import" else run_export(args)


def run_import(args: argparse.Namespace) -> int:
    try:
        bits = parse_bits(args.bits)
    except ValueError as e:
        raise UserError(f"--bits: {e}") from None
    if bits == "float":
        raise UserError("--bits must be 16, 8, 4, 2 or 1: the engine runs integer codes")
    if args.finetune < 0:
        raise UserError(f"--finetune must be >= 0, got {args.finetune}")
    if args.timesteps is not None and not 1 <= args.timesteps <= 255:
        raise UserError(f"--timesteps must be 1..255, got {args.timesteps}")
    imp = read_graph(
        args.graph, timesteps=args.timesteps, reset=args.reset, dt=args.dt, exporter=args.exporter
    )
    out = args.out or Path("build") / "nir" / f"{args.graph.stem}_{bits_name(bits)}.npz"
    m = load_mnist(args.data)
    tx = m.test_images.reshape(len(m.test_images), -1)
    ty = m.test_labels
    t0 = time.perf_counter()
    float_acc = float_accuracy(imp, tx, ty)
    float_accuracy_timed = time.perf_counter() - t0
    model = to_model(imp, bits)
    model.gain = args.gain if args.gain is not None else 1.0 / imp.timesteps
    ptq_net = model.to_int_network()
    ptq_acc = golden.accuracy(golden.run(ptq_net, tx).predictions, ty)
    progress.log(f"nir import: float simulation {float_acc:.4f}, PTQ {bits_name(bits)} golden {ptq_acc:.4f}")
    cfg = None
    history: list = []
    t1 = time.perf_counter()
    if args.finetune:
        cfg = TrainConfig(
            bits=bits,
            epochs=args.finetune,
            timesteps=imp.timesteps,
            hidden=(imp.sizes[1],),
            leak_shift=imp.leak_shift,
            reset=imp.reset,
            lr=args.lr,
            gain=model.gain,
            init=str(args.graph),
        )
        trainer = Trainer(model, cfg)
        x, y = m.train_images.reshape(len(m.train_images), -1), m.train_labels
        for e in range(args.finetune):
            with progress.bar(
                total=len(x), desc=f"finetune {e + 1}/{args.finetune}", unit="img", unit_scale=True
            ) as pb:
                rec = trainer.train_epoch(x, y, progress=lambda k, _s, pb=pb: pb.update(k))
            rec["test_accuracy"] = evaluate(model, tx, ty)
            trainer.history.append(rec)
            progress.log(f"finetune epoch {e + 1}: loss {rec['loss']:.4f} test {rec['test_accuracy']:.4f}")
        history = trainer.history
    finetune_s = time.perf_counter() - t1
    source = {
        "graph": str(args.graph),
        "sha256": hashlib.sha256(args.graph.read_bytes()).hexdigest(),
        "mapping": imp.report,
        "float_accuracy": float_acc,
        "ptq_golden_accuracy": ptq_acc,
    }
    save_checkpoint(out, model, cfg, history=history, extra={"nir": source})
    ck = load_checkpoint(out)
    net = ck.to_int_network()
    acc = golden.accuracy(golden.run(net, tx).predictions, ty)
    result = {
        "checkpoint": str(out),
        "graph": str(args.graph),
        "bits": bits_name(bits),
        "mapping": imp.report,
        "float_accuracy": float_acc,
        "ptq_golden_accuracy": ptq_acc,
        "finetune_epochs": args.finetune,
        "golden_accuracy": acc,
        "threshold": int(net.layers[0].threshold),
        "leak_shift": int(net.layers[0].leak_shift),
        "widths": {"acc": net.acc_width(0), "mem": net.mem_width(0), "score": net.score_width()},
        "seconds": {"float_simulation": float_accuracy_timed, "finetune": finetune_s},
    }
    emit(args, result, _import_text)
    return 0


def _import_text(r: dict) -> str:
    mp = r["mapping"]
    lines = [
        f"imported {r['graph']} -> {r['checkpoint']}",
        f"  graph      {' -> '.join(mp['nodes'])}",
        f"  neuron     {mp['neuron']}, beta {mp['beta']['mean']:.6g} -> leak shift {mp['leak_shift']} "
        f"(beta {mp['beta_engine']:.6g}, error {mp['beta_error_max']:.3g}); reset {mp['reset']}; "
        f"biases {'yes' if mp['biases'] else 'no'}; T={mp['timesteps']}",
        f"  integer    threshold {r['threshold']}, widths current {r['widths']['acc']} membrane {r['widths']['mem']} "
        f"score {r['widths']['score']}",
        f"  accuracy   float simulation of the graph {r['float_accuracy']:.4f}",
        f"             {r['bits']} PTQ golden model    {r['ptq_golden_accuracy']:.4f}",
    ]
    if r["finetune_epochs"]:
        lines.append(
            f"             {r['bits']} after {r['finetune_epochs']} QAT epochs {r['golden_accuracy']:.4f}"
        )
    for k in ("readout_note", "reset_note"):
        if k in mp:
            lines.append(f"  note       {mp[k]}")
    return "\n".join(lines)


def run_export(args: argparse.Namespace) -> int:
    import nir  # noqa: PLC0415 - the verb's own dependency

    ck = load_checkpoint(args.checkpoint)
    net = ck.to_int_network()
    graph = to_graph(net, ck.manifest["scales"])
    out = Path(args.out)
    if out.suffix != ".nir":
        raise UserError(f"--out {out}: a NIR file name ends in .nir")
    out.parent.mkdir(parents=True, exist_ok=True)
    nir.write(str(out), graph)
    back = to_model(read_graph(out), ck.bits if ck.bits != "float" else 16).to_int_network()
    same = _same_network(net, back)
    result = {
        "checkpoint": str(args.checkpoint),
        "out": str(out),
        "bytes": out.stat().st_size,
        "sizes": net.sizes,
        "biases": net.has_bias,
        "round_trip_identical": same,
    }
    emit(
        args,
        result,
        lambda r: (
            f"wrote {r['out']} ({r['bytes']} bytes); re-import gives the same integer network: {r['round_trip_identical']}"
        ),
    )
    return 0 if same else 1


def _same_network(a, b) -> bool:
    """True if two integer networks have the same codes, thresholds, leaks, resets and biases."""
    import numpy as np  # noqa: PLC0415

    if a.sizes != b.sizes or a.timesteps != b.timesteps or a.has_bias != b.has_bias:
        return False
    for la, lb in zip(a.layers, b.layers):
        if la.bits != lb.bits or not np.array_equal(la.codes, lb.codes):
            return False
        if (la.threshold, la.leak_shift, la.reset if la.threshold else None) != (
            lb.threshold,
            lb.leak_shift,
            lb.reset if lb.threshold else None,
        ):
            return False
        if la.has_bias and not np.array_equal(la.bias, lb.bias):
            return False
    return True
