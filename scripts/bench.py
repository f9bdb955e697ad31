#!/usr/bin/env python3
"""Throughput benchmarks of icespike, one section per registered bench function.

    python scripts/bench.py                 # every section
    python scripts/bench.py --only golden   # one section (comma-separated list allowed)
    python scripts/bench.py --list

Each section is a function ``fn(ctx) -> dict`` returning at least ``title``, ``columns``
(list of column keys) and ``rows`` (list of dicts); anything else it returns is kept in the
JSON. The runner prints each section as a markdown table and writes
``build/bench/<name>.json``. Sections defined here are in :data:`BENCHES`; a module
``scripts/bench_<topic>.py`` adds its own by defining a ``BENCHES`` dict of the same shape
(it may ``from bench import median_time, machine_info``).
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import platform
import statistics
import sys
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
SCRIPTS = REPO / "scripts"
sys.path.insert(0, str(REPO / "model"))  # works without `pip install -e .` too

from icespike import __version__, golden  # noqa: E402
from icespike.data import load_mnist  # noqa: E402
from icespike.formats import SUPPORTED_BITS, quant_qmax, weight_format  # noqa: E402
from icespike.network import IntLayer, IntNetwork  # noqa: E402

BenchFn = Callable[[argparse.Namespace], dict]


# ------------------------------------------------------------------------------------ helpers
def median_time(fn: Callable[[], object], repeats: int, warmup: int = 1) -> dict:
    """Run ``fn`` ``warmup`` times untimed, then ``repeats`` times; seconds per run (median, min, max)."""
    for _ in range(warmup):
        fn()
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return {
        "median_s": statistics.median(times),
        "min_s": min(times),
        "max_s": max(times),
        "runs_s": times,
    }


def machine_info() -> dict:
    """Where the numbers were measured."""
    return {
        "python": platform.python_version(),
        "numpy": np.__version__,
        "icespike": __version__,
        "machine": platform.machine(),
        "processor": _cpu_model(),
        "cpus": os.cpu_count(),
        "date": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
    }


def _cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def random_network(bits: int, sizes: list[int], timesteps: int, images: np.ndarray, seed: int) -> IntNetwork:
    """Random codes of ``bits`` precision; each hidden threshold is the 90th percentile of that
    layer's current on ``images``, so that neurons fire at a plausible, sparse rate."""
    rng = np.random.default_rng(seed)
    layers = []
    x = images.reshape(len(images), -1).astype(np.int64)
    for li in range(len(sizes) - 1):
        shape = (sizes[li + 1], sizes[li])
        if bits == 1:
            codes = rng.choice(np.array([-1, 1], dtype=np.int64), size=shape)
        else:  # the symmetric quantiser's range
            codes = rng.integers(-quant_qmax(bits), quant_qmax(bits) + 1, size=shape, dtype=np.int64)
        if li == len(sizes) - 2:
            layers.append(IntLayer(codes=codes, bits=bits))
            break
        cur = x @ codes.T
        threshold = max(1, int(np.percentile(cur, 90)))
        layers.append(IntLayer(codes=codes, bits=bits, threshold=threshold, leak_shift=4, reset="subtract"))
        x = (cur >= threshold).astype(np.int64)
    return IntNetwork(layers=layers, timesteps=timesteps)


# ------------------------------------------------------------------------------------ sections
def bench_golden(ctx: argparse.Namespace) -> dict:
    """Integer golden model on the MNIST test set, 784-128-10 random-code network per bit width."""
    mnist = load_mnist()
    images = mnist.test_images[: ctx.images]
    n = len(images)
    sizes = [784, 128, 10]
    rows = []
    for bits in SUPPORTED_BITS:
        net = random_network(bits, sizes, ctx.timesteps, images[:500], seed=1000 + bits)
        result = {}

        def once(net=net, result=result):
            result["r"] = golden.run(net, images)

        t = median_time(once, ctx.repeats)
        r = result["r"]
        rate = float(r.spike_counts[0].mean()) / ctx.timesteps
        rows.append(
            {
                "bits": bits,
                "format": weight_format(bits).name,
                "median_s": round(t["median_s"], 4),
                "min_s": round(t["min_s"], 4),
                "max_s": round(t["max_s"], 4),
                "images_per_s": round(n / t["median_s"], 1),
                "hidden_spike_rate": round(rate, 4),
                "runs_s": [round(x, 4) for x in t["runs_s"]],
            }
        )
        print(f"  golden {bits:>2}-bit: {n / t['median_s']:,.0f} images/s", file=sys.stderr)
    return {
        "title": f"Golden model throughput: {n} MNIST test images, T={ctx.timesteps}, 784-128-10, "
        f"median of {ctx.repeats} runs",
        "columns": ["bits", "format", "median_s", "min_s", "max_s", "images_per_s", "hidden_spike_rate"],
        "rows": rows,
        "images": n,
        "timesteps": ctx.timesteps,
        "sizes": sizes,
        "repeats": ctx.repeats,
        "network": "random codes per width (seed 1000+bits), threshold = 90th percentile of layer-0 "
        "current on 500 test images, leak_shift 4, reset subtract",
    }


