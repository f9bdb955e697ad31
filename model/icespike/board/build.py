"""``icespike board build``: from a checkpoint to a bitstream and a flash image for a board.

:func:`build_flash` exports the network (:mod:`icespike.export`) into ``DIR/export``, writes
its network image ``DIR/network.bin`` and ``DIR/flash.bin`` (network image + test-image
block, :mod:`icespike.board.image`); no synthesis tool runs. :func:`build` adds the
bitstream: the board top (``boards/<board>/``) with the engine and the host link through the
project's one synthesis flow (:func:`icespike.synth.run`), placed at the engine clock the PLL
makes, and writes ``DIR/board.json``.

Throughput figures of the report: ``engine_inferences_per_s`` = engine clock / mean engine
cycles per image (analytic cycle model over the 10,000 MNIST test images);
``uart_inferences_per_s`` = 1 / (time of the CLASSIFY request and reply frames on the wire at
10 bits per byte + the engine time), one image in flight at a time.
"""

from __future__ import annotations

import json
import re
import shutil
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from .. import synth
from ..data import load_mnist
from ..export import engine_params, export_network, load_network
from ..formats import weight_format
from ..rtlsim import cycle_model
from .image import network_image, test_block, write_flash

__all__ = [
    "BOARDS",
    "Board",
    "board",
    "build",
    "build_flash",
    "classify_frame_bytes",
    "uart_inferences_per_s",
    "EXPORT_SUBDIR",
    "NETWORK_BIN",
    "FLASH_BIN",
    "BITSTREAM_BIN",
    "REPORT_JSON",
]

ROOT = Path(__file__).resolve().parents[3]
EXPORT_SUBDIR = "export"
NETWORK_BIN = "network.bin"
FLASH_BIN = "flash.bin"
BITSTREAM_BIN = "bitstream.bin"
REPORT_JSON = "board.json"
UART_BITS_PER_BYTE = 10  # 8N1


@dataclass(frozen=True)
class Board:
    """A board the project builds for."""

    name: str
    device: str  # icespike.synth device name
    top: str  # Verilog module of the board top
    directory: Path  # boards/<name>/: the top, board-only RTL, the PCF
    pcf: str
    clock_hz: int  # engine clock the PLL makes from the oscillator
    osc_hz: int  # the oscillator on the board's clock pin
    baud: int

    @property
    def clock_mhz(self) -> float:
        return self.clock_hz / 1e6


BOARDS = {
    "icebreaker": Board(
        name="icebreaker",
        device="up5k",
        top="icebreaker_top",
        directory=ROOT / "boards" / "icebreaker",
        pcf="icebreaker.pcf",
        clock_hz=27_000_000,  # the PLL output: the board logic closes at about 30 MHz (docs/board.md)
        baud=3_000_000,
        osc_hz=12_000_000,
    ),
}


def board(name: str) -> Board:
    """The :class:`Board` called ``name``; ValueError lists the known ones."""
    try:
        return BOARDS[name]
    except KeyError:
        raise ValueError(f"unknown board {name!r}: known boards are {', '.join(BOARDS)}") from None


def classify_frame_bytes(n_out: int, n_in: int = 784) -> int:
    """Bytes on the wire for one CLASSIFY: request (5 + n_in) plus reply (6 + 1 + 4*n_out + 4)."""
    return (5 + n_in) + (6 + 1 + 4 * n_out + 4)


def uart_inferences_per_s(n_out: int, baud: int, cycles: float, clock_hz: float, n_in: int = 784) -> float:
    """Images/s over the UART, one CLASSIFY at a time: frames at ``baud`` plus the engine time."""
    seconds = classify_frame_bytes(n_out, n_in) * UART_BITS_PER_BYTE / baud + cycles / clock_hz
    return 1.0 / seconds


def build_flash(
    source: str | Path, out_dir: str | Path, *, test_images: int | None = None, data=None
) -> dict:
    """Export ``source`` (checkpoint or export directory) and write network.bin and flash.bin.

    ``test_images``: how many MNIST test images go into the test-image block (default all).
    Returns the paths and sizes, the engine parameters and the cycle model figures.
    """
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    net = load_network(source)
    p = engine_params(net)
    export_network(net, out / EXPORT_SUBDIR, source=str(source))
    img = network_image(net)
    (out / NETWORK_BIN).write_bytes(img)
    m = data if data is not None else load_mnist()
    n_test = len(m.test_images)
    n = n_test if test_images is None else int(test_images)
    if not 0 <= n <= n_test:
        raise ValueError(f"--test-images must be 0..{n_test}, got {n}")
    blk = test_block(m.test_images[:n], m.test_labels[:n])
    write_flash(out / FLASH_BIN, img, blk)
    cyc = cycle_model(p, m.test_images.reshape(n_test, -1))
    return {
        "network": "-".join(map(str, (p.N_IN, p.N_HID, p.N_OUT))),
        "format": weight_format(net.layers[0].bits).name,
        "engine": p,
        "network_image": str(out / NETWORK_BIN),
        "network_image_bytes": len(img),
        "flash_image": str(out / FLASH_BIN),
        "flash_image_bytes": (out / FLASH_BIN).stat().st_size,
        "test_images": n,
        "cycles_per_inference": float(np.mean(cyc)),
        "cycles_min": int(cyc.min()),
        "cycles_max": int(cyc.max()),
    }


