"""mul_s: registered multiplier p = a * b (one cycle, clock enable, no reset).

Every cycle the testbench drives ce, a, b (random, ce 70 % of cycles) and compares p with
the model register, whose value is the exact product from ``fixed.mac(0, a, b, shift=0)``.
"""

from __future__ import annotations

import random

import cocotb
import pytest
from cocotb.triggers import FallingEdge, ReadOnly

from icespike import fixed
from simrun import (
    Mismatches,
    matrix,
    read_signed,
    rtl,
    run,
    start_clock,
    tb_params,
    tb_seed,
    tb_txns,
    tier_txns,
)


@cocotb.test()
async def random_products(dut):
    """Random operands (extremes frequent) and random clock enables, checked every cycle."""
    p = tb_params()
    a_w, a_signed, b_w = int(p["A_W"]), bool(int(p["A_SIGNED"])), int(p["B_W"])
    a_lo, a_hi = fixed.signed_range(a_w) if a_signed else fixed.unsigned_range(a_w)
    b_lo, b_hi = fixed.signed_range(b_w)
    rng = random.Random(tb_seed())
    await start_clock(dut)
    mm = Mismatches(f"mul_s {p}")
    expected = None  # the register holds no value before the first enable
    corners = [(a, b) for a in (a_lo, 0, a_hi) for b in (b_lo, -1, 0, b_hi)]
    for cycle in range(len(corners) + tb_txns()):
        await FallingEdge(dut.clk)
        if cycle < len(corners):
            a, b, ce = *corners[cycle], 1
        else:
            a, b = (
                rng.choice((a_lo, a_hi, rng.randint(a_lo, a_hi))),
                rng.choice((b_lo, b_hi, rng.randint(b_lo, b_hi))),
            )
            ce = int(rng.random() < 0.7)
        dut.a.value = a & ((1 << a_w) - 1)
        dut.b.value = b & ((1 << b_w) - 1)
        dut.ce.value = ce
        await ReadOnly()
        if expected is not None:
            mm.check(cycle, "p", read_signed(dut.p), expected)
        if ce:
            expected = fixed.mac(0, a, b, shift=0, width=a_w + b_w)
    mm.assert_none()


PARAM_SETS = {
    "u8_s8": {"A_W": 8, "A_SIGNED": 0, "B_W": 8},
    "s16_s16": {"A_W": 16, "A_SIGNED": 1, "B_W": 16},
    "u8_s4": {"A_W": 8, "A_SIGNED": 0, "B_W": 4},
    "u8_s16": {"A_W": 8, "A_SIGNED": 0, "B_W": 16},
    "s4_s2": {"A_W": 4, "A_SIGNED": 1, "B_W": 2},
}


@pytest.mark.parametrize(
    "sim,tier,name,params", matrix(PARAM_SETS, fast=["u8_s8", "s16_s16", "u8_s4"], fast_verilator=["u8_s8"])
)
def test_mul_s(sim, tier, name, params):
    run(
        "mul_s",
        rtl("mul_s"),
        "test_mul_s",
        sim=sim,
        parameters=params,
        extra_env={"ICESPIKE_TXNS": tier_txns(tier)},
    )
