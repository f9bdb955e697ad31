"""Training speed against snnTorch (section ``train_vs_snntorch`` of scripts/bench.py).

icespike's trainer (float and ternary QAT) and snnTorch train the same 784-256-128-10 network
with the same T, batch size and images, epoch after epoch in turn (icespike float, icespike
ternary, snnTorch with its tutorials' time loop, snnTorch with icespike's shortcuts, then
again), so that all see the same machine load; each figure is the median of ``--repeats`` timed
epochs after one untimed warm-up epoch each. A speed-up is an snnTorch loop's seconds per epoch
over the row's. Each epoch is ``SUBSET`` training images (the first of MNIST's 60,000); the
``s_per_60k`` column scales the median to a full epoch (60,000 images, linear in the number of
batches: the per-batch work does not change within an epoch). Both sides run one thread
(icespike's BLAS, ``torch.set_num_threads(1)``). Besides the wall-clock time the section
records each epoch's process CPU time, which on a shared machine depends less on what else
runs; the ``cpu_speedup_vs_hoisted`` column is the ratio of those. The target of the project
is ``speedup_vs_hoisted >= 1.5`` (the fair comparison: snnTorch given the same shortcuts).

snnTorch runs in its own interpreter (``scripts/snntorch_epoch.py``), named by the environment
variable ``ICESPIKE_SNNTORCH_PYTHON`` (a Python with torch and snntorch); without it, or if
that interpreter cannot import them, the section says so (and how to provide one) and measures
icespike alone. To provide one (torch's PyPI wheel; about 5 GB with its CUDA libraries):

    python3 -m venv /tmp/snnt && /tmp/snnt/bin/pip install torch==2.14.1 snntorch==1.0.0
    ICESPIKE_SNNTORCH_PYTHON=/tmp/snnt/bin/python make bench
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "model"))

from icespike.data import load_mnist  # noqa: E402
from icespike.quant import bits_name  # noqa: E402
from icespike.train import SNNModel, TrainConfig, Trainer  # noqa: E402

ENV = "ICESPIKE_SNNTORCH_PYTHON"
HIDDEN = (256, 128)
SUBSET = 10000  # training images per timed epoch
BATCH = 128
WORKER = REPO / "scripts" / "snntorch_epoch.py"
LOOPS = ("tutorial", "hoisted")  # the two ways of writing the snnTorch time loop (snntorch_epoch.py)
FULL_EPOCH = 60000
TARGET = 1.5  # icespike's seconds per epoch at least this much below the hoisted snnTorch loop's
HOWTO = (
    f"set {ENV} to a Python with torch and snntorch, e.g. `python3 -m venv /tmp/snnt && "
    "/tmp/snnt/bin/pip install torch==2.14.1 snntorch==1.0.0`, then "
    f"`{ENV}=/tmp/snnt/bin/python make bench`"
)


class SnnTorch:
    """The snnTorch worker process: ``epoch()`` trains one epoch there and returns its record."""

    def __init__(self, python: str, data: Path, timesteps: int, loop: str):
        cmd = [python, str(WORKER), "--data", str(data), "--timesteps", str(timesteps), "--loop", loop]
        cmd += ["--hidden", ",".join(map(str, HIDDEN)), "--batch-size", str(BATCH), "--threads", "1"]
        self.proc = subprocess.Popen(
            cmd, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
        )
        self.info = self._read()

    def _read(self) -> dict:
        line = self.proc.stdout.readline()
        if not line:
            err = self.proc.stderr.read().strip().splitlines()
            raise RuntimeError(err[-1] if err else f"exited with {self.proc.wait()}")
        return json.loads(line)

    def epoch(self) -> dict:
        self.proc.stdin.write("epoch\n")
        self.proc.stdin.flush()
        return self._read()

    def close(self) -> None:
        if self.proc.poll() is None:
            self.proc.stdin.write("quit\n")
            self.proc.stdin.close()
            self.proc.wait(timeout=60)


def _icespike(bits, timesteps: int, repeats: int):
    cfg = TrainConfig(bits=bits, epochs=repeats + 1, timesteps=timesteps, hidden=HIDDEN, batch_size=BATCH)
    model = SNNModel([784, *HIDDEN, 10], cfg.bits, timesteps=timesteps, rng=np.random.default_rng(0))
    return Trainer(model, cfg)


def bench_train_vs_snntorch(ctx) -> dict:
    """Seconds per training epoch, icespike vs snnTorch, 784-256-128-10, same T and batch, in turn."""
    mnist = load_mnist()
    x = mnist.train_images[:SUBSET].reshape(SUBSET, -1)
    y = mnist.train_labels[:SUBSET]
    T = int(getattr(ctx, "timesteps", 16))
    repeats = max(1, int(getattr(ctx, "repeats", 5)))
    runs = {"float": _icespike("float", T, repeats), "ternary": _icespike(2, T, repeats)}
    torch_runs, note = {}, None
    python = os.environ.get(ENV)
    with tempfile.TemporaryDirectory() as tmp:
        if not python:
            note = f"snnTorch skipped: {HOWTO}"
        else:
            data = Path(tmp) / "subset.npz"
            np.savez(data, x=x, y=y)
            try:
                for loop in LOOPS:
                    torch_runs[loop] = SnnTorch(python, data, T, loop)
            except (OSError, RuntimeError) as e:
                note = f"snnTorch skipped: {python} failed ({e}); {HOWTO}"
                for w in torch_runs.values():
                    w.close()
                torch_runs = {}
        if note:
            print(f"  {note}", file=sys.stderr)
        times = {k: [] for k in (*runs, *LOOPS)}
        cpu = {k: [] for k in times}
        load = []
        try:
            for r in range(repeats + 1):  # round 0 is the warm-up
                for name, tr in runs.items():
                    t0, c0 = time.perf_counter(), time.process_time()
                    tr.train_epoch(x, y)
                    if r:
                        times[name].append(time.perf_counter() - t0)
                        cpu[name].append(time.process_time() - c0)
                for loop, w in torch_runs.items():
                    rec = w.epoch()
                    if r:
                        times[loop].append(rec["seconds"])
                        cpu[loop].append(rec["cpu_seconds"])
                load.append(os.getloadavg()[0])
                if r:
                    print(
                        "  " + ", ".join(f"{k} {v[-1]:.2f} s" for k, v in times.items() if v) + " per epoch",
                        file=sys.stderr,
                    )
        finally:
            for w in torch_runs.values():
                w.close()
    rows = []
    ref = {k: statistics.median(times[k]) for k in LOOPS if times[k]}
    ref_cpu = statistics.median(cpu["hoisted"]) if cpu["hoisted"] else None
    met = {}
    for name, ts in times.items():
        if not ts:
            continue
        med = statistics.median(ts)
        row = {
            "trainer": f"snnTorch {name} loop (float32)" if name in LOOPS else f"icespike {bits_name(name)}",
            "median_s_per_epoch": round(med, 3),
            "min_s": round(min(ts), 3),
            "max_s": round(max(ts), 3),
            "cpu_s_per_epoch": round(statistics.median(cpu[name]), 3),
            "s_per_60k": round(med * FULL_EPOCH / len(x), 2),
            "images_per_s": round(len(x) / med, 1),
            "runs_s": [round(t, 3) for t in ts],
        }
        for loop, t in ref.items():
            row[f"speedup_vs_{loop}"] = round(t / med, 2)
        if ref_cpu is not None:
            row["cpu_speedup_vs_hoisted"] = round(ref_cpu / statistics.median(cpu[name]), 2)
        if name not in LOOPS and "hoisted" in ref:
            met[bits_name(name)] = ref["hoisted"] / med >= TARGET
        rows.append(row)
    speedups = [f"speedup_vs_{loop}" for loop in ref] + (["cpu_speedup_vs_hoisted"] if ref_cpu else [])
    out = {
        "title": f"Training speed vs snnTorch: 784-{'-'.join(map(str, HIDDEN))}-10, {len(x)} images/epoch "
        f"(s_per_60k: scaled to 60,000), batch {BATCH}, T={T}, one thread each, median of {repeats} epochs, "
        "in turn",
        "columns": [
            "trainer",
            "median_s_per_epoch",
            "min_s",
            "max_s",
            "cpu_s_per_epoch",
            "s_per_60k",
            "images_per_s",
        ]
        + speedups,
        "note": note
        or "speedup_vs_<loop> = that snnTorch loop's median seconds per epoch / this row's (wall clock); "
        "cpu_speedup_vs_hoisted the same for process CPU time; the tutorial loop runs every layer at every "
        "step as snnTorch's tutorials do, the hoisted loop uses icespike's shortcuts (input current once per "
        "image, output layer once on the spike counts); one thread each (icespike's BLAS, "
        f"torch.set_num_threads(1)); target: speedup_vs_hoisted >= {TARGET}",
        "target_speedup_vs_hoisted": TARGET,
        "target_met": met,
        "images_per_epoch": len(x),
        "load_avg_1min": round(statistics.median(load), 2),
        "rows": rows,
    }
    for name, ok in met.items():
        print(
            f"  icespike {name}: {'meets' if ok else 'MISSES'} the {TARGET}x target vs snnTorch hoisted",
            file=sys.stderr,
        )
    if torch_runs:
        out["snntorch"] = next(iter(torch_runs.values())).info
    return out


BENCHES = {"train_vs_snntorch": bench_train_vs_snntorch}
