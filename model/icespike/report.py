"""Accuracy report across bit widths, measured by the integer golden model.

    icespike report                     # writes reports/accuracy.md, accuracy.json and the plots
    make report                         # the same

For every committed model ``models/mnist-<sizes>-<width>.npz`` it runs the integer golden
model on the 10,000 test images (QAT accuracy), checks that the float64 training forward
pass predicts the same classes, and quantises the float model with the same quantisers
(post-training quantisation, PTQ) with the max-abs scale and with the seed's fixed Qm.n
scale. The 784-128-10 network has the first table (``rows``/``ptq`` of accuracy.json); every
other network found (e.g. 784-256-128-10) gets a table of its own, named, under it
(``networks`` in accuracy.json). If ``README.md`` has the markers ``<!-- accuracy-table -->`` ...
``<!-- /accuracy-table -->``, the table between them is replaced (nothing else is touched).
Files are written only when their content changes (:mod:`icespike.tracked`), and no run time
goes into them, so a run on an unchanged checkout leaves it clean.
"""

from __future__ import annotations

import argparse
import io
import json
import sys
from pathlib import Path

import numpy as np

from . import golden
from .checkpoint import load_checkpoint
from .data import load_mnist
from .quant import bits_name
from .tracked import TrackedWriter

# The project checkout (models/, reports/, README.md live there).
REPO = Path(__file__).resolve().parents[2]

WIDTHS = ("float", 16, 8, 4, 2, 1)
LABEL = {
    "float": "float",
    16: "16-bit (Q8.8 codes)",
    8: "8-bit (Q4.4 codes)",
    4: "4-bit (Q2.2 codes)",
    2: "ternary",
    1: "binary",
}
BASE_NETWORK = "784-128-10"
MARK_BEGIN = "<!-- accuracy-table -->"
MARK_END = "<!-- /accuracy-table -->"


def _golden_acc(net, x, y) -> tuple[float, np.ndarray, object]:
    r = golden.run(net, x)
    return golden.accuracy(r.predictions, y), r.predictions, r


def networks(models_dir: Path) -> list[str]:
    """The networks with committed checkpoints (``mnist-<sizes>-<width>.npz``), 784-128-10 first."""
    found = set()
    for bits in WIDTHS:
        suffix = f"-{bits_name(bits)}"
        for p in models_dir.glob(f"mnist-*{suffix}.npz"):
            found.add(p.stem.removeprefix("mnist-").removesuffix(suffix))
    return sorted(found, key=lambda n: (n != BASE_NETWORK, len(n.split("-")), n))


def measure(models_dir: Path, mnist, network: str = BASE_NETWORK) -> dict:
    x = mnist.test_images.reshape(len(mnist.test_images), -1)
    y = mnist.test_labels
    rows = {}
    float_ck = None
    for bits in WIDTHS:
        path = models_dir / f"mnist-{network}-{bits_name(bits)}.npz"
        if not path.is_file():
            print(f"report: {path} missing, skipped", file=sys.stderr)
            continue
        ck = load_checkpoint(path)
        if bits == "float":
            float_ck = ck
        model = ck.model()
        acc, pred, res = _golden_acc(ck.to_int_network(), x, y)
        fpred = model.predict(x)
        hist = ck.history
        rows[bits_name(bits)] = {
            "bits": bits_name(bits),
            "checkpoint": str(path.relative_to(REPO)) if path.is_relative_to(REPO) else str(path),
            "golden_accuracy": acc,
            "float_eval_accuracy": float((fpred == y).mean()),
            "agreement": float((fpred == pred).mean()),
            "disagreements": int((fpred != pred).sum()),
            "sparsity": ck.manifest["sparsity"],
            "thresholds_int": ck.manifest["thresholds_int"],
            "thresholds_float": ck.manifest["thresholds_float"],
            "scales": ck.manifest["scales"],
            "hidden_spikes_per_image": float(sum(c.sum(axis=1) for c in res.spike_counts).mean()),
            "timesteps": ck.timesteps,
            "epochs": len(hist),
            "init": (ck.config.init if ck.config else None),
            "train_seconds": float(sum(h["seconds"] for h in hist)),
            "history": [
                {k: h[k] for k in ("epoch", "loss", "train_accuracy", "test_accuracy")} for h in hist
            ],
        }
    ptq = {}
    if float_ck is not None:
        fm = float_ck.model()
        for bits in (16, 8, 4, 2, 1):
            entry = {}
            for scale in ("maxabs", "fixed"):
                if scale == "fixed" and bits not in (16, 8, 4):
                    continue
                try:
                    m = fm.with_bits(bits, scale=scale)
                    acc, _, _ = _golden_acc(m.to_int_network(), x, y)
                except ValueError as e:  # e.g. every weight rounds to zero on a coarse fixed grid
                    print(f"report: PTQ {bits_name(bits)} {scale}: {e}", file=sys.stderr)
                    acc = None
                entry[scale] = acc
            if bits == 2:
                m = fm.with_bits(2)
                entry["sparsity"] = [float((r.int_codes() == 0).mean()) for r in m.quantize()]
            ptq[bits_name(bits)] = entry
    return {
        "network": network,
        "rows": rows,
        "ptq": ptq,
        "images": int(len(y)),
        "data_checksum": mnist.checksum(),
    }


