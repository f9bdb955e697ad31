"""net_loader: network images (icespike.board.image, the host format) into the engine's weight
write ports, against icespike.export's packing of the same network.

Networks are seeded random codes at small sizes (fast) with the widths that matter: ternary,
binary, 4-bit layer 0, and a 16-bit output layer whose words (20 bytes) are wider than 64 bits.
cocotb tests:
* ``good_images``     images with random input gaps: every write (address, word) equals the
                      packed weights, exactly once per word; net_valid; crc = zlib.crc32(payload);
                      the ``header`` port equals the image header with its CRC fields zero.
* ``bad_images``      ICESPIKE_TXNS corrupted images, each after a good one: a changed magic /
                      version / header-size byte (6), any other header field (5), header CRC (7)
                      leave the loaded network valid; a changed payload byte or payload CRC (7),
                      a short image ended by cancel (2) and a byte too many (2) clear net_valid.
* ``rewind``          a header cut off after a mark and rewound (the old state returns), then the
                      image with its payload in random chunks; after a mark, random junk then
                      rewind, then the right chunk: the final weights and CRC are those of the
                      image alone.
"""

from __future__ import annotations

import os
import random

import cocotb
import numpy as np
import pytest
from cocotb.triggers import FallingEdge, RisingEdge

from icespike.board.image import crc32, network_image
from icespike.export import engine_params, pack_w0, pack_w1
from icespike.network import IntLayer, IntNetwork
from simrun import Mismatches, read_unsigned, rtl, run, start_clock, tb_seed, tb_txns, tier_txns

TOP = "net_loader"
E_LENGTH, E_SHAPE, E_MAGIC, E_CRC = 2, 5, 6, 7

# name -> (n_in, n_hid, n_out, bits0, bits1, T, leak, reset)
NETS = {
    "ternary": (20, 12, 3, 2, 2, 4, 1, "subtract"),
    "binary": (9, 70, 4, 1, 1, 3, 0, "zero"),
    "q4-q16": (7, 20, 10, 4, 16, 5, 2, "subtract"),
}


def make_net(name: str, seed: int) -> IntNetwork:
    n_in, n_hid, n_out, b0, b1, t, leak, reset = NETS[name]
    rng = np.random.default_rng(seed)

    def codes(bits, shape):
        if bits == 1:
            return rng.choice(np.array([-1, 1]), size=shape)
        lim = 1 if bits == 2 else (1 << (bits - 1)) - 1
        return rng.integers(-lim, lim + 1, size=shape)

    return IntNetwork(
        [
            IntLayer(
                codes(b0, (n_hid, n_in)), b0, threshold=int(rng.integers(1, 50)), leak_shift=leak, reset=reset
            ),
            IntLayer(codes(b1, (n_out, n_hid)), b1),
        ],
        t,
    )


class TB:
    def __init__(self, dut):
        self.dut = dut
        self.w0: dict[int, list[int]] = {}
        self.w1: dict[int, list[int]] = {}

    async def setup(self):
        d = self.dut
        for s in ("rst", "start", "s_valid", "s_data", "mark", "rewind", "cancel"):
            getattr(d, s).value = 0
        await start_clock(d)
        cocotb.start_soon(self.monitor())
        d.rst.value = 1
        await FallingEdge(d.clk)
        await FallingEdge(d.clk)
        d.rst.value = 0

    async def monitor(self):
        d = self.dut
        while True:
            await RisingEdge(d.clk)
            await FallingEdge(d.clk)
            if d.w_we.value == 1:
                self.w0.setdefault(read_unsigned(d.w_addr), []).append(read_unsigned(d.w_data))
            if d.w1_we.value == 1:
                self.w1.setdefault(read_unsigned(d.w1_addr), []).append(read_unsigned(d.w1_data))

    async def pulse(self, *names: str):
        for name in names:
            getattr(self.dut, name).value = 1
        await FallingEdge(self.dut.clk)
        for name in names:
            getattr(self.dut, name).value = 0

    async def send(self, data: bytes, rng, gap: float = 0.3):
        d = self.dut
        for b in data:
            while rng.random() < gap:
                d.s_valid.value = 0
                await FallingEdge(d.clk)
            while d.s_ready.value != 1:  # s_ready is settled after the falling edge
                await FallingEdge(d.clk)
            d.s_valid.value = 1
            d.s_data.value = b
            await FallingEdge(d.clk)  # taken at the rising edge in between
            d.s_valid.value = 0

    async def load(self, image: bytes, rng, gap: float = 0.3):
        self.w0.clear()
        self.w1.clear()
        await self.pulse("start")
        await self.send(image, rng, gap)
        for _ in range(4):
            await FallingEdge(self.dut.clk)

    def status(self):
        d = self.dut
        return int(d.net_valid.value), read_unsigned(d.err_code), int(d.busy.value)


