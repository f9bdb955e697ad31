"""The whole board in simulation, driven by the unchanged host client over a socket.

``icebreaker_top`` (PLL bypassed with ICESPIKE_SIM_NO_PLL, CLK driven at the engine clock; one test
keeps the PLL, simulated by verif/models/sb_pll40_pad.v, with CLK at the 12 MHz oscillator) beside
the behavioural SPI flash model, loaded with the exact flash.bin that ``icespike board build``
wrote; its UART is bridged to ``socket://127.0.0.1:PORT`` by verif/board_bridge.py and every
test talks to it through icespike.board.client.BoardClient, as ``board run`` talks to a real
board (icespike.board.sim). The bridge on its own is checked against a register loopback.

Fast tier (measured at the 24 MHz engine clock on the shared 2-core machine; one Verilator build
of the board, a few minutes under load, cached per parameter set): ``board sim`` with 20 MNIST
images (100 s), LOAD of a second network then CLASSIFY (46 s), the button in the middle of a
frame (14 s), boot + LEDs + SELFTEST (12 s), malformed frames (9 s), two corrupt flash images
(12 s), the bridge on a loopback (Icarus, 4 s); at 27 MHz with the grouped engine, ``board sim``
with 20 images and boot + SELFTEST took 196 s together including the board's Verilator build; the
boot through the PLL model takes about 3.5 minutes with its own build (Verilator ``--timing``).
Slow tier: LOAD corrupted in flight, the Icarus case (4 min at 48 MHz), the Verilator gate-level
run of the full network, the Icarus gate-level run of the network cut to 16 hidden neurons
(5.3 minutes alone: Yosys 45 s, boot and SELFTEST of 2 images at about 550 cycles/s), and the
RTL mutants (about 3 minutes each: one build each).
"""

from __future__ import annotations

import importlib.util
import json
import struct
import time
from pathlib import Path

import numpy as np
import pytest
import serial

from icespike import golden, rtlsim
from icespike.board import build as bb
from icespike.board.client import BoardClient, BoardError, check_board_runs, stream_images
from icespike.board.image import (
    NET_HEADER_BYTES,
    crc32,
    network_image,
    parse_header,
    parse_test_block,
    split_flash,
)
from icespike.board.protocol import (
    REQ_SYNC,
    Cmd,
    Info,
    State,
    Status,
    encode_request,
    status_text,
)
from icespike.board.sim import BridgeSim, board_sim, gate_netlist
from icespike.cli import main
from icespike.export import engine_params, export_network, load_export, load_network
from simrun import ROOT, env_int
from test_snn_engine import alt_network

LOOPBACK = ROOT / "verif" / "harness" / "uart_loopback.v"


@pytest.mark.icarus
def test_bridge_loopback_icarus():
    """Bytes through the socket, the UART on RX, a register, TX and back arrive unchanged;
    the control socket resets, reports LEDs and counts cycles and exchange times."""
    with BridgeSim("uart_loopback", [LOOPBACK], simulator="icarus", clk_hz=48_000_000, baud=3_000_000) as sim:
        port = serial.serial_for_url(sim.url, timeout=30)
        data = bytes(range(256)) + bytes([REQ_SYNC, 0, 0xFF])
        port.write(data)
        got = b""
        deadline = time.monotonic() + 60
        while len(got) < len(data) and time.monotonic() < deadline:
            got += port.read(len(data) - len(got))
        assert got == data
        n, busy = (int(v) for v in sim.control("busy").split())
        # 259 characters of 10 bits at 16 cycles per bit (the socket may deliver them in pieces;
        # a piece counts from its first RX bit to the mid-stop-bit sample of the last echo)
        assert n >= 1 and 0 < busy <= 259 * 160 + 1600
        assert sim.leds() == {"LEDR_N": 1, "LEDG_N": 0}
        c0 = int(sim.control("cycles"))
        sim.control("reset 100")
        assert int(sim.control("cycles")) >= c0 + 100
        sim.control("send 5a")  # driven by the control side: comes back on the UART socket
        assert port.read(1) == b"\x5a"
        with pytest.raises(Exception, match="unknown control"):
            sim.control("bogus")
        port.close()


