"""snn_output: scores, output biases, argmax and the output register, against icespike.golden.

A random network (with output biases for HAS_BIAS = 1) runs through the golden model with its
trace; its hidden spikes are fed to the module as snn_engine feeds them (col_re/col_j, then
sp_valid/sp_spike one cycle later, P_LIF columns per beat), group by group in a random group
order, with idle cycles between beats. After ``start`` the class and every score must equal
golden's (lowest index on ties; images with tied scores are included), the result must wait
unchanged under back-pressure, and ``busy`` must last 2 * N_OUT + 2 cycles when the output
register is free (the cycle model's ARG + OUT). One image's scores are cleared by ``clear``
before the next.
"""

from __future__ import annotations

import os
import random

import cocotb
import numpy as np
import pytest
from cocotb.triggers import FallingEdge, RisingEdge

import mutants
from icespike import golden
from icespike.export import load_export
from simrun import Mismatches, matrix, read_unsigned, rtl, run, start_clock, tb_params, tb_seed

N_IMAGES = 6


def _scores(raw: int, n_out: int, sw: int) -> list[int]:
    out = []
    for o in range(n_out):
        v = (raw >> (o * sw)) & ((1 << sw) - 1)
        out.append(v - (1 << sw) if v >> (sw - 1) else v)
    return out


@cocotb.test()
async def readout(dut):
    p = tb_params()
    net = load_export(os.environ["ICESPIKE_OUTPUT_EXPORT"])
    n_hid, n_out, sw, p_lif = int(p["N_HID"]), int(p["N_OUT"]), int(p["SCORE_W"]), int(p["P_LIF"])
    rs = random.Random(tb_seed())
    rng = np.random.default_rng(tb_seed())
    x = rng.integers(0, 256, size=(N_IMAGES, net.layers[0].n_in))
    x[2] = 0  # no input: every score equal (T * bias or 0), a tie over all outputs
    g = golden.run(net, x, trace=True)
    spikes = g.spikes[0]  # (N, T, N_HID)
    mm = Mismatches(f"snn_output {p}")
    await start_clock(dut)
    dut.rst.value = 1
    for s in ("w1_we", "w1_addr", "w1_data", "ob_we", "ob_addr", "ob_data", "clear", "col_re", "col_j"):
        getattr(dut, s).value = 0
    for s in ("sp_valid", "sp_spike", "start", "m_ready"):
        getattr(dut, s).value = 0
    for _ in range(2):
        await RisingEdge(dut.clk)
    await FallingEdge(dut.clk)
    dut.rst.value = 0
    for k in range(N_IMAGES):
        dut.clear.value = 1
        await FallingEdge(dut.clk)
        dut.clear.value = 0
        chunks = list(range(0, n_hid, p_lif))
        rs.shuffle(chunks)
        timeline = []  # per cycle: the beat whose columns are read (None: idle)
        for j in chunks:
            for t in range(net.timesteps):
                while rs.random() < 0.2:
                    timeline.append(None)
                timeline.append((t, j))
        timeline.append(None)
        prev = None
        for b in timeline:
            # the spikes of the beat read one cycle earlier
            dut.sp_valid.value = int(prev is not None)
            if prev is not None:
                dut.sp_spike.value = sum(int(spikes[k, prev[0], prev[1] + q]) << q for q in range(p_lif))
            dut.col_re.value = int(b is not None)
            if b is not None:
                dut.col_j.value = b[1]
            prev = b
            await FallingEdge(dut.clk)
        dut.sp_valid.value = 0
        await FallingEdge(dut.clk)
        free = rs.random() < 0.5
        dut.m_ready.value = int(free)
        dut.start.value = 1
        await FallingEdge(dut.clk)
        dut.start.value = 0
        busy = 0
        held = None
        for _ in range(n_out + 40):
            if dut.busy.value == 1:
                busy += 1
            if dut.m_valid.value == 1:
                now = (read_unsigned(dut.m_class), _scores(read_unsigned(dut.m_scores), n_out, sw))
                if held is not None:
                    mm.check(k, f"image {k} result held unchanged", now, held)
                held = now
                if dut.m_ready.value == 1:
                    break
                if rs.random() < 0.2:
                    dut.m_ready.value = 1
            await FallingEdge(dut.clk)
        mm.check(
            k, f"image {k} class and scores", held, (int(g.predictions[k]), [int(s) for s in g.scores[k]])
        )
        if free:
            mm.check(k, f"image {k} busy cycles (ARG + OUT)", busy, 2 * n_out + 2)
        await FallingEdge(dut.clk)
        mm.check(k, f"image {k} result taken", read_unsigned(dut.m_valid), 0)
        dut.m_ready.value = 0
    mm.assert_none()


def _net(bits, n_hid, bias, seed):
    from test_snn_engine import random_network

    return random_network(bits, n_hid=n_hid, timesteps=4, leak_shift=2, seed=seed, rate=0.3, bias=bias)


# name -> (bits, N_HID, P_LIF, bias)
CASES = {
    "ternary_h16_p1": (2, 16, 1, False),
    "q4_h32_p4_bias": (4, 32, 4, True),
    "binary_h8_p2": (1, 8, 2, False),
    "q16_h16_p1": (16, 16, 1, False),  # 23-bit scores: the upper half's >= chain (more than 8 bits)
}


def _hdl(name: str) -> dict:
    from icespike.export import engine_params

    bits, n_hid, p_lif, bias = CASES[name]
    ep = engine_params(_net(bits, n_hid, bias, seed=len(name)))
    return {
        "N_HID": ep.N_HID,
        "N_OUT": ep.N_OUT,
        "T": ep.T,
        "CODE_W1": ep.CODE_W1,
        "SCORE_W": ep.SCORE_W,
        "P_LIF": p_lif,
        "HAS_BIAS": ep.HAS_BIAS,
    }


def _params(name: str) -> tuple[dict, str]:
    from test_snn_engine import export_for_test

    bits, n_hid, _p, bias = CASES[name]
    d = export_for_test(_net(bits, n_hid, bias, seed=len(name)), f"output-{name}")
    hdl = dict(_hdl(name), W1_FILE=f'"{d / "w1.hex"}"')  # string parameters, quoted
    if hdl["HAS_BIAS"]:
        hdl["B1_FILE"] = f'"{d / "b1.hex"}"'
    return hdl, str(d)


PARAM_SETS = {name: _hdl(name) for name in CASES}


@pytest.mark.parametrize(
    "sim,tier,name,params",
    matrix(PARAM_SETS, fast=["ternary_h16_p1", "q4_h32_p4_bias", "q16_h16_p1"], fast_verilator=[]),
)
def test_snn_output(sim, tier, name, params):
    _run(name, rtl("snn_output", "ram_sdp"), sim=sim)


def _run(name: str, sources, **kw):
    hdl, d = _params(name)
    return run(
        "snn_output",
        sources,
        "test_snn_output",
        parameters=hdl,
        extra_env={"ICESPIKE_OUTPUT_EXPORT": d},
        tag=name,
        **kw,
    )


@pytest.mark.icarus
def test_snn_output_catches_injected_bug():
    """The test fails when argmax ties go to the highest index."""
    res = _run(
        "ternary_h16_p1",
        mutants.sources("engine_argmax_tie", "snn_output", "ram_sdp"),
        sim="icarus",
        check=False,
    )
    assert res.num_tests == 1 and res.num_failed == 1, res
