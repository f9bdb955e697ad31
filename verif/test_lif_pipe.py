"""lif_pipe: one integer LIF step in two pipeline stages, against icespike.fixed.lif_step.

A new (v, current, threshold) enters every clock edge; the result of each appears one edge
later, so every check also exercises back-to-back operation. Directed corners at both ends
of the membrane, current and threshold ranges (saturation at both ends, exact threshold
hits), random vectors, and ce = 0 holding the result while the inputs change. With SPLIT = 1
the pipe takes the leaked membrane (``fixed.leak``, as snn_lif_stage stores it) and must give
the same results.
"""

from __future__ import annotations

import itertools
import random

import cocotb
import pytest
from cocotb.clock import Clock
from cocotb.triggers import RisingEdge, Timer

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
from test_lif_update import PARAM_SETS as LIF_PARAM_SETS


class Lif:
    def __init__(self, p: dict):
        self.mem_w, self.cur_w = int(p["MEM_W"]), int(p["CUR_W"])
        self.leak_shift = int(p["LEAK_SHIFT"])
        self.reset = "subtract" if int(p["RESET_SUBTRACT"]) else "zero"
        self.v_lo, self.v_hi = fixed.signed_range(self.mem_w)
        self.c_lo, self.c_hi = fixed.signed_range(self.cur_w)
        self.split = int(p.get("SPLIT", 0))  # 1: the pipe's v input is the leaked membrane

    def expected(self, v, cur, th):
        return fixed.lif_step(v, cur, th, leak_shift=self.leak_shift, mem_width=self.mem_w, reset=self.reset)


def drive(dut, lif: Lif, v, cur, th, ce=1):
    dut.ce.value = ce
    v_in = fixed.leak(v, lif.leak_shift) if lif.split else v
    dut.v.value = v_in & ((1 << lif.mem_w) - 1)
    dut.cur.value = cur & ((1 << lif.cur_w) - 1)
    dut.threshold.value = th


async def step(dut, lif: Lif, v, cur, th, ce=1):
    """Present one input set for one clock edge; return the outputs after that edge."""
    drive(dut, lif, v, cur, th, ce)
    await RisingEdge(dut.clk)
    await Timer(1, unit="ns")
    return read_signed(dut.v_next), read_unsigned(dut.spike)


async def start(dut):
    cocotb.start_soon(Clock(dut.clk, 10, unit="ns").start())
    dut.ce.value = 0
    dut.v.value = 0
    dut.cur.value = 0
    dut.threshold.value = 1
    await Timer(2, unit="ns")


@cocotb.test()
async def corners(dut):
    """Ends of v, current and threshold, negative leaks (floor), exact threshold hits."""
    lif = Lif(tb_params())
    await start(dut)
    vs = sorted({lif.v_lo, lif.v_lo + 1, -17, -1, 0, 1, 17, lif.v_hi - 1, lif.v_hi})
    cs = sorted({lif.c_lo, -1, 0, 1, lif.c_hi, max(lif.c_lo, lif.v_lo), min(lif.c_hi, lif.v_hi)})
    ths = sorted({1, 2, 100 % lif.v_hi + 1, lif.v_hi - 1, lif.v_hi} - {0})
    mm = Mismatches(f"lif_pipe {tb_params()} corners")
    for n, (v, cur, th) in enumerate(itertools.product(vs, cs, ths)):
        got = await step(dut, lif, v, cur, th)
        mm.check(n, f"v={v} cur={cur} th={th}", got, lif.expected(v, cur, th))
    # v2 exactly at the threshold and one below: the current that lands there
    for n, th in enumerate((1, lif.v_hi // 3 + 1, lif.v_hi)):
        for v in (0, lif.v_hi // 2, lif.v_lo // 2):
            v1 = fixed.leak(v, lif.leak_shift)
            for cur in (th - v1, th - v1 - 1):
                if lif.c_lo <= cur <= lif.c_hi:
                    got = await step(dut, lif, v, cur, th)
                    mm.check(10_000 + n, f"v={v} cur={cur} th={th}", got, lif.expected(v, cur, th))
    mm.assert_none()


@cocotb.test()
async def random_vectors(dut):
    """ICESPIKE_TXNS random (v, current, threshold), ends of each range frequent; ce = 0 holds."""
    lif = Lif(tb_params())
    await start(dut)
    rng = random.Random(tb_seed())
    mm = Mismatches(f"lif_pipe {tb_params()} random")

    def pick(lo, hi):
        r = rng.random()
        return (
            rng.choice((lo, hi))
            if r < 0.1
            else rng.randint(lo // 64, hi // 64)
            if r < 0.4
            else rng.randint(lo, hi)
        )

    def vector():
        v, cur = pick(lif.v_lo, lif.v_hi), pick(lif.c_lo, lif.c_hi)
        th = rng.choice((1, lif.v_hi, rng.randint(1, lif.v_hi), rng.randint(1, max(1, lif.v_hi // 64))))
        return v, cur, th

    last = None
    for n in range(tb_txns()):
        v, cur, th = vector()
        if last is not None and rng.random() < 0.1:
            # ce = 0: the inputs change but the result of the last accepted set stays
            got = await step(dut, lif, v, cur, th, ce=0)
            mm.check(n, f"hold after {last}", got, lif.expected(*last))
            continue
        got = await step(dut, lif, v, cur, th)
        mm.check(n, f"v={v} cur={cur} th={th}", got, lif.expected(v, cur, th))
        last = (v, cur, th)
    mm.assert_none()


# The same parameter sets as the combinational lif_update it pipelines, and each with SPLIT = 1
# (the wide-membrane build of the engine: leaked membrane in, both chains in stage 1).
PARAM_SETS = {**LIF_PARAM_SETS, **{f"{k}_split": {**v, "SPLIT": 1} for k, v in LIF_PARAM_SETS.items()}}


@pytest.mark.parametrize(
    "sim,tier,name,params",
    matrix(
        PARAM_SETS,
        fast=[
            "m21_c19_k4_sub",
            "m21_c19_k4_zero",
            "m12_c16_k0_sub",
            "m6_c6_k1_zero",
            "m12_c16_k0_sub_split",
            "m6_c6_k1_zero_split",
            "m36_c34_k3_sub_split",
        ],
        fast_verilator=["m21_c19_k4_sub"],
    ),
)
def test_lif_pipe(sim, tier, name, params):
    run(
        "lif_pipe",
        rtl("lif_pipe"),
        "test_lif_pipe",
        sim=sim,
        parameters=params,
        extra_env={"ICESPIKE_TXNS": tier_txns(tier)},
    )


def test_lif_pipe_catches_injected_bug():
    """The tests fail when the membrane wraps instead of saturating."""
    res = run(
        "lif_pipe",
        mutants.sources("lif_pipe_sat_wrap", "lif_pipe"),
        "test_lif_pipe",
        sim="icarus",
        parameters=PARAM_SETS["m12_c16_k0_sub"],
        testcase="corners",
        check=False,
    )
    assert res.num_tests == 1 and res.num_failed == 1, res
