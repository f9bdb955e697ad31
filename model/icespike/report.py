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
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np

from . import golden
from .checkpoint import load_checkpoint
from .data import load_mnist
from .quant import bits_name

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
        t0 = time.perf_counter()
        acc, pred, res = _golden_acc(ck.to_int_network(), x, y)
        t_golden = time.perf_counter() - t0
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
            "golden_seconds": t_golden,
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
        "train = golden | ternary sparsity (L0/L1) | integer threshold | spikes/image | T | epochs | training time |",
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
            f"All six models: `python scripts/models.py`, {total / 60:.1f} min wall time in all "
            "(sum of the per-model steps in models/models.json, measured on the shared 2-core machine)."
        )
    return "\n".join(lines + notes) + "\n"


def plots(reps: list[dict], out_dir: Path) -> list[Path]:
    """accuracy_vs_bits.png and training_curves.png over every measured network (``reps``)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    written = []
    names = [bits_name(b) for b in (16, 8, 4, 2, 1)]
    xs = [16, 8, 4, 2, 1]
    fig, ax = plt.subplots(figsize=(6.4, 4.2))
    every = []
    several = len(reps) > 1
    for k, rep in enumerate(reps):
        rows, ptq = rep["rows"], rep["ptq"]
        tag = f"{rep.get('network', BASE_NETWORK)} " if several else ""
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
        if "float" in rows:
            ax.axhline(
                100 * rows["float"]["float_eval_accuracy"],
                color=f"C{k}",
                ls=":",
                label=f"{tag}float (float64)",
            )
        every += q + p
    ax.set_xscale("log", base=2)
    ax.set_xticks(xs, ["16", "8", "4", "2\n(ternary)", "1\n(binary)"])
    ax.set_xlabel("weight bits")
    ax.set_ylabel("MNIST test accuracy (%)")
    lo = min([b for _, b in every] + [90.0])
    ax.set_ylim(max(lo - 1, 0), 100)
    ax.grid(alpha=0.3)
    ax.legend(loc="lower right", fontsize="small" if several else None)
    nets = ", ".join(rep.get("network", BASE_NETWORK) for rep in reps)
    ax.set_title(f"{nets} SNN, T=16: accuracy vs weight precision")
    fig.tight_layout()
    path = out_dir / "accuracy_vs_bits.png"
    fig.savefig(path, dpi=110)
    plt.close(fig)
    written.append(path)

    fig, (a1, a2) = plt.subplots(1, 2, figsize=(10, 4))
    for k, rep in enumerate(reps):
        tag = f"{rep.get('network', BASE_NETWORK)} " if several else ""
        for name, r in rep["rows"].items():
            h = r["history"]
            if not h:
                continue
            ep = [e["epoch"] for e in h]
            # one colour per width, one line style per network
            style = dict(color=f"C{[bits_name(b) for b in WIDTHS].index(name)}", ls="-" if k == 0 else "--")
            a1.plot(ep, [100 * e["test_accuracy"] for e in h], label=f"{tag}{name}", **style)
            a2.plot(ep, [e["loss"] for e in h], label=f"{tag}{name}", **style)
    a1.set_xlabel("epoch")
    a1.set_ylabel("test accuracy (%)")
    a1.set_ylim(94, 99)
    a1.grid(alpha=0.3)
    a1.legend(fontsize="small" if several else None)
    a1.set_title("test accuracy (training forward pass)")
    a2.set_xlabel("epoch")
    a2.set_ylabel("training loss")
    a2.set_yscale("log")
    a2.grid(alpha=0.3)
    a2.set_title("training loss")
    fig.tight_layout()
    path = out_dir / "training_curves.png"
    fig.savefig(path, dpi=110)
    plt.close(fig)
    written.append(path)
    return written


def update_readme(readme: Path, table: str) -> bool:
    if not readme.is_file():
        return False
    text = readme.read_text()
    i, j = text.find(MARK_BEGIN), text.find(MARK_END)
    if i < 0 or j < 0 or j < i:
        return False
    new = text[: i + len(MARK_BEGIN)] + "\n" + table + text[j:]
    if new != text:
        readme.write_text(new)
    return True


def build(
    models: Path = REPO / "models",
    out: Path = REPO / "reports",
    data: Path | None = None,
    readme: Path | None = REPO / "README.md",
) -> dict:
    """Measure every committed model, write ``out``/accuracy.md, accuracy.json and the plots.

    Replaces the table between the accuracy markers of ``readme`` (None: leave it alone).
    Returns ``{"table": markdown, "report": measured rows, "written": [paths]}``.
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
    out.mkdir(parents=True, exist_ok=True)
    table = "\n".join(tables)
    (out / "accuracy.md").write_text(
        "# Accuracy across weight precisions\n\n"
        "Generated by `icespike report` (`make report`) from the committed models (`make models`).\n\n"
        + table
        + "\n![accuracy vs bits](accuracy_vs_bits.png)\n\n![training curves](training_curves.png)\n"
    )
    (out / "accuracy.json").write_text(json.dumps(rep, indent=1) + "\n")
    written = [out / "accuracy.md", out / "accuracy.json", *plots(reps, out)]
    if readme is not None and update_readme(readme, table):
        written.append(readme)
    return {"table": table, "report": rep, "written": [str(p) for p in written]}


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--models", type=Path, default=REPO / "models")
    ap.add_argument("--out", type=Path, default=REPO / "reports")
    ap.add_argument("--data", type=Path, default=None)
    ap.add_argument("--readme", type=Path, default=REPO / "README.md")
    ap.add_argument("--no-readme", action="store_true")
    args = ap.parse_args(argv)
    res = build(args.models, args.out, args.data, None if args.no_readme else args.readme)
    for p in res["written"]:
        print(f"report: wrote {p}", file=sys.stderr)
    print(res["table"])
    return 0
