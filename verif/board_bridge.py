"""cocotb side of the simulated board: a UART on the board's RX/TX pins bridged to a TCP socket.

The host client (icespike.board.client, unchanged) connects to ``socket://127.0.0.1:PORT``; every
byte it sends is driven onto the board's ``RX`` pin as an 8N1 character at the board's baud rate,
and every character the board sends on ``TX`` is written back to the socket. A second socket
takes control lines from the host side of a test (not the client): ``send HEX`` drives those
bytes onto RX (and answers when they are sent), ``reset N`` holds ``BTN_N`` low for N clock cycles, ``leds`` reports the LED pins, ``cycles`` the simulated clock cycles, ``busy`` the exchanges
since the last ``busy`` and their cycles from a host chunk's first RX bit to the board's last
reply bit,
``quit`` ends the simulation. The ports are written as JSON to the file named by
``ICESPIKE_BOARD_PORTS``.

Timing is in clock cycles (the UART bit is ``CLK_HZ / BAUD`` cycles); Python runs per UART bit,
never per clock cycle. While no host byte is waiting, each step of simulated idle time
(``IDLE_CYCLES``) also waits up to ``IDLE_WAIT_S`` of wall time for the host, so simulated time does
not run far ahead of a host that is still computing. The host writes each frame in one piece,
so no frame is stretched past the board's 1 ms byte timeout by this.

Environment: ``ICESPIKE_BOARD_PORTS`` (file to write), ``ICESPIKE_CLK_HZ``, ``ICESPIKE_BAUD``,
``ICESPIKE_SIM_TIMEOUT_S`` (wall-clock limit, default 1800), ``ICESPIKE_OSC_HZ`` (the rate CLK
is driven at: the engine clock when unset, as with the PLL bypassed; the board's oscillator when
the PLL model makes the engine clock from it: its period is the engine clock period times
CLK_HZ / OSC_HZ rounded to even picoseconds, so the PLL's clock can differ from the bridge's
time base by a fraction of a picosecond per cycle, far below a UART bit).
"""

from __future__ import annotations

import json
import os
import select
import socket
import time

import cocotb
import cocotb.utils
from cocotb.clock import Clock
from cocotb.triggers import FallingEdge, Timer

IDLE_CYCLES = 2048
IDLE_WAIT_S = 0.002
LED_PINS = ("LEDR_N", "LEDG_N", "LED_RED_N", "LED_GRN_N", "LED_BLU_N")