def expected_writes(net):
    return {a: [w] for a, w in enumerate(pack_w0(net))}, {a: [w] for a, w in enumerate(pack_w1(net))}


def net_of_test():
    return make_net(os.environ["LOADER_NET"], int(os.environ["LOADER_SEED"]))


@cocotb.test()
async def good_images(dut):
    rng = random.Random(tb_seed())
    net = net_of_test()
    tb = TB(dut)
    await tb.setup()
    mm = Mismatches("net_loader good images")
    img = network_image(net)
    mm.check(0, "header port", read_unsigned(dut.header).to_bytes(48, "little"), img[:40] + bytes(8))
    mm.check(0, "status after reset", tb.status(), (0, 0, 0))
    for n, gap in enumerate((0.0, 0.3, 0.8)):
        await tb.load(img, rng, gap)
        w0, w1 = expected_writes(net)
        mm.check(n, "layer-0 writes", tb.w0, w0)
        mm.check(n, "output-layer writes", tb.w1, w1)
        mm.check(n, "status (valid, err, busy)", tb.status(), (1, 0, 0))
        mm.check(n, "payload crc", read_unsigned(dut.crc), crc32(img[48:]))
    mm.assert_none()


def corrupt(img: bytes, rng) -> tuple[bytes, int, bool, str]:
    """A corrupted image: (bytes, expected err_code, net stays valid, description)."""
    b = bytearray(img)
    kind = rng.randrange(6)
    if kind == 0:  # magic, version or header size
        k = rng.randrange(8)
        b[k] ^= 1 << rng.randrange(8)
        return bytes(b), E_MAGIC, True, f"header byte {k}"
    if kind == 1:  # another header field, header CRC made to match
        k = rng.randrange(8, 40)
        if 33 <= k <= 35 or k in (40,):
            k = 8
        b[k] ^= 1 << rng.randrange(8)
        b[44:48] = crc32(bytes(b[:44])).to_bytes(4, "little")
        return bytes(b), E_SHAPE, True, f"header field byte {k}"
    if kind == 2:  # header CRC or any header byte without fixing the CRC
        k = rng.randrange(40, 48)
        b[k] ^= 1 << rng.randrange(8)
        return bytes(b), E_CRC, True, f"header byte {k} (CRC)"
    if kind == 3:  # payload byte
        k = rng.randrange(48, len(b))
        b[k] ^= 1 << rng.randrange(8)
        return bytes(b), E_CRC, False, f"payload byte {k}"
    if kind == 4:
        return bytes(b) + bytes([rng.randrange(256)]), E_LENGTH, False, "one byte too many"
    return bytes(b[: rng.randrange(48, len(b))]), E_LENGTH, False, "cut short (cancel)"


@cocotb.test()
async def bad_images(dut):
    rng = random.Random(tb_seed())
    net = net_of_test()
    img = network_image(net)
    tb = TB(dut)
    await tb.setup()
    mm = Mismatches("net_loader bad images")
    for n in range(tb_txns()):
        if n % 4 == 0 or tb.status()[0] == 0:
            await tb.load(img, rng, 0.1)
            mm.check(n, "good image", tb.status(), (1, 0, 0))
        bad, err, stays, what = corrupt(img, rng)
        await tb.load(bad, rng, 0.1)
        if what.startswith("cut"):
            await tb.pulse("cancel")
        mm.check(n, f"{what}: (valid, err, busy)", tb.status(), (int(stays), err, 0))
    mm.assert_none()


