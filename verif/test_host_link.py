"""host_link in its board (rtl/snn_board.v: host_link + net_loader + spi_flash_reader + snn_engine)
with the behavioural SPI flash, driven through the UART exactly as a host does: frames built
and replies checked with icespike.board (the host format), classes and scores against
icespike.golden, cycle counts against icespike.rtlsim.cycle_model.

A small seeded network (20-12-3, ternary) keeps the run short; the flash holds its network
image at NET_ADDR and a test-image block at TEST_ADDR.
cocotb tests:
* ``info_classify``  boot from flash, INFO (header, CRC, state, clock, baud), CLASSIFY of random
                     images: class, every score and the cycle count exact;
* ``bad_frames``     garbage before the sync byte, bad CRC-8 in the middle of a CLASSIFY (after
                     its pixels reached the engine), unknown command, wrong length, a frame cut
                     off (1 ms timeout), LOAD_DATA / LOAD_END without LOAD_BEGIN, a 304-byte
                     LOAD_BEGIN: each gets its error status and the next good CLASSIFY is exact;
* ``load``           LOAD_BEGIN of the wrong shape (5: the old network still classifies), LOAD
                     of a second network in chunks with one chunk sent first with a bad CRC-8
                     (dropped, resent), LOAD_END (CRC-32), CLASSIFY with the new network; a
                     corrupted payload: LOAD_END 7, CLASSIFY NOT_READY, INFO state 2;
* ``selftest``       SELFTEST of N records from flash: every class, the correct count and the
                     total cycles; N beyond the block: SELFTEST_RANGE;
* ``bad_flash``      (a flash image with one payload bit flipped) boot ends in state 2 with
                     IMAGE_CRC, CLASSIFY answers NOT_READY.
"""

from __future__ import annotations

import os
import random
import struct
from pathlib import Path

import cocotb
import numpy as np
import pytest
from cocotb.triggers import FallingEdge, RisingEdge, Timer

from icespike import golden, rtlsim
from icespike.board.image import crc32, network_image
from icespike.board.image import test_block as selftest_block
from icespike.board.protocol import crc8
from icespike.board.protocol import encode_request as frame
from icespike.export import engine_params
from icespike.network import IntLayer, IntNetwork
from icespike.synth import rtl_closure
from simrun import ROOT, Mismatches, rtl, run, start_clock, tb_params

TOP = "tb_snn_board"
CLK_NS = 10
NET_ADDR, TEST_ADDR = 0x100000, 0x101000
INFO, CLASSIFY, BEGIN, DATA, END, SELFTEST = 1, 2, 3, 4, 5, 6
N_TEST = 12


def make_net(seed: int, codes_seed: int | None = None) -> IntNetwork:
    """20-12-3 ternary; ``codes_seed`` redraws the weights of the same shape and threshold."""
    rng = np.random.default_rng(seed)
    q0 = rng.integers(-1, 2, size=(12, 20))
    q1 = rng.integers(-1, 2, size=(3, 12))
    if codes_seed is not None:
        r2 = np.random.default_rng(codes_seed)
        q0, q1 = r2.integers(-1, 2, size=q0.shape), r2.integers(-1, 2, size=q1.shape)
    return IntNetwork([IntLayer(q0, 2, threshold=300, leak_shift=2), IntLayer(q1, 2)], 4)