def test_bridge_reports_a_simulation_that_cannot_start(tmp_path):
    bad = tmp_path / "broken.v"
    bad.write_text("module broken(input wire CLK; endmodule\n")
    with pytest.raises(Exception, match="ended before it served"):
        with BridgeSim("broken", [bad], simulator="icarus", start_timeout_s=120):
            pass


# =============================================================================== the whole board
CKPT = ROOT / "models" / "mnist-784-128-10-ternary.npz"
BOARD_DIR = ROOT / "build" / "board_tests"
N_TEST_IMAGES = 30  # test images in the flash of the test builds (SELFTEST range is checked against it)
N_IMAGES = env_int("ICESPIKE_BOARD_IMAGES", 20)
N_GATE_IMAGES = env_int("ICESPIKE_BOARD_GATE_IMAGES", 3)


@pytest.fixture(scope="module")
def board_dir():
    """A `board build --no-synth` directory of the trained ternary model (flash image, export)."""
    d = BOARD_DIR / "ternary"
    bb.build(CKPT, "icebreaker", d, do_synth=False, test_images=N_TEST_IMAGES)
    return d


@pytest.fixture(scope="module")
def nets(board_dir):
    net = load_export(board_dir / bb.EXPORT_SUBDIR)
    x, y = parse_test_block(split_flash((board_dir / bb.FLASH_BIN).read_bytes())[1])
    return net, alt_network(net), x, y


def wait_ready(c: BoardClient, timeout_s: float = 600.0) -> Info:
    """The simulated board boots from flash first (it does not listen meanwhile)."""
    return c.wait_ready(timeout_s=timeout_s, attempt_s=5.0)


def check_classify(c: BoardClient, net, images) -> None:
    """Every class and score of the board equals the golden model's (first difference named), and
    its cycle count the engine's analytic cycle model."""
    g = golden.run(net, images)
    cyc = rtlsim.cycle_model(engine_params(net), images.reshape(len(images), -1))
    for i, x in enumerate(images):
        r = c.classify(x, net.layers[-1].n_out)
        want = (int(g.predictions[i]), tuple(int(v) for v in g.scores[i]), int(cyc[i]))
        assert (r.cls, r.scores, r.cycles) == want, (
            f"image {i}: board {(r.cls, r.scores, r.cycles)}, golden {want}"
        )


def check_selftest(c: BoardClient, net, x, y, n: int):
    """SELFTEST of the first ``n`` stored images: every class equals the golden model's, the
    correct count its count against the labels, the total cycles the analytic cycle model's."""
    s = c.selftest(n)
    g = golden.run(net, x[:n])
    assert list(s.classes) == g.predictions.tolist(), (
        f"board {list(s.classes)}, golden {g.predictions.tolist()}"
    )
    assert s.correct == int((g.predictions == y[:n]).sum())
    assert s.cycles == int(rtlsim.cycle_model(engine_params(net), x[:n]).sum())
    return s


def expect_status(c: BoardClient, frame: bytes, status: Status) -> None:
    """Send a (malformed) frame as it is; the reply must carry ``status``."""
    c.write_raw(frame)
    rep = c.read_reply()
    assert rep.status == status, f"reply status {status_text(rep.status)}, expected {status.name}"


