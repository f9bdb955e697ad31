"""binary_acc: stream accumulation of binary synapses, against icespike.fixed.binary_accumulate.

The cocotb tests are those of test_ternary_acc.py (same stream protocol and timing), run
with ICESPIKE_ACC_KIND=binary: codes are 0 = +1 and 1 = -1 (formats.weight_format(1)), and
the arithmetic of every beat is ``fixed.binary_accumulate``.
"""

from __future__ import annotations

import pytest

import mutants
from simrun import matrix, rtl, run, tier_txns

PARAM_SETS = {
    "u8_acc19": {"ACC_W": 19, "X_W": 8, "X_SIGNED": 0, "SATURATE": 0},
    "s8_acc10_sat": {"ACC_W": 10, "X_W": 8, "X_SIGNED": 1, "SATURATE": 1},
    "u1_acc9": {"ACC_W": 9, "X_W": 1, "X_SIGNED": 0, "SATURATE": 0},
    "u8_acc9_sat": {"ACC_W": 9, "X_W": 8, "X_SIGNED": 0, "SATURATE": 1},
    "s16_acc24": {"ACC_W": 24, "X_W": 16, "X_SIGNED": 1, "SATURATE": 0},
}
FAST = ["u8_acc19", "s8_acc10_sat", "u1_acc9"]
FAST_VERILATOR = ["s8_acc10_sat"]
ENV = {"ICESPIKE_ACC_KIND": "binary"}


@pytest.mark.parametrize("sim,tier,name,params", matrix(PARAM_SETS, fast=FAST, fast_verilator=FAST_VERILATOR))
def test_binary_acc(sim, tier, name, params):
    run(
        "binary_acc",
        rtl("binary_acc", "ternary_acc", "ternary_addsub"),
        "test_ternary_acc",
        sim=sim,
        parameters=params,
        extra_env={**ENV, "ICESPIKE_TXNS": tier_txns(tier)},
    )


def test_binary_acc_catches_injected_bug():
    """The tests fail when saturation is replaced by wrap-around."""
    res = run(
        "binary_acc",
        mutants.sources("ternary_acc_sat_wrap", "binary_acc", "ternary_acc", "ternary_addsub"),
        "test_ternary_acc",
        sim="icarus",
        parameters=PARAM_SETS["s8_acc10_sat"],
        testcase="corners",
        extra_env=ENV,
        check=False,
    )
    assert res.num_tests == 1 and res.num_failed == 1, res
