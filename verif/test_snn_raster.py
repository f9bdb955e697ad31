"""snn_raster: the spike raster between hidden layers (two ping-pong buffers and a row scan).

A sequence of "layers" runs through the raster as the engine runs them: layer l writes a
random raster (T rows of n_l spikes, random density per row, from empty to full, padding
lanes included) in group-major beats of P_IN bits with random gaps, into buffer l % 2, while
rows of layer l-1's raster are scanned from the other buffer in random order, some with
random back-pressure on m_ready and some with m_ready held high. Every scan's indices are
compared with ``icespike.rtlsim.raster_scan`` (ascending order, every set bit once, nothing
else), and with m_ready held high the cycle of ``done`` with its cycle count. scan_start
pulses while a scan is busy must be ignored; a reset in the middle of a scan and a write
leaves the raster scannable again.
"""

from __future__ import annotations

import random

import cocotb
import numpy as np
import pytest
from cocotb.triggers import FallingEdge, ReadOnly

from icespike.rtlsim import raster_scan
from simrun import (
    Mismatches,
    matrix,
    read_unsigned,
    rtl,
    run,
    start_clock,
    tb_params,
    tb_seed,
    tb_txns,
    tier_txns,
)


class Raster:
    """Drives snn_raster one cycle at a time: a writer, a scanner and a checker side by side."""

    def __init__(self, dut, p: dict, rng: random.Random, mm: Mismatches):
        self.dut, self.rng, self.mm = dut, rng, mm
        self.L, self.P, self.T, self.n_max = int(p["LANES"]), int(p["P_IN"]), int(p["T"]), int(p["N_MAX"])
        self.g_max = -(-self.n_max // self.L)
        self.cycle = 0
        self.scans = 0
        self.timed = 0

    def idle(self):
        d = self.dut
        d.w_start.value = 0
        d.w_valid.value = 0
        d.w_bits.value = 0
        d.scan_start.value = 0
        d.scan_t.value = 0
        d.scan_groups.value = 1
        d.m_ready.value = 1

    def random_raster(self, n: int) -> np.ndarray:
        """(T, G*L) spikes: each row with its own density (0, sparse, dense or full)."""
        g = -(-n // self.L)
        rows = []
        for _ in range(self.T):
            dens = self.rng.choice((0.0, 0.05, 0.3, 0.8, 1.0))
            rows.append([int(self.rng.random() < dens) for _ in range(g * self.L)])
        return np.array(rows, dtype=np.int64)

    def beats(self, raster: np.ndarray) -> list[int]:
        """Group-major write beats: for g, for t, chunk c of the group's L bits (bit p = lane c*P+p)."""
        out = []
        for g in range(raster.shape[1] // self.L):
            for t in range(self.T):
                word = raster[t, g * self.L : (g + 1) * self.L]
                for c in range(self.L // self.P):
                    out.append(sum(int(b) << k for k, b in enumerate(word[c * self.P : (c + 1) * self.P])))
        return out

    async def layer(self, sel: int, write: np.ndarray | None, read: np.ndarray | None, n_scans: int):
        """Write ``write`` into buffer ``sel`` while scanning ``n_scans`` rows of ``read`` (the
        raster in buffer ``1 - sel``)."""
        d, rng = self.dut, self.rng
        beats = self.beats(write) if write is not None else []
        order = [rng.randrange(self.T) for _ in range(n_scans)] if read is not None else []
        started_w = write is None
        scan = None  # (t, expected indices, expected cycles, start cycle, back-pressure, got)
        while beats or order or scan is not None or not started_w:
            await FallingEdge(d.clk)
            self.cycle += 1
            self.idle()
            d.sel.value = sel
            if not started_w:
                d.w_start.value = 1
                started_w = True
            elif beats and rng.random() < 0.7:
                d.w_valid.value = 1
                d.w_bits.value = beats.pop(0)
            busy = read_unsigned(d.scan_busy)
            if scan is None and order and busy == 0 and rng.random() < 0.8:
                t = order.pop(0)
                want, cycles = raster_scan(read[t], self.L)
                scan = (t, want.tolist(), cycles, self.cycle, rng.random() < 0.5, [])
                d.scan_start.value = 1
                d.scan_t.value = t
                d.scan_groups.value = read.shape[1] // self.L
            elif scan is not None and busy == 1 and rng.random() < 0.1:
                # a start while busy is ignored (another row, another count)
                d.scan_start.value = 1
                d.scan_t.value = rng.randrange(self.T)
                d.scan_groups.value = rng.randrange(1, self.g_max + 1)
            if scan is not None and scan[4]:
                d.m_ready.value = int(rng.random() < 0.6)
            await ReadOnly()
            if scan is None:
                continue
            if read_unsigned(d.m_valid) == 1 and read_unsigned(d.m_ready) == 1:
                scan[5].append(read_unsigned(d.m_idx))
            if read_unsigned(d.done) == 1:
                t, want, cycles, start, bp, got = scan
                self.mm.check(self.cycle, f"row {t} indices", got, want)
                if not bp:
                    self.mm.check(self.cycle, f"row {t} cycles to done", self.cycle - start, cycles)
                    self.timed += 1
                self.scans += 1
                scan = None


async def start(dut, what: str, seed: int) -> Raster:
    """Clock, inputs idle, two cycles of reset: the driver of a fresh test."""
    p = tb_params()
    await start_clock(dut)
    r = Raster(dut, p, random.Random(seed), Mismatches(f"snn_raster {what} {p}"))
    r.idle()
    dut.sel.value = 0
    dut.rst.value = 1
    for _ in range(2):
        await FallingEdge(dut.clk)
    dut.rst.value = 0
    return r


@cocotb.test()
async def layers_through_the_raster(dut):
    """Random layers written and scanned through the two buffers; indices and cycles exact."""
    r = await start(dut, "layers", tb_seed())
    rng, mm = r.rng, r.mm
    prev = None
    n_scans = max(4, tb_txns() // 20)
    for layer in range(6):
        n = rng.choice((1, r.L, r.n_max, rng.randrange(1, r.n_max + 1)))
        cur = r.random_raster(n)
        await r.layer(layer % 2, cur, prev, n_scans if prev is not None else 0)
        prev = cur
    # the last raster once more, every row, with nothing written
    await r.layer(0, None, prev, 2 * r.T)
    assert r.scans >= 5 * n_scans and r.timed > 0, (r.scans, r.timed)
    mm.assert_none()


@cocotb.test()
async def reset_in_the_middle(dut):
    """A reset in the middle of a write and a scan: idle at once, then a full layer works."""
    r = await start(dut, "reset", tb_seed() + 1)
    mm = r.mm
    full = np.ones((r.T, r.g_max * r.L), np.int64)
    await r.layer(0, full, None, 0)
    # start a scan of the full raster and a write, then reset after a few cycles
    await FallingEdge(dut.clk)
    r.idle()
    dut.sel.value = 1
    dut.scan_start.value = 1
    dut.scan_groups.value = r.g_max
    dut.w_start.value = 1
    for _ in range(3):
        await FallingEdge(dut.clk)
        r.idle()
        dut.w_valid.value = 1
        dut.w_bits.value = (1 << r.P) - 1
    dut.rst.value = 1
    await ReadOnly()
    assert read_unsigned(dut.scan_busy) == 1
    await FallingEdge(dut.clk)
    dut.rst.value = 0
    r.idle()
    await ReadOnly()
    mm.check(0, "scan_busy after reset", read_unsigned(dut.scan_busy), 0)
    mm.check(0, "m_valid after reset", read_unsigned(dut.m_valid), 0)
    # buffer 0 still holds the full raster; a new layer into buffer 1 while scanning it
    await r.layer(1, r.random_raster(r.n_max), full, r.T)
    mm.assert_none()


PARAM_SETS = {
    "l16_p1_t16_n256": {"LANES": 16, "P_IN": 1, "T": 16, "N_MAX": 256},  # the 784-256-128-10 engine
    "l4_p2_t3_n10": {"LANES": 4, "P_IN": 2, "T": 3, "N_MAX": 10},  # T and N not powers of 2
    "l8_p8_t5_n64": {"LANES": 8, "P_IN": 8, "T": 5, "N_MAX": 64},  # a whole word per beat
    "l2_p1_t1_n2": {"LANES": 2, "P_IN": 1, "T": 1, "N_MAX": 2},  # one word, one step
    "l32_p4_t4_n96": {"LANES": 32, "P_IN": 4, "T": 4, "N_MAX": 96},
}


@pytest.mark.parametrize(
    "sim,tier,name,params",
    matrix(
        PARAM_SETS,
        fast=["l16_p1_t16_n256", "l4_p2_t3_n10", "l8_p8_t5_n64", "l2_p1_t1_n2"],
        fast_verilator=["l4_p2_t3_n10"],
    ),
)
def test_snn_raster(sim, tier, name, params):
    run(
        "snn_raster",
        rtl("snn_raster", "ram_sdp"),
        "test_snn_raster",
        sim=sim,
        parameters=params,
        extra_env={"ICESPIKE_TXNS": tier_txns(tier)},
    )