# ------------------------------------------------------------------------------- scenarios
# Each scenario raises AssertionError (or a client error) when the board misbehaves; the tests
# run them on the board and, to show they can fail, on mutants of the RTL.
def scenario_images(sim: BridgeSim, net, x, y, n: int) -> dict:
    """Boot from flash, INFO, LEDs, n MNIST images with 0 mismatches, SELFTEST of every image in
    the flash, SELFTEST past the end refused."""
    with sim.client() as c:
        info = wait_ready(c)
        check_board_runs(info, net, network_image(net))
        b = bb.board("icebreaker")
        assert (info.clock_hz, info.baud) == (b.clock_hz, b.baud)
        leds = sim.leds()
        assert leds["LEDG_N"] == 0 and leds["LEDR_N"] == 1, leds  # green: ready; red off
        sim.control("busy")
        r = stream_images(c, net, x[:n], y[:n])
        n_ex, busy = (int(v) for v in sim.control("busy").split())
        assert r.mismatches == 0, r.first_mismatches
        s = check_selftest(c, net, x, y, N_TEST_IMAGES)
        with pytest.raises(BoardError) as e:
            c.selftest(N_TEST_IMAGES + 1)
        assert e.value.status == Status.SELFTEST_RANGE
        check_classify(c, net, x[:1])  # the link works after the refusal
    return {"result": r, "selftest": s, "exchanges": n_ex, "busy_cycles": busy}


def scenario_bad_frames(sim: BridgeSim, net, other, x) -> None:
    """Malformed frames get error replies, change nothing, and the next good frame works."""
    with sim.client() as c:
        assert wait_ready(c).state == State.READY
        info = encode_request(Cmd.INFO)
        expect_status(c, info[:-1] + bytes([info[-1] ^ 0x55]), Status.BAD_CRC8)
        assert c.info().state == State.READY
        expect_status(c, encode_request(Cmd.CLASSIFY, bytes(100)), Status.BAD_LENGTH)
        expect_status(c, encode_request(Cmd.INFO, b"\x00"), Status.BAD_LENGTH)
        expect_status(c, encode_request(Cmd.SELFTEST, b"\x01\x00"), Status.BAD_LENGTH)
        check_classify(c, net, x[:1])
        expect_status(c, encode_request(0x7E), Status.UNKNOWN_CMD)
        expect_status(c, encode_request(0x00, b"abc"), Status.UNKNOWN_CMD)
        check_classify(c, net, x[1:2])
        # LOAD of the wrong shape: header CRC right, threshold differs -> refused, nothing changes
        wrong = bytearray(network_image(other)[:NET_HEADER_BYTES])
        struct.pack_into("<I", wrong, 20, net.layers[0].threshold + 1)
        struct.pack_into("<I", wrong, 44, crc32(bytes(wrong[:44])))
        expect_status(c, encode_request(Cmd.LOAD_BEGIN, bytes(wrong)), Status.SHAPE_MISMATCH)
        bad_magic = b"XSNN" + network_image(other)[4:NET_HEADER_BYTES]
        expect_status(c, encode_request(Cmd.LOAD_BEGIN, bad_magic), Status.BAD_MAGIC_OR_VERSION)
        expect_status(c, encode_request(Cmd.LOAD_DATA, b"\x00" * 8), Status.BAD_SEQUENCE)
        expect_status(c, encode_request(Cmd.LOAD_END), Status.BAD_SEQUENCE)
        info = c.info()
        assert info.state == State.READY and info.network_crc == parse_header(network_image(net)).payload_crc
        check_classify(c, net, x[2:3])
        # bytes before a sync byte are skipped; a frame that stops arriving times out after 1 ms
        c.write_raw(b"\x00\x13\x37" + encode_request(Cmd.INFO))
        assert c.read_reply().status == Status.OK
        sim.control("send " + encode_request(Cmd.CLASSIFY, bytes(784))[:40].hex())
        assert c.read_reply().status == Status.TIMEOUT
        check_classify(c, net, x[3:4])


