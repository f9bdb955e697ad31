"""uart_rx and uart_tx (8N1): bytes on the serial line against the bytes given, exactly.

uart_rx: a line driver sends random bytes with a baud error of up to +-3 % (the bit period
in ns is CLKS_PER_BIT * 10 * (1 + e)), random idle time between frames (often none), glitches
shorter than half a bit (ignored), frames with a low stop bit (frame_err, no byte) and breaks
(one frame_err). Every byte and every error must come out, in order, and nothing else.
uart_tx: random bytes with random s_valid gaps; the line is sampled in the middle of every bit
(start 0, data LSB first, stop 1), back-to-back bytes must leave back to back, and s_ready
must not take a byte while one is on the line.
"""

from __future__ import annotations

import random

import cocotb
import pytest
from cocotb.triggers import FallingEdge, RisingEdge, Timer

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

CLK_NS = 10


async def drive_frame(dut, byte: int, bit_ns: float, stop: int = 1) -> None:
    for b in [0] + [(byte >> i) & 1 for i in range(8)] + [stop]:
        dut.rx.value = b
        await Timer(round(bit_ns * 1000), unit="ps")


async def collect_rx(dut, out: list) -> None:
    while True:
        await RisingEdge(dut.clk)
        await FallingEdge(dut.clk)
        if dut.m_valid.value == 1:
            out.append(("byte", read_unsigned(dut.m_data)))
        if dut.frame_err.value == 1:
            out.append(("err", None))


@cocotb.test()
async def rx_stream(dut):
    """Random bytes, baud error, glitches, framing errors and breaks, compared in order."""
    cpb = int(tb_params()["CLKS_PER_BIT"])
    rng = random.Random(tb_seed())
    dut.rx.value = 1
    dut.rst.value = 1
    await start_clock(dut, CLK_NS)
    for _ in range(3):
        await FallingEdge(dut.clk)
    dut.rst.value = 0
    got: list = []
    cocotb.start_soon(collect_rx(dut, got))
    want: list = []
    corner = [0x00, 0xFF, 0x55, 0xAA, 0x01, 0x80, 0xA5, 0x5A]
    for n in range(tb_txns() + len(corner)):
        e = rng.choice((0.0, 0.0, -0.03, 0.03, rng.uniform(-0.03, 0.03)))
        bit_ns = cpb * CLK_NS * (1 + e)
        kind = rng.random()
        byte = corner[n] if n < len(corner) else rng.randrange(256)
        if kind < 0.05:  # glitch shorter than half a bit: ignored
            dut.rx.value = 0
            await Timer(max(1, int(cpb * CLK_NS * 0.3)), unit="ns")
            dut.rx.value = 1
            await Timer(cpb * CLK_NS, unit="ns")
            continue
        if kind < 0.10:  # low stop bit: framing error, no byte
            await drive_frame(dut, byte, bit_ns, stop=0)
            dut.rx.value = 1
            await Timer(cpb * CLK_NS, unit="ns")
            want.append(("err", None))
            continue
        if kind < 0.13:  # break: line low for 3 frames, one error
            dut.rx.value = 0
            await Timer(30 * cpb * CLK_NS, unit="ns")
            dut.rx.value = 1
            await Timer(cpb * CLK_NS, unit="ns")
            want.append(("err", None))
            continue
        await drive_frame(dut, byte, bit_ns)
        want.append(("byte", byte))
        if rng.random() < 0.3:
            await Timer(rng.randrange(1, 3 * cpb * CLK_NS), unit="ns")
    dut.rx.value = 1
    await Timer(3 * cpb * CLK_NS, unit="ns")
    mm = Mismatches(f"uart_rx CLKS_PER_BIT={cpb}")
    for i in range(max(len(got), len(want))):
        mm.check(i, f"event {i}", got[i] if i < len(got) else None, want[i] if i < len(want) else None)
    mm.assert_none()