def _pct(v) -> str:
    return "n/a" if v is None else f"{100 * v:.2f}%"


def markdown(rep: dict, models_meta: dict) -> str:
    """The accuracy table of one network (``rep`` from :func:`measure`) with its notes."""
    rows, ptq = rep["rows"], rep["ptq"]
    network = rep.get("network", BASE_NETWORK)
    fl = rows.get("float")
    ref = fl["float_eval_accuracy"] if fl else None
    lines = [
        "| weights | QAT accuracy (golden model) | gap to float | PTQ max-abs | PTQ fixed Qm.n | "
        "train = golden | ternary sparsity (L0/L1) | integer threshold | spikes/image | T | epochs | "
        "training time (recorded) |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for bits in WIDTHS:
        name = bits_name(bits)
        r = rows.get(name)
        if r is None:
            continue
        if name == "float":
            acc = f"{_pct(r['float_eval_accuracy'])} (float64); {_pct(r['golden_accuracy'])} as q16 export"
            gap, p_max, p_fix = "-", "-", "-"
        else:
            acc = _pct(r["golden_accuracy"])
            gap = "-" if ref is None else f"{100 * (r['golden_accuracy'] - ref):+.2f}"
            p = ptq.get(name, {})
            p_max = _pct(p.get("maxabs"))
            p_fix = _pct(p.get("fixed")) if "fixed" in p else "-"
        agree = f"{r['disagreements']} of {rep['images']} differ"
        sp = "/".join(f"{100 * s:.1f}%" for s in r["sparsity"]) if name == "ternary" else "-"
        lines.append(
            f"| {LABEL[bits]} | {acc} | {gap} | {p_max} | {p_fix} | {agree} | {sp} | "
            f"{'/'.join(map(str, r['thresholds_int']))} | {r['hidden_spikes_per_image']:.1f} | {r['timesteps']} | "
            f"{r['epochs']}{' (from float)' if r['init'] else ''} | {r['train_seconds']:.0f} s |"
        )
    steps = [m.get("step_wall_seconds") for m in models_meta.get("models", {}).values()]
    total = sum(steps) if steps and None not in steps else None
    if network != BASE_NETWORK:
        return (
            "\n".join(
                [f"Network {network} (`icespike report`, same columns and rules as above):", ""]
                + lines
                + [
                    "",
                    f"Test set: {rep['images']} MNIST images; integer golden model (`icespike eval`); threshold "
                    "and spikes/image cover every hidden layer (thresholds per layer, spikes summed).",
                ]
                + (
                    [
                        f"All {len(steps)} models: `python scripts/models.py --recipe {models_meta['recipe']}`, "
                        f"{total / 60:.1f} min of training steps (sum of the per-model steps in "
                        f"models/models-{network}.json, steps run side by side each counted in full, "
                        "measured on the shared 2-core machine)."
                    ]
                    if total is not None and models_meta.get("recipe")
                    else []
                )
            )
            + "\n"
        )
    notes = [
        "",
        f"Test set: {rep['images']} MNIST images; network {network}, no biases, leak shift 4, reset by "
        "subtraction; every QAT and PTQ accuracy is the integer golden model's (`icespike eval`).",
        "The float row is the unquantised model in float64 (not a hardware model); `icespike eval` of the "
        'float checkpoint runs its 16-bit max-abs export. "train = golden" counts test images where the '
        "training forward pass and the golden model predict differently.",
        "PTQ: the float model's weights and threshold quantised with the same quantisers, no retraining "
        "(max-abs scale; fixed Qm.n = the seed's s = 2^-n).",
    ]
    if total is not None:
        notes.append(
            f"All six models: `make models` (`scripts/models.py`), {total / 60:.1f} min wall time in all "
            "(sum of the per-model steps in models/models.json, measured on the shared 2-core machine)."
        )
    notes.append(
        "Training time (recorded): the sum of the epoch times stored in each checkpoint when it was "
        "trained, on the shared 2-core machine with other jobs running (ternary and binary side by "
        "side, with data augmentation); not a benchmark. Training throughput: `make bench` "
        "(docs/training.md, Speed)."
    )
    return "\n".join(lines + notes) + "\n"


def _png(fig) -> bytes:
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=110)
    return buf.getvalue()