def images(seed: int, n: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    x = rng.integers(0, 256, size=(n, 20))
    x[rng.random(size=x.shape) < 0.4] = 0
    return x


def flash_bytes(net: IntNetwork, corrupt: bool = False) -> bytes:
    img = bytearray(network_image(net))
    if corrupt:
        img[60] ^= 0x10
    x = images(99, N_TEST)
    body = bytes(img) + b"\xff" * (TEST_ADDR - NET_ADDR - len(img)) + selftest_block(x, block_labels(net, x))
    return body


class Host:
    def __init__(self, dut):
        p = tb_params()
        self.dut = dut
        self.bit_ns = (int(p["CLK_HZ"]) // int(p["BAUD"])) * CLK_NS
        self.rxq: list[int] = []

    async def start(self):
        dut = self.dut
        dut.rx.value = 1
        dut.rst.value = 1
        await start_clock(dut, CLK_NS)
        cocotb.start_soon(self._recv())
        for _ in range(3):
            await FallingEdge(dut.clk)
        dut.rst.value = 0

    async def _recv(self):
        dut = self.dut
        while True:
            await FallingEdge(dut.tx)
            await Timer(self.bit_ns // 2, unit="ns")
            v = 0
            for i in range(8):
                await Timer(self.bit_ns, unit="ns")
                v |= int(dut.tx.value) << i
            await Timer(self.bit_ns, unit="ns")
            self.rxq.append(v)

    async def send(self, data: bytes):
        for b in data:
            for bit in [0] + [(b >> i) & 1 for i in range(8)] + [1]:
                self.dut.rx.value = bit
                await Timer(self.bit_ns, unit="ns")

    async def byte(self, limit_ns: int) -> int | None:
        waited = 0
        while not self.rxq:
            if waited > limit_ns:
                return None
            await Timer(self.bit_ns, unit="ns")
            waited += self.bit_ns
        return self.rxq.pop(0)

    async def reply(self, limit_ns: int = 3_000_000):
        """(cmd, status, payload) of the next reply; raises on a bad one."""
        b = await self.byte(limit_ns)
        while b is not None and b != 0x5A:
            b = await self.byte(limit_ns)
        if b is None:
            raise AssertionError("no reply")
        head = [await self.byte(limit_ns) for _ in range(4)]
        n = head[2] | head[3] << 8
        pay = bytes([await self.byte(limit_ns) for _ in range(n)])
        c = await self.byte(limit_ns)
        body = bytes(head) + pay
        if c != crc8(body):
            raise AssertionError(f"reply CRC-8 {c} != {crc8(body)}")
        return head[0], head[1], pay

    async def call(self, cmd: int, payload: bytes = b"", limit_ns: int = 3_000_000):
        await self.send(frame(cmd, payload))
        return await self.reply(limit_ns)

    async def wait_boot(self):
        for _ in range(2000):
            await Timer(1000, unit="ns")
            if int(self.dut.state.value) != 0:
                return
        raise AssertionError("boot did not end")


def net_of_test() -> IntNetwork:
    return make_net(int(os.environ["BOARD_NET_SEED"]))


async def classify_check(host: Host, net: IntNetwork, x: np.ndarray, mm: Mismatches, tag: str):
    g = golden.run(net, x)
    cyc = rtlsim.cycle_model(engine_params(net), x, 1)
    n_out = g.scores.shape[1]
    for k in range(len(x)):
        cmd, st, pay = await host.call(CLASSIFY, bytes(int(v) for v in x[k]))
        got = None
        if st == 0 and len(pay) == 1 + 4 * n_out + 4:
            cls = pay[0]
            scores = list(struct.unpack(f"<{n_out}i", pay[1 : 1 + 4 * n_out]))
            cycles = struct.unpack("<I", pay[-4:])[0]
            got = (cls, scores, cycles)
        want = (int(g.predictions[k]), [int(s) for s in g.scores[k]], int(cyc[k]))
        mm.check(k, f"{tag} image {k} (class, scores, cycles)", (cmd, st, got), (CLASSIFY, 0, want))


async def booted(dut, name: str):
    """The test's network, a host on the UART of the booted board, and a mismatch collector."""
    host = Host(dut)
    await host.start()
    await host.wait_boot()
    return net_of_test(), host, Mismatches(name)


def block_labels(net: IntNetwork, x: np.ndarray) -> np.ndarray:
    """Labels of the flash test block: the golden classes, every third one changed."""
    labels = golden.run(net, x).predictions.copy()
    labels[::3] = (labels[::3] + 1) % 3  # some wrong labels, so `correct` is not simply N
    return labels


@cocotb.test()
async def info_classify(dut):
    net, host, mm = await booted(dut, "board info/classify")
    img = network_image(net)
    cmd, st, pay = await host.call(INFO)
    p = tb_params()
    want = (
        struct.pack("<H", 1)
        + img[:40]
        + bytes(8)
        + struct.pack("<IBBII", crc32(img[48:]), 1, 0, int(p["CLK_HZ"]), int(p["BAUD"]))
    )
    mm.check(0, "INFO", (cmd, st, pay), (INFO, 0, want))
    await classify_check(host, net, images(1, 6), mm, "classify")
    mm.assert_none()


@cocotb.test()
async def bad_frames(dut):
    net, host, mm = await booted(dut, "board bad frames")
    x = images(2, 3)
    await host.send(b"\x00\x13\x5a\xff")  # garbage before a sync byte: skipped
    await classify_check(host, net, x[:1], mm, "after garbage")
    bad = bytearray(frame(CLASSIFY, bytes(int(v) for v in x[1])))
    bad[-1] ^= 0x01
    await host.send(bytes(bad))
    mm.check(1, "bad CRC-8 on CLASSIFY", await host.reply(), (CLASSIFY, 1, b""))
    await classify_check(host, net, x[1:2], mm, "after bad CRC-8")
    mm.check(2, "unknown command", await host.call(0x7E, b"ab"), (0x7E, 3, b""))
    mm.check(3, "CLASSIFY of the wrong length", await host.call(CLASSIFY, bytes(5)), (CLASSIFY, 2, b""))
    mm.check(4, "INFO with a payload", await host.call(INFO, b"x"), (INFO, 2, b""))
    await host.send(frame(CLASSIFY, bytes(20))[:9])  # cut off: 1 ms timeout
    mm.check(5, "frame cut off", await host.reply(), (CLASSIFY, 4, b""))
    mm.check(6, "LOAD_DATA without LOAD_BEGIN", await host.call(DATA, b"abc"), (DATA, 9, b""))
    mm.check(7, "LOAD_END without LOAD_BEGIN", await host.call(END), (END, 9, b""))
    mm.check(8, "SELFTEST of the wrong length", await host.call(SELFTEST, b"\x01"), (SELFTEST, 2, b""))
    # 304 = 0x130: the low length byte alone would read 48 (a check of the low byte passes it)
    mm.check(9, "LOAD_BEGIN of 304 bytes", await host.call(BEGIN, bytes(304)), (BEGIN, 2, b""))
    await classify_check(host, net, x[2:3], mm, "after the bad frames")
    mm.assert_none()


async def load(host: Host, img: bytes, mm: Mismatches, tag: str, rng: random.Random, bad_chunk: bool):
    mm.check(0, f"{tag} LOAD_BEGIN", await host.call(BEGIN, img[:48]), (BEGIN, 0, b""))
    pos = 48
    first = True
    while pos < len(img):
        chunk = img[pos : pos + rng.randrange(1, 70)]
        if bad_chunk and first:
            bad = bytearray(frame(DATA, chunk))
            bad[-1] ^= 0x80
            await host.send(bytes(bad))
            mm.check(pos, f"{tag} LOAD_DATA with bad CRC-8", await host.reply(), (DATA, 1, b""))
            first = False
        mm.check(pos, f"{tag} LOAD_DATA at {pos}", await host.call(DATA, chunk), (DATA, 0, b""))
        pos += len(chunk)


@cocotb.test()
async def load_network(dut):
    net = net_of_test()
    net2 = make_net(int(os.environ["BOARD_NET_SEED"]), codes_seed=77)
    rng = random.Random(5)
    host = Host(dut)
    await host.start()
    await host.wait_boot()
    mm = Mismatches("board load")
    x = images(3, 2)
    # wrong shape: refused, old network still there
    wrong = bytearray(network_image(net)[:48])
    wrong[16] += 1  # T
    wrong[44:48] = crc32(bytes(wrong[:44])).to_bytes(4, "little")
    mm.check(0, "LOAD_BEGIN of another T", await host.call(BEGIN, bytes(wrong)), (BEGIN, 5, b""))
    await classify_check(host, net, x[:1], mm, "after the refused header")
    img2 = network_image(net2)
    await load(host, img2, mm, "second network", rng, bad_chunk=True)
    mm.check(1, "LOAD_END", await host.call(END), (END, 0, crc32(img2[48:]).to_bytes(4, "little")))
    await classify_check(host, net2, x, mm, "second network")
    cmd, st, pay = await host.call(INFO)
    mm.check(
        2, "INFO crc and state", (st, pay[50:56]), (0, crc32(img2[48:]).to_bytes(4, "little") + b"\x01\x00")
    )
    # corrupted payload
    bad = bytearray(img2)
    bad[70] ^= 0x04
    await load(host, bytes(bad), mm, "corrupt payload", rng, bad_chunk=False)
    mm.check(3, "LOAD_END of a corrupt payload", await host.call(END), (END, 7, b""))
    mm.check(4, "CLASSIFY without a network", await host.call(CLASSIFY, bytes(20)), (CLASSIFY, 8, b""))
    cmd, st, pay = await host.call(INFO)
    mm.check(5, "INFO state/error after a bad load", pay[54:56], b"\x02\x07")
    mm.assert_none()


@cocotb.test()
async def selftest(dut):
    net, host, mm = await booted(dut, "board selftest")
    x = images(99, N_TEST)
    g = golden.run(net, x)
    labels = block_labels(net, x)
    cyc = rtlsim.cycle_model(engine_params(net), x, 1)
    for n in (N_TEST, 1, 5, 0):
        cls = bytes(int(c) for c in g.predictions[:n])
        correct = int((g.predictions[:n] == labels[:n]).sum())
        want = struct.pack("<I", n) + cls + struct.pack("<IQ", correct, int(cyc[:n].sum()))
        mm.check(
            n,
            f"SELFTEST {n}",
            await host.call(SELFTEST, struct.pack("<I", n), 20_000_000),
            (SELFTEST, 0, want),
        )
    mm.check(
        99,
        "SELFTEST beyond the block",
        await host.call(SELFTEST, struct.pack("<I", N_TEST + 1)),
        (SELFTEST, 10, b""),
    )
    await classify_check(host, net, x[:1], mm, "after selftest")
    mm.assert_none()


@cocotb.test()
async def selftest_stalls(dut):
    """Run with a UART slower than the engine (the slow-uart case): SELFTEST's results wait in
    the engine's output register for whole images (m_ready low) while the next records stream
    in behind them, and CLASSIFY frames follow each other at once. Every class, the correct
    count and the busy-cycle total are exact (nothing lost, nothing duplicated, in order), and
    the longest wait is longer than the longest image."""
    net, host, mm = await booted(dut, "stalled selftest")
    x = images(99, N_TEST)
    g = golden.run(net, x)
    labels = block_labels(net, x)
    cyc = rtlsim.cycle_model(engine_params(net), x, 1)
    stall = {"run": 0, "max": 0, "results": 0}

    async def watch():
        b = dut.u_board
        while True:
            await RisingEdge(dut.clk)
            v, r = int(b.eng_m_valid.value), int(b.eng_m_ready.value)
            stall["run"] = stall["run"] + 1 if v and not r else 0
            stall["max"] = max(stall["max"], stall["run"])
            stall["results"] += v and r

    cocotb.start_soon(watch())
    cls = bytes(int(c) for c in g.predictions)
    correct = int((g.predictions == labels).sum())
    want = struct.pack("<I", N_TEST) + cls + struct.pack("<IQ", correct, int(cyc.sum()))
    got = await host.call(SELFTEST, struct.pack("<I", N_TEST), 200_000_000)
    mm.check(0, f"stalled SELFTEST {N_TEST}", got, (SELFTEST, 0, want))
    mm.check(1, "results released", stall["results"], N_TEST)
    await classify_check(host, net, x[:3], mm, "back to back after the stalls")
    mm.assert_none()
    assert stall["max"] > int(cyc.max()), (
        f"longest output stall {stall['max']} cycles, longest image {cyc.max()}"
    )
    dut._log.info("longest output stall %d cycles (longest image %d)", stall["max"], int(cyc.max()))


@cocotb.test()
async def bad_flash(dut):
    if os.environ.get("BOARD_FLASH_CORRUPT") != "1":
        return
    host = Host(dut)
    await host.start()
    await host.wait_boot()
    mm = Mismatches("board bad flash")
    cmd, st, pay = await host.call(INFO)
    mm.check(0, "INFO state/error", (st, pay[50:56]), (0, bytes(4) + b"\x02\x07"))
    mm.check(1, "CLASSIFY", await host.call(CLASSIFY, bytes(20)), (CLASSIFY, 8, b""))
    mm.assert_none()


# ------------------------------------------------------------------------------- pytest side
BUILD = ROOT / "build" / "host_link"


def prepare(seed: int, corrupt: bool, baud: int = 1_000_000) -> tuple[dict, Path, int]:
    net = make_net(seed)
    data = flash_bytes(net, corrupt)
    BUILD.mkdir(parents=True, exist_ok=True)
    path = BUILD / f"flash-{seed}-{int(corrupt)}.hex"
    path.write_text("".join(f"{b:02x}\n" for b in data))
    p = engine_params(net).verilog()
    assert p.pop("HAS_BIAS") == 0  # the board's image format carries no biases
    hdl = dict(p)
    hdl["THRESHOLD"] = f"64'd{p['THRESHOLD']}"
    hdl.update({"MEM_FILE": f'"{path}"', "SIZE": len(data), "CLK_HZ": 8_000_000, "BAUD": baud})
    return hdl, path, len(data)


def sources():
    return [
        ROOT / "verif" / "harness" / f"{TOP}.v",
        ROOT / "verif" / "models" / "spi_flash.v",
        *rtl(*(p.stem for p in rtl_closure("snn_board"))),
    ]


SLOW_BAUD = 40_000  # 200 cycles per bit: a class byte takes longer than an image of the test network
CASES = [
    pytest.param("icarus", "good", marks=pytest.mark.icarus, id="icarus"),
    pytest.param("icarus", "bad-flash", marks=pytest.mark.icarus, id="icarus-bad-flash"),
    pytest.param("icarus", "slow-uart", marks=pytest.mark.icarus, id="icarus-slow-uart"),
    pytest.param("verilator", "good", marks=pytest.mark.verilator, id="verilator"),
]


@pytest.mark.parametrize("sim,case", CASES)
def test_host_link(sim, case):
    corrupt = case == "bad-flash"
    hdl, _path, _n = prepare(11, corrupt, SLOW_BAUD if case == "slow-uart" else 1_000_000)
    hdl_sim = {k: v for k, v in hdl.items()}
    env = {"BOARD_NET_SEED": 11, "BOARD_FLASH_CORRUPT": int(corrupt)}
    tests = {
        "bad-flash": ["bad_flash"],
        "slow-uart": ["selftest_stalls"],
        "good": ["info_classify", "bad_frames", "load_network", "selftest"],
    }[case]
    env_params = {k: (int(v[4:]) if k == "THRESHOLD" else v) for k, v in hdl.items() if k != "MEM_FILE"}
    import json

    from simrun import PARAMS_ENV

    env[PARAMS_ENV] = json.dumps(env_params)
    run(
        TOP,
        sources(),
        "test_host_link",
        sim=sim,
        parameters=hdl_sim,
        extra_env=env,
        testcase=tests,
        tag=case,
    )
