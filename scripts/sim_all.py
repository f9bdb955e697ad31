#!/usr/bin/env python3
"""RTL = golden model on the whole MNIST test set, for every committed quantised model.

    python scripts/sim_all.py [--images 10000] [--simulator verilator] [--lif-lanes 1]

Runs ``icespike sim`` (the file-driven Verilator harness, no per-cycle Python) for every
committed models/mnist-<sizes>-{binary,ternary,q4,q8,q16}.npz the engine runs; a network it
cannot run (e.g. more than four hidden layers) is skipped with the export's reason, printed and noted
under the table. Writes reports/rtlsim.json and
reports/rtlsim.md, and replaces the table between ``<!-- rtlsim-table -->`` and
``<!-- /rtlsim-table -->`` in README.md. Exits 1 if any image mismatches or any measured
cycle count differs from the analytic cycle model. A file whose content would change only in
its run times is left as it is, and the run ends naming the files it rewrote;
``--table-only`` rebuilds the tables from reports/rtlsim.json without simulating.
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
from icespike.rtlsim import check_rtl_depth  # noqa: E402
from icespike.tracked import TIMINGS, TrackedWriter  # noqa: E402

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
        check_rtl_depth(engine_params(load_network(ckpt)))
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


def plan(models: Path, widths: list[str]) -> tuple[list[tuple[Path, str]], list[tuple[str, str]]]:
    """(checkpoint, row label) of every committed network the engine runs, and (name, reason) of
    every one it cannot run."""
    runs, skipped = [], []
    for ckpt, label in [c for width in widths for c in checkpoints(models, width)]:
        why = engine_refusal(ckpt)
        if why is None:
            runs.append((ckpt, label))
        else:
            skipped.append((ckpt.stem, why))
    return runs, skipped


def write_outputs(
    rows: list[dict], out: Path, readme: Path | None, skipped: list[tuple[str, str]] | None = None
) -> str:
    """reports/rtlsim.json, rtlsim.md and the README table from ``rows``; returns the table text.
    ``skipped`` (default: every committed network the engine cannot run) is noted under the table,
    each with its reason."""
    if skipped is None:
        skipped = plan(REPO / "models", list(WIDTHS))[1]
    images = {r["images"] for r in rows}
    sims = {r["simulator"] for r in rows}
    md = table(rows)
    note = (
        f"\n`make sim` (`scripts/sim_all.py --images {'/'.join(map(str, sorted(images)))} "
        f"--simulator {'/'.join(sorted(sims))}`): the exported "
        "models run through `rtl/snn_engine.v` in the file-driven harness (`icespike sim`) and are compared "
        "image by image (class and all ten scores) with `icespike.golden`; the measured cycles of every image "
        "are compared with the analytic cycle model of docs/engine.md. Hidden-layer weights beyond the 16,384 "
        "words of the SPRAMs (q16; q8 784-256-128-10) run in EBR (simulation only: they fit no iCE40).\n"
    )
    reasons: dict[str, list[str]] = {}
    for name, why in skipped:
        reasons.setdefault(why, []).append(name)
    for why, names in reasons.items():
        note += f"\nNot simulated ({why}): {', '.join(names)}.\n"
    w = TrackedWriter("sim_all")
    w.write(out / "rtlsim.json", json.dumps(rows, indent=1, default=str) + "\n", ignore=TIMINGS)
    w.write(out / "rtlsim.md", "# RTL simulation against the golden model\n\n" + md + note, ignore=TIMINGS)
    if readme is not None and BEGIN in readme.read_text():
        w.between_markers(readme, md + note, BEGIN, END, ignore=TIMINGS)
    w.say()
    return md + note


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--images", type=int, default=10000)
    ap.add_argument("--simulator", default="verilator", choices=("verilator", "icarus"))
    ap.add_argument("--lif-lanes", type=int, default=1)
    ap.add_argument("--widths", default=",".join(WIDTHS))
    ap.add_argument("--out", type=Path, default=REPO / "reports")
    ap.add_argument("--no-readme", action="store_true")
    ap.add_argument(
        "--table-only", action="store_true", help="rebuild the tables from OUT/rtlsim.json, no simulation"
    )
    args = ap.parse_args(argv)
    readme = None if args.no_readme else REPO / "README.md"
    if args.table_only:
        src = args.out / "rtlsim.json"
        if not src.is_file():
            raise SystemExit(f"sim_all: {src} does not exist (run without --table-only first)")
        rows = json.loads(src.read_text())
        print(write_outputs(rows, args.out, readme))
        return 0
    env = dict(os.environ, PYTHONPATH=str(REPO / "model") + os.pathsep + os.environ.get("PYTHONPATH", ""))
    runs, skipped = plan(REPO / "models", args.widths.split(","))
    for name, why in skipped:
        print(f"sim_all: {name} skipped: {why}", file=sys.stderr, flush=True)
    rows = []
    for ckpt, w in runs:
        print(f"sim_all: {w}: {args.images} images on {args.simulator}", file=sys.stderr, flush=True)
        t0 = time.monotonic()
        # the path relative to the checkout (the tool runs there): reports name no machine's paths
        cmd = [sys.executable, "-m", "icespike.cli", "sim", str(ckpt.relative_to(REPO)), "--json"]
        cmd += [
            "--images",
            str(args.images),
            "--simulator",
            args.simulator,
            "--lif-lanes",
            str(args.lif_lanes),
        ]
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
    print(write_outputs(rows, args.out, readme, skipped))
    bad = [r["width"] for r in rows if r["mismatches"] or r["cycle_model_mismatches"]]
    if bad:
        print(f"sim_all: mismatches in {', '.join(bad)}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
