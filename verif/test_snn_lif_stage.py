"""snn_lif_stage: P_LIF lif_pipe lanes with their membrane banks, against icespike.fixed.lif_step.

Groups of GRP * P_LIF neurons get random constant currents (corners of the current range
included, so membranes saturate at both ends) and, with HAS_BIAS = 1, biases from B0_FILE
(rewritten through the bias port for the second half of the groups). Beats are issued as
snn_engine issues them: for t = 0..T-1, beats k = 0..GRP-1 of neurons j = base + k*P_LIF, the
currents one cycle after the beat, back to back, the next group straight after the last beat
of the previous one. Every output beat (stage 4) must carry the (t, j) of its input beat and
the spikes and membranes of fixed.lif_step applied t+1 times from membrane 0 with current
cur + bias; col_re/col_j must announce the same beat one cycle earlier. Padding beats
(i_real = 0) run but produce no output. GRP = 2 exercises the forwarded membrane.
"""

from __future__ import annotations

import random

import cocotb
import pytest
from cocotb.triggers import FallingEdge, RisingEdge

import mutants
from icespike import fixed
from simrun import Mismatches, matrix, read_unsigned, rtl, run, start_clock, tb_params, tb_seed

T_STEPS = 5
N_GROUPS = 3


@cocotb.test()
async def steps(dut):
    p = tb_params()
    acc_w, mem_w = int(p["ACC_W"]), int(p["MEM_W"])
    p_lif, grp, n_hid = int(p["P_LIF"]), int(p["GRP"]), int(p["N_HID"])
    leak, reset = int(p["LEAK_SHIFT"]), ("subtract" if int(p["RESET_SUBTRACT"]) else "zero")
    has_bias = int(p.get("HAS_BIAS", 0))
    rs = random.Random(tb_seed())
    lo, hi = fixed.signed_range(acc_w - 1)  # current + bias stays in ACC_W bits
    th = rs.randint(1, fixed.signed_range(mem_w)[1] // 4)
    bias = [rs.randint(lo // 4, hi // 4) if has_bias else 0 for _ in range(n_hid)]
    mm = Mismatches(f"snn_lif_stage {p}")
    await start_clock(dut)
    dut.rst.value = 1
    for s in ("b_we", "b_addr", "b_data", "i_valid", "i_first", "i_real", "i_j", "i_k", "i_t", "i_cur"):
        getattr(dut, s).value = 0
    dut.threshold.value = th
    for _ in range(2):
        await RisingEdge(dut.clk)
    await FallingEdge(dut.clk)
    dut.rst.value = 0
    if has_bias:  # the bias image of the build is all zeros: write the biases through the port
        for j in range(n_hid):
            dut.b_we.value, dut.b_addr.value, dut.b_data.value = 1, j, bias[j] & ((1 << acc_w) - 1)
            await FallingEdge(dut.clk)
        dut.b_we.value = 0
    group_n = grp * p_lif
    beats = []  # (t, j, real, currents) in issue order
    for g in range(N_GROUPS):
        base = (g * group_n) % n_hid
        real = g != 1 or rs.random() < 0.5  # group 1 may be padding
        cs = [
            rs.choice((lo, hi, 0, rs.randint(lo, hi), rs.randint(lo // 64, hi // 64))) for _ in range(group_n)
        ]
        for t in range(T_STEPS):
            for k in range(grp):
                j = base + k * p_lif
                beats.append((t, j, k, real, cs[k * p_lif : (k + 1) * p_lif]))
    # expected outputs per beat: lif_step t+1 times
    expect = []
    for t, j, _k, real, cs in beats:
        if not real:
            continue
        sp, vs = [], []
        for q in range(p_lif):
            v = 0
            for _ in range(t + 1):
                v, s = fixed.lif_step(
                    v, cs[q] + bias[j + q], th, leak_shift=leak, mem_width=mem_w, reset=reset
                )
            sp.append(int(s))
            vs.append(int(v))
        expect.append((t, j, sp, vs))
    got, cols = [], []

    async def monitor():
        while True:
            await RisingEdge(dut.clk)
            if dut.col_re.value == 1:
                cols.append(read_unsigned(dut.col_j))
            if dut.o_valid.value == 1:
                spk, vv = read_unsigned(dut.o_spike), read_unsigned(dut.o_v)
                sp = [(spk >> q) & 1 for q in range(p_lif)]
                vs = []
                for q in range(p_lif):
                    v = (vv >> (q * mem_w)) & ((1 << mem_w) - 1)
                    vs.append(v - (1 << mem_w) if v >> (mem_w - 1) else v)
                got.append((read_unsigned(dut.o_t), read_unsigned(dut.o_j), sp, vs))

    cocotb.start_soon(monitor())
    prev = None
    for b in [*beats, None]:
        if prev is not None:  # stage 1: the currents of the beat issued one cycle earlier
            dut.i_cur.value = sum((c & ((1 << acc_w) - 1)) << (q * acc_w) for q, c in enumerate(prev[4]))
        if b is None:
            dut.i_valid.value = 0
        else:
            t, j, k, real, _cs = b
            dut.i_valid.value, dut.i_first.value, dut.i_real.value = 1, int(t == 0), int(real)
            dut.i_j.value, dut.i_k.value, dut.i_t.value = j, k, t
        prev = b
        await FallingEdge(dut.clk)
    for _ in range(8):
        await FallingEdge(dut.clk)
    mm.check(-1, "output beats", len(got), len(expect))
    for n, (e, g) in enumerate(zip(expect, got)):
        mm.check(n, f"beat t={e[0]} j={e[1]} (t, j, spikes, membranes)", g, e)
    mm.check(-1, "column reads", cols, [e[1] for e in expect])
    mm.assert_none()


def _set(mem_w, acc_w, leak, sub, p_lif, grp, bias, n_hid, split=0):
    return {
        "N_HID": n_hid,
        "ACC_W": acc_w,
        "MEM_W": mem_w,
        "LEAK_SHIFT": leak,
        "RESET_SUBTRACT": sub,
        "P_LIF": p_lif,
        "GRP": grp,
        "HAS_BIAS": bias,
        "LIF_SPLIT": split,
    }


PARAM_SETS = {
    "m21_c19_p1_g16": _set(21, 19, 4, 1, 1, 16, 0, 128),
    "m21_c19_p2_g8_bias": _set(21, 19, 4, 1, 2, 8, 1, 64),
    "m14_c19_p4_g2_zero": _set(14, 19, 0, 0, 4, 2, 0, 32),  # forwarded membrane, saturation
    "m12_c16_p2_g4": _set(12, 16, 2, 1, 2, 4, 0, 16),
    # LIF_SPLIT = 1 (leaked membranes in the bank): q8-like widths, biases; the forwarded membrane
    "m28_c26_p1_g8_split": _set(28, 26, 4, 1, 1, 8, 0, 64, 1),
    "m21_c19_p2_g8_bias_split": _set(21, 19, 4, 1, 2, 8, 1, 64, 1),
    "m14_c19_p4_g2_zero_split": _set(14, 19, 3, 0, 4, 2, 0, 32, 1),
}


@pytest.mark.parametrize(
    "sim,tier,name,params",
    matrix(
        PARAM_SETS,
        fast=[
            "m21_c19_p1_g16",
            "m21_c19_p2_g8_bias",
            "m14_c19_p4_g2_zero",
            "m28_c26_p1_g8_split",
            "m21_c19_p2_g8_bias_split",
            "m14_c19_p4_g2_zero_split",
        ],
        fast_verilator=[],
    ),
)
def test_snn_lif_stage(sim, tier, name, params):
    run(
        "snn_lif_stage",
        rtl("snn_lif_stage", "lif_pipe", "ram_sdp"),
        "test_snn_lif_stage",
        sim=sim,
        parameters=params,
    )


@pytest.mark.icarus
def test_snn_lif_stage_catches_injected_bug():
    """The test fails when the first step does not start from membrane 0 (the previous group's leaks in)."""
    res = run(
        "snn_lif_stage",
        mutants.sources("lif_stage_first", "snn_lif_stage", "lif_pipe", "ram_sdp"),
        "test_snn_lif_stage",
        sim="icarus",
        parameters=PARAM_SETS["m21_c19_p1_g16"],
        check=False,
        tag="bug",
    )
    assert res.num_tests == 1 and res.num_failed == 1, res
