"""A small sweep results directory written by icespike.sweep.write_results from a hand-built
document (no Ray run): two synthesised trials, two without synthesis, one failed, one unfinished.

Fronts, by hand: accuracy vs LUT4 among t1, t2 (the synthesised): both (t2 more accurate, more
LUT4). Accuracy vs memory bits among t1..t4: t3 (fewest bits), t1, t2; t4 is beaten by t2
(less accurate at more bits). t4 does not fit its device (weight-memory rule).
"""

from __future__ import annotations

from pathlib import Path

SWEEP = "widths"
OK_TRIALS = 4
LUT4_TRIALS = 2
FRONT_LUT4 = {"t1", "t2"}
FRONT_MEMORY = {"t1", "t2", "t3"}
FAILED = "t5"
NOT_FITTING = {"t4"}


def _trial(name, bits, hidden, status="ok", **m) -> dict:
    row = {"trial": name, "stage": "main", "status": status, "bits": bits, "hidden": hidden}
    row.update({"timesteps": 4, "epochs": 1, "device": "up5k", "synth": None, "accuracy": None})
    row.update(m)
    return row


def document(out: Path) -> dict:
    trials = [
        _trial(
            "t1",
            "binary",
            [32],
            accuracy=0.80,
            memory_bits=25_408,
            lut4=3_400,
            fmax_mhz=49.0,
            synth="up5k",
            fits=True,
        ),
        _trial(
            "t2",
            "ternary",
            [32],
            accuracy=0.85,
            memory_bits=50_816,
            lut4=3_900,
            fmax_mhz=48.1,
            synth="up5k",
            fits=True,
        ),
        _trial("t3", "binary", [16], accuracy=0.70, memory_bits=12_704, memory_fits=True),
        _trial("t4", "q4", [32], accuracy=0.84, memory_bits=101_632, memory_fits=False),
        _trial(
            FAILED,
            "ternary",
            [64],
            "error",
            error="ValueError: leak_shift must be an integer in 0..16, got 17",
        ),
        _trial("t6", "q8", [32], "unfinished", epochs_done=0),
    ]
    return {
        "sweep": SWEEP,
        "spec_key": "0123456789ab",
        "out": str(out),
        "storage": str(out / "ray"),
        "cluster": "local",
        "trials": trials,
        "counts": {"ok": 4, "error": 1, "unfinished": 1},
        "pareto_cost": "memory_bits",
        "pareto": [{"trial": t} for t in ("t3", "t1", "t2")],
        "written": "2026-12-01T12:00:00Z",
    }


def write_sweep(out: Path) -> Path:
    """Write the sweep into ``out`` (results.json, results.md, pareto.png); returns ``out``."""
    from icespike.sweep import write_results

    write_results(document(out), out)
    return out
