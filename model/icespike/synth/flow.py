"""One synthesis run: a top and its sources through Yosys, nextpnr-ice40 and icepack to a report.

:func:`run` synthesises one top for one device and writes ``<out_dir>/report.json`` (plus the
Yosys script, logs, netlists and the nextpnr report), in four steps: prepare the run directory
and the report's header, synthesise (cell counts from Yosys ``stat -json``, checked against the
device), place and route (Fmax, utilisation and the critical path from nextpnr's ``--report``),
and pack the bitstream. Every report records the versions the tools print and the flags used.
"""

from __future__ import annotations

import json
import os
import re
import shlex
import shutil
from dataclasses import dataclass, field
from pathlib import Path

from .devices import ROOT, SYNTH_DIR, Device, SynthError, device
from .fit import cells_fit
from .parse import parse_nextpnr_report, parse_yosys_stat
from .tools import _log_errors, _run_tool, tool_command, tool_versions

YS_TEMPLATE = SYNTH_DIR / "synth_ice40.ys.in"
# Files a previous run left that this run writes again: removed first so none is mistaken for new.
_RUN_OUTPUTS = ("stat.json", "netlist.json", "nextpnr.report.json", "report.json", "top.asc", "top.bin")
# nextpnr report fields copied into the run's report.
_PNR_FIELDS = (
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


@dataclass
class _Run:
    """What the steps of one :func:`run` share: where, for which device, how to log, time spent."""

    out: Path
    dev: Device
    config: str
    timeout: float
    say: object
    runtime: dict = field(default_factory=dict)

    def tool(self, role: str, argv: list[str], log: str) -> int:
        """Run ``argv`` in the run directory, logging to ``log``; record its time; return its exit code."""
        self.say(f"synth {self.config} {self.dev.name}: {role}")
        rc, self.runtime[role] = _run_tool(argv, self.out, self.out / log, role, self.timeout)
        return rc


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

    ``params`` go to ``chparam -set``, ``defines`` to ``read_verilog -D``; ``data_files``
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
    srcs = [Path(s) for s in sources]
    _prepare_run_dir(out, srcs, data_files)
    roles = ("yosys", "nextpnr", "icepack") if bitstream else ("yosys", "nextpnr") if place else ("yosys",)
    tools = tool_versions(roles)
    synth_flags = tuple(dev.synth_flags) if synth_flags is None else tuple(synth_flags)
    script = yosys_script(
        top,
        srcs,
        out,
        params=params,
        defines=defines,
        include_dirs=[Path(d) for d in include_dirs or []],
        synth_flags=synth_flags,
    )
    (out / "synth.ys").write_text(script)
    for stale in _RUN_OUTPUTS:
        (out / stale).unlink(missing_ok=True)
    report = _report_header(top, srcs, dev, config or out.parent.name, params, defines, tools, synth_flags)
    if extra:
        report.update(extra)
    r = _Run(out, dev, report["config"], timeout, progress_log or (lambda msg: None))

    _synthesise(r, report, top)
    if place and report["fits"]:
        if _place_and_route(r, report, Path(pcf) if pcf is not None else SYNTH_DIR / dev.pcf, freq_mhz, seed):
            if bitstream:
                _pack_bitstream(r, report)
    report["runtime_s"] = {k: round(v, 1) for k, v in r.runtime.items()}
    report["inferences_per_s"] = None
    if report.get("cycles_per_inference") and report["fmax_mhz"]:
        report["inferences_per_s"] = round(report["fmax_mhz"] * 1e6 / report["cycles_per_inference"], 1)
    write_report(report, out / "report.json")
    return report


def _prepare_run_dir(out: Path, srcs: list[Path], data_files) -> None:
    """Create ``out``, check that every source exists and copy the data files into it."""
    out.mkdir(parents=True, exist_ok=True)
    for s in srcs:
        if not s.is_file():
            raise SynthError(f"source file {s} does not exist")
    for f in data_files or []:
        f = Path(f)
        if not f.is_file():
            raise SynthError(f"data file {f} does not exist")
        shutil.copyfile(f, out / f.name)


def _report_header(top, srcs, dev: Device, config: str, params, defines, tools, synth_flags) -> dict:
    """The fields of a report known before any tool runs: what, where, with which tools and flags."""
    return {
        "config": config,
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


def _synthesise(r: _Run, report: dict, top: str) -> None:
    """Yosys: the cell counts into ``report`` and whether they can fit the device (``fits``)."""
    rc = r.tool("yosys", [*tool_command("yosys"), "-q", "-l", "yosys.log", "synth.ys"], "yosys.stdout")
    if rc != 0 or not (r.out / "stat.json").exists():
        raise SynthError(
            f"yosys failed (exit {rc}) for {top} on {r.dev.name}: {_log_errors(r.out / 'yosys.log')}"
        )
    counts = parse_yosys_stat(r.out / "stat.json")
    report.update({k: counts[k] for k in ("lut4", "carry", "ff", "ff_by_type", "ebr", "spram", "dsp")})
    report["io"] = counts["port_bits"] if counts["io"] == 0 else counts["io"]
    report["cells"] = counts["cells"]
    problems = cells_fit(counts, r.dev)
    report.update(
        fits=not problems,
        fit_problems=problems,
        fmax_mhz=None,
        freq_target_mhz=None,
        timing_met=None,
        lc_used=None,
        lc_available=r.dev.logic_cells,
        lc_utilisation=None,
        critical_path=None,
        placed=False,
    )


def _place_and_route(r: _Run, report: dict, pcf_path: Path, freq_mhz: float, seed: int) -> bool:
    """nextpnr-ice40 with ``pcf_path``: Fmax, utilisation and the critical path into ``report``.

    Returns whether the design was placed; a nextpnr failure is reported as ``fits: false``.
    """
    if not pcf_path.is_file():
        raise SynthError(f"PCF {pcf_path} does not exist")
    dev = r.dev
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
        _rel(pcf_path, r.out),
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
    rc = r.tool("nextpnr", argv, "nextpnr.stdout")
    if rc != 0 or not (r.out / "nextpnr.report.json").exists():
        msg = _log_errors(r.out / "nextpnr.log") if (r.out / "nextpnr.log").exists() else "no log"
        report["fits"] = False
        report["fit_problems"] = [f"nextpnr failed (exit {rc}): {msg}"]
        return False
    pr = parse_nextpnr_report(r.out / "nextpnr.report.json")
    report.update({k: pr[k] for k in _PNR_FIELDS})
    if pr["io_used"] is not None:
        report["io"] = pr["io_used"]
    report["placed"] = True
    return True


def _pack_bitstream(r: _Run, report: dict) -> None:
    """icepack: ``top.bin`` (its path and size into ``report``, or ``bitstream_error``)."""
    rc = r.tool("icepack", [*tool_command("icepack"), "top.asc", "top.bin"], "icepack.log")
    if rc == 0 and (r.out / "top.bin").exists():
        report["bitstream"] = str(r.out / "top.bin")
        report["bitstream_bytes"] = (r.out / "top.bin").stat().st_size
    else:
        report["bitstream"] = None
        report["bitstream_error"] = f"icepack failed (exit {rc}): {_log_errors(r.out / 'icepack.log')}"


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