class Bridge:
    def __init__(self, dut):
        self.dut = dut
        self.clk_hz = int(os.environ.get("ICESPIKE_CLK_HZ", "48000000"))
        self.baud = int(os.environ.get("ICESPIKE_BAUD", "3000000"))
        if self.clk_hz % self.baud or self.clk_hz // self.baud < 8:
            raise ValueError(f"CLK_HZ {self.clk_hz} / BAUD {self.baud} must be an integer >= 8")
        self.period_ps = 2 * round(5e11 / self.clk_hz)  # even: Clock needs two equal halves
        self.bit_ps = self.period_ps * (self.clk_hz // self.baud)
        osc_hz = int(os.environ.get("ICESPIKE_OSC_HZ", "0") or self.clk_hz)
        self.osc_period_ps = 2 * round(self.period_ps * self.clk_hz / osc_hz / 2)  # even, as above
        self.deadline = time.monotonic() + float(os.environ.get("ICESPIKE_SIM_TIMEOUT_S", "1800"))
        self.uart_srv = socket.create_server(("127.0.0.1", 0))
        self.ctl_srv = socket.create_server(("127.0.0.1", 0))
        self.uart: socket.socket | None = None
        self.ctl: socket.socket | None = None
        self.ctl_buf = b""
        self.pending = bytearray()
        self.done = False
        self.segments: list[
            list[int]
        ] = []  # [cycle a host chunk starts on RX, cycle the last reply byte ended]

    def now_cycles(self) -> int:
        return int(cocotb.utils.get_sim_time("ps") // self.period_ps)

    def write_ports(self) -> None:
        path = os.environ.get("ICESPIKE_BOARD_PORTS")
        ports = {"uart": self.uart_srv.getsockname()[1], "control": self.ctl_srv.getsockname()[1]}
        if path:
            tmp = path + ".tmp"
            with open(tmp, "w") as f:
                json.dump(ports, f)
            os.replace(tmp, path)

    # ------------------------------------------------------------------ sockets
    def poll(self, wait_s: float) -> None:
        """Accept connections, read host bytes and control lines (waits up to ``wait_s``)."""
        socks = [s for s in (self.uart_srv, self.ctl_srv, self.uart, self.ctl) if s is not None]
        ready, _, _ = select.select(socks, [], [], wait_s)
        for s in ready:
            if s is self.uart_srv:
                self.uart, _ = self.uart_srv.accept()
            elif s is self.ctl_srv:
                self.ctl, _ = self.ctl_srv.accept()
            elif s is self.uart:
                data = self.uart.recv(65536)
                if data:
                    self.pending += data
                else:  # the host closed the port: the board keeps running, nobody listens
                    self.uart.close()
                    self.uart = None
            elif s is self.ctl:
                data = self.ctl.recv(4096)
                if not data:
                    self.ctl.close()
                    self.ctl = None
                    self.done = True
                self.ctl_buf += data

    async def control(self) -> None:
        while b"\n" in self.ctl_buf:
            line, self.ctl_buf = self.ctl_buf.split(b"\n", 1)
            words = line.decode().split()
            if not words:
                continue
            if words[0] == "reset":
                n = int(words[1]) if len(words) > 1 else 16
                self.dut.BTN_N.value = 0
                await Timer(n * self.period_ps, unit="ps")
                self.dut.BTN_N.value = 1
                reply = "ok"
            elif words[0] == "send":
                for b in bytes.fromhex(words[1] if len(words) > 1 else ""):
                    await self.send_byte(b)
                reply = "ok"
            elif words[0] == "leds":
                reply = " ".join(
                    f"{p}={int(getattr(self.dut, p).value)}" for p in LED_PINS if hasattr(self.dut, p)
                )
            elif words[0] == "cycles":
                reply = str(self.now_cycles())
            elif words[0] == "busy":  # UART + board time of every exchange since the last "busy"
                done = [sg for sg in self.segments if sg[1] is not None]
                reply = f"{len(done)} {sum(e - s for s, e in done)}"
                self.segments = []
            elif words[0] == "quit":
                self.done = True
                reply = "bye"
            else:
                reply = f"error unknown control {words[0]!r}"
            if self.ctl is not None:
                self.ctl.sendall(reply.encode() + b"\n")

    # ------------------------------------------------------------------ UART
    async def send_byte(self, b: int) -> None:
        """One 8N1 character on RX: start bit, 8 data bits LSB first, stop bit."""
        for bit in [0] + [(b >> i) & 1 for i in range(8)] + [1]:
            self.dut.RX.value = bit
            await Timer(self.bit_ps, unit="ps")

    async def receive(self) -> None:
        """Every character on TX, sampled mid-bit, goes to the host socket."""
        half = self.bit_ps // 2
        while True:
            await FallingEdge(self.dut.TX)
            await Timer(half, unit="ps")
            if int(self.dut.TX.value) != 0:
                continue  # a glitch, not a start bit
            v = 0
            for i in range(8):
                await Timer(self.bit_ps, unit="ps")
                v |= int(self.dut.TX.value) << i
            await Timer(self.bit_ps, unit="ps")
            if int(self.dut.TX.value) != 1:
                self.dut._log.warning("TX framing error (no stop bit) after byte 0x%02x", v)
            if self.segments:
                self.segments[-1][1] = self.now_cycles()
            if self.uart is not None:
                try:
                    self.uart.sendall(bytes([v]))
                except OSError:
                    self.uart = None

    async def run(self) -> None:
        self.dut.RX.value = 1
        self.dut.BTN_N.value = 1
        Clock(self.dut.CLK, self.osc_period_ps, unit="ps").start()
        cocotb.start_soon(self.receive())
        self.write_ports()
        while not self.done:
            if time.monotonic() > self.deadline:
                raise TimeoutError("board simulation ran past ICESPIKE_SIM_TIMEOUT_S")
            self.poll(0 if self.pending else IDLE_WAIT_S)
            if self.pending:
                data = bytes(self.pending)
                self.pending.clear()
                self.segments.append([self.now_cycles(), None])
                for b in data:
                    await self.send_byte(b)
            elif b"\n" in self.ctl_buf:
                await self.control()
            else:
                await Timer(IDLE_CYCLES * self.period_ps, unit="ps")
        for s in (self.uart, self.ctl, self.uart_srv, self.ctl_srv):
            if s is not None:
                s.close()


@cocotb.test()
async def serve(dut):
    """Serve the board's UART on a socket until the host side says quit (or closes control)."""
    await Bridge(dut).run()
