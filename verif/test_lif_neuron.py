"""lif_neuron: valid/ready LIF stage (one time-multiplexed lane), against icespike.fixed.lif_step.

A cycle model predicts s_ready, m_valid, m_v, m_spike and m_tag every cycle. Besides random
(membrane, current) beats, a lane test runs N neurons over T time steps the way the engine
uses the lane: each step's membranes are the previous step's outputs, so the whole membrane
and spike trace is compared, step by step, with ``fixed.lif_step``.
"""

from __future__ import annotations

import cocotb
import numpy as np
import pytest

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


class Cfg:
    def __init__(self, p: dict):
        self.mem_w, self.cur_w = int(p["MEM_W"]), int(p["CUR_W"])
        self.leak_shift = int(p["LEAK_SHIFT"])
        self.reset = "subtract" if int(p["RESET_SUBTRACT"]) else "zero"
        self.tag_w = int(p.get("TAG_W", 8))
        self.v_lo, self.v_hi = fixed.signed_range(self.mem_w)
        self.c_lo, self.c_hi = fixed.signed_range(self.cur_w)

    def step(self, v, cur, th):
        return fixed.lif_step(v, cur, th, leak_shift=self.leak_shift, mem_width=self.mem_w, reset=self.reset)


class LaneModel:
    SIGNED = ("m_v",)

    def __init__(self, cfg: Cfg):
        self.cfg = cfg
        self.out_valid = False
        self.out = (0, 0, 0)
        self.done = 0

    def idle(self) -> bool:
        return not self.out_valid

    def expect(self, inp):
        v, spike, tag = self.out
        on = self.out_valid
        return {
            "s_ready": int(not self.out_valid or bool(inp["m_ready"])),
            "m_valid": int(on),
            "m_v": v if on else None,
            "m_spike": spike if on else None,
            "m_tag": tag if on else None,
        }

    def step(self, inp):
        if inp["rst"]:
            self.out_valid = False
            return
        c = self.cfg
        s_ready = not self.out_valid or inp["m_ready"]
        if self.out_valid and inp["m_ready"]:
            self.done += 1
        if s_ready:
            if inp["s_valid"]:
                v = fixed.from_twos(inp["s_v"], c.mem_w)
                cur = fixed.from_twos(inp["s_cur"], c.cur_w)
                self.out = (*c.step(v, cur, inp["threshold"]), inp["s_tag"])
            self.out_valid = bool(inp["s_valid"])


def beat(cfg: Cfg, v: int, cur: int, tag: int) -> dict:
    return {
        "s_v": v & ((1 << cfg.mem_w) - 1),
        "s_cur": cur & ((1 << cfg.cur_w) - 1),
        "s_tag": tag & ((1 << cfg.tag_w) - 1),
    }


@cocotb.test()
async def random_beats(dut):
    """ICESPIKE_TXNS random beats (ends of the ranges frequent), several thresholds."""
    cfg, rng = await start_stream_tb(dut, Cfg)
    model = LaneModel(cfg)

    def pick(lo, hi):
        r = rng.random()
        return (
            rng.choice((lo, hi))
            if r < 0.15
            else rng.randint(lo // 32, hi // 32)
            if r < 0.5
            else rng.randint(lo, hi)
        )

    thresholds = [1, cfg.v_hi, rng.randint(1, cfg.v_hi), max(1, cfg.v_hi // 40)]
    per = max(1, tb_txns() // len(thresholds))
    for th in thresholds:
        beats = [
            beat(cfg, pick(cfg.v_lo, cfg.v_hi), pick(cfg.c_lo, cfg.c_hi), rng.getrandbits(cfg.tag_w))
            for _ in range(per)
        ]
        mm = await run_stream(
            dut,
            model,
            beats,
            rng,
            name=f"lif_neuron th={th}",
            valid_prob=0.75,
            ready_prob=0.6,
            config={"threshold": th},
        )
        mm.assert_none()


@cocotb.test()
async def lane_trace(dut):
    """N neurons x T steps through the lane; membranes fed back; trace compared step by step."""
    cfg, rng = await start_stream_tb(dut, Cfg)
    n_neurons, steps = 24, 16
    th = max(1, cfg.v_hi // 8)
    # currents that drive some neurons into the upper end, some into the lower, some spiking
    cur = np.array(
        [
            [
                rng.choice(
                    (cfg.c_lo, cfg.c_hi, rng.randint(cfg.c_lo // 4, cfg.c_hi // 4), rng.randint(0, th))
                )
                for _ in range(n_neurons)
            ]
            for _ in range(steps)
        ],
        dtype=np.int64,
    )
    v = np.zeros(n_neurons, dtype=np.int64)
    model = LaneModel(cfg)
    spikes_total = 0
    for t in range(steps):
        beats = [beat(cfg, int(v[n]), int(cur[t, n]), n) for n in range(n_neurons)]
        mm = await run_stream(
            dut,
            model,
            beats,
            rng,
            name=f"lane step {t}",
            valid_prob=0.8,
            ready_prob=0.7,
            config={"threshold": th},
        )
        mm.assert_none()
        # the DUT matched the model for every neuron: advance the trace with the contract
        v, s = cfg.step(v, cur[t], th)
        spikes_total += int(s.sum())
    assert model.done == n_neurons * steps
    assert spikes_total > 0


@cocotb.test()
async def reset_mid_stream(dut):
    """Random synchronous resets while results wait on m_ready."""
    cfg, rng = await start_stream_tb(dut, Cfg)
    model = LaneModel(cfg)
    beats = [
        beat(cfg, rng.randint(cfg.v_lo, cfg.v_hi), rng.randint(cfg.c_lo, cfg.c_hi), k) for k in range(400)
    ]
    mm = await run_stream(
        dut,
        model,
        beats,
        rng,
        name="lif_neuron reset",
        rst_prob=0.04,
        ready_prob=0.4,
        config={"threshold": 1},
    )
    mm.assert_none()


PARAM_SETS = {
    "m21_c19_k4_sub": {"MEM_W": 21, "CUR_W": 19, "LEAK_SHIFT": 4, "RESET_SUBTRACT": 1, "TAG_W": 7},
    "m21_c19_k4_zero": {"MEM_W": 21, "CUR_W": 19, "LEAK_SHIFT": 4, "RESET_SUBTRACT": 0, "TAG_W": 7},
    "m10_c12_k0_sub": {"MEM_W": 10, "CUR_W": 12, "LEAK_SHIFT": 0, "RESET_SUBTRACT": 1, "TAG_W": 5},
    "m28_c26_k2_zero": {"MEM_W": 28, "CUR_W": 26, "LEAK_SHIFT": 2, "RESET_SUBTRACT": 0, "TAG_W": 8},
}


@pytest.mark.parametrize(
    "sim,tier,name,params",
    matrix(
        PARAM_SETS,
        fast=["m21_c19_k4_sub", "m21_c19_k4_zero", "m10_c12_k0_sub"],
        fast_verilator=["m21_c19_k4_sub"],
    ),
)
def test_lif_neuron(sim, tier, name, params):
    run(
        "lif_neuron",
        rtl("lif_neuron", "lif_update"),
        "test_lif_neuron",
        sim=sim,
        parameters=params,
        extra_env={"ICESPIKE_TXNS": tier_txns(tier)},
    )
