"""spram64: 16384 x 64-bit single-port RAM (four SB_SPRAM256KA on UP5K), behavioural model.

Every cycle the testbench drives a random write (we with a random per-16-bit-lane mask) or
read and compares rdata with a model: a read shows the word one cycle later and rdata holds
until the next read; after a write cycle rdata is undefined (the primitive drives X) and is
not compared. An optional INIT_FILE preloads the simulation model (hardware SPRAM is not
initialised by the bitstream: the design writes it through the port).
"""

from __future__ import annotations

import os
import random

import cocotb
import pytest
from cocotb.triggers import FallingEdge, ReadOnly

from simrun import (
    SIM_BUILD_DIR,
    Mismatches,
    rtl,
    run,
    start_clock,
    tb_seed,
    tb_txns,
    tier_txns,
)
from test_ram_sdp import read_hex, write_hex

DEPTH = 16384
LANE = 0xFFFF


@cocotb.test()
async def random_traffic(dut):
    """Random masked writes and reads, preloaded words read back first."""
    init = os.environ.get("ICESPIKE_INIT_FILE", "")
    mem: dict[int, int] = read_hex(init, 64) if init else {}
    known: dict[int, int] = {a: 0xF for a in mem}  # which 16-bit lanes of a word hold data
    rng = random.Random(tb_seed())
    await start_clock(dut)
    mm = Mismatches("spram64")
    rdata = None
    probe = sorted(rng.sample(sorted(mem), min(len(mem), 256))) if mem else []
    script = [(0, 0, a, 0) for a in probe]
    hot = [rng.randrange(DEPTH) for _ in range(64)]  # a small working set so reads hit written words
    n_random = tb_txns()
    for cycle in range(len(script) + n_random + 2):
        await FallingEdge(dut.clk)
        if cycle < len(script):
            we, wmask, addr, wdata = script[cycle]
        elif cycle < len(script) + n_random:
            we = int(rng.random() < 0.45)
            wmask = rng.choice((0xF, 0xF, 0x1, 0x2, 0x4, 0x8, 0x5, 0xA, 0x0, rng.randrange(16)))
            addr = rng.choice(hot) if rng.random() < 0.9 else rng.randrange(DEPTH)
            wdata = rng.getrandbits(64)
        else:
            we, wmask, addr, wdata = 0, 0, 0, 0
        dut.we.value, dut.wmask.value, dut.addr.value, dut.wdata.value = we, wmask, addr, wdata
        await ReadOnly()
        if rdata is not None:
            m = rdata[1]
            mm.check(cycle, f"rdata (lanes {m:04b})", read_lanes(dut.rdata, m), rdata[0] & m_bits(m))
        if we:
            rdata = None  # undefined after a write cycle
            old = mem.get(addr, 0)
            for lane in range(4):
                if wmask >> lane & 1:
                    sh = 16 * lane
                    old = (old & ~(LANE << sh)) | (wdata & (LANE << sh))
            mem[addr] = old
            known[addr] = known.get(addr, 0) | wmask
        else:
            k = known.get(addr, 0)
            rdata = (mem.get(addr, 0), k) if k else None
    mm.assert_none()


def read_lanes(handle, lanes: int) -> int | None:
    """rdata restricted to ``lanes`` (lanes never written may hold X); None if a chosen lane has X."""
    bits = str(handle.value)  # MSB first, 64 characters of 0/1/x/z
    out = 0
    for i in range(4):
        if lanes >> i & 1:
            lane = bits[64 - 16 * (i + 1) : 64 - 16 * i]
            if any(ch not in "01" for ch in lane):
                return None
            out |= int(lane, 2) << (16 * i)
    return out


def m_bits(lanes: int) -> int:
    """64-bit mask of the 16-bit lanes set in ``lanes``."""
    return sum(LANE << (16 * i) for i in range(4) if lanes >> i & 1)


CASES = []
for sim in ("icarus", "verilator"):
    for tier in ("fast", "slow"):
        for init in (0, 1):
            if tier == "fast" and sim == "verilator" and not init:
                continue
            marks = [getattr(pytest.mark, sim)] + ([pytest.mark.slow] if tier == "slow" else [])
            CASES.append(
                pytest.param(sim, tier, init, marks=marks, id=f"{sim}-{'init' if init else 'noinit'}-{tier}")
            )


@pytest.mark.parametrize("sim,tier,init", CASES)
def test_spram64(sim, tier, init):
    params: dict = {}
    env = {"ICESPIKE_TXNS": tier_txns(tier)}
    if init:
        rng = random.Random("spram64")
        hexfile = SIM_BUILD_DIR / "spram64" / "init.hex"
        write_hex(hexfile, [rng.getrandbits(64) for _ in range(DEPTH)], 64)
        params["INIT_FILE"] = f'"{hexfile}"'
        env["ICESPIKE_INIT_FILE"] = str(hexfile)
    run("spram64", rtl("spram64"), "test_spram64", sim=sim, parameters=params, extra_env=env)
