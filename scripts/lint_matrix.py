"""Lint matrix: `verilator --lint-only -Wall` (waivers in rtl/lint.vlt) at EVERY parameter set the
tests build, plus the file-driven harness (verif/harness/tb_engine.v) and the synthesis top
(synth/top_engine.v) at every engine parameter set (make lint).

The parameter sets are read from the testbenches themselves (their PARAM_SETS / SETS), so a
set added to a test is linted without editing this file. Icarus (`iverilog -g2005 -Wall`) lints
the harness and the synthesis top too. Exits non-zero on any warning; the last line says how
many (top, parameter set) builds are clean.
"""

from __future__ import annotations

import importlib
import os
import subprocess
import sys
import tempfile
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "verif"))


# test module -> toplevel module (each test's cores: the whole rtl/ is given, the top picks)
CORE_TESTS = {
    "test_ternary_addsub": "ternary_addsub",
    "test_binary_addsub": "binary_addsub",
    "test_ternary_acc": "ternary_acc",
    "test_binary_acc": "binary_acc",
    "test_mac": "mac",
    "test_mul_s": "mul_s",
    "test_lif_update": "lif_update",
    "test_lif_pipe": "lif_pipe",
    "test_lif_neuron": "lif_neuron",
    "test_ram_sdp": "ram_sdp",
    "test_snn_event_fifo": "snn_event_fifo",
    "test_snn_accum": "snn_accum",
    "test_snn_lif_stage": "snn_lif_stage",
    "test_snn_output": "snn_output",
    "test_snn_raster": "snn_raster",
}
RTL = sorted(str(p) for p in (ROOT / "rtl").glob("*.v"))
VLT = str(ROOT / "rtl" / "lint.vlt")
HARNESS = str(ROOT / "verif" / "harness" / "tb_engine.v")
SYNTH_TOP = str(ROOT / "synth" / "top_engine.v")


def _gval(name: str, v) -> str:
    from icespike.export import verilog_literal  # noqa: PLC0415 - after the path set-up

    return verilog_literal(name, v)


def _verilator(top: str, files: list[str], params: dict, incs: list[str] = ()) -> str:
    cmd = ["verilator", "--lint-only", "-Wall", "--timing", f"-I{ROOT / 'rtl'}", "--top-module", top]
    cmd += [f"-I{i}" for i in incs] + [f"-G{k}={_gval(k, v)}" for k, v in params.items()]
    r = subprocess.run([*cmd, VLT, *files], capture_output=True, text=True)
    out = r.stdout + r.stderr
    bad = [ln for ln in out.splitlines() if ln.startswith(("%Warning", "%Error"))]
    return "\n".join(bad) if (bad or r.returncode) else ""


def _iverilog(top: str, files: list[str], params: dict, incs: list[str] = ()) -> str:
    # -Wno-timescale: the RTL has no `timescale by design (docs/verification.md); the harness
    # gives 1ns/1ps to everything it instantiates
    with tempfile.TemporaryDirectory() as tmp:
        cmd = ["iverilog", "-g2005", "-Wall", "-Wno-timescale", "-s", top, "-o", os.path.join(tmp, "a.vvp")]
        cmd += [f"-I{i}" for i in incs] + [f"-P{top}.{k}={_gval(k, v)}" for k, v in params.items()]
        r = subprocess.run([*cmd, *files], capture_output=True, text=True)
    out = (r.stdout + r.stderr).strip()
    return out if (out or r.returncode) else ""


def jobs() -> list[tuple[str, object]]:
    """(label, thunk returning the warnings) for every build of the matrix."""
    out = []
    for mod, top in CORE_TESTS.items():
        sets = importlib.import_module(mod).PARAM_SETS
        for name, raw in sets.items():
            params = {k: v for k, v in raw.items() if not k.startswith("_")}  # test-only keys
            out.append((f"{top}[{name}] verilator", lambda t=top, p=params: _verilator(t, RTL, p)))
    import test_snn_engine as te
    from icespike.export import engine_params
    from icespike.rtlsim import harness_widths

    for name in te.SETS:
        net, d, _alt, hdl = te.prepare(name)
        tbp = {**hdl, **harness_widths(engine_params(net))}  # the harness's port widths of a deeper engine
        out.append((f"snn_engine[{name}] verilator", lambda p=hdl: _verilator("snn_engine", RTL, p)))
        out.append(
            (f"tb_engine[{name}] verilator", lambda p=tbp: _verilator("tb_engine", [HARNESS, *RTL], p))
        )
        out.append((f"tb_engine[{name}] iverilog", lambda p=tbp: _iverilog("tb_engine", [HARNESS, *RTL], p)))
        w0 = {"W0_SPRAM": hdl["W0_SPRAM"]}  # as the tests and the synthesis flow build it
        out.append(
            (
                f"top_engine[{name}] verilator",
                lambda i=[str(d)], w=w0: _verilator("top_engine", [SYNTH_TOP, *RTL], w, i),
            )
        )
        out.append(
            (
                f"top_engine[{name}] iverilog",
                lambda i=[str(d)], w=w0: _iverilog("top_engine", [SYNTH_TOP, *RTL], w, i),
            )
        )
    return out


def main() -> int:
    todo = jobs()
    with ThreadPoolExecutor(max_workers=int(os.environ.get("LINT_JOBS", "2"))) as pool:
        results = list(pool.map(lambda j: (j[0], j[1]()), todo))
    bad = [(label, w) for label, w in results if w]
    for label, w in bad:
        print(f"FAIL {label}")
        for ln in w.splitlines()[:12]:
            print(f"    {ln}")
    print(f"lint_matrix: {len(results) - len(bad)} of {len(results)} (top, parameter set) builds clean")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
