"""snn_accum: the group currents of layer 0 against icespike.golden, group by group.

A random network (no biases, so golden's layer-0 current is I0 = sum_i x_i q0[j, i]) is exported
and its weight image preloaded (W0_FILE). For every image and every group g the test sets
``group``, feeds the image's events as the event FIFO delivers them (nonzero pixels and the
last pixel, with random gaps), and checks that ``done`` rises exactly 3 cycles (4 with a
multiplier) after the last event, as the cycle model counts. Then ``load`` and a read of every
chunk through ``sel``/``cur`` must give golden's currents of neurons g*LANES .. (the padding
neurons past N_HID of a last group are not compared). The next group accumulates while the
previous one's currents are read, as in the engine.
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
from icespike.export import engine_params, load_export
from simrun import Mismatches, matrix, rtl, run, start_clock, tb_params, tb_seed

N_IMAGES = 3


@cocotb.test()
async def groups(dut):
    p = tb_params()
    net = load_export(os.environ["ICESPIKE_ACCUM_EXPORT"])
    ep = engine_params(net)
    lanes, p_lif = int(p["LANES"]), int(p["P_LIF"])
    multi = ep.CODE_W0 > 2
    rs = random.Random(tb_seed())
    rng = np.random.default_rng(tb_seed())
    x = rng.integers(1, 256, size=(N_IMAGES, ep.N_IN))
    x[rng.random(x.shape) < 0.75] = 0
    x[0, -1] = 0
    x[1, -1] = 77
    g = golden.run(net, x, trace=True)
    i0 = g.currents[0][:, 0, :]  # (N, N_HID): constant over the steps
    n_groups = -(-ep.N_HID // lanes)
    mm = Mismatches(f"snn_accum {p}")
    await start_clock(dut)
    dut.rst.value = 1
    for s in ("w_we", "w_addr", "w_data", "e_valid", "e_last", "e_pix", "e_idx", "load", "group", "sel"):
        getattr(dut, s).value = 0
    for _ in range(2):
        await RisingEdge(dut.clk)
    await FallingEdge(dut.clk)
    dut.rst.value = 0
    for k in range(N_IMAGES):
        events = [(i, int(x[k, i])) for i in range(ep.N_IN) if x[k, i] != 0 or i == ep.N_IN - 1]
        for grp in range(n_groups):
            dut.group.value = grp
            for n, (i, v) in enumerate(events):
                while rs.random() < 0.2:  # a gap
                    dut.e_valid.value = 0
                    await FallingEdge(dut.clk)
                dut.e_valid.value = 1
                dut.e_idx.value = i
                dut.e_pix.value = v
                dut.e_last.value = int(n == len(events) - 1)
                await FallingEdge(dut.clk)
            dut.e_valid.value = 0
            dut.e_last.value = 0
            lat = 1  # cycles after the last event's cycle
            while dut.done.value != 1 and lat < 10:
                await FallingEdge(dut.clk)
                lat += 1
            mm.check(k, f"image {k} group {grp}: cycles from the last event to done", lat, 3 + int(multi))
            dut.load.value = 1
            await FallingEdge(dut.clk)
            dut.load.value = 0
            for c in range(lanes // p_lif):
                dut.sel.value = c
                await FallingEdge(dut.clk)
                for q in range(p_lif):
                    j = grp * lanes + c * p_lif + q
                    if j >= ep.N_HID:
                        continue
                    raw = (int(dut.cur.value) >> (q * ep.ACC_W)) & ((1 << ep.ACC_W) - 1)
                    got = raw - (1 << ep.ACC_W) if raw >> (ep.ACC_W - 1) else raw
                    mm.check(k, f"image {k} neuron {j} current", got, int(i0[k, j]))
    mm.assert_none()


def _net(bits: int, n_hid: int, n_in: int, seed: int):
    from icespike.network import IntLayer, IntNetwork
    from test_snn_engine import random_codes

    rng = np.random.default_rng(seed)
    q0 = random_codes(rng, bits, (n_hid, n_in))
    q1 = random_codes(rng, bits, (10, n_hid))
    return IntNetwork([IntLayer(q0, bits, threshold=500), IntLayer(q1, bits)], 4)


# name -> (bits, N_HID, N_IN, LANES, P_LIF, W0_SPRAM)
CASES = {
    "ternary_l16_p1": (2, 40, 50, 16, 1, 0),  # two groups per word, a padded last group
    "ternary_l32_p2": (2, 64, 50, 32, 2, 1),
    "binary_l16_p4": (1, 48, 30, 16, 4, 0),  # four groups per word
    "q4_l8_p2": (4, 24, 30, 8, 2, 1),  # a multiplier per lane
    "q8_l8_p1": (8, 16, 30, 8, 1, 0),
    "q16_l4_p2": (16, 12, 20, 4, 2, 0),
}


def _hdl(name: str) -> dict:
    bits, n_hid, n_in, lanes, p_lif, spram = CASES[name]
    ep = engine_params(_net(bits, n_hid, n_in, seed=len(name)))
    return {
        "N_IN": ep.N_IN,
        "N_HID": ep.N_HID,
        "CODE_W0": ep.CODE_W0,
        "ACC_W": ep.ACC_W,
        "LANES": lanes,
        "P_LIF": p_lif,
        "W0_SPRAM": spram,
    }


def _params(name: str) -> tuple[dict, str]:
    """HDL parameters with the weight file, and the export directory."""
    from test_snn_engine import export_for_test

    bits, n_hid, n_in, *_ = CASES[name]
    d = export_for_test(_net(bits, n_hid, n_in, seed=len(name)), f"accum-{name}")
    return dict(_hdl(name), W0_FILE=f'"{d / "w0.hex"}"'), str(d)  # a string parameter, quoted


PARAM_SETS = {name: _hdl(name) for name in CASES}


@pytest.mark.parametrize(
    "sim,tier,name,params",
    matrix(PARAM_SETS, fast=["ternary_l16_p1", "binary_l16_p4", "q4_l8_p2"], fast_verilator=[]),
)
def test_snn_accum(sim, tier, name, params):
    _run(name, rtl(*SOURCES), sim=sim)


SOURCES = ("snn_accum", "ram_sdp", "spram64", "mul_s", "ternary_addsub", "binary_addsub")


def _run(name: str, sources, **kw):
    hdl, d = _params(name)
    return run(
        "snn_accum",
        sources,
        "test_snn_accum",
        parameters=hdl,
        extra_env={"ICESPIKE_ACCUM_EXPORT": d},
        tag=name,
        **kw,
    )


@pytest.mark.icarus
def test_snn_accum_catches_injected_bug():
    """The test fails when the accumulators are not cleared between groups."""
    res = _run("ternary_l16_p1", mutants.sources("engine_ring_no_clear", *SOURCES), sim="icarus", check=False)
    assert res.num_tests == 1 and res.num_failed == 1, res
