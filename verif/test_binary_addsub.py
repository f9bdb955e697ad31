"""binary_addsub: sum = acc + x (code 0 = +1) or acc - x (code 1 = -1), against icespike.fixed.

The core wraps at W bits (the caller proves the width, contract section 6): vectors whose
exact result fits W bits are checked with ``fixed.binary_accumulate(saturating=False)``;
vectors that overflow are checked against the documented wrap (modulo 2^W).
"""

from __future__ import annotations

import itertools
import random

import cocotb
import pytest
from cocotb.triggers import Timer

import mutants
from icespike import fixed, formats
from simrun import Mismatches, matrix, read_signed, rtl, run, tb_params, tb_seed, tb_txns, tier_txns

TOP = "binary_addsub"
SOURCES = ("binary_addsub",)
BINARY = formats.weight_format(1)


def expected_sum(acc: int, x: int, bit: int, w: int) -> int:
    c = int(BINARY.decode([bit])[0])  # 0 -> +1, 1 -> -1
    lo, hi = fixed.signed_range(w)
    exact = acc + c * x
    if lo <= exact <= hi:
        return fixed.binary_accumulate(acc, x, c, width=w, saturating=False)
    return fixed.from_twos(exact & ((1 << w) - 1), w)  # documented wrap


async def apply(dut, w: int, acc: int, x: int, bit: int) -> int | None:
    mask = (1 << w) - 1
    dut.acc.value = acc & mask
    dut.x.value = x & mask
    dut.code.value = bit
    await Timer(1, unit="ns")
    return read_signed(dut.sum)


@cocotb.test()
async def corners(dut):
    """Both codes on every pair of corner values (both ends, most negative, +-1, 0)."""
    w = int(tb_params()["W"])
    lo, hi = fixed.signed_range(w)
    values = sorted({lo, lo + 1, -1, 0, 1, hi - 1, hi})
    mm = Mismatches(f"{TOP} W={w} corners")
    for n, (acc, x, bit) in enumerate(itertools.product(values, values, (0, 1))):
        got = await apply(dut, w, acc, x, bit)
        mm.check(n, f"acc={acc} x={x} code={bit}", got, expected_sum(acc, x, bit, w))
    mm.assert_none()


@cocotb.test()
async def random_vectors(dut):
    """ICESPIKE_TXNS random vectors, half of them in the proven (non-overflowing) range."""
    w = int(tb_params()["W"])
    rng = random.Random(tb_seed())
    lo, hi = fixed.signed_range(w)
    mm = Mismatches(f"{TOP} W={w} random")
    for n in range(tb_txns()):
        bit = rng.randint(0, 1)
        if n % 2:
            acc, x = rng.randint(lo, hi), rng.randint(lo, hi)
        else:
            acc, x = rng.randint(lo // 2, hi // 2), rng.randint(lo // 2 + 1, hi // 2)
        got = await apply(dut, w, acc, x, bit)
        mm.check(n, f"acc={acc} x={x} code={bit}", got, expected_sum(acc, x, bit, w))
    mm.assert_none()


# ------------------------------------------------------------------------------- pytest side

PARAM_SETS = {"W16": {"W": 16}, "W13": {"W": 13}, "W2": {"W": 2}, "W34": {"W": 34}}


@pytest.mark.parametrize(
    "sim,tier,name,params", matrix(PARAM_SETS, fast=["W16", "W13", "W2"], fast_verilator=["W13"])
)
def test_binary_addsub(sim, tier, name, params):
    run(
        TOP,
        rtl(*SOURCES),
        "test_binary_addsub",
        sim=sim,
        parameters=params,
        extra_env={"ICESPIKE_TXNS": tier_txns(tier)},
    )


def test_binary_addsub_catches_injected_bug():
    """The tests fail on a known bug: the subtract without its +1 (ones' complement)."""
    res = run(
        TOP,
        mutants.sources("binary_addsub_carry", *SOURCES),
        "test_binary_addsub",
        sim="icarus",
        parameters={"W": 16},
        extra_env={"ICESPIKE_TXNS": tier_txns("fast")},
        check=False,
    )
    assert res.num_tests == 2 and res.num_failed == 2, res
