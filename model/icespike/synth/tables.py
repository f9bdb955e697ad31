"""Markdown tables from synthesis reports, and the generated sections between markers in docs.

Nothing in a table is typed by hand: :func:`markdown_table` turns the ``report.json`` files into
the tables of ``build/reports/`` and :func:`update_readme` copies one between the
``<!-- synth-table -->`` markers of README.md (or a doc).
"""

from __future__ import annotations

import json
import re
from pathlib import Path

from .. import tracked
from .devices import ROOT, SynthError

README_BEGIN = "<!-- synth-table -->"
README_END = "<!-- /synth-table -->"


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

    Raises ValueError if a marker is missing, repeated, or the end comes first
    (:func:`icespike.tracked.replace_between_markers`, with the synth-table markers as default).
    """
    return tracked.replace_between_markers(text, new, begin, end)


def update_readme(table: str, readme: str | Path = ROOT / "README.md") -> bool:
    """Put ``table`` between the synth-table markers of ``readme``; returns True if it changed."""
    path = Path(readme)
    old = path.read_text()
    new = replace_between_markers(old, table)
    if new != old:
        path.write_text(new)
    return new != old
