"""ternary_acc: stream accumulation of ternary synapses, against icespike.fixed.ternary_accumulate.

A cycle model (timing of docs/cores.md: result one cycle after the last beat, s_ready =
!m_valid | m_ready, reset drops the packet) predicts s_ready, m_valid and m_acc every cycle;
the arithmetic of every beat is ``fixed.ternary_accumulate`` (saturating or proven width,
as the SATURATE parameter says). The same module tests binary_acc (test_binary_acc.py).
"""

from __future__ import annotations

import os
import random

import cocotb
import pytest

import mutants
from icespike import fixed, formats
from simrun import (
    matrix,
    rtl,
    run,
    run_stream,
    start_stream_tb,
    tb_txns,
    tier_txns,
)

TERNARY = formats.weight_format(2)
BINARY = formats.weight_format(1)


class Config:
    """The core's parameters, as the pytest side passed them."""

    def __init__(self, params: dict):
        self.kind = os.environ.get("ICESPIKE_ACC_KIND", "ternary")  # set by test_binary_acc.py
        self.acc_w = int(params["ACC_W"])
        self.x_w = int(params["X_W"])
        self.x_signed = bool(int(params["X_SIGNED"]))
        self.saturate = bool(int(params["SATURATE"]))
        self.x_lo, self.x_hi = (
            fixed.signed_range(self.x_w) if self.x_signed else fixed.unsigned_range(self.x_w)
        )
        self.acc_lo, self.acc_hi = fixed.signed_range(self.acc_w)
        # largest |code * x| of one beat, and the fan-in the width proves (SATURATE=0)
        self.x_mag = max(-self.x_lo, self.x_hi)
        self.max_fan_in = self.acc_hi // self.x_mag if self.x_mag else 1 << 20

    def code_value(self, pattern: int) -> int:
        if self.kind == "binary":
            return int(BINARY.decode([pattern])[0])
        if pattern == 0b10:
            return 0  # illegal pattern: the core treats it as skip
        return int(TERNARY.decode([pattern])[0])

    def pattern(self, code: int) -> int:
        fmt = BINARY if self.kind == "binary" else TERNARY
        return int(fmt.encode([code])[0])

    def codes(self) -> tuple[int, ...]:
        return (1, -1) if self.kind == "binary" else (0, 1, -1)

    def x_bits(self, x: int) -> int:
        return x & ((1 << self.x_w) - 1)

    def x_from_bits(self, bits: int) -> int:
        return fixed.from_twos(bits, self.x_w) if self.x_signed else bits


class AccModel:
    """Cycle model of ternary_acc / binary_acc."""

    SIGNED = ("m_acc",)

    def __init__(self, cfg: Config):
        self.cfg = cfg
        self.acc = 0
        self.out_valid = False
        self.out_acc = 0
        self.packets = 0

    def idle(self) -> bool:
        return not self.out_valid

    def expect(self, inp):
        return {
            "s_ready": int(not self.out_valid or bool(inp["m_ready"])),
            "m_valid": int(self.out_valid),
            "m_acc": self.out_acc if self.out_valid else None,
        }

    def step(self, inp):
        if inp["rst"]:
            self.acc, self.out_valid = 0, False
            return
        s_ready = not self.out_valid or inp["m_ready"]
        if self.out_valid and inp["m_ready"]:
            self.out_valid = False
            self.packets += 1
        if inp["s_valid"] and s_ready:
            c = self.cfg
            x = c.x_from_bits(inp["s_x"])
            code = c.code_value(inp["s_code"])
            accumulate = fixed.binary_accumulate if c.kind == "binary" else fixed.ternary_accumulate
            new = accumulate(self.acc, x, code, width=c.acc_w, saturating=c.saturate)
            if inp["s_last"]:
                self.out_acc, self.out_valid, self.acc = new, True, 0
            else:
                self.acc = new


def beat(cfg: Config, x: int, code: int, last: bool) -> dict:
    return {"s_x": cfg.x_bits(x), "s_code": cfg.pattern(code), "s_last": int(last)}


