"""``icespike board``: build, flash, run and simulate a network on an FPGA board (docs/board.md).

* ``board build CKPT --board icebreaker [--out DIR]``: export, network image, flash.bin (network
  + MNIST test images) and the bitstream through the synthesis flow; ``--no-synth`` writes the
  flash image only.
* ``board flash DIR``: program the bitstream at flash offset 0 and flash.bin at 0x100000
  (iceprog from fpga-icestorm, or openFPGALoader).
* ``board run --port PORT``: stream MNIST test images through CLASSIFY and compare every class
  and score with the golden model. ``--port`` is any pyserial URL (``socket://HOST:PORT``).
* ``board selftest --port PORT``: the board classifies the test images stored in its flash.
* ``board sim DIR``: the whole board in simulation (board top, flash model loaded with DIR's
  flash.bin, UART bridged to a TCP socket) driven by the same host client as ``board run``.
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
from pathlib import Path

import numpy as np

from .. import progress
from ..board import build as bb
from ..board.client import DEFAULT_BAUD, BoardClient, check_board_runs, stream_images
from ..board.image import FLASH_BITSTREAM_OFFSET, FLASH_NET_OFFSET, parse_test_block, split_flash
from ..board.protocol import status_text
from ..data import default_data_dir, load_mnist
from ..export import load_export
from . import UserError, add_json_option, add_parser, emit

__all__ = ["register", "run", "PROGRAMMERS", "flash_commands"]

PROGRAMMERS = ("iceprog", "openFPGALoader")
NO_BOARD_PATTERNS = ("can't find", "cannot find", "no device", "unable to open", "not found", "no cable")


def default_dir(board_name: str = "icebreaker") -> Path:
    return bb.ROOT / "build" / "board" / board_name


def _sub(subs, name: str, help: str) -> argparse.ArgumentParser:
    p = subs.add_parser(name, help=help, description=help)
    add_json_option(p)
    p.set_defaults(func=run)  # run() dispatches on board_command
    return p


def _port_options(p: argparse.ArgumentParser) -> None:
    p.add_argument("--port", required=True, help="serial port or pyserial URL (e.g. socket://127.0.0.1:7000)")
    p.add_argument("--baud", type=int, default=DEFAULT_BAUD, help="UART baud rate")
    p.add_argument("--timeout", type=float, default=2.0, metavar="S", help="seconds to wait for a reply")
    p.add_argument(
        "--net",
        type=Path,
        default=None,
        metavar="DIR",
        help=f"`board build` directory of the network the board runs (default {default_dir()})",
    )


def register(subparsers) -> None:
    p = add_parser(subparsers, "board", help="build, flash, run and simulate the network on an FPGA board")
    subs = p.add_subparsers(dest="board_command", metavar="ACTION", required=True)

    b = _sub(subs, "build", "bitstream + flash image (network and test images) for a board")
    b.add_argument("checkpoint", type=Path, metavar="CHECKPOINT_OR_DIR")
    b.add_argument("--board", default="icebreaker", choices=sorted(bb.BOARDS), help="target board")
    b.add_argument("--out", type=Path, default=None, metavar="DIR", help="output directory")
    b.add_argument(
        "--test-images", type=int, default=None, metavar="N", help="MNIST test images in flash (default all)"
    )
    b.add_argument("--no-synth", action="store_true", help="write the flash image only (no bitstream)")
    b.add_argument("--seed", type=int, default=1, help="nextpnr placement seed")

    f = _sub(subs, "flash", "program the bitstream and the flash image of a `board build` directory")
    f.add_argument("dir", type=Path, metavar="DIR")
    f.add_argument("--programmer", choices=("auto", *PROGRAMMERS), default="auto")
    f.add_argument("--dry-run", action="store_true", help="print the programmer commands, run nothing")

    r = _sub(subs, "run", "classify test images on the board and compare with the golden model")
    _port_options(r)
    r.add_argument("--images", type=int, default=100, metavar="N")
    r.add_argument("--offset", type=int, default=0, metavar="K", help="first test image")
    r.add_argument("--load", action="store_true", help="LOAD the network over the UART first")

    s = _sub(subs, "selftest", "the board classifies the test images stored in its flash")
    _port_options(s)
    s.add_argument("--images", type=int, default=100, metavar="N")

    m = _sub(subs, "sim", "the whole board in simulation, driven by the host client over a socket")
    m.add_argument("dir", type=Path, metavar="DIR", help="`board build` directory")
    m.add_argument("--images", type=int, default=20, metavar="N")
    m.add_argument("--simulator", choices=("verilator", "icarus"), default="verilator")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    return {
        "build": _build,
        "flash": _flash,
        "run": _run,
        "selftest": _selftest,
        "sim": _sim,
    }[args.board_command](args)


# ------------------------------------------------------------------------------------ build
def _build(args) -> int:
    out = args.out or default_dir(args.board)
    rep = bb.build(
        args.checkpoint,
        args.board,
        out,
        do_synth=not args.no_synth,
        test_images=args.test_images,
        seed=args.seed,
        progress_log=progress.log,
    )
    emit(args, rep, _build_text)
    if rep["synthesised"] and not (rep["fits"] and rep["timing_met"] and rep["bitstream"]):
        return 1
    return 0


def _build_text(r: dict) -> str:
    lines = [f"{r['config']}: {r['network']} {r['format']} on {r['board']} ({r['device']})"]
    if r["synthesised"]:
        lines += [
            f"  fits {r['fits']}  LUT4 {r['lut4']}  EBR {r['ebr']}  SPRAM {r['spram']}  DSP {r['dsp']}",
            f"  clock {r['clock_mhz']:g} MHz  Fmax {r['fmax_mhz']} MHz  timing met {r['timing_met']}",
            f"  bitstream {r['bitstream']}",
        ]
    else:
        lines.append("  no synthesis (--no-synth): flash image only")
    lines += [
        f"  flash image {r['flash_image']} ({r['flash_image_bytes']:,} bytes: network "
        f"{r['network_image_bytes']:,} bytes, {r['test_images']:,} test images)",
        f"  engine {r['engine_inferences_per_s']:,.0f} images/s ({r['cycles_per_inference']:,.1f} cycles mean), "
        f"UART {r['uart_inferences_per_s']:,.0f} images/s at {r['baud']:,} baud",
    ]
    return "\n".join(lines)


# ------------------------------------------------------------------------------------ flash
def flash_commands(programmer: str, bitstream: Path, flash_bin: Path) -> list[list[str]]:
    """The commands that write the bitstream at 0 and flash.bin at 0x100000."""
    if programmer == "iceprog":
        return [
            ["iceprog", "-o", f"{FLASH_BITSTREAM_OFFSET:#x}", str(bitstream)],
            ["iceprog", "-o", f"{FLASH_NET_OFFSET:#x}", str(flash_bin)],
        ]
    return [
        ["openFPGALoader", "-b", "ice40_generic", "-f", "--offset", f"{FLASH_BITSTREAM_OFFSET:#x}", str(bitstream)],
        ["openFPGALoader", "-b", "ice40_generic", "-f", "--offset", f"{FLASH_NET_OFFSET:#x}", str(flash_bin)],
    ]  # fmt: skip


def _flash(args) -> int:
    d = args.dir
    bit, fl = d / bb.BITSTREAM_BIN, d / bb.FLASH_BIN
    if not fl.is_file():
        raise UserError(f"{d}: no {bb.FLASH_BIN} (run `icespike board build` first)")
    if not bit.is_file():
        raise UserError(
            f"{d}: no {bb.BITSTREAM_BIN} (built with --no-synth? run `icespike board build` without it)"
        )
    split_flash(fl.read_bytes())  # refuse a corrupt image before touching the board
    if args.programmer == "auto":
        prog = next((p for p in PROGRAMMERS if shutil.which(p)), None)
        if prog is None:
            raise UserError(
                "no programmer found: install iceprog (Debian package fpga-icestorm) or openFPGALoader"
            )
    else:
        prog = args.programmer
        if shutil.which(prog) is None:
            raise UserError(f"programmer {prog} not found on PATH")
    cmds = flash_commands(prog, bit, fl)
    done = []
    for c in cmds:
        if args.dry_run:
            done.append(" ".join(c))
            continue
        progress.log("board flash: " + " ".join(c))
        r = subprocess.run(c, capture_output=True, text=True)
        text = (r.stdout + r.stderr).strip()
        if r.returncode != 0:
            lines = [ln for ln in text.splitlines() if ln.strip()]
            hit = next((ln for ln in lines if any(k in ln.lower() for k in NO_BOARD_PATTERNS)), None)
            if hit:
                raise UserError(f"no board found: {prog}: {hit.strip()}")
            raise UserError(f"{prog} failed (exit {r.returncode}): {lines[-1] if lines else 'no output'}")
        done.append(" ".join(c))
    res = {"programmer": prog, "commands": done, "dry_run": args.dry_run}
    emit(args, res, lambda r: "\n".join(r["commands"]) + ("\n(dry run)" if r["dry_run"] else "\nprogrammed"))
    return 0


# ------------------------------------------------------------------------------------ run, selftest
def _net_dir(args) -> Path:
    d = args.net or default_dir()
    if not (d / bb.EXPORT_SUBDIR / "manifest.json").is_file():
        raise UserError(
            f"{d}: not a `board build` directory (no {bb.EXPORT_SUBDIR}/manifest.json); give --net DIR"
        )
    return d


def _client(args) -> BoardClient:
    return BoardClient(args.port, baud=args.baud, timeout=args.timeout)


def _run(args) -> int:
    if args.images < 1 or args.offset < 0:
        raise UserError("--images must be >= 1 and --offset >= 0")
    d = _net_dir(args)
    net = load_export(d / bb.EXPORT_SUBDIR)
    image = (d / bb.NETWORK_BIN).read_bytes()
    m = load_mnist(default_data_dir())
    if args.offset + args.images > len(m.test_images):
        raise UserError(f"--offset + --images exceeds the {len(m.test_images)} test images")
    sl = slice(args.offset, args.offset + args.images)
    with _client(args) as c:
        c.wait_ready(timeout_s=args.timeout * 5, attempt_s=args.timeout)
        if args.load:
            c.load(image)
        info = c.info()
        check_board_runs(info, net, image)
        with progress.bar(total=args.images, desc="board", unit="img") as bar:
            r = stream_images(
                c, net, m.test_images[sl], m.test_labels[sl], progress=lambda k: bar.update(k - bar.n)
            )
    res = {
        "port": args.port,
        "images": r.images,
        "mismatches": r.mismatches,
        "accuracy": r.accuracy,
        "golden_accuracy": r.golden_accuracy,
        "images_per_s": r.images_per_s,
        "seconds": r.seconds,
        "engine_cycles_mean": r.cycles_mean,
        "clock_hz": info.clock_hz,
        "baud": info.baud,
        "first_mismatches": r.first_mismatches,
    }
    emit(args, res, _run_text)
    return 0 if r.mismatches == 0 else 1


def _run_text(r: dict) -> str:
    return "\n".join(
        [
            f"{r['port']}: {r['images']} images",
            f"  mismatches      {r['mismatches']}"
            + (f"  first: {r['first_mismatches']}" if r["mismatches"] else ""),
            f"  accuracy        {r['accuracy']:.4f}  (golden {r['golden_accuracy']:.4f})",
            f"  images/s        {r['images_per_s']:,.1f}  ({r['baud']:,} baud, engine "
            f"{r['engine_cycles_mean']:,.1f} cycles at {r['clock_hz'] / 1e6:g} MHz)",
        ]
    )


def _selftest(args) -> int:
    if args.images < 1:
        raise UserError("--images must be >= 1")
    with _client(args) as c:
        info = c.wait_ready(timeout_s=args.timeout * 5, attempt_s=args.timeout)
        if info.state != 1:
            raise UserError(
                f"board is not ready (state {info.state_name}, last error {status_text(info.last_error)})"
            )
        r = c.selftest(args.images)
    res = {
        "port": args.port,
        "images": r.n,
        "correct": r.correct,
        "accuracy": r.correct / r.n,
        "engine_cycles": r.cycles,
        "engine_images_per_s": r.n * info.clock_hz / r.cycles if r.cycles else None,
        "classes": list(r.classes),
        "mismatches": None,
    }
    if args.net is not None or (default_dir() / bb.EXPORT_SUBDIR / "manifest.json").is_file():
        from .. import golden

        d = _net_dir(args)
        x, y = parse_test_block(split_flash((d / bb.FLASH_BIN).read_bytes())[1])
        if r.n > len(x):
            raise UserError(f"{d / bb.FLASH_BIN} holds {len(x)} test images, the board ran {r.n}")
        g = golden.run(load_export(d / bb.EXPORT_SUBDIR), x[: r.n])
        res["mismatches"] = int((g.predictions != np.frombuffer(r.classes, np.uint8)).sum())
        res["golden_accuracy"] = golden.accuracy(g.predictions, y[: r.n])
    emit(args, res, _selftest_text)
    return 0 if not res["mismatches"] else 1


def _selftest_text(r: dict) -> str:
    lines = [
        f"{r['port']}: self-test on {r['images']} images stored in flash",
        f"  correct         {r['correct']} ({r['accuracy']:.4f})",
        f"  engine          {r['engine_cycles']:,} cycles, {r['engine_images_per_s']:,.0f} images/s",
    ]
    if r["mismatches"] is not None:
        lines.append(
            f"  mismatches      {r['mismatches']} (classes vs golden, golden accuracy {r['golden_accuracy']:.4f})"
        )
    return "\n".join(lines)


# ------------------------------------------------------------------------------------ sim
def _sim(args) -> int:
    from ..board.sim import run_board_sim  # noqa: PLC0415 - needs the simulators only here

    if args.images < 1:
        raise UserError("--images must be >= 1")
    res = run_board_sim(args.dir, images=args.images, simulator=args.simulator, progress_log=progress.log)
    emit(args, res, _sim_text)
    return 0 if res["mismatches"] == 0 else 1


def _sim_text(r: dict) -> str:
    return "\n".join(
        [
            f"{r['dir']}: simulated {r['board']} ({r['simulator']}), {r['images']} images over socket://",
            f"  mismatches      {r['mismatches']}",
            f"  accuracy        {r['accuracy']:.4f}  (golden {r['golden_accuracy']:.4f})",
            f"  baud            {r['baud']:,}; {r['seconds']:.1f} s wall",
        ]
    )