@cocotb.test()
async def rewind(dut):
    rng = random.Random(tb_seed())
    net = net_of_test()
    img = network_image(net)
    tb = TB(dut)
    await tb.setup()
    mm = Mismatches("net_loader rewind")
    for n in range(max(3, tb_txns() // 50)):
        tb.w0.clear()
        tb.w1.clear()
        before = tb.status()
        if rng.random() < 0.5:  # a LOAD_BEGIN frame dropped after some header bytes
            await tb.pulse("mark", "start")
            await tb.send(img[: rng.randrange(1, 48)], rng, 0.2)
            await FallingEdge(dut.clk)
            await tb.pulse("rewind")
            await FallingEdge(dut.clk)
            mm.check(n, "status after a dropped header", tb.status(), before)
        await tb.pulse("mark", "start")
        await tb.send(img[:48], rng, 0.2)
        for _ in range(3):  # marks are taken in the payload phase (header checked)
            await FallingEdge(dut.clk)
        pos = 48
        while pos < len(img):
            chunk = img[pos : pos + rng.randrange(1, 40)]
            await tb.pulse("mark")
            if rng.random() < 0.5:  # a dropped frame: junk (or the right bytes), then rewind
                junk = rng.randbytes(rng.randrange(1, 40)) if rng.random() < 0.7 else chunk
                await tb.send(junk, rng, 0.2)
                await FallingEdge(dut.clk)
                await tb.pulse("rewind")
            await tb.send(chunk, rng, 0.2)
            pos += len(chunk)
        for _ in range(4):
            await FallingEdge(dut.clk)
        w0, w1 = expected_writes(net)
        last0 = {a: v[-1:] for a, v in tb.w0.items()}
        last1 = {a: v[-1:] for a, v in tb.w1.items()}
        mm.check(n, "layer-0 words (last write)", last0, w0)
        mm.check(n, "output-layer words (last write)", last1, w1)
        mm.check(n, "status", tb.status(), (1, 0, 0))
        mm.check(n, "crc", read_unsigned(dut.crc), crc32(img[48:]))
    mm.assert_none()


# ------------------------------------------------------------------------------- pytest side


def hdl_params(name: str, seed: int) -> dict:
    p = engine_params(make_net(name, seed))
    v = p.verilog()
    keys = ("N_IN", "N_HID", "N_OUT", "T", "CODE_W0", "CODE_W1", "LEAK_SHIFT", "RESET_SUBTRACT")
    out = {k: v[k] for k in keys}
    out["THRESHOLD"] = f"64'd{v['THRESHOLD']}"
    return out


FAST_IMAGES = 60  # corrupted images per fast run (each ~0.4 s of Icarus time)
CASES = [
    pytest.param("icarus", "fast", "ternary", marks=pytest.mark.icarus, id="icarus-ternary"),
    pytest.param("icarus", "fast", "q4-q16", marks=pytest.mark.icarus, id="icarus-q4-q16"),
    pytest.param("verilator", "fast", "binary", marks=pytest.mark.verilator, id="verilator-binary"),
] + [
    pytest.param(sim, "slow", n, marks=[getattr(pytest.mark, sim), pytest.mark.slow], id=f"{sim}-{n}-slow")
    for sim in ("icarus", "verilator")
    for n in NETS
]


@pytest.mark.parametrize("sim,tier,name", CASES)
def test_net_loader(sim, tier, name):
    seed = 3
    txns = FAST_IMAGES if tier == "fast" else tier_txns(tier)
    env = {"ICESPIKE_TXNS": txns, "LOADER_NET": name, "LOADER_SEED": seed}
    run(TOP, rtl(TOP, "crc32"), "test_net_loader", sim=sim, parameters=hdl_params(name, seed), extra_env=env)
