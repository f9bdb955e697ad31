"""Sweeps for the Studio's accuracy-vs-resources chart: found under allowed directories, read from
the ``results.json`` that ``icespike sweep`` writes (:func:`icespike.sweep.write_results`).

A sweep is a directory holding ``results.json``: a root given to the Studio (by default
``build/sweeps``, where ``icespike sweep`` writes without ``--out``) or a directory directly
under one. Requests name a sweep by its id (the directory name), never by a path; a directory
whose ``results.json`` resolves outside the roots (a symbolic link out) is not a sweep. The
Pareto fronts are :func:`icespike.pareto.pareto_front`, the definition the sweep's own results use.
"""

from __future__ import annotations

import json
import math
import re
from pathlib import Path

from ..pareto import pareto_front
from .actions import BadRequest, NotFound

__all__ = ["BadSweep", "find_sweeps", "list_sweeps", "sweep_points", "COSTS"]

RESULTS = "results.json"
COSTS = ("lut4", "memory_bits")
STATUSES = ("ok", "error", "unfinished")
_ID_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.~-]{0,120}$")


class BadSweep(BadRequest):
    """A sweep's results.json that cannot be read (HTTP 422 with the one-line reason)."""


def find_sweeps(roots: list[Path]) -> dict[str, Path]:
    """Sweep id -> its results.json, for every root that is a sweep and every directory directly
    under a root that is one. Ids are directory names (a later duplicate gets ``~2``, ``~3``...)."""
    found: dict[str, Path] = {}
    for root in roots:
        root = Path(root).resolve()
        if not root.is_dir():
            continue
        for d in [root, *sorted(p for p in root.iterdir() if p.is_dir())]:
            f = d / RESULTS
            if not f.is_file() or not _ID_RE.match(d.name):
                continue
            real = f.resolve()
            if root not in real.parents:  # a link out of the allowed directories
                continue
            sid, n = d.name, 1
            while sid in found:
                n += 1
                sid = f"{d.name}~{n}"
            found[sid] = f
    return found


def _results_file(roots: list[Path], sweep_id) -> Path:
    if not isinstance(sweep_id, str) or not _ID_RE.match(sweep_id) or ".." in sweep_id:
        raise BadRequest(f"bad sweep name {sweep_id!r}")
    found = find_sweeps(roots)
    if sweep_id not in found:
        raise NotFound(f"no sweep {sweep_id!r} (sweeps: {', '.join(found) or 'none'})")
    return found[sweep_id]


def _number(v, what: str, *, lo: float = 0.0, hi: float = math.inf, optional: bool = True):
    if v is None and optional:
        return None
    if isinstance(v, bool) or not isinstance(v, (int, float)) or not lo <= v <= hi:
        span = f"in {lo:g}..{hi:g}" if hi != math.inf else f">= {lo:g}"
        raise ValueError(f"{what} must be a number {span}, got {v!r}")
    return v


def _fits(t: dict) -> bool | None:
    """Whether the trial's design fits: its synthesis says so, else the weight-memory fit rule."""
    for k in ("fits", "memory_fits"):
        if isinstance(t.get(k), bool):
            return t[k]
    return None


def _trial(i: int, t) -> dict:
    """One trial of results.json as a chart point; ValueError naming the trial and the field."""
    if not isinstance(t, dict):
        raise ValueError(f"trial {i} is not an object")
    name = t.get("trial")
    if not isinstance(name, str) or not name:
        raise ValueError(f"trial {i} has no name ('trial')")
    status = t.get("status")
    if status not in STATUSES:
        raise ValueError(f"trial {name}: status must be one of {', '.join(STATUSES)}, got {status!r}")
    hidden = t.get("hidden")
    if not isinstance(hidden, list) or not hidden or not all(type(h) is int and h > 0 for h in hidden):
        raise ValueError(f"trial {name}: hidden must be a list of positive integers, got {hidden!r}")
    bits = t.get("bits")
    if not isinstance(bits, (str, int)) or isinstance(bits, bool):
        raise ValueError(f"trial {name}: bits must be a width name, got {bits!r}")
    ok = status == "ok"
    try:
        p = {
            "trial": name,
            "stage": t.get("stage") if isinstance(t.get("stage"), str) else None,
            "status": status,
            "bits": str(bits),
            "hidden": hidden,
            "network": "-".join(map(str, [784, *hidden, 10])),
            "timesteps": t.get("timesteps") if type(t.get("timesteps")) is int else None,
            "accuracy": _number(t.get("accuracy"), "accuracy", hi=1.0, optional=not ok),
            "memory_bits": _number(t.get("memory_bits"), "memory_bits", optional=not ok),
            "lut4": _number(t.get("lut4"), "lut4"),
            "fmax_mhz": _number(t.get("fmax_mhz"), "fmax_mhz"),
            "synth": t.get("synth") if isinstance(t.get("synth"), str) else None,
            "fits": _fits(t),
            "error": str(t["error"]).splitlines()[0] if t.get("error") else None,
        }
    except ValueError as e:
        raise ValueError(f"trial {name}: {e}") from None
    return p


def _read(sweep_id: str, f: Path) -> dict:
    """results.json parsed and checked (id, name, directory, time written, counts, trials);
    BadSweep with one line on anything unreadable."""
    where = f"sweep {sweep_id}: {RESULTS}"
    try:
        doc = json.loads(f.read_text())
    except OSError as e:
        raise BadSweep(f"{where} cannot be read: {e.strerror or e}") from None
    except UnicodeDecodeError:
        raise BadSweep(f"{where} is not text") from None
    except ValueError as e:
        raise BadSweep(f"{where} is not valid JSON ({e.msg} at line {e.lineno} column {e.colno})") from None
    if not isinstance(doc, dict) or not isinstance(doc.get("trials"), list):
        raise BadSweep(f"{where} has no list of trials (not written by icespike sweep, or cut short)")
    try:
        trials = [_trial(i, t) for i, t in enumerate(doc["trials"])]
    except ValueError as e:
        raise BadSweep(f"{where}: {e}") from None
    names = [t["trial"] for t in trials]
    if len(set(names)) != len(names):
        raise BadSweep(f"{where}: a trial name appears twice")
    return {
        "id": sweep_id,
        "name": doc["sweep"] if isinstance(doc.get("sweep"), str) else sweep_id,
        "dir": str(f.parent),
        "written": doc["written"] if isinstance(doc.get("written"), str) else None,
        "counts": {s: sum(t["status"] == s for t in trials) for s in STATUSES},
        "trials": trials,
    }


def list_sweeps(roots: list[Path]) -> list[dict]:
    """Every sweep found: id, name, directory, trial counts (or the error line of one that is
    unreadable: it is listed, not hidden, and the others stay usable)."""
    out = []
    for sid, f in find_sweeps(roots).items():
        try:
            r = _read(sid, f)
        except BadSweep as e:
            out.append({"id": sid, "name": sid, "dir": str(f.parent), "error": str(e)})
            continue
        trials = r.pop("trials")
        out.append({**r, "trials": len(trials)})
    return out


def sweep_points(roots: list[Path], sweep_id) -> dict:
    """One sweep's trials as chart points, each marked on the Pareto fronts of accuracy against
    LUT4 and against weight memory bits among the finished trials that have that cost."""
    r = _read(sweep_id, _results_file(roots, sweep_id))
    ok = [t for t in r["trials"] if t["status"] == "ok"]
    for cost in COSTS:
        front = {id(t) for t in pareto_front(ok, cost)}
        for t in r["trials"]:
            t[f"pareto_{cost}"] = id(t) in front
    return r
