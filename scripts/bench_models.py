"""`make models` two ways (section ``models`` of scripts/bench.py): serial against the Ray Tune sweep.

The serial path is ``scripts/models.py`` (six trainings one after another); the sweep path is
``icespike sweep sweeps/models.toml`` (the float model, then the five QAT runs as Tune trials on
a local Ray instance with every core). Both write into ``build/bench/models/`` (never into
``models/``), start from nothing, and the section checks that both produced the same weights
(the SHA-256 over each checkpoint's arrays). This is the full ``make models`` workload: about
35 minutes serial on two free cores. Run alone with ``python scripts/bench.py --only models``.
"""

from __future__ import annotations

import json
import math
import os
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "model"))

from icespike.checkpoint import load_checkpoint  # noqa: E402


def _timed(argv: list[str]) -> float:
    print("  " + " ".join(argv), file=sys.stderr)
    t0 = time.perf_counter()
    subprocess.run(argv, cwd=REPO, check=True)
    return time.perf_counter() - t0


def compare(
    root: Path,
    serial_args: list[str] = (),
    sweep_args: list[str] = (),
    spec: Path = REPO / "sweeps/models.toml",
) -> dict:
    """Run both paths from scratch under ``root``; extra arguments go to each (a reduced run)."""
    if root.exists():
        shutil.rmtree(root)
    serial, sweep = root / "serial", root / "sweep"
    icespike = str(Path(sys.executable).with_name("icespike"))
    load0 = os.getloadavg()[0]
    t_serial = _timed(
        [sys.executable, "scripts/models.py", "--out", str(serial), "--work", str(root / "serial-work")]
        + list(serial_args)
    )
    t_sweep = _timed(
        [icespike, "sweep", str(spec), "--out", str(root / "sweep-run"), "--publish", str(sweep)]
        + list(sweep_args)
    )
    widths = json.loads((serial / "models.json").read_text())["models"]
    rows = []
    for name, entry in widths.items():
        a = load_checkpoint(
            entry["checkpoint"] if Path(entry["checkpoint"]).is_absolute() else REPO / entry["checkpoint"]
        ).manifest
        b = load_checkpoint(sweep / Path(entry["checkpoint"]).name).manifest
        rows.append(
            {
                "model": name,
                "epochs": len(a["history"]),
                "serial_train_s": round(sum(h["seconds"] for h in a["history"]), 1),
                "sweep_train_s": round(sum(h["seconds"] for h in b["history"]), 1),
                "same_weights": a["arrays_sha256"] == b["arrays_sha256"],
            }
        )
    rows.append(
        {
            "model": "all (wall)",
            "serial_train_s": round(t_serial, 1),
            "sweep_train_s": round(t_sweep, 1),
            "same_weights": all(r["same_weights"] for r in rows),
        }
    )
    return {
        "title": f"make models: serial {t_serial:.0f} s, Ray Tune sweep {t_sweep:.0f} s "
        f"(speed-up {t_serial / t_sweep:.2f}x on {os.cpu_count()} CPUs)",
        "columns": ["model", "epochs", "serial_train_s", "sweep_train_s", "same_weights"],
        "rows": rows,
        "serial_wall_s": t_serial,
        "sweep_wall_s": t_sweep,
        "speedup": t_serial / t_sweep,
        "load_avg_1min_start": load0,
        "load_avg_1min_end": os.getloadavg()[0],
    }


def bench_models(ctx) -> dict:
    """Wall time of `make models`: serial (scripts/models.py) and as a Ray Tune sweep."""
    return compare(Path(getattr(ctx, "out", REPO / "build" / "bench")) / "models")


bench_models.long = True  # about an hour of two cores: `make bench` skips it unless named

SCALE = 10  # epoch divisor of the scaled section


def scaled_spec(src: Path, dst: Path, divisor: int) -> dict[str, int]:
    """Copy the sweep spec ``src`` to ``dst`` with every ``epochs = N`` divided by ``divisor``.

    Returns the serial script's epoch options that match (float, QAT 16/8/4, ternary/binary),
    so that both paths train the same reduced recipe: the same stages, the same order, the
    same proportions between the runs (which is what decides how well the sweep fills the cores).
    """
    text = src.read_text()

    def div(m: re.Match) -> str:
        return f"{m.group(1)}{max(1, math.ceil(int(m.group(2)) / divisor))}"

    dst.write_text(re.sub(r"^(\s*epochs\s*=\s*)(\d+)", div, text, flags=re.M))
    return {
        "float": max(1, math.ceil(40 / divisor)),
        "qat": max(1, math.ceil(20 / divisor)),
        "lowbit": max(1, math.ceil(40 / divisor)),
    }


def bench_models_scaled(ctx) -> dict:
    """`make models` with every epoch count divided by 10, serial against the Ray Tune sweep."""
    root = Path(getattr(ctx, "out", REPO / "build" / "bench")) / "models-scaled"
    root.mkdir(parents=True, exist_ok=True)
    spec = root.parent / "models-scaled.toml"
    e = scaled_spec(REPO / "sweeps/models.toml", spec, SCALE)
    serial = [
        "--float-epochs",
        str(e["float"]),
        "--qat-epochs",
        str(e["qat"]),
        "--lowbit-epochs",
        str(e["lowbit"]),
    ]
    out = compare(root, serial_args=serial, spec=spec)
    out["title"] = f"make models / {SCALE} epochs: " + out["title"].split(": ", 1)[1]
    out["epoch_divisor"] = SCALE
    return out


bench_models_scaled.long = True  # about 6-10 minutes of two cores
BENCHES = {"models": bench_models, "models-scaled": bench_models_scaled}
