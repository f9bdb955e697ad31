"""Reading the tools' machine-readable reports: Yosys ``stat -json`` and nextpnr ``--report``."""

from __future__ import annotations

import json
from pathlib import Path

from .devices import SynthError


def _json(report: dict | str | Path, what: str) -> dict:
    """``report`` itself if it is a dict, else the JSON file it names (SynthError if it is not JSON)."""
    if isinstance(report, dict):
        return report
    path = Path(report)
    try:
        return json.loads(path.read_text())
    except json.JSONDecodeError as exc:
        raise SynthError(f"{path}: not {what} ({exc})") from None


def parse_yosys_stat(stat: dict | str | Path) -> dict:
    """Cell counts from a Yosys ``stat -json`` report (a dict or a path to the file).

    Returns lut4, carry, ff (every SB_DFF* flavour), ff_by_type, ebr (SB_RAM40_4K*), spram,
    dsp, io (SB_IO cells the netlist already has), port_bits of the top and ``cells`` (all).
    """
    stat = _json(stat, "a Yosys stat JSON report")
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
    report = _json(report, "a nextpnr report")
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
