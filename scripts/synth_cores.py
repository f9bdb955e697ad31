"""`make synth-cores`: Yosys synth_ice40 cell counts of every arithmetic core, UP5K and HX8K.

Each core of rtl/ is synthesised alone (Yosys only: cores have no PCF-ready registered
wrapper, so no Fmax is claimed) in the configurations the network engine uses, for the
iCE40 UP5K (`synth_ice40 -dsp`) and the HX8K (no DSP). Writes build/synth-cores/<core>/<device>/
report.json per run, build/reports/cores.json and build/reports/cores.md (the table, tool
versions and flags).

Usage: python scripts/synth_cores.py [--only NAME ...] [--devices up5k,hx8k]
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "model"))

from icespike import synth  # noqa: E402
from icespike.tracked import TrackedWriter  # noqa: E402

# (configuration name, module, parameters, what it is)
CORES = [
    ("ternary_addsub W=16", "ternary_addsub", {"W": 16}, "add/sub/skip, one shared carry chain (16-bit)"),
    ("ternary_addsub W=19", "ternary_addsub", {"W": 19}, "the 784-input ternary layer-0 current width"),
    ("binary_addsub W=16", "binary_addsub", {"W": 16}, "add/sub, one carry chain (16-bit)"),
    ("binary_addsub W=19", "binary_addsub", {"W": 19}, "the 784-input binary layer-0 current width"),
    (
        "ternary_acc ACC_W=19",
        "ternary_acc",
        {"ACC_W": 19, "X_W": 8},
        "streaming accumulator, pixels x ternary",
    ),
    ("ternary_acc ACC_W=16 sat", "ternary_acc", {"ACC_W": 16, "X_W": 8, "SATURATE": 1}, "saturating variant"),
    ("binary_acc ACC_W=19", "binary_acc", {"ACC_W": 19, "X_W": 8}, "streaming accumulator, pixels x binary"),
    (
        "mac Q8.8",
        "mac",
        {"A_W": 16, "A_SIGNED": 1, "B_W": 16, "SHIFT": 8, "ACC_W": 16, "SATURATE": 1},
        "16x16 Q8.8 MAC, round half up, saturating",
    ),
    (
        "mac 8x8 exact ACC_W=26",
        "mac",
        {"A_W": 8, "A_SIGNED": 0, "B_W": 8, "SHIFT": 0, "ACC_W": 26, "SATURATE": 0},
        "pixel x q8 code, exact (engine layer 0)",
    ),
    ("mul_s 8x8", "mul_s", {"A_W": 8, "A_SIGNED": 0, "B_W": 8}, "registered pixel x q8 product"),
    ("mul_s 8x4", "mul_s", {"A_W": 8, "A_SIGNED": 0, "B_W": 4}, "registered pixel x q4 product"),
    ("mul_s 8x16", "mul_s", {"A_W": 8, "A_SIGNED": 0, "B_W": 16}, "registered pixel x q16 product"),
    (
        "lif_update MEM_W=21",
        "lif_update",
        {"MEM_W": 21, "CUR_W": 19, "LEAK_SHIFT": 4, "RESET_SUBTRACT": 1},
        "combinational LIF step (ternary widths)",
    ),
    (
        "lif_pipe MEM_W=21",
        "lif_pipe",
        {"MEM_W": 21, "CUR_W": 19, "LEAK_SHIFT": 4, "RESET_SUBTRACT": 1},
        "two-stage LIF step used by the engine (ternary widths)",
    ),
    (
        "lif_neuron MEM_W=21",
        "lif_neuron",
        {"MEM_W": 21, "CUR_W": 19, "LEAK_SHIFT": 4, "RESET_SUBTRACT": 1},
        "registered LIF step with valid/ready",
    ),
    ("ram_sdp 20x128", "ram_sdp", {"DATA_W": 20, "DEPTH": 128}, "output-layer weights (ternary, 10 outputs)"),
    ("ram_sdp 8x1024", "ram_sdp", {"DATA_W": 8, "DEPTH": 1024}, "input event FIFO storage"),
    ("spram64", "spram64", {}, "4 x SB_SPRAM256KA, 16K x 64 bits (UP5K only)"),
]
NEEDS_SPRAM = {"spram64"}


def slug(name: str) -> str:
    return "".join(c if c.isalnum() else "_" for c in name).strip("_")


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--only", nargs="*", default=None, help="core modules to run (default: all)")
    ap.add_argument("--devices", default="up5k,hx8k", help="comma list of devices")
    ap.add_argument("--out", type=Path, default=ROOT / "build" / "synth-cores")
    ap.add_argument("--reports", type=Path, default=ROOT / "build" / "reports")
    args = ap.parse_args(argv)
    devices = [synth.device(d).name for d in args.devices.split(",") if d.strip()]
    cores = [c for c in CORES if args.only is None or c[1] in args.only or c[0] in args.only]
    if not cores:
        raise SystemExit(f"synth_cores: no core matches {args.only}")
    reports = []
    t_all = time.monotonic()
    n = len(cores) * len(devices)
    i = 0
    for name, module, params, what in cores:
        src = ROOT / "rtl" / f"{module}.v"
        if not src.is_file():
            print(f"synth_cores: {src.relative_to(ROOT)} does not exist yet, skipped", file=sys.stderr)
            continue
        srcs = synth.rtl_closure(module)
        for dev in devices:
            i += 1
            out = args.out / slug(name) / dev
            if module in NEEDS_SPRAM and not synth.device(dev).spram:
                rep = {
                    "config": name,
                    "device": dev,
                    "package": synth.device(dev).package,
                    "fits": False,
                    "fit_problems": [f"the {synth.device(dev).part} has no SPRAM (SB_SPRAM256KA)"],
                    "tools": {},
                    "flags": {},
                }
                synth.write_report(rep, out / "report.json")
            else:
                print(f"[{i}/{n}] {name} on {dev}", file=sys.stderr, flush=True)
                rep = synth.run(module, srcs, dev, out, params=params, config=name, place=False)
            rep["module"] = module
            rep["what"] = what
            synth.write_report(rep, out / "report.json")
            reports.append(rep)
    args.reports.mkdir(parents=True, exist_ok=True)
    (args.reports / "cores.json").write_text(json.dumps(reports, indent=2) + "\n")
    text = [
        "## Per-core synthesis (Yosys synth_ice40, cell counts, no place and route)",
        "",
        "Each core synthesised alone as the top module, ports left as ports (I/O column = port bits).",
        "UP5K runs use `-dsp` (SB_MAC16 allowed); HX8K has no DSP. Generated by `make synth-cores`.",
        "",
        synth.markdown_table(reports, drop=("fits",), notes_key="what"),
    ]
    (args.reports / "cores.md").write_text("\n".join(text))
    table = synth.markdown_table(reports, drop=("fits",), notes_key="what")
    doc = ROOT / "docs" / "synthesis.md"
    if doc.is_file() and "<!-- cores-table -->" in doc.read_text():
        w = TrackedWriter("synth_cores")
        w.between_markers(doc, table, "<!-- cores-table -->", "<!-- /cores-table -->")
        w.say()
    print("\n".join(text))
    print(f"synth_cores: {len(reports)} runs in {time.monotonic() - t_all:.0f} s", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
