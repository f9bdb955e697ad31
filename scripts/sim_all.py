#!/usr/bin/env python3
"""RTL = golden model on the whole MNIST test set, for every committed quantised model.

    python scripts/sim_all.py [--images 10000] [--simulator verilator] [--lif-lanes 1]

Runs ``icespike sim`` (the file-driven Verilator harness, no per-cycle Python) for every
committed models/mnist-<sizes>-{binary,ternary,q4,q8,q16}.npz the engine runs; a network it
cannot run (more than one hidden layer) is skipped with the export's reason, printed and noted
under the table. Writes reports/rtlsim.json and
reports/rtlsim.md, and replaces the table between ``<!-- rtlsim-table -->`` and
``<!-- /rtlsim-table -->`` in README.md. Exits 1 if any image mismatches or any measured
cycle count differs from the analytic cycle model.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "model"))

from icespike.export import ExportError, engine_params, load_network  # noqa: E402
from icespike.synth import replace_between_markers  # noqa: E402

WIDTHS = ("binary", "ternary", "q4", "q8", "q16")
BEGIN, END = "<!-- rtlsim-table -->", "<!-- /rtlsim-table -->"


def table(rows: list[dict]) -> str:
    head = (
        "| weights | images | mismatches | RTL accuracy | golden accuracy | cycles/inference mean (min-max) "
        "| cycle model mismatches | layer-0 bound mean | dense bound | cycles / bound | P_LIF | sim time |\n"
        "|---|---:|---:|---:|---:|---|---:|---:|---:|---:|---:|---:|\n"
    )
    lines = []
    for r in rows:
        c, b = r["cycles_per_inference"], r["bound_cycles"]
        lines.append(
            f"| {r['width']} | {r['images']:,} | {r['mismatches']} | {100 * r['rtl_accuracy']:.2f}% "
            f"| {100 * r['golden_accuracy']:.2f}% | {c['mean']:,.1f} ({c['min']:,}-{c['max']:,}) "
            f"| {r['cycle_model_mismatches']} | {b['mean']:,.1f} | {r['dense_bound_cycles']:,} "
            f"| {r['cycles_over_bound']:.2f} | {r['engine']['P_LIF']} | {r['wall_seconds']:.0f} s |"
        )
    return head + "\n".join(lines) + "\n"


def engine_refusal(ckpt: Path) -> str | None:
    """Why the RTL engine cannot run this checkpoint (the export's message), or None if it can."""
    try:
        engine_params(load_network(ckpt))
    except ExportError as e:
        return str(e)
    return None


def checkpoints(models: Path, width: str) -> list[tuple[Path, str]]:
    """(checkpoint, row label) of every committed network of one width: 784-128-10 first, labelled
    by the width alone; other networks by their sizes and width."""
    main = models / f"mnist-784-128-10-{width}.npz"
    if not main.is_file():
        print(f"sim_all: {main} missing, skipped", file=sys.stderr)
    others = sorted(p for p in models.glob(f"mnist-*-{width}.npz") if p != main)
    return [(main, width)] * main.is_file() + [(p, p.stem.removeprefix("mnist-")) for p in others]


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--images", type=int, default=10000)
    ap.add_argument("--simulator", default="verilator", choices=("verilator", "icarus"))
    ap.add_argument("--lif-lanes", type=int, default=1)
    ap.add_argument("--widths", default=",".join(WIDTHS))
    ap.add_argument("--out", type=Path, default=REPO / "reports")
    ap.add_argument("--no-readme", action="store_true")
    args = ap.parse_args(argv)
    env = dict(os.environ, PYTHONPATH=str(REPO / "model") + os.pathsep + os.environ.get("PYTHONPATH", ""))
    rows, skipped = [], []
    for ckpt, w in [c for width in args.widths.split(",") for c in checkpoints(REPO / "models", width)]:
        why = engine_refusal(ckpt)
        if why is not None:
            skipped.append(f"{ckpt.stem}: {why}")
            print(f"sim_all: {ckpt.stem} skipped: {why}", file=sys.stderr, flush=True)
            continue
        print(f"sim_all: {w}: {args.images} images on {args.simulator}", file=sys.stderr, flush=True)
        t0 = time.monotonic()
        cmd = [sys.executable, "-m", "icespike.cli", "sim", str(ckpt), "--json", "--images", str(args.images)]
        cmd += ["--simulator", args.simulator, "--lif-lanes", str(args.lif_lanes)]
        proc = subprocess.run(cmd, cwd=REPO, env=env, stdout=subprocess.PIPE, text=True)
        if proc.returncode != 0:
            raise SystemExit(f"sim_all: icespike sim failed for {w} (exit {proc.returncode})")
        r = json.loads(proc.stdout)
        r["wall_seconds"] = time.monotonic() - t0
        r["width"] = w
        rows.append(r)
        print(
            f"    {r['mismatches']} mismatches, RTL {100 * r['rtl_accuracy']:.2f}% = golden "
            f"{100 * r['golden_accuracy']:.2f}%, {r['cycles_per_inference']['mean']:.1f} cycles "
            f"({r['wall_seconds']:.0f} s)",
            file=sys.stderr,
            flush=True,
        )
    if not rows:
        raise SystemExit("sim_all: no models found")
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "rtlsim.json").write_text(json.dumps(rows, indent=1, default=str) + "\n")
    md = table(rows)
    note = (
        f"\n`python scripts/sim_all.py --images {args.images} --simulator {args.simulator}`: the exported "
        "models run through `rtl/snn_engine.v` in the file-driven harness (`icespike sim`) and are compared "
        "image by image (class and all ten scores) with `icespike.golden`; the measured cycles of every image "
        "are compared with the analytic cycle model of docs/engine.md. q16 runs with layer 0 in EBR "
        "(simulation only: it fits no iCE40).\n"
    )
    if skipped:
        note += "\nNot simulated: " + "; ".join(skipped) + ".\n"
    (args.out / "rtlsim.md").write_text("# RTL simulation against the golden model\n\n" + md + note)
    readme = REPO / "README.md"
    if not args.no_readme and BEGIN in readme.read_text():
        readme.write_text(replace_between_markers(readme.read_text(), md + note, BEGIN, END))
    print(md + note)
    bad = [r["width"] for r in rows if r["mismatches"] or r["cycle_model_mismatches"]]
    if bad:
        print(f"sim_all: mismatches in {', '.join(bad)}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