def random_packets(cfg: Config, rng: random.Random, n_beats: int, max_len: int = 48) -> list[dict]:
    """Random packets; extreme inputs and same-sign runs are frequent so saturation happens."""
    beats: list[dict] = []
    max_len = max(1, min(max_len, cfg.max_fan_in if not cfg.saturate else max_len))
    while len(beats) < n_beats:
        length = min(rng.randint(1, max_len), n_beats - len(beats))
        bias = rng.choice((None, 1, -1))  # a packet leaning one way drives the accumulator to an end
        for k in range(length):
            r = rng.random()
            x = cfg.x_lo if r < 0.15 else cfg.x_hi if r < 0.3 else rng.randint(cfg.x_lo, cfg.x_hi)
            code = bias if bias is not None and rng.random() < 0.8 else rng.choice(cfg.codes())
            beats.append(beat(cfg, x, code, k == length - 1))
    return beats


@cocotb.test()
async def random_stream(dut):
    """ICESPIKE_TXNS random beats with random valid gaps and back-pressure."""
    cfg, rng = await start_stream_tb(dut, Config)
    model = AccModel(cfg)
    beats = random_packets(cfg, rng, tb_txns())
    mm = await run_stream(
        dut, model, beats, rng, name=f"{cfg.kind}_acc random", valid_prob=0.75, ready_prob=0.6
    )
    mm.assert_none()
    assert model.packets > 0


@cocotb.test()
async def full_rate_and_stalls(dut):
    """Back-to-back beats at full rate, then heavy back-pressure (ready 20 %)."""
    cfg, rng = await start_stream_tb(dut, Config)
    model = AccModel(cfg)
    beats = random_packets(cfg, rng, 300, max_len=4)
    mm = await run_stream(dut, model, beats, rng, name="full rate", valid_prob=1.0, ready_prob=1.0)
    mm.assert_none()
    beats = random_packets(cfg, rng, 300, max_len=4)
    mm = await run_stream(dut, model, beats, rng, name="stalls", valid_prob=0.9, ready_prob=0.2)
    mm.assert_none()


