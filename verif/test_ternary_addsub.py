"""ternary_addsub: sum = acc + code * x (one shared carry chain), against icespike.fixed.

Codes: 00 skip, 01 add, 11 subtract, 10 illegal = skip. The core wraps at W bits (the
caller proves the width, contract section 6): vectors whose exact result fits W bits are
checked with ``fixed.ternary_accumulate(saturating=False)``; vectors that overflow are
checked against the documented wrap (the exact result reduced modulo 2^W).
"""

from __future__ import annotations

import itertools
import random

import cocotb
import pytest
from cocotb.triggers import Timer

import mutants
from icespike import fixed
from simrun import Mismatches, matrix, read_signed, rtl, run, tb_params, tb_seed, tb_txns, tier_txns

TOP = "ternary_addsub"
SOURCES = ("ternary_addsub",)
PATTERN_VALUE = {0b00: 0, 0b01: 1, 0b11: -1, 0b10: 0}  # 10 is illegal and acts as skip


def expected_sum(acc: int, x: int, pattern: int, w: int) -> int:
    c = PATTERN_VALUE[pattern]
    lo, hi = fixed.signed_range(w)
    exact = acc + c * x
    if lo <= exact <= hi:
        return fixed.ternary_accumulate(acc, x, c, width=w, saturating=False)
    # documented wrap: the caller proves the width, the adder drops the carry
    return fixed.from_twos(exact & ((1 << w) - 1), w)


async def apply(dut, w: int, acc: int, x: int, pattern: int) -> int | None:
    mask = (1 << w) - 1
    dut.acc.value = acc & mask
    dut.x.value = x & mask
    dut.code.value = pattern
    await Timer(1, unit="ns")
    return read_signed(dut.sum)


@cocotb.test()
async def corners(dut):
    """Every code on every pair of corner values (both ends, most negative, +-1, 0)."""
    w = int(tb_params()["W"])
    lo, hi = fixed.signed_range(w)
    values = sorted({lo, lo + 1, -1, 0, 1, hi - 1, hi})
    mm = Mismatches(f"{TOP} W={w} corners")
    for n, (acc, x, pattern) in enumerate(itertools.product(values, values, PATTERN_VALUE)):
        got = await apply(dut, w, acc, x, pattern)
        mm.check(n, f"acc={acc} x={x} code={pattern:02b}", got, expected_sum(acc, x, pattern, w))
    mm.assert_none()


@cocotb.test()
async def random_vectors(dut):
    """ICESPIKE_TXNS random vectors, half of them in the proven (non-overflowing) range."""
    w = int(tb_params()["W"])
    txns = tb_txns()
    rng = random.Random(tb_seed())
    lo, hi = fixed.signed_range(w)
    mm = Mismatches(f"{TOP} W={w} random")
    for n in range(txns):
        pattern = rng.choice((0b00, 0b01, 0b11, 0b01, 0b11, 0b10))
        if n % 2:
            acc, x = rng.randint(lo, hi), rng.randint(lo, hi)
        else:  # both halves small enough that acc +/- x cannot overflow
            acc, x = rng.randint(lo // 2, hi // 2), rng.randint(lo // 2 + 1, hi // 2)
        got = await apply(dut, w, acc, x, pattern)
        mm.check(n, f"acc={acc} x={x} code={pattern:02b}", got, expected_sum(acc, x, pattern, w))
    mm.assert_none()


# ------------------------------------------------------------------------------- pytest side

PARAM_SETS = {
    "W16": {"W": 16},
    "W19": {"W": 19},
    "W2": {"W": 2},
    "W34": {"W": 34},
}


@pytest.mark.parametrize(
    "sim,tier,name,params", matrix(PARAM_SETS, fast=["W16", "W19", "W2"], fast_verilator=["W19"])
)
def test_ternary_addsub(sim, tier, name, params):
    env = {"ICESPIKE_TXNS": tier_txns(tier)}
    run(TOP, rtl(*SOURCES), "test_ternary_addsub", sim=sim, parameters=params, extra_env=env)


def test_ternary_addsub_catches_injected_bug():
    """The tests fail on a known bug: the subtract without its +1 (ones' complement)."""
    params = {"W": 16}
    res = run(
        TOP,
        mutants.sources("ternary_addsub_carry", *SOURCES),
        "test_ternary_addsub",
        sim="icarus",
        parameters=params,
        extra_env={"ICESPIKE_TXNS": tier_txns("fast")},
        check=False,
    )
    assert res.num_tests == 2 and res.num_failed == 2, res
