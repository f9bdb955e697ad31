"""`make demo`: train -> evaluate -> export -> simulate -> synthesise a ternary 784-128-10 SNN.

Steps (each one an `icespike` subcommand, run as a subprocess with its progress on stderr):
  1. train    a ternary 784-128-10 network on the bundled MNIST for a short schedule
              (DEMO_EPOCHS, default 10), or with FAST=1 take the committed
              models/mnist-784-128-10-ternary.npz;
  2. eval     its accuracy on the 10,000 test images with the integer golden model;
  3. export   weights (.hex), net_params.vh and manifest.json for the engine;
  4. sim      DEMO_IMAGES (default 100) test images through the Verilator engine, compared
              image by image with the golden model (mismatches must be 0);
  5. synth    the engine for the iCE40 UP5K (Yosys -dsp, nextpnr, icepack).
Then one summary: accuracy, mismatches, LUTs, SPRAM, Fmax, cycles and inferences/s, also written
to build/demo/summary.json. Exit code 1 if the simulation disagrees with the golden model.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "build" / "demo"
COMMITTED = ROOT / "models" / "mnist-784-128-10-ternary.npz"


def icespike_cmd() -> list[str]:
    # this environment's icespike first: another checkout's on PATH would run other code
    exe = str(Path(sys.executable).parent / "icespike")
    if not Path(exe).exists():
        return [sys.executable, "-m", "icespike.cli"]
    return [exe]


class DemoError(RuntimeError):
    pass


def step(n: int, total: int, title: str, args: list[str]) -> dict:
    """Run one `icespike ... --json` step; its stderr (progress) goes to the terminal."""
    # the command exactly as it runs (the demo reads its --json document)
    print(f"\n[{n}/{total}] {title}\n      $ icespike {' '.join(args)} --json", file=sys.stderr, flush=True)
    t0 = time.monotonic()
    env = dict(os.environ)
    env.setdefault("ICESPIKE_PROGRESS", "1" if sys.stderr.isatty() else "0")
    p = subprocess.run(
        [*icespike_cmd(), *args, "--json"], stdout=subprocess.PIPE, text=True, env=env, cwd=ROOT
    )
    dt = time.monotonic() - t0
    try:
        out = json.loads(p.stdout) if p.stdout.strip() else {}
    except json.JSONDecodeError:
        raise DemoError(
            f"icespike {args[0]} printed no JSON (exit {p.returncode}): {p.stdout[:300]}"
        ) from None
    if p.returncode not in (0, 1) or not out or "error" in out:
        why = f": {out['error']}" if out.get("error") else ""
        raise DemoError(f"icespike {args[0]} failed with exit code {p.returncode}{why}")
    out["_seconds"] = round(dt, 1)
    out["_exit"] = p.returncode
    print(f"      done in {dt:.0f} s", file=sys.stderr, flush=True)
    return out


def find(d: dict, *keys, default=None):
    """The first of ``keys`` present in ``d`` (also one level down in nested dicts)."""
    for k in keys:
        if k in d and d[k] is not None:
            return d[k]
    for v in d.values():
        if isinstance(v, dict):
            for k in keys:
                if k in v and v[k] is not None:
                    return v[k]
    return default


def main() -> int:
    fast = os.environ.get("FAST", "") not in ("", "0")
    epochs = int(os.environ.get("DEMO_EPOCHS", "10"))
    images = int(os.environ.get("DEMO_IMAGES", "100"))
    OUT.mkdir(parents=True, exist_ok=True)
    t_all = time.monotonic()
    total = 5
    res: dict = {"fast": fast}
    if fast:
        if not COMMITTED.is_file():
            raise DemoError(
                f"FAST=1 uses {COMMITTED.relative_to(ROOT)}, which does not exist; run without FAST=1"
            )
        ckpt = COMMITTED
        print(f"[1/{total}] train: FAST=1, using the committed {ckpt.relative_to(ROOT)}", file=sys.stderr)
        res["train"] = {"checkpoint": str(ckpt), "skipped": True}
    else:
        ckpt = OUT / "mnist-784-128-10-ternary.npz"
        res["train"] = step(
            1,
            total,
            f"train a ternary 784-128-10 network, {epochs} epochs",
            ["train", "--bits", "2", "--hidden", "128", "--epochs", str(epochs), "--out", str(ckpt)],
        )
    res["eval"] = step(
        2, total, "evaluate with the integer golden model (10,000 test images)", ["eval", str(ckpt)]
    )
    export_dir = OUT / "export"
    res["export"] = step(
        3, total, "export weights and engine parameters", ["export", str(ckpt), "--out", str(export_dir)]
    )
    res["sim"] = step(
        4,
        total,
        f"{images} test images through the Verilator engine vs the golden model",
        ["sim", str(export_dir), "--images", str(images)],
    )
    res["synth"] = step(
        5,
        total,
        "synthesise for the iCE40 UP5K (Yosys + nextpnr + icepack)",
        ["synth", str(export_dir), "--device", "up5k", "--out", str(OUT / "synth-up5k")],
    )
    s = res["synth"]
    summary = {
        "network": "784-128-10 ternary",
        "checkpoint": str(ckpt),
        "accuracy": find(res["eval"], "accuracy"),
        "sim_images": find(res["sim"], "images", "n_images", default=images),
        "mismatches": find(res["sim"], "mismatches"),
        "rtl_accuracy": find(res["sim"], "rtl_accuracy"),
        "lut4": s.get("lut4"),
        "spram": s.get("spram"),
        "ebr": s.get("ebr"),
        "fmax_mhz": s.get("fmax_mhz"),
        "timing_met_48mhz": s.get("timing_met"),
        "cycles_per_inference": s.get("cycles_per_inference"),
        "inferences_per_s": s.get("inferences_per_s"),
        "bitstream": s.get("bitstream"),
        "tools": s.get("tools"),
        "seconds": round(time.monotonic() - t_all, 1),
    }
    (OUT / "summary.json").write_text(
        json.dumps({"summary": summary, "steps": res}, indent=2, default=str) + "\n"
    )

    def pct(v):
        return "?" if v is None else f"{100 * v:.2f}%"

    def num(v, f=","):
        return "?" if v is None else format(v, f)

    lines = [
        "",
        "icespike demo: ternary 784-128-10 SNN, MNIST -> iCE40 UP5K",
        f"  golden-model accuracy   {pct(summary['accuracy'])} (10,000 test images)",
        f"  RTL vs golden           {num(summary['mismatches'])} mismatches on {summary['sim_images']} images (Verilator)",
        f"  SB_LUT4                 {num(summary['lut4'])}",
        f"  SPRAM / EBR             {num(summary['spram'])} / {num(summary['ebr'])}",
        f"  Fmax                    {num(summary['fmax_mhz'], '.2f')} MHz"
        + (
            ""
            if summary["timing_met_48mhz"] is None
            else f" (48 MHz {'met' if summary['timing_met_48mhz'] else 'missed'})"
        ),
        f"  cycles per inference    {num(summary['cycles_per_inference'])} (mean over the MNIST test set)",
        f"  inferences/s at Fmax    {num(None if summary['inferences_per_s'] is None else round(summary['inferences_per_s']))}",
        f"  total time              {summary['seconds']:.0f} s; details: {(OUT / 'summary.json').relative_to(ROOT)}",
    ]
    print("\n".join(lines))
    if summary["mismatches"] is None or summary["mismatches"] != 0:
        print("demo: the RTL simulation does not agree with the golden model", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    except DemoError as exc:
        print(f"demo: error: {exc}", file=sys.stderr)
        sys.exit(2)
