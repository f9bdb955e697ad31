"""`make synth`: the network engine on iCE40 UP5K (-dsp) and HX8K, every bit width, one table.

Configurations:
  * 784-128-10 at q16, q8, q4, ternary and binary on both devices. A configuration whose weights
    cannot fit the device's on-chip memory is rejected from the numbers (memory check of
    icespike.synth) and reported as such; no tool runs for it.
  * 784-256-128-10 (two hidden layers) at q4, ternary and binary on the UP5K.
  * The largest 16-bit (Q8.8) 784-H-10 network whose weights fit the UP5K (found from the same
    numbers), and a ternary network of the same size: the seed's claim "ternary ~1,600 LUTs vs
    Q8.8 ~8,000 LUTs for a 784x128 layer" checked on equal terms.

Weights: a trained checkpoint (models/ or build/models/mnist-<sizes>-<format>.npz) when one
exists, else a seeded random network of the same format (area and Fmax do not depend on the
weight values: the weights are RAM contents). The report names which.

Runs one configuration at a time (the WebAssembly tools use up to 2 cores each). Writes
build/synth/<config>/<device>/report.json, build/reports/synth.json, build/reports/synth.md,
and the table between the <!-- synth-table --> markers of README.md when they exist.

Board builds: the ternary and binary 784-128-10 networks as whole iCEBreaker bitstreams
(`icespike board build`: engine, flash loader, UART host link, PLL) as separate rows
(configurations icebreaker-784-128-10-<format>, build/board-synth/), with what the board logic
costs over the engine's own registered top.

Usage: python scripts/synth_all.py [--only CONFIG ...] [--devices up5k,hx8k] [--table-only]
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "model"))

from icespike import synth  # noqa: E402
from icespike.export import export_network, load_network  # noqa: E402
from icespike.formats import weight_format  # noqa: E402
from icespike.network import IntLayer, IntNetwork  # noqa: E402
from icespike.tracked import TrackedWriter  # noqa: E402

MAIN_SIZES = (784, 128, 10)
DEEP_SIZES = (784, 256, 128, 10)  # two hidden layers: ternary, binary and q4 on the UP5K
DEEP_BITS = (4, 2, 1)
BOARD_BUILDS = (("icebreaker", MAIN_SIZES, 2), ("icebreaker", MAIN_SIZES, 1))
MAIN_BITS = (16, 8, 4, 2, 1)
RANDOM_THRESHOLD = 1000  # threshold of the random stand-in networks (any legal value)


def checkpoint_for(sizes, bits) -> Path | None:
    name = f"mnist-{'-'.join(map(str, sizes))}-{weight_format(bits).name}.npz"
    for d in (ROOT / "models", ROOT / "build" / "models"):
        if (d / name).is_file():
            return d / name
    return None


def random_network(sizes, bits, *, timesteps: int = 16, seed: int = 0) -> IntNetwork:
    """A seeded random network of the given format (ternary: 40% zeros)."""
    rng = np.random.default_rng(seed)
    f = weight_format(bits)

    def codes(n_out, n_in):
        if bits == 1:
            return rng.choice(np.array([-1, 1]), size=(n_out, n_in))
        if bits == 2:
            return rng.choice(np.array([-1, 0, 1]), size=(n_out, n_in), p=[0.3, 0.4, 0.3])
        return rng.integers(-f.qmax, f.qmax + 1, size=(n_out, n_in))

    hidden = [
        IntLayer(codes(n, m), bits, threshold=RANDOM_THRESHOLD if li == 0 else 2, leak_shift=4)
        for li, (m, n) in enumerate(zip(sizes[:-2], sizes[1:-1]))
    ]
    return IntNetwork(
        layers=[*hidden, IntLayer(codes(sizes[-1], sizes[-2]), bits)],
        timesteps=timesteps,
        meta={"origin": f"random codes (seed {seed}) standing in for a trained network"},
    )


def export_for(sizes, bits, out_root: Path) -> tuple[Path, str]:
    """Export directory of the network for (sizes, bits) and where its weights came from."""
    name = f"{'-'.join(map(str, sizes))}-{weight_format(bits).name}"
    ck = checkpoint_for(sizes, bits)
    if ck is not None:
        net = load_network(ck)
        origin = f"trained checkpoint {ck.relative_to(ROOT)}"
    else:
        net = random_network(sizes, bits)
        origin = net.meta["origin"]
    d = out_root / name
    export_network(net, d, source=origin)
    return d, origin


def largest_fitting_hidden(bits: int, device: str, n_in: int = 784, n_out: int = 10, start: int = 128) -> int:
    """Largest hidden size H <= start whose 784-H-10 weights pass the memory check on ``device``."""
    for h in range(start, 0, -1):
        if synth.memory_fit([n_in, h, n_out], bits, device, fifo_depth=1 << (n_in - 1).bit_length())["fits"]:
            return h
    raise SystemExit(f"synth_all: no {bits}-bit 784-H-10 network fits the {device}")


def plan(devices: list[str]) -> tuple[list[tuple], list[str]]:
    """(sizes, bits, device) runs in order, and the notes explaining the choice."""
    runs = []
    notes = []
    for bits in MAIN_BITS:
        for dev in devices:
            runs.append((MAIN_SIZES, bits, dev))
    fit16 = synth.memory_fit(MAIN_SIZES, 16, "up5k")
    notes.append(f"16-bit check: {fit16['message']}.")
    if not fit16["fits"] and "up5k" in devices:
        h = largest_fitting_hidden(16, "up5k")
        fit_h = synth.memory_fit([784, h, 10], 16, "up5k")
        notes.append(
            f"Largest 16-bit 784-H-10 that fits the UP5K: H = {h} ({fit_h['message']}; "
            f"layer-0 words {fit_h['engine_plan']['w0_words']:,} of 16,384 per SPRAM set)."
        )
        runs.append(((784, h, 10), 16, "up5k"))
        runs.append(((784, h, 10), 2, "up5k"))
    if "up5k" in devices:
        runs += [(DEEP_SIZES, bits, "up5k") for bits in DEEP_BITS]
    return runs, notes


def claim_check(runs, out_root: Path, export_root: Path, table_only: bool) -> str:
    """Seed claim "ternary ~1,600 LUTs vs Q8.8 ~8,000 LUTs": the engine alone, same network size.

    For the 16-bit network that fits and the ternary one of the same size: Yosys cell counts of
    snn_engine with -dsp (from the placed runs) and without -dsp (every multiplier in LUT4s,
    the setting the claim speaks of), and the lanes (weights handled per cycle).
    """
    from icespike.export import engine_params, load_export

    pairs = [(s, b) for s, b, dv in runs if s not in (MAIN_SIZES, DEEP_SIZES) and dv == "up5k"]
    if not pairs:
        return ""
    rows = []
    for sizes, bits in pairs:
        config = f"{'-'.join(map(str, sizes))}-{weight_format(bits).name}"
        d = export_root / config
        placed = out_root / config / "up5k" / "report.json"
        if not (d / "manifest.json").is_file() or not placed.is_file():
            continue
        rep = json.loads(placed.read_text())
        man = json.loads((d / "manifest.json").read_text())
        nodsp_dir = out_root / "claim" / config / "up5k-nodsp"
        if table_only and (nodsp_dir / "report.json").is_file():
            nodsp = json.loads((nodsp_dir / "report.json").read_text())
        else:
            print(f"    claim check: {config} engine alone without -dsp", file=sys.stderr, flush=True)
            nodsp = synth.engine_cells(d, man, "up5k", nodsp_dir, synth_flags=())
        p = engine_params(load_export(d))
        eo = rep.get("engine_only") or {}
        rows.append(
            f"| {config} | {p.LANES} | {eo.get('lut4', '–'):,} | {eo.get('dsp', '–')} | {nodsp['lut4']:,} "
            f"| {nodsp['lut4'] / p.LANES:,.0f} | {nodsp['ff']:,} |"
        )
    if not rows:
        return ""
    return "\n".join(
        [
            "Seed claim check (engine alone, no wrapper; Yosys counts): ternary vs Q8.8 at the same size.",
            "",
            "| network | lanes (weights/cycle) | SB_LUT4 with -dsp | SB_MAC16 | SB_LUT4 without DSP | LUT4 per lane (no DSP) | DFF (no DSP) |",
            "|---|---:|---:|---:|---:|---:|---:|",
            *rows,
            "",
        ]
    )


def board_builds(devices, only, table_only: bool) -> tuple[list[dict], list[str]]:
    """Run (unless ``table_only``) and collect the board builds; their rows and cost notes."""
    from icespike.board import build as bb

    reps, notes = [], []
    for name, sizes, bits in BOARD_BUILDS:
        b = bb.board(name)
        engine_config = f"{'-'.join(map(str, sizes))}-{weight_format(bits).name}"
        config = f"{name}-{engine_config}"
        if b.device not in devices or (only is not None and config not in only):
            continue
        d = ROOT / "build" / "board-synth" / config
        if not table_only:
            ck = checkpoint_for(sizes, bits)
            if ck is None:
                print(f"    {config}: no trained checkpoint, skipped", file=sys.stderr, flush=True)
                continue
            print(f"[board] {config}", file=sys.stderr, flush=True)
            bb.build(ck, name, d, progress_log=lambda m: print("    " + m, file=sys.stderr, flush=True))
        if not (d / bb.REPORT_JSON).is_file() or not (d / "synth" / "report.json").is_file():
            continue
        board_rep = json.loads((d / bb.REPORT_JSON).read_text())
        rep = json.loads((d / "synth" / "report.json").read_text())
        # A board runs at its PLL clock, not at the Fmax its placement reached: its row gives the
        # rate it really has (the engine rows' rate is at their Fmax).
        rep["inferences_per_s"] = board_rep["engine_inferences_per_s"]
        reps.append(rep)
        eng = ROOT / "build" / "synth" / engine_config / b.device / "report.json"
        cost = ""
        if eng.is_file():
            e = json.loads(eng.read_text())
            cost = ", ".join(
                f"{rep[k] - e[k]:+,} {label}"
                for k, label in (("lut4", "LUT4"), ("ff", "DFF"), ("ebr", "EBR"), ("carry", "SB_CARRY"))
                if rep.get(k) is not None and e.get(k) is not None
            )
            cost = (
                f"; board logic (PLL, flash loader, UART host link) over the engine's registered top: {cost}"
            )
        notes.append(
            f"Board {config}: engine clock {board_rep['clock_mhz']:g} MHz from the PLL (timing met: "
            f"{board_rep['timing_met']}); {board_rep['engine_inferences_per_s']:,.0f} images/s in the engine, "
            f"{board_rep['uart_inferences_per_s']:,.0f} images/s over the UART at {board_rep['baud']:,} baud{cost}."
        )
    return reps, notes


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--devices", default="up5k,hx8k", help="comma list of devices")
    ap.add_argument("--only", nargs="*", default=None, help="configurations to run, e.g. 784-128-10-ternary")
    ap.add_argument("--table-only", action="store_true", help="only rebuild the table from existing reports")
    ap.add_argument("--no-bitstream", action="store_true", help="skip icepack")
    ap.add_argument("--out", type=Path, default=ROOT / "build" / "synth")
    ap.add_argument("--reports", type=Path, default=ROOT / "build" / "reports")
    args = ap.parse_args(argv)
    devices = [synth.device(d).name for d in args.devices.split(",") if d.strip()]
    runs, notes = plan(devices)
    t_all = time.monotonic()
    if not args.table_only:
        export_root = ROOT / "build" / "synth-export"
        for i, (sizes, bits, dev) in enumerate(runs, 1):
            config = f"{'-'.join(map(str, sizes))}-{weight_format(bits).name}"
            if args.only is not None and config not in args.only:
                continue
            d, origin = export_for(sizes, bits, export_root)
            t0 = time.monotonic()
            print(f"[{i}/{len(runs)}] {config} on {dev}", file=sys.stderr, flush=True)
            rep = synth.synth_engine(
                d,
                dev,
                args.out / config / dev,
                config=config,
                bitstream=(dev == "up5k" and not args.no_bitstream),
                extra={"weights": origin},
                progress_log=lambda m: print("    " + m, file=sys.stderr, flush=True),
            )
            state = "fits" if rep["fits"] else "does not fit: " + "; ".join(rep.get("fit_problems") or [])
            fmax = f", Fmax {rep['fmax_mhz']} MHz" if rep.get("fmax_mhz") else ""
            print(f"    {state}{fmax} ({time.monotonic() - t0:.0f} s)", file=sys.stderr, flush=True)
    wanted = {(f"{'-'.join(map(str, s))}-{weight_format(b).name}", dv) for s, b, dv in runs}
    reports = [r for r in synth.collect_reports(args.out) if (r.get("config"), r.get("device")) in wanted]
    order = {
        k: i
        for i, k in enumerate((f"{'-'.join(map(str, s))}-{weight_format(b).name}", dv) for s, b, dv in runs)
    }
    reports.sort(key=lambda r: order[(r["config"], r["device"])])
    if not reports:
        raise SystemExit(
            f"synth_all: no reports under {args.out}: nothing to tabulate (run without --table-only)"
        )
    board_reps, board_notes = board_builds(devices, args.only, args.table_only)
    reports += board_reps
    notes += board_notes
    args.reports.mkdir(parents=True, exist_ok=True)
    (args.reports / "synth.json").write_text(json.dumps(reports, indent=2, default=str) + "\n")
    table = synth.markdown_table(reports)
    claim = claim_check(runs, args.out, ROOT / "build" / "synth-export", args.table_only)
    by_origin: dict[str, list[str]] = {}
    for r in reports:
        if r.get("weights") and r["config"] not in by_origin.setdefault(r["weights"], []):
            by_origin[r["weights"]].append(r["config"])
    origins = [f"{o} ({', '.join(c)})" for o, c in sorted(by_origin.items())]
    cyc = sorted({r.get("cycle_model") for r in reports if r.get("cycle_model")})
    body = [
        "Network engine (`rtl/snn_engine.v`) in `synth/top_engine.v` (registered I/O, PCF), "
        "place and route with nextpnr-ice40; generated by `make synth`.",
        "",
        table,
        *([claim] if claim else []),
        *[f"- {n}" for n in notes],
        *[f"- Weights: {o}." for o in origins],
        *[f"- Cycles: {c}; inferences/s = Fmax / cycles (board rows: PLL clock / cycles)." for c in cyc],
    ]
    text = "\n".join(body) + "\n"
    (args.reports / "synth.md").write_text("## iCE40 synthesis of the network engine\n\n" + text)
    print(text)
    w = TrackedWriter("synth_all")
    w.between_markers(ROOT / "docs" / "synthesis.md", text, synth.README_BEGIN, synth.README_END)
    readme = ROOT / "README.md"
    if readme.is_file() and synth.README_BEGIN in readme.read_text():
        w.between_markers(readme, text, synth.README_BEGIN, synth.README_END)
    else:
        print(
            "synth_all: README.md has no synth-table markers; table left in build/reports/synth.md",
            file=sys.stderr,
        )
    w.say()
    print(f"synth_all: done in {time.monotonic() - t_all:.0f} s", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
