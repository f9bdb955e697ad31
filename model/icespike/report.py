"""Accuracy report across bit widths, measured by the integer golden model.

    icespike report                     # writes reports/accuracy.md, accuracy.json and the plots
    make report                         # the same

For every committed model ``models/mnist-784-128-10-<width>.npz`` it runs the integer golden
model on the 10,000 test images (QAT accuracy), checks that the float64 training forward
pass predicts the same classes, and quantises the float model with the same quantisers
(post-training quantisation, PTQ) with the max-abs scale and with the seed's fixed Qm.n
scale. If ``README.md`` has the markers ``<!-- accuracy-table -->`` ...
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
MARK_BEGIN = "<!-- accuracy-table -->"
MARK_END = "<!-- /accuracy-table -->"


def _golden_acc(net, x, y) -> tuple[float, np.ndarray, object]:
    r = golden.run(net, x)
    return golden.accuracy(r.predictions, y), r.predictions, r


def measure(models_dir: Path, mnist) -> dict:
    x = mnist.test_images.reshape(len(mnist.test_images), -1)
    y = mnist.test_labels
    rows = {}
    float_ck = None
    for bits in WIDTHS:
        path = models_dir / f"mnist-784-128-10-{bits_name(bits)}.npz"
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
            "hidden_spikes_per_image": float(res.spike_counts[0].sum(axis=1).mean()),
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
    return {"rows": rows, "ptq": ptq, "images": int(len(y)), "data_checksum": mnist.checksum()}


def _pct(v) -> str:
    return "n/a" if v is None else f"{100 * v:.2f}%"


def markdown(rep: dict, models_meta: dict) -> str:
    rows, ptq = rep["rows"], rep["ptq"]
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
            f"{r['thresholds_int'][0]} | {r['hidden_spikes_per_image']:.1f} | {r['timesteps']} | "
            f"{r['epochs']}{' (from float)' if r['init'] else ''} | {r['train_seconds']:.0f} s |"
        )
    steps = [m.get("step_wall_seconds") for m in models_meta.get("models", {}).values()]
    total = sum(steps) if steps and None not in steps else None
    notes = [
        "",
        f"Test set: {rep['images']} MNIST images; network 784-128-10, no biases, leak shift 4, reset by "
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


def plots(rep: dict) -> dict[str, bytes]:
    """The two figures as PNG bytes: ``accuracy_vs_bits.png`` and ``training_curves.png``."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    rows, ptq = rep["rows"], rep["ptq"]
    out = {}
    names = [bits_name(b) for b in (16, 8, 4, 2, 1)]
    xs = [16, 8, 4, 2, 1]
    ticks = ["16", "8", "4", "2\n(ternary)", "1\n(binary)"]
    ref = 100 * rows["float"]["float_eval_accuracy"] if "float" in rows else None
    fig, (ax, az) = plt.subplots(1, 2, figsize=(11, 4.4), gridspec_kw={"width_ratios": [1, 1]})
    q = [(x, 100 * rows[n]["golden_accuracy"]) for x, n in zip(xs, names) if n in rows]
    p = [
        (x, 100 * ptq[n]["maxabs"])
        for x, n in zip(xs, names)
        if n in ptq and ptq[n].get("maxabs") is not None
    ]
    if q:
        ax.plot([a for a, _ in q], [b for _, b in q], "o-", label="QAT (golden model)")
    if p:
        ax.plot([a for a, _ in p], [b for _, b in p], "s--", label="PTQ max-abs (golden model)")
        for a, b in p:
            ax.annotate(
                f"{b:.2f}", (a, b), textcoords="offset points", xytext=(0, -14), ha="center", fontsize=8
            )
    if ref is not None:
        ax.axhline(ref, color="gray", ls=":", label=f"float (float64) {ref:.2f}")
    ax.set_xscale("log", base=2)
    ax.set_xticks(xs, ticks)
    ax.set_xlabel("weight bits")
    ax.set_ylabel("MNIST test accuracy (%)")
    lo = min([b for _, b in q + p] + [90.0])
    ax.set_ylim(max(lo - 3, 0), 100.5)
    ax.grid(alpha=0.3)
    ax.legend(loc="lower right")
    ax.set_title("QAT vs post-training quantisation")
    # Zoomed panel: the QAT gaps to the float model, a fraction of a point each.
    if q:
        # same left-to-right order as the first panel: 1 (binary) ... 16 bits
        lab = [t for x, t in zip(xs, ticks) if bits_name(x) in rows][::-1]
        acc = [b for _, b in q][::-1]
        pos = list(range(len(acc)))
        az.plot(pos, acc, "o-", color="C0", label="QAT (golden model)")
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
            )
        if ref is not None:
            az.axhline(ref, color="gray", ls=":", label=f"float (float64) {ref:.2f}")
        vals = acc + ([ref] if ref is not None else [])
        az.set_ylim(min(vals) - 0.35, max(vals) + 0.35)
        az.set_xticks(pos, lab)
        az.set_xlim(-0.5, len(pos) - 0.5)
        az.set_xlabel("weight bits")
        az.set_ylabel("MNIST test accuracy (%)")
        az.grid(alpha=0.3)
        az.legend(loc="lower right")
        az.set_title("QAT only, zoomed: accuracy (gap to float, points)")
    fig.suptitle("784-128-10 SNN, T=16, 10,000 test images: accuracy vs weight precision")
    fig.tight_layout()
    out["accuracy_vs_bits.png"] = _png(fig)
    plt.close(fig)

    fig, (a1, a2) = plt.subplots(1, 2, figsize=(11, 4.4))
    for name, r in rows.items():
        h = r["history"]
        if not h:
            continue
        ep = [e["epoch"] for e in h]
        label = name if not r.get("init") else f"{name} (from float)"
        a1.plot(ep, [100 * e["test_accuracy"] for e in h], label=label)
        a2.plot(ep, [e["loss"] for e in h], label=label)
    a1.set_xlabel("epoch")
    a1.set_ylabel("test accuracy (%)")
    a1.set_ylim(94, 99)
    a1.grid(alpha=0.3)
    a1.legend(fontsize=8, loc="lower right")
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
    rep = measure(models, mnist)
    if not rep["rows"]:
        raise ValueError(f"no models in {models} (train them with `make models`)")
    meta_path = models / "models.json"
    meta = json.loads(meta_path.read_text()) if meta_path.is_file() else {}
    table = markdown(rep, meta)
    w = TrackedWriter("report")
    w.write(
        out / "accuracy.md",
        "# Accuracy across weight precisions\n\n"
        "Generated by `icespike report` (`make report`) from the committed models (`make models`).\n\n"
        + table
        + "\n![accuracy vs bits](accuracy_vs_bits.png)\n\n![training curves](training_curves.png)\n",
    )
    w.write(out / "accuracy.json", json.dumps(rep, indent=1) + "\n")
    for name, png in plots(rep).items():
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