@cocotb.test()
async def tx_stream(dut):
    """Random bytes with random gaps; the line sampled mid-bit; back to back means no gap."""
    cpb = int(tb_params()["CLKS_PER_BIT"])
    rng = random.Random(tb_seed())
    dut.s_valid.value = 0
    dut.s_data.value = 0
    dut.rst.value = 1
    await start_clock(dut, CLK_NS)
    for _ in range(3):
        await FallingEdge(dut.clk)
    dut.rst.value = 0
    msg = [0x00, 0xFF, 0x55, 0xAA] + [rng.randrange(256) for _ in range(tb_txns())]
    sent_at: list[int] = []  # cycle in which each byte was taken
    line: list[int] = []  # tx after every rising edge

    async def drive():
        i = 0
        cycle = 0
        while i < len(msg):
            await FallingEdge(dut.clk)
            v = int(rng.random() < 0.6)
            dut.s_valid.value = v
            dut.s_data.value = msg[i] if v else rng.randrange(256)
            await RisingEdge(dut.clk)
            if v and dut.s_ready.value == 1:
                sent_at.append(cycle)
                i += 1
            cycle += 1
            await Timer(1, unit="ps")
            line.append(int(dut.tx.value))
        await FallingEdge(dut.clk)
        dut.s_valid.value = 0
        for _ in range(11 * cpb + 2):
            await RisingEdge(dut.clk)
            await Timer(1, unit="ps")
            line.append(int(dut.tx.value))

    await drive()
    mm = Mismatches(f"uart_tx CLKS_PER_BIT={cpb}")
    # decode the line: tx after edge c is line[c]; a byte taken at edge c starts at line[c]
    for n, c0 in enumerate(sent_at):
        bits = [line[c0 + k * cpb + cpb // 2] for k in range(10)]
        frame = [0] + [(msg[n] >> i) & 1 for i in range(8)] + [1]
        mm.check(n, f"byte {msg[n]:#04x} taken at cycle {c0}", bits, frame)
        if n:
            mm.check(n, "no overlap", c0 - sent_at[n - 1] >= 10 * cpb, True)
        # line idle before a start bit that follows a gap
    # back to back: with s_valid always high, bytes go every 10*cpb cycles (checked in tx_b2b)
    mm.assert_none()


@cocotb.test()
async def tx_back_to_back(dut):
    """s_valid always high: one byte every 10 * CLKS_PER_BIT cycles, no idle bit."""
    cpb = int(tb_params()["CLKS_PER_BIT"])
    dut.rst.value = 1
    dut.s_valid.value = 0
    await start_clock(dut, CLK_NS)
    await FallingEdge(dut.clk)
    dut.rst.value = 0
    dut.s_valid.value = 1
    dut.s_data.value = 0x3C
    taken = []
    for c in range(60 * cpb):
        await RisingEdge(dut.clk)
        if dut.s_ready.value == 1:
            taken.append(c)
    mm = Mismatches("uart_tx back to back")
    gaps = [b - a for a, b in zip(taken, taken[1:])]
    mm.check(0, "gaps between bytes", set(gaps), {10 * cpb})
    mm.assert_none()


# ------------------------------------------------------------------------------- pytest side

PARAM_SETS = {"cpb8": {"CLKS_PER_BIT": 8}, "cpb16": {"CLKS_PER_BIT": 16}, "cpb5": {"CLKS_PER_BIT": 5}}
TESTS = {"uart_rx": ["rx_stream"], "uart_tx": ["tx_stream", "tx_back_to_back"]}


@pytest.mark.parametrize("top", sorted(TESTS))
@pytest.mark.parametrize("sim,tier,name,params", matrix(PARAM_SETS, fast=["cpb8", "cpb5"], fast_verilator=[]))
def test_uart(top, sim, tier, name, params):
    env = {"ICESPIKE_TXNS": tier_txns(tier)}
    run(top, rtl(top), "test_uart", sim=sim, parameters=params, extra_env=env, testcase=TESTS[top])