def _rtl_modules_used(files: list[Path]) -> list[Path]:
    """Every rtl/ file the board's own files instantiate, with their own closure (synth.rtl_closure)."""
    known = sorted(p.stem for p in (ROOT / "rtl").glob("*.v"))
    text = "\n".join(re.sub(r"//[^\n]*|/\*.*?\*/", "", f.read_text(), flags=re.S) for f in files)
    used: list[Path] = []
    for m in known:
        if re.search(rf"\b{m}\s*(#\s*\(|[A-Za-z_]\w*\s*\()", text):
            for f in synth.rtl_closure(m):
                if f not in used:
                    used.append(f)
    return used


def board_sources(b: Board) -> list[Path]:
    """The board top and board-only files (boards/<name>/*.v) and every rtl/ file they use."""
    own = sorted(b.directory.glob("*.v"))
    if not any(f.stem == b.top for f in own):
        raise ValueError(f"{b.directory / (b.top + '.v')} does not exist")
    return own + _rtl_modules_used(own)


def build(
    source: str | Path,
    board_name: str,
    out_dir: str | Path,
    *,
    do_synth: bool = True,
    test_images: int | None = None,
    seed: int = 1,
    progress_log=None,
) -> dict:
    """Flash image and (``do_synth``) bitstream for ``board_name``; writes and returns the report."""
    b = board(board_name)
    out = Path(out_dir)
    fl = build_flash(source, out, test_images=test_images)
    p = fl.pop("engine")
    config = f"{b.name}-{fl['network']}-{fl['format']}"
    rep: dict = {
        "board": b.name,
        "config": config,
        "device": b.device,
        "fits": None,
        "lut4": None,
        "ebr": None,
        "spram": None,
        "dsp": None,
        "clock_mhz": b.clock_mhz,
        "fmax_mhz": None,
        "timing_met": None,
        "engine_inferences_per_s": round(b.clock_hz / fl["cycles_per_inference"], 1),
        "uart_inferences_per_s": round(
            uart_inferences_per_s(p.N_OUT, b.baud, fl["cycles_per_inference"], b.clock_hz, p.N_IN), 1
        ),
        "bitstream": None,
        "flash_image": fl["flash_image"],
        "baud": b.baud,
        "classify_frame_bytes": classify_frame_bytes(p.N_OUT, p.N_IN),
        **{k: v for k, v in fl.items() if k != "flash_image"},
        "synthesised": do_synth,
    }
    if do_synth:
        sr = synth.run(
            top=b.top,
            sources=board_sources(b),
            device_name=b.device,
            out_dir=out / "synth",
            params={"CLK_HZ": b.clock_hz, "BAUD": b.baud},
            include_dirs=[out / EXPORT_SUBDIR],
            config=config,
            pcf=b.directory / b.pcf,
            freq_mhz=b.clock_mhz,
            seed=seed,
            bitstream=True,
            extra={"cycles_per_inference": fl["cycles_per_inference"]},
            progress_log=progress_log,
        )
        for k in ("fits", "lut4", "ebr", "spram", "dsp", "fmax_mhz", "timing_met"):
            rep[k] = sr.get(k)
        rep["carry"], rep["ff"], rep["io"] = sr.get("carry"), sr.get("ff"), sr.get("io")
        rep["lc_used"], rep["lc_available"] = sr.get("lc_used"), sr.get("lc_available")
        rep["fit_problems"] = sr.get("fit_problems")
        rep["tools"], rep["flags"] = sr.get("tools"), sr.get("flags")
        rep["synth_report"] = str(out / "synth" / "report.json")
        if sr.get("bitstream"):
            shutil.copyfile(sr["bitstream"], out / BITSTREAM_BIN)
            rep["bitstream"] = str(out / BITSTREAM_BIN)
        elif sr.get("bitstream_error"):
            rep["bitstream_error"] = sr["bitstream_error"]
    (out / REPORT_JSON).write_text(json.dumps(rep, indent=2, default=str) + "\n")
    return rep
