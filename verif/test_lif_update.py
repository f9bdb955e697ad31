"""lif_update: one integer LIF step (combinational), against icespike.fixed.lif_step.

leak (floor shift), integrate with saturation (never wraps), fire (v2 >= threshold),
reset (subtract or to zero), in the contract's order; directed corners at both ends of the
membrane and current ranges and at both ends of the threshold range, then random vectors.
"""

from __future__ import annotations

import itertools
import random

import cocotb
import pytest
from cocotb.triggers import Timer

import mutants
from icespike import fixed
from simrun import (
    Mismatches,
    matrix,
    read_signed,
    read_unsigned,
    rtl,
    run,
    tb_params,
    tb_seed,
    tb_txns,
    tier_txns,
)


class Lif:
    def __init__(self, p: dict):
        self.mem_w, self.cur_w = int(p["MEM_W"]), int(p["CUR_W"])
        self.leak_shift = int(p["LEAK_SHIFT"])
        self.reset = "subtract" if int(p["RESET_SUBTRACT"]) else "zero"
        self.v_lo, self.v_hi = fixed.signed_range(self.mem_w)
        self.c_lo, self.c_hi = fixed.signed_range(self.cur_w)

    def expected(self, v, cur, th):
        return fixed.lif_step(v, cur, th, leak_shift=self.leak_shift, mem_width=self.mem_w, reset=self.reset)


async def apply(dut, lif: Lif, v, cur, th):
    dut.v.value = v & ((1 << lif.mem_w) - 1)
    dut.cur.value = cur & ((1 << lif.cur_w) - 1)
    dut.threshold.value = th
    await Timer(1, unit="ns")
    return read_signed(dut.v_next), read_unsigned(dut.spike)


@cocotb.test()
async def corners(dut):
    """Ends of v, current and threshold, negative leaks (floor), exact threshold hits."""
    lif = Lif(tb_params())
    vs = sorted({lif.v_lo, lif.v_lo + 1, -17, -1, 0, 1, 17, lif.v_hi - 1, lif.v_hi})
    cs = sorted({lif.c_lo, -1, 0, 1, lif.c_hi, max(lif.c_lo, lif.v_lo), min(lif.c_hi, lif.v_hi)})
    ths = sorted({1, 2, 100 % lif.v_hi + 1, lif.v_hi - 1, lif.v_hi} - {0})
    mm = Mismatches(f"lif_update {tb_params()} corners")
    for n, (v, cur, th) in enumerate(itertools.product(vs, cs, ths)):
        got = await apply(dut, lif, v, cur, th)
        mm.check(n, f"v={v} cur={cur} th={th}", got, lif.expected(v, cur, th))
    # v2 exactly at the threshold and one below: the current that lands there
    for n, th in enumerate((1, lif.v_hi // 3 + 1, lif.v_hi)):
        for v in (0, lif.v_hi // 2, lif.v_lo // 2):
            v1 = fixed.leak(v, lif.leak_shift)
            for cur in (th - v1, th - v1 - 1):
                if lif.c_lo <= cur <= lif.c_hi:
                    got = await apply(dut, lif, v, cur, th)
                    mm.check(10_000 + n, f"v={v} cur={cur} th={th}", got, lif.expected(v, cur, th))
    mm.assert_none()


@cocotb.test()
async def random_vectors(dut):
    """ICESPIKE_TXNS random (v, current, threshold), ends of each range frequent."""
    lif = Lif(tb_params())
    rng = random.Random(tb_seed())
    mm = Mismatches(f"lif_update {tb_params()} random")

    def pick(lo, hi):
        r = rng.random()
        return (
            rng.choice((lo, hi))
            if r < 0.1
            else rng.randint(lo // 64, hi // 64)
            if r < 0.4
            else rng.randint(lo, hi)
        )

    for n in range(tb_txns()):
        v, cur = pick(lif.v_lo, lif.v_hi), pick(lif.c_lo, lif.c_hi)
        th = rng.choice((1, lif.v_hi, rng.randint(1, lif.v_hi), rng.randint(1, max(1, lif.v_hi // 64))))
        got = await apply(dut, lif, v, cur, th)
        mm.check(n, f"v={v} cur={cur} th={th}", got, lif.expected(v, cur, th))
    mm.assert_none()


PARAM_SETS = {
    # ternary 784-128-10: 19-bit current, 21-bit membrane, tau 20 -> shift 4
    "m21_c19_k4_sub": {"MEM_W": 21, "CUR_W": 19, "LEAK_SHIFT": 4, "RESET_SUBTRACT": 1},
    "m21_c19_k4_zero": {"MEM_W": 21, "CUR_W": 19, "LEAK_SHIFT": 4, "RESET_SUBTRACT": 0},
    # no leak, current wider than the membrane
    "m12_c16_k0_sub": {"MEM_W": 12, "CUR_W": 16, "LEAK_SHIFT": 0, "RESET_SUBTRACT": 1},
    # narrow, strongest leak
    "m6_c6_k1_zero": {"MEM_W": 6, "CUR_W": 6, "LEAK_SHIFT": 1, "RESET_SUBTRACT": 0},
    # q16 network: 34-bit current, 36-bit membrane
    "m36_c34_k3_sub": {"MEM_W": 36, "CUR_W": 34, "LEAK_SHIFT": 3, "RESET_SUBTRACT": 1},
}


@pytest.mark.parametrize(
    "sim,tier,name,params",
    matrix(
        PARAM_SETS,
        fast=["m21_c19_k4_sub", "m21_c19_k4_zero", "m12_c16_k0_sub", "m6_c6_k1_zero"],
        fast_verilator=["m21_c19_k4_sub"],
    ),
)
def test_lif_update(sim, tier, name, params):
    run(
        "lif_update",
        rtl("lif_update"),
        "test_lif_update",
        sim=sim,
        parameters=params,
        extra_env={"ICESPIKE_TXNS": tier_txns(tier)},
    )


def test_lif_update_catches_injected_bug():
    """The tests fail when the membrane wraps instead of saturating."""
    res = run(
        "lif_update",
        mutants.sources("lif_update_sat_wrap", "lif_update"),
        "test_lif_update",
        sim="icarus",
        parameters=PARAM_SETS["m12_c16_k0_sub"],
        testcase="corners",
        check=False,
    )
    assert res.num_tests == 1 and res.num_failed == 1, res
