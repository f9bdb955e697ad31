"""The whole board in simulation, driven by the unchanged host client over a socket.

``icebreaker_top`` (PLL bypassed with ICESPIKE_SIM_NO_PLL, CLK driven at the engine clock) beside
the behavioural SPI flash model, loaded with the exact flash.bin that ``icespike board build``
wrote; its UART is bridged to ``socket://127.0.0.1:PORT`` by verif/board_bridge.py and every
test talks to it through icespike.board.client.BoardClient, as ``board run`` talks to a real
board (icespike.board.sim). The bridge on its own is checked against a register loopback.
"""

from __future__ import annotations

import time

import pytest
import serial

from icespike.board.protocol import REQ_SYNC
from icespike.board.sim import BridgeSim
from simrun import ROOT

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