@cocotb.test()
async def reset_mid_packet(dut):
    """Random synchronous resets in the middle of packets and of waiting results."""
    cfg, rng = await start_stream_tb(dut, Config)
    model = AccModel(cfg)
    beats = random_packets(cfg, rng, max(400, tb_txns() // 4))
    mm = await run_stream(dut, model, beats, rng, name="reset mid-packet", rst_prob=0.03, ready_prob=0.5)
    mm.assert_none()


@cocotb.test()
async def corners(dut):
    """Maximum fan-in (proven width) or both saturation ends (saturating), most negative x."""
    cfg, rng = await start_stream_tb(dut, Config)
    model = AccModel(cfg)
    beats: list[dict] = []

    def packet(items):
        for k, (x, code) in enumerate(items):
            beats.append(beat(cfg, x, code, k == len(items) - 1))

    if cfg.saturate:
        n = 2 * (cfg.acc_hi // max(1, cfg.x_mag)) + 4
        packet([(cfg.x_hi, 1)] * n + [(1, -1)])  # top end, then one step back
        packet([(cfg.x_hi, -1)] * n + [(1, 1)])  # bottom end, then one step back
        if cfg.x_signed:
            packet([(cfg.x_lo, -1)] * n)  # subtract the most negative value: top end
            packet([(cfg.x_lo, 1)] * n + [(cfg.x_lo, -1)])  # bottom end, then back up
        packet([(cfg.x_hi, 1)] * n + [(cfg.x_hi, -1)] * (2 * n))  # from one end to the other
    else:
        n = min(cfg.max_fan_in, 1024)  # the fan-in the width proves (784 for the 19-bit layer 0)
        packet([(cfg.x_hi, 1)] * n)
        packet([(cfg.x_hi, -1)] * n)
        if cfg.x_signed:
            packet([(cfg.x_lo, -1)] * n)
            packet([(cfg.x_lo, 1)] * n)
    packet([(cfg.x_lo, cfg.codes()[-1])])  # one-beat packet
    for x in (cfg.x_lo, 0, cfg.x_hi):
        packet([(x, c) for c in cfg.codes()])
    mm = await run_stream(
        dut, model, beats, rng, name=f"{cfg.kind}_acc corners", valid_prob=0.9, ready_prob=0.7
    )
    mm.assert_none()


@cocotb.test()
async def code_patterns(dut):
    """Every bit pattern of the code port: ternary 00/01/11 and the illegal 10 (acts as skip);
    binary 0 (+1) and 1 (-1). Each pattern with both input extremes, alone and mixed."""
    cfg, rng = await start_stream_tb(dut, Config)
    model = AccModel(cfg)
    if cfg.kind == "ternary":
        beats = [beat(cfg, cfg.x_hi, 1, False), {"s_x": cfg.x_bits(cfg.x_hi), "s_code": 0b10, "s_last": 0}]
        beats += [{"s_x": cfg.x_bits(cfg.x_lo), "s_code": 0b10, "s_last": 1}]
    else:
        beats = []
    for x in (cfg.x_hi, cfg.x_lo):
        for c in cfg.codes():
            beats += [beat(cfg, x, c, False), beat(cfg, x, c, True)]  # the pattern twice, alone
        beats += [beat(cfg, x, c, i == len(cfg.codes()) - 1) for i, c in enumerate(cfg.codes())]
    mm = await run_stream(dut, model, beats, rng, name="code patterns", valid_prob=1.0, ready_prob=1.0)
    assert mm.checked > 0, "nothing was compared"
    mm.assert_none()


# ------------------------------------------------------------------------------- pytest side

PARAM_SETS = {
    # engine layer 0: 8-bit pixels, proven 19-bit accumulator (784 inputs)
    "u8_acc19": {"ACC_W": 19, "X_W": 8, "X_SIGNED": 0, "SATURATE": 0},
    # signed input, narrow saturating accumulator
    "s8_acc10_sat": {"ACC_W": 10, "X_W": 8, "X_SIGNED": 1, "SATURATE": 1},
    # unsigned input as wide as the accumulator, saturating
    "u8_acc9_sat": {"ACC_W": 9, "X_W": 8, "X_SIGNED": 0, "SATURATE": 1},
    # hidden layer: 1-bit spikes gate the codes, proven width
    "u1_acc9": {"ACC_W": 9, "X_W": 1, "X_SIGNED": 0, "SATURATE": 0},
    # wide signed input
    "s16_acc24": {"ACC_W": 24, "X_W": 16, "X_SIGNED": 1, "SATURATE": 0},
    # input range wider than the accumulator range, saturating
    "s4_acc4_sat": {"ACC_W": 4, "X_W": 4, "X_SIGNED": 1, "SATURATE": 1},
}
FAST = ["u8_acc19", "s8_acc10_sat", "u8_acc9_sat", "u1_acc9"]
FAST_VERILATOR = ["u8_acc19", "s8_acc10_sat"]


@pytest.mark.parametrize("sim,tier,name,params", matrix(PARAM_SETS, fast=FAST, fast_verilator=FAST_VERILATOR))
def test_ternary_acc(sim, tier, name, params):
    run(
        "ternary_acc",
        rtl("ternary_acc", "ternary_addsub"),
        "test_ternary_acc",
        sim=sim,
        parameters=params,
        extra_env={"ICESPIKE_TXNS": tier_txns(tier)},
    )


def test_ternary_acc_catches_injected_bug():
    """The tests fail when saturation is replaced by wrap-around."""
    res = run(
        "ternary_acc",
        mutants.sources("ternary_acc_sat_wrap", "ternary_acc", "ternary_addsub"),
        "test_ternary_acc",
        sim="icarus",
        parameters=PARAM_SETS["s8_acc10_sat"],
        testcase="corners",
        check=False,
    )
    assert res.num_tests == 1 and res.num_failed == 1, res