def scenario_load(sim: BridgeSim, net, other, x, *, full: bool = False) -> None:
    """LOAD a second network over the UART and classify with it; a LOAD that ends short leaves
    the board in error (NOT_READY, red LED). ``full``: also a LOAD whose payload was corrupted
    in flight (IMAGE_CRC) and a good LOAD of the first network again (two more 25 KB LOADs)."""
    img2 = network_image(other)
    with sim.client() as c:
        assert wait_ready(c).state == State.READY
        assert c.load(img2, chunk=4096) == parse_header(img2).payload_crc
        info = c.info()
        assert info.state == State.READY and info.network_crc == parse_header(img2).payload_crc
        check_classify(c, other, x[:2])
        # a short LOAD (payload missing its last chunks) is refused as too short
        c.call(Cmd.LOAD_BEGIN, img2[:NET_HEADER_BYTES])
        c.call(Cmd.LOAD_DATA, img2[NET_HEADER_BYTES : NET_HEADER_BYTES + 4096])
        assert c.request(Cmd.LOAD_END).status == Status.BAD_LENGTH
        info = c.info()
        assert info.state == State.ERROR and info.last_error == Status.BAD_LENGTH, info
        assert c.request(Cmd.CLASSIFY, bytes(784)).status == Status.NOT_READY
        assert sim.leds()["LEDR_N"] == 0  # red: error
        if not full:
            return
        # payload corrupted in flight (the header still promises the right CRC)
        c.call(Cmd.LOAD_BEGIN, img2[:NET_HEADER_BYTES])
        payload = bytearray(img2[NET_HEADER_BYTES:])
        payload[1000] ^= 0x04
        for i in range(0, len(payload), 4096):
            c.call(Cmd.LOAD_DATA, bytes(payload[i : i + 4096]))
        rep = c.request(Cmd.LOAD_END)
        assert rep.status == Status.IMAGE_CRC, status_text(rep.status)
        info = c.info()
        assert info.state == State.ERROR and info.last_error == Status.IMAGE_CRC
        # a good LOAD of the first network again: ready, classifies with it
        c.load(network_image(net))
        assert c.info().state == State.READY
        check_classify(c, net, x[3:5])


def scenario_reset(sim: BridgeSim, net, x) -> None:
    """The user button in the middle of a frame: the board reboots from flash, the half frame is
    forgotten, and the next frames work."""
    with sim.client() as c:
        assert wait_ready(c).state == State.READY
        frame = encode_request(Cmd.CLASSIFY, x[0].astype(np.uint8).tobytes())
        sim.control("send " + frame[:400].hex())
        sim.control("reset 200")
        leds = sim.leds()  # booting again: neither ready nor error, the blue LED on
        assert (leds["LEDG_N"], leds["LEDR_N"], leds["LED_BLU_N"]) == (1, 1, 0), leds
        info = wait_ready(c)
        assert info.state == State.READY and info.network_crc == parse_header(network_image(net)).payload_crc
        check_classify(c, net, x[:2])


def scenario_corrupt_flash(sim: BridgeSim, status: Status) -> None:
    """A flash image that fails its checks: INFO says error and why, nothing classifies."""
    with sim.client() as c:
        info = wait_ready(c)
        assert info.state == State.ERROR, info
        assert info.last_error == status, status_text(info.last_error)
        assert sim.leds()["LEDR_N"] == 0
        for cmd, payload in ((Cmd.CLASSIFY, bytes(784)), (Cmd.SELFTEST, struct.pack("<I", 1))):
            assert c.request(cmd, payload).status == Status.NOT_READY


def corrupt(board_dir: Path, where: str) -> bytes:
    data = bytearray((board_dir / bb.FLASH_BIN).read_bytes())
    if where == "payload":
        data[NET_HEADER_BYTES + 5000] ^= 0x10  # a weight bit: the payload CRC-32 must catch it
    elif where == "magic":
        data[0] ^= 0xFF
    return bytes(data)