BENCHES: dict[str, BenchFn] = {"golden": bench_golden}


# ------------------------------------------------------------------------------------ runner
def discover(scripts_dir: Path = SCRIPTS) -> dict[str, BenchFn]:
    """This file's BENCHES plus those of every ``scripts/bench_*.py`` (a name defined twice is an error)."""
    found: dict[str, BenchFn] = dict(BENCHES)
    origin = dict.fromkeys(BENCHES, "bench.py")
    if str(scripts_dir) not in sys.path:
        sys.path.insert(0, str(scripts_dir))
    for path in sorted(scripts_dir.glob("bench_*.py")):
        spec = importlib.util.spec_from_file_location(path.stem, path)
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        extra = getattr(module, "BENCHES", None)
        if not isinstance(extra, dict):
            raise SystemExit(f"bench: {path.name} defines no BENCHES dict")
        for name, fn in extra.items():
            if name in found:
                raise SystemExit(f"bench: section {name!r} defined by both {origin[name]} and {path.name}")
            found[name] = fn
            origin[name] = path.name
    return found


def markdown_table(section: dict) -> str:
    cols = section["columns"]
    lines = [f"### {section['title']}", "", "| " + " | ".join(cols) + " |", "|" + "---|" * len(cols)]
    for row in section["rows"]:
        cells = []
        for c in cols:
            v = row.get(c, "")
            cells.append(f"{v:,.1f}" if isinstance(v, float) and abs(v) >= 1000 else str(v))
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument(
        "--only",
        default=None,
        help="comma-separated section names (default: all but the long ones, which run only when named)",
    )
    ap.add_argument("--list", action="store_true", help="list the sections and exit")
    ap.add_argument("--repeats", type=int, default=5, help="timed runs per measurement (median reported)")
    ap.add_argument("--images", type=int, default=10000, help="MNIST test images per run")
    ap.add_argument("--timesteps", type=int, default=16, help="time steps T")
    ap.add_argument("--out", type=Path, default=REPO / "build" / "bench", help="directory for <section>.json")
    ap.add_argument("--json", action="store_true", help="print all results as one JSON document on stdout")
    args = ap.parse_args(argv)
    if args.repeats < 1 or args.images < 1 or args.timesteps < 1:
        ap.error("--repeats, --images and --timesteps must be >= 1")

    benches = discover()
    if args.list:
        for name, fn in benches.items():
            doc = (fn.__doc__ or "").strip().splitlines()
            long = " (long: run only with --only)" if getattr(fn, "long", False) else ""
            print(f"{name:<16} {doc[0] if doc else ''}{long}")
        return 0
    if args.only is None:
        names = [n for n, fn in benches.items() if not getattr(fn, "long", False)]
        for n in sorted(set(benches) - set(names)):
            print(f"bench: {n} skipped (long; run it with --only {n})", file=sys.stderr)
    else:
        names = [s.strip() for s in args.only.split(",") if s.strip()]
    unknown = [n for n in names if n not in benches]
    if unknown:
        ap.error(f"unknown section(s) {', '.join(unknown)}; known: {', '.join(benches)}")

    args.out.mkdir(parents=True, exist_ok=True)
    info = machine_info()
    results = {}
    for name in names:
        print(f"bench: {name} ...", file=sys.stderr)
        section = benches[name](args)
        section = {"section": name, **section, "machine": info}
        (args.out / f"{name}.json").write_text(json.dumps(section, indent=2) + "\n")
        results[name] = section
        if not args.json:
            print(markdown_table(section))
            print(f"\n(written to {args.out / f'{name}.json'})\n")
    if args.json:
        print(json.dumps(results, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
