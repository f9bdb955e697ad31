"""crc8 (CRC-8/SMBUS) and crc32 (CRC-32/ISO-HDLC): byte-wise checksum registers against the
reference functions of the host package (icespike.board.image.crc32 = zlib.crc32, icespike.board.protocol.crc8).

Each transaction is a message of random length (0..40 bytes, corners: empty, one byte, all
0x00, all 0xFF) fed with random idle cycles between bytes; the checksum is compared after
every byte and while idle, and a restart (clr, sometimes with a byte in the same cycle, which
must be ignored) begins the next message. Reset in the middle of a message is checked too.
"""

from __future__ import annotations

import os
import random

import cocotb
import pytest

from icespike.board.image import crc32
from icespike.board.protocol import crc8
from simrun import (
    Mismatches,
    matrix,
    next_cycle,
    read_unsigned,
    rtl,
    run,
    settle,
    start_clock,
    tb_seed,
    tb_txns,
    tier_txns,
)

REF = {"crc8": crc8, "crc32": crc32}


async def feed(dut, ref, msg: bytes, rng, mm: Mismatches, n: int) -> None:
    """Restart, then feed ``msg`` with random gaps, comparing crc after every cycle."""
    await next_cycle(dut)
    dut.clr.value = 1
    dut.en.value = rng.randrange(2)  # a byte in the clr cycle is ignored
    dut.data.value = rng.randrange(256)
    await next_cycle(dut)
    dut.clr.value = 0
    done = 0
    while done < len(msg):
        en = int(rng.random() < 0.7)
        dut.en.value = en
        dut.data.value = msg[done] if en else rng.randrange(256)
        await settle()
        mm.check(n, f"msg {msg.hex()} after {done} bytes", read_unsigned(dut.crc), ref(msg[:done]))
        await next_cycle(dut)
        done += en
    dut.en.value = 0
    await settle()
    mm.check(n, f"msg {msg.hex()}", read_unsigned(dut.crc), ref(msg))


@cocotb.test()
async def messages(dut):
    """Corner messages, then ICESPIKE_TXNS random ones, each after a restart."""
    ref = REF[os.environ["CRC_TOP"]]
    rng = random.Random(tb_seed())
    await start_clock(dut)
    dut.rst.value = 1
    dut.clr.value = 0
    dut.en.value = 0
    dut.data.value = 0
    if top_has_ld(dut):
        dut.ld.value = 0
        dut.ld_crc.value = 0
    await next_cycle(dut)
    dut.rst.value = 0
    mm = Mismatches(f"{os.environ['CRC_TOP']} messages")
    corners = [b"", b"\x00", b"\xff", bytes(16), b"\xff" * 16, b"123456789", bytes(range(256))]
    msgs = corners + [rng.randbytes(rng.randrange(41)) for _ in range(tb_txns())]
    for n, msg in enumerate(msgs):
        await feed(dut, ref, msg, rng, mm, n)
    mm.assert_none()


def top_has_ld(dut) -> bool:
    return os.environ["CRC_TOP"] == "crc32"


@cocotb.test()
async def rewind(dut):
    """crc32 only: a crc saved after a prefix and loaded back (ld) continues the message exactly."""
    if not top_has_ld(dut):
        return
    rng = random.Random(tb_seed() + 2)
    await start_clock(dut)
    dut.rst.value = 1
    dut.clr.value = 0
    dut.en.value = 0
    dut.ld.value = 0
    dut.ld_crc.value = 0
    await next_cycle(dut)
    dut.rst.value = 0
    mm = Mismatches("crc32 rewind")
    for n in range(50):
        head, junk, tail = (rng.randbytes(rng.randrange(12)) for _ in range(3))
        dut.clr.value = 1
        await next_cycle(dut)
        dut.clr.value = 0
        dut.en.value = 1
        for b in head:
            dut.data.value = b
            await next_cycle(dut)
        dut.en.value = 0
        await settle()
        saved = read_unsigned(dut.crc)
        await next_cycle(dut)
        dut.en.value = 1
        for b in junk:  # bytes of a frame that is then dropped
            dut.data.value = b
            await next_cycle(dut)
        dut.ld.value = 1
        dut.ld_crc.value = saved
        dut.data.value = rng.randrange(256)  # ignored in the ld cycle
        await next_cycle(dut)
        dut.ld.value = 0
        for b in tail:
            dut.data.value = b
            await next_cycle(dut)
        dut.en.value = 0
        await settle()
        mm.check(
            n,
            f"{head.hex()} | {junk.hex()} rewound | {tail.hex()}",
            read_unsigned(dut.crc),
            crc32(head + tail),
        )
        await next_cycle(dut)
    mm.assert_none()


@cocotb.test()
async def reset_mid_message(dut):
    """rst in the middle of a message restarts the checksum like clr."""
    ref = REF[os.environ["CRC_TOP"]]
    rng = random.Random(tb_seed() + 1)
    await start_clock(dut)
    if top_has_ld(dut):
        dut.ld.value = 0
    mm = Mismatches(f"{os.environ['CRC_TOP']} reset")
    for n in range(20):
        await next_cycle(dut)
        dut.en.value = 1
        for b in rng.randbytes(5):
            dut.data.value = b
            await next_cycle(dut)
        dut.rst.value = 1
        await next_cycle(dut)
        dut.rst.value = 0
        dut.en.value = 0
        msg = rng.randbytes(rng.randrange(1, 9))
        dut.en.value = 1
        for b in msg:
            dut.data.value = b
            await next_cycle(dut)
        dut.en.value = 0
        await settle()
        mm.check(n, f"after reset: {msg.hex()}", read_unsigned(dut.crc), ref(msg))
    mm.assert_none()


# ------------------------------------------------------------------------------- pytest side

PARAM_SETS = {"crc8": {}, "crc32": {}}


@pytest.mark.parametrize(
    "sim,tier,name,params", matrix(PARAM_SETS, fast=["crc8", "crc32"], fast_verilator=[])
)
def test_crc(sim, tier, name, params):
    env = {"ICESPIKE_TXNS": tier_txns(tier), "CRC_TOP": name}
    run(name, rtl(name), "test_crc", sim=sim, parameters=params, extra_env=env)