# ------------------------------------------------------------------------------- tests
@pytest.mark.verilator
def test_board_sim_command(board_dir, capsys):
    """`icespike board sim DIR --images N --json`: N MNIST images through the simulated board,
    every class and score equal to the golden model's."""
    rc = main(["board", "sim", str(board_dir), "--images", str(N_IMAGES), "--json"])
    out = json.loads(capsys.readouterr().out)
    for k in ("images", "mismatches", "accuracy", "golden_accuracy", "baud", "seconds"):
        assert k in out
    assert rc == 0 and out["images"] == N_IMAGES and out["mismatches"] == 0
    assert out["accuracy"] == out["golden_accuracy"] and out["baud"] == 3_000_000
    print(
        f"\nboard sim: {out['images']} images, {out['mismatches']} mismatches, accuracy {out['accuracy']:.4f}; "
        f"{out['uart_cycles_per_image']:.0f} cycles per UART exchange = "
        f"{out['uart_images_per_s_simulated']:.1f} images/s (simulated), {out['seconds']:.1f} s wall"
    )


@pytest.mark.verilator
def test_board_boot_selftest(board_dir, nets):
    net, _, x, y = nets
    with board_sim(board_dir) as sim:
        s = scenario_images(sim, net, x, y, 3)["selftest"]
    print(f"\nSELFTEST: {s.n} images, {s.correct} correct, {s.cycles} engine cycles")


@pytest.mark.verilator
def test_board_bad_frames(board_dir, nets):
    net, other, x, _ = nets
    with board_sim(board_dir) as sim:
        scenario_bad_frames(sim, net, other, x)


@pytest.mark.verilator
def test_board_load_second_network(board_dir, nets):
    net, other, x, _ = nets
    with board_sim(board_dir) as sim:
        scenario_load(sim, net, other, x)


@pytest.mark.slow
@pytest.mark.verilator
def test_board_load_corrupted_in_flight(board_dir, nets):
    net, other, x, _ = nets
    with board_sim(board_dir) as sim:
        scenario_load(sim, net, other, x, full=True)


@pytest.mark.verilator
def test_board_reset_mid_frame(board_dir, nets):
    net, _, x, _ = nets
    with board_sim(board_dir) as sim:
        scenario_reset(sim, net, x)


@pytest.mark.verilator
@pytest.mark.parametrize(
    "where,status", [("payload", Status.IMAGE_CRC), ("magic", Status.BAD_MAGIC_OR_VERSION)]
)
def test_board_corrupt_flash(board_dir, where, status):
    with board_sim(board_dir, flash_bin=corrupt(board_dir, where)) as sim:
        scenario_corrupt_flash(sim, status)


@pytest.mark.verilator
def test_board_boot_through_pll(board_dir, nets):
    """The top as it is built, PLL included (the behavioural SB_PLL40_PAD of
    verif/models/sb_pll40_pad.v): CLK runs at the 12 MHz of the oscillator, the PLL makes the
    engine clock and locks, the power-on reset waits for the lock, the board boots from flash,
    answers at the baud rate of the engine clock and classifies exactly."""
    net, _, x, _ = nets
    b = bb.board("icebreaker")
    with board_sim(board_dir, pll=True, tag="pll") as sim:
        assert sim.leds()["LEDG_N"] == 1  # not ready before the lock and the boot
        with sim.client() as c:
            info = wait_ready(c)
            check_board_runs(info, net, network_image(net))
            assert (info.clock_hz, info.baud) == (b.clock_hz, b.baud)
            check_classify(c, net, x[:2])
        # the lock (600 oscillator cycles = 2,400 engine cycles at 48 MHz) and the 1,024-cycle
        # power-on reset came before the boot's flash read
        assert int(sim.control("cycles")) > 600 * b.clock_hz // b.osc_hz + 1024


@pytest.mark.slow
@pytest.mark.icarus
def test_board_icarus_short(board_dir, nets):
    """One short case under Icarus: boot from flash, INFO, one image (about 4 minutes: Icarus
    runs the 400,000-cycle boot and the 137,000-cycle CLASSIFY exchange event by event)."""
    net, _, x, _ = nets
    with board_sim(board_dir, simulator="icarus") as sim, sim.client(timeout=600) as c:
        info = wait_ready(c)
        check_board_runs(info, net, network_image(net))
        check_classify(c, net, x[:1])


