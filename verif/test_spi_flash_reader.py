"""spi_flash_reader against the behavioural SPI flash (verif/models/spi_flash.v): every byte read
from random addresses (also past the model's contents: 0xFF, and across the 2^24 wrap), with
random consumer back-pressure, restarts in the middle of a stream, stops, and a start given
during the wake-up. The flash model starts in deep power-down, so the reads also prove the
wake-up (0xAB, then tRES1 deselected); a reader with a too-short wake-up must fail.
A monitor checks the SPI timing rules on every cycle: SCK low while deselected, at most one SCK
edge per CLK_DIV cycles while selected (SCK may fall together with the deselect).
"""

from __future__ import annotations

import os
import random
from pathlib import Path

import cocotb
import pytest
from cocotb.triggers import FallingEdge, RisingEdge

from simrun import (
    ROOT,
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

TOP = "tb_spi_flash_reader"
CLK_NS = 10


def flash_bytes(addr: int, n: int, content: bytes, base: int) -> list[int]:
    out = []
    for k in range(n):
        a = (addr + k) & 0xFFFFFF
        out.append(content[a - base] if base <= a < base + len(content) else 0xFF)
    return out


async def monitor(dut, clk_div: int, errors: list) -> None:
    last_sck, since = 0, 10**9
    while True:
        await RisingEdge(dut.clk)
        await FallingEdge(dut.clk)
        sck, cs_n = int(dut.spi_sck.value), int(dut.spi_cs_n.value)
        if cs_n and sck:
            errors.append("SCK high while deselected")
        since += 1
        if sck != last_sck:
            if since < clk_div and not cs_n:  # (SCK may fall together with the deselect)
                errors.append(f"SCK edge {since} cycles after the previous one (CLK_DIV {clk_div})")
            since = 0
        last_sck = sck


async def read_run(dut, rng, addr: int, count: int, limit: int) -> list[int] | None:
    """Start a read at addr and take count bytes with random m_ready; None on timeout."""
    await FallingEdge(dut.clk)
    dut.start.value = 1
    dut.addr.value = addr
    dut.m_ready.value = 0
    await FallingEdge(dut.clk)
    dut.start.value = 0
    got: list[int] = []
    for _ in range(limit):
        dut.m_ready.value = int(rng.random() < 0.6)
        await RisingEdge(dut.clk)
        if dut.m_valid.value == 1 and dut.m_ready.value == 1:
            got.append(read_unsigned(dut.m_data))
        await FallingEdge(dut.clk)
        if len(got) == count:
            dut.m_ready.value = 0
            return got
    return None


@cocotb.test()
async def reads(dut):
    p = tb_params()
    clk_div, base = int(p["CLK_DIV"]), int(p["BASE"])
    content = Path(os.environ["FLASH_FILE"]).read_text().split()
    content = bytes(int(x, 16) for x in content)
    rng = random.Random(tb_seed())
    for s in ("rst", "start", "stop", "m_ready"):
        getattr(dut, s).value = 0
    dut.addr.value = 0
    await start_clock(dut, CLK_NS)
    errors: list[str] = []
    dut.rst.value = 1
    await FallingEdge(dut.clk)
    await FallingEdge(dut.clk)
    dut.rst.value = 0
    cocotb.start_soon(monitor(dut, clk_div, errors))
    mm = Mismatches(f"spi_flash_reader {p}")
    per_byte = 2 * clk_div * 8 + 4
    cases = [(base, 16), (base + len(content) - 4, 8), (base - 3, 6), (0xFFFFFE, 4)]  # start during wake-up
    for _ in range(tb_txns()):
        cases.append((base + rng.randrange(-8, len(content) + 8), rng.randrange(1, 40)))
    for n, (addr, count) in enumerate(cases):
        limit = 200 + 2 * int(p["WAKE_CYCLES"]) + count * per_byte * 4
        got = await read_run(dut, rng, addr, count, limit)
        mm.check(n, f"read {count} at {addr:#08x}", got, flash_bytes(addr, count, content, base))
        if rng.random() < 0.2:  # stop, then the reader must go idle
            await FallingEdge(dut.clk)
            dut.stop.value = 1
            await FallingEdge(dut.clk)
            dut.stop.value = 0
            for _ in range(10):
                await FallingEdge(dut.clk)
            mm.check(n, "idle after stop", int(dut.idle.value), 1)
            mm.check(n, "deselected after stop", int(dut.spi_cs_n.value), 1)
        elif rng.random() < 0.3:  # leave bytes in flight: the next start drops them
            for _ in range(rng.randrange(1, 3 * per_byte)):
                await FallingEdge(dut.clk)
    mm.check(len(cases), "SPI timing", errors[:3], [])
    mm.assert_none()


# ------------------------------------------------------------------------------- pytest side

BUILD = ROOT / "build" / "spi_flash_reader"
BASE = 0x100000
PARAM_SETS = {
    "div1": {"CLK_DIV": 1, "FAST_READ": 0},
    "div1fast": {"CLK_DIV": 1, "FAST_READ": 1},
    "div3": {"CLK_DIV": 3, "FAST_READ": 0},
}


def flash_file(size: int = 1024) -> Path:
    BUILD.mkdir(parents=True, exist_ok=True)
    path = BUILD / f"flash-{size}.hex"
    if not path.is_file():
        data = random.Random(size).randbytes(size)
        path.write_text("".join(f"{b:02x}\n" for b in data))
    return path


def sources():
    return [
        ROOT / "verif" / "harness" / f"{TOP}.v",
        ROOT / "verif" / "models" / "spi_flash.v",
        *rtl("spi_flash_reader"),
    ]


def params_for(params: dict, **extra) -> dict:
    mem = flash_file()
    return {
        "WAKE_CYCLES": 40,
        "T_RES1_NS": 300,
        **params,
        "MEM_FILE": f'"{mem}"',
        "BASE": BASE,
        "SIZE": 1024,
        **extra,
    }


@pytest.mark.parametrize(
    "sim,tier,name,params", matrix(PARAM_SETS, fast=["div1fast", "div3"], fast_verilator=["div1"])
)
def test_spi_flash_reader(sim, tier, name, params):
    hdl = params_for(params)
    env = {"ICESPIKE_TXNS": tier_txns(tier) if tier == "fast" else 10_000, "FLASH_FILE": flash_file()}
    run(TOP, sources(), "test_spi_flash_reader", sim=sim, parameters=hdl, extra_env=env)


def test_spi_flash_reader_needs_wake():
    """The flash model holds power-down for tRES1: a reader that reads too early gets z, not data."""
    hdl = params_for(PARAM_SETS["div1"], WAKE_CYCLES=2)
    env = {"ICESPIKE_TXNS": 20, "FLASH_FILE": flash_file()}
    res = run(
        TOP, sources(), "test_spi_flash_reader", sim="icarus", parameters=hdl, extra_env=env, check=False
    )
    assert res.num_tests == 1 and res.num_failed == 1, res