def plots(reps: list[dict]) -> dict[str, bytes]:
    """The two figures over every measured network (``reps``) as PNG bytes:
    ``accuracy_vs_bits.png`` and ``training_curves.png``. One colour per network in the first,
    one colour per width and one line style per network in the second."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    out = {}
    names = [bits_name(b) for b in (16, 8, 4, 2, 1)]
    xs = [16, 8, 4, 2, 1]
    ticks = ["16", "8", "4", "2\n(ternary)", "1\n(binary)"]
    several = len(reps) > 1
    fig, (ax, az) = plt.subplots(1, 2, figsize=(11, 4.4), gridspec_kw={"width_ratios": [1, 1]})
    every, zoomed = [], []
    for k, rep in enumerate(reps):
        rows, ptq = rep["rows"], rep["ptq"]
        tag = f"{rep.get('network', BASE_NETWORK)} " if several else ""
        ref = 100 * rows["float"]["float_eval_accuracy"] if "float" in rows else None
        q = [(x, 100 * rows[n]["golden_accuracy"]) for x, n in zip(xs, names) if n in rows]
        p = [
            (x, 100 * ptq[n]["maxabs"])
            for x, n in zip(xs, names)
            if n in ptq and ptq[n].get("maxabs") is not None
        ]
        if q:
            ax.plot(*zip(*q), "o-", color=f"C{k}", label=f"{tag}QAT (golden model)")
        if p:
            ax.plot(*zip(*p), "s--", color=f"C{k}", alpha=0.6, label=f"{tag}PTQ max-abs (golden model)")
            for a, b in p:
                ax.annotate(
                    f"{b:.2f}",
                    (a, b),
                    textcoords="offset points",
                    xytext=(0, -14),
                    ha="center",
                    fontsize=8,
                    color=f"C{k}",
                )
        if ref is not None:
            ax.axhline(ref, color=f"C{k}", ls=":", label=f"{tag}float (float64) {ref:.2f}")
        every += q + p
        # Zoomed panel: the QAT gaps to the float model, a fraction of a point each.
        if q:
            # same left-to-right order as the first panel: 1 (binary) ... 16 bits
            lab = [t for x, t in zip(xs, ticks) if bits_name(x) in rows][::-1]
            acc = [b for _, b in q][::-1]
            pos = list(range(len(acc)))
            az.plot(pos, acc, "o-", color=f"C{k}", label=f"{tag}QAT (golden model)")
            for i, b in zip(pos, acc):
                gap = "" if ref is None else f"\n({b - ref:+.2f})"
                below = ref is not None and b < ref
                az.annotate(
                    f"{b:.2f}{gap}",
                    (i, b),
                    textcoords="offset points",
                    xytext=(0, -26 if below else 7),
                    ha="center",
                    fontsize=8,
                    color=f"C{k}",
                )
            if ref is not None:
                az.axhline(ref, color=f"C{k}", ls=":", label=f"{tag}float (float64) {ref:.2f}")
            zoomed += acc + ([ref] if ref is not None else [])
            az.set_xticks(pos, lab)
            az.set_xlim(-0.5, len(pos) - 0.5)
    ax.set_xscale("log", base=2)
    ax.set_xticks(xs, ticks)
    ax.set_xlabel("weight bits")
    ax.set_ylabel("MNIST test accuracy (%)")
    lo = min([b for _, b in every] + [90.0])
    ax.set_ylim(max(lo - 3, 0), 100.5)
    ax.grid(alpha=0.3)
    ax.legend(loc="lower right", fontsize="small" if several else None)
    ax.set_title("QAT vs post-training quantisation")
    if zoomed:
        az.set_ylim(min(zoomed) - 0.35, max(zoomed) + 0.35)
        az.set_xlabel("weight bits")
        az.set_ylabel("MNIST test accuracy (%)")
        az.grid(alpha=0.3)
        az.legend(loc="lower right", fontsize="small" if several else None)
        az.set_title("QAT only, zoomed: accuracy (gap to float, points)")
    nets = ", ".join(rep.get("network", BASE_NETWORK) for rep in reps)
    fig.suptitle(f"{nets} SNN, T=16, 10,000 test images: accuracy vs weight precision")
    fig.tight_layout()
    out["accuracy_vs_bits.png"] = _png(fig)
    plt.close(fig)

    fig, (a1, a2) = plt.subplots(1, 2, figsize=(11, 4.4))
    for k, rep in enumerate(reps):
        tag = f"{rep.get('network', BASE_NETWORK)} " if several else ""
        for name, r in rep["rows"].items():
            h = r["history"]
            if not h:
                continue
            ep = [e["epoch"] for e in h]
            label = tag + (name if not r.get("init") else f"{name} (from float)")
            # one colour per width, one line style per network
            style = dict(color=f"C{[bits_name(b) for b in WIDTHS].index(name)}", ls="-" if k == 0 else "--")
            a1.plot(ep, [100 * e["test_accuracy"] for e in h], label=label, **style)
            a2.plot(ep, [e["loss"] for e in h], label=label, **style)
    a1.set_xlabel("epoch")
    a1.set_ylabel("test accuracy (%)")
    a1.set_ylim(94, 99)
    a1.grid(alpha=0.3)
    a1.legend(fontsize=7 if several else 8, loc="lower right")
    a1.set_title("test accuracy (training forward pass)")
    a2.set_xlabel("epoch")
    a2.set_ylabel("training loss")
    a2.set_yscale("log")
    a2.grid(alpha=0.3)
    a2.legend(fontsize=8, loc="best")
    a2.set_title("training loss")
    fig.text(
        0.5,
        0.01,
        'The quantised runs ("from float") start from the trained float model\'s weights '
        "(icespike train --init), not from random ones; the float run starts from random weights.",
        ha="center",
        fontsize=8,
    )
    fig.tight_layout(rect=(0, 0.04, 1, 1))
    out["training_curves.png"] = _png(fig)
    plt.close(fig)
    return out


def build(
    models: Path = REPO / "models",
    out: Path = REPO / "reports",
    data: Path | None = None,
    readme: Path | None = REPO / "README.md",
) -> dict:
    """Measure every committed model, write ``out``/accuracy.md, accuracy.json and the plots.

    Replaces the table between the accuracy markers of ``readme`` (None: leave it alone).
    Only files whose content changed are written. Returns ``{"table": markdown, "report":
    measured rows, "written": [files rewritten], "unchanged": [files left as they were],
    "summary": one line naming them}``.
    """
    mnist = load_mnist(data)
    nets = networks(models)
    if not nets:
        raise ValueError(f"no models in {models} (train them with `make models`)")
    reps = [measure(models, mnist, net) for net in nets]
    tables = []
    for r in reps:
        net = r["network"]
        meta_path = models / ("models.json" if net == BASE_NETWORK else f"models-{net}.json")
        meta = json.loads(meta_path.read_text()) if meta_path.is_file() else {}
        tables.append(markdown(r, meta))
    # accuracy.json keeps the first network's rows at the top (as before), the others by name
    rep = dict(reps[0])
    if len(reps) > 1:
        rep["networks"] = {r["network"]: r for r in reps[1:]}
    table = "\n".join(tables)
    w = TrackedWriter("report")
    w.write(
        out / "accuracy.md",
        "# Accuracy across weight precisions\n\n"
        "Generated by `icespike report` (`make report`) from the committed models (`make models`).\n\n"
        + table
        + "\n![accuracy vs bits](accuracy_vs_bits.png)\n\n![training curves](training_curves.png)\n",
    )
    w.write(out / "accuracy.json", json.dumps(rep, indent=1) + "\n")
    for name, png in plots(reps).items():
        w.write(out / name, png)
    if readme is not None and readme.is_file() and MARK_BEGIN in readme.read_text():
        w.between_markers(readme, table, MARK_BEGIN, MARK_END)
    return {
        "table": table,
        "report": rep,
        "written": [str(p) for p in w.rewritten],
        "unchanged": [str(p) for p in w.unchanged],
        "summary": w.summary(),
    }


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--models", type=Path, default=REPO / "models")
    ap.add_argument("--out", type=Path, default=REPO / "reports")
    ap.add_argument("--data", type=Path, default=None)
    ap.add_argument("--readme", type=Path, default=REPO / "README.md")
    ap.add_argument("--no-readme", action="store_true")
    args = ap.parse_args(argv)
    res = build(args.models, args.out, args.data, None if args.no_readme else args.readme)
    print(res["summary"], file=sys.stderr)
    print(res["table"])
    return 0