@pytest.mark.slow
@pytest.mark.gate
@pytest.mark.verilator
def test_board_gate_level(board_dir, nets):
    """The board top synthesised for the UP5K (PLL bypassed), simulated on Yosys's cell models
    (SB_SPRAM256KA, SB_RAM40_4K, SB_LUT4, ...): boot from flash, INFO, images equal the golden model."""
    net, _, x, _ = nets
    netlist = gate_netlist(board_dir, ROOT / "build" / "board_gate" / "ternary")
    with board_sim(board_dir, netlist=netlist) as sim, sim.client(timeout=1200) as c:
        info = wait_ready(c, timeout_s=3600)
        check_board_runs(info, net, network_image(net))
        check_classify(c, net, x[:N_GATE_IMAGES])
        s = c.selftest(N_GATE_IMAGES)
        assert list(s.classes) == golden.run(net, x[:N_GATE_IMAGES]).predictions.tolist()


GATE_N_HID = 16  # the Icarus gate-level run: the trained network cut to its first 16 hidden neurons
N_GATE_SELFTEST = env_int("ICESPIKE_BOARD_GATE_SELFTEST", 2)


def cut_network(n_hid: int, out: Path) -> Path:
    """The export directory of the trained ternary network cut to ``n_hid`` hidden neurons
    (scripts/cut_hidden.py)."""
    spec = importlib.util.spec_from_file_location("cut_hidden", ROOT / "scripts" / "cut_hidden.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    export_network(mod.cut_hidden(load_network(CKPT), n_hid), out, source=str(CKPT))
    return out


@pytest.mark.slow
@pytest.mark.gate
@pytest.mark.icarus
def test_board_gate_level_icarus():
    """The board top synthesised for the UP5K (Yosys ``synth_ice40``, PLL bypassed, the flow of
    ``board build``) for the ternary network cut to 16 hidden neurons, simulated under Icarus on
    Yosys's cell models (SB_SPRAM256KA holds the hidden weights, SB_RAM40_4K, SB_LUT4, SB_CARRY,
    SB_DFF*): boot from the exact flash.bin that ``board build`` wrote, INFO, SELFTEST of the
    first stored images, every class and the cycle total equal the golden and cycle models."""
    d = BOARD_DIR / f"gate-cut{GATE_N_HID}"
    bb.build(
        cut_network(GATE_N_HID, BOARD_DIR / f"cut{GATE_N_HID}"),
        "icebreaker",
        d,
        do_synth=False,
        test_images=N_GATE_SELFTEST,
    )
    net = load_export(d / bb.EXPORT_SUBDIR)
    x, y = parse_test_block(split_flash((d / bb.FLASH_BIN).read_bytes())[1])
    t0 = time.perf_counter()
    netlist = gate_netlist(d, ROOT / "build" / "board_gate" / f"cut{GATE_N_HID}")
    t1 = time.perf_counter()
    with board_sim(d, simulator="icarus", netlist=netlist) as sim, sim.client(timeout=600) as c:
        t2 = time.perf_counter()
        info = wait_ready(c, timeout_s=1800)
        check_board_runs(info, net, network_image(net))
        t3 = time.perf_counter()
        boot_cycles = int(sim.control("cycles"))
        s = check_selftest(c, net, x, y, N_GATE_SELFTEST)
        cycles = int(sim.control("cycles"))
    t4 = time.perf_counter()
    print(
        f"\ngate level (Icarus, 784-{GATE_N_HID}-10): yosys {t1 - t0:.0f} s, compile+start {t2 - t1:.0f} s, "
        f"boot {boot_cycles} cycles in {t3 - t2:.0f} s, SELFTEST of {s.n} ({s.cycles} engine cycles) "
        f"{cycles - boot_cycles} cycles in {t4 - t3:.0f} s; {cycles / (t4 - t2):.0f} cycles/s"
    )


# =============================================================================== able to fail
# Each bad-input scenario run on a copy of the RTL with the check it relies on removed: the
# scenario must then fail. (One line of one file changed; every mutant is a separate build.)
MUTANT_DIR = ROOT / "build" / "board_mutants"


def mutant(name: str, file: str, old: str, new: str) -> dict[str, Path]:
    """A copy of the board source ``file`` with ``old`` (which must occur exactly once) replaced."""
    src = next(p for p in bb.board_sources(bb.board("icebreaker")) if p.name == file)
    text = src.read_text()
    assert text.count(old) == 1, f"{file}: the mutated line {old!r} occurs {text.count(old)} times"
    out = MUTANT_DIR / name / file
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(text.replace(old, new))
    return {file: out}


MUTANTS = {
    # name: (file, old, new, scenario)
    "link-ignores-crc8": ("host_link.v", "if (~rx_crc_ok_q) begin", "if (1'b0) begin", "bad-frames"),
    "link-ignores-length": (
        "host_link.v",
        "C_CLASSIFY: if (~lf_pix_q) status_q <= ST_LENGTH;",
        "C_CLASSIFY: if (1'b0) status_q <= ST_LENGTH;",
        "bad-frames",
    ),
    "link-accepts-unknown-cmd": (
        "host_link.v",
        "default: status_q <= ST_UNKNOWN;",
        "default: status_q <= ST_OK;",
        "bad-frames",
    ),
    "button-ignored": ("icebreaker_top.v", "rst_q <= ~por_q[10] | ~btn_s;", "rst_q <= ~por_q[10];", "reset"),
    "loader-ignores-payload-crc": (
        "net_loader.v",
        "if (pcrc_eq_q) net_valid <= 1'b1;",
        "if (1'b1) net_valid <= 1'b1;",
        "corrupt-payload",
    ),
    "loader-ignores-shape": (
        "net_loader.v",
        "&& b != exp_byte) bad_shape_q <= 1'b1;",
        "&& b != exp_byte) bad_shape_q <= 1'b0;",
        "bad-frames",
    ),
    "loader-ignores-magic": (
        "net_loader.v",
        "if (hb_q < 6'd8 && b != exp_byte) bad_magic_q <= 1'b1;",
        "if (hb_q < 6'd8 && b != exp_byte) bad_magic_q <= 1'b0;",
        "corrupt-magic",
    ),
}


def run_scenario(name: str, sim: BridgeSim, board_dir: Path, nets) -> None:
    net, other, x, y = nets
    if name == "bad-frames":
        scenario_bad_frames(sim, net, other, x)
    elif name == "load":
        scenario_load(sim, net, other, x)
    elif name == "reset":
        scenario_reset(sim, net, x)
    elif name == "corrupt-payload":
        scenario_corrupt_flash(sim, Status.IMAGE_CRC)
    elif name == "corrupt-magic":
        scenario_corrupt_flash(sim, Status.BAD_MAGIC_OR_VERSION)
    else:
        raise ValueError(name)


SCENARIO_FLASH = {"corrupt-payload": "payload", "corrupt-magic": "magic"}


@pytest.mark.slow
@pytest.mark.verilator
@pytest.mark.parametrize("name", sorted(MUTANTS))
def test_board_mutant_is_caught(board_dir, nets, name):
    file, old, new, scenario = MUTANTS[name]
    flash = corrupt(board_dir, SCENARIO_FLASH[scenario]) if scenario in SCENARIO_FLASH else None
    with pytest.raises((AssertionError, BoardError, TimeoutError, OSError)):
        with board_sim(
            board_dir, flash_bin=flash, replace_sources=mutant(name, file, old, new), tag=name
        ) as sim:
            run_scenario(scenario, sim, board_dir, nets)
