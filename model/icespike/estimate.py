"""Analytic resource estimate of the network engine on an iCE40, before any Yosys run.

From the numbers alone (layer sizes of 1 to 4 hidden layers, weight precision, time steps,
device, the engine's ``LANES`` and ``P_LIF``) this gives what ``icespike synth`` would
measure: SB_LUT4, EBR, SPRAM, SB_MAC16, whether it fits, the cycles per inference of the
engine's cycle model and inferences per second.

* **Memory** (EBR, SPRAM): every memory of the RTL (:func:`icespike.synth.engine_memories`:
  event FIFO, hidden-layer weights, output weights per LIF lane, membrane banks per layer and
  LIF lane, hidden biases, spike raster) with the rule by which ``synth_ice40`` puts a memory in
  EBR or in flip-flops. Whether the weights fit at all: :func:`icespike.synth.memory_fit`.
* **DSP**: one SB_MAC16 per accumulation lane when the codes are multi-bit, and one per weight
  address multiplier (:func:`address_multipliers`), when the device has DSPs and they fit;
  otherwise none, and the lane multipliers are LUT4 logic (the flow's DSP fallback) at the
  LUT4 of one ``mul_s`` in logic (the committed cores table of docs/synthesis.md, HX8K row).
* **LUT4**: five coefficients, the structure taken from the RTL:
  ``a + b * (LANES * ACC_W + P_LIF * N_OUT * SCORE_W) + c * (hidden layers - 1) + d * M + e * A``
  (+ the multipliers in logic). ``a`` is the fixed logic (FIFO counters, control, argmax, the
  registered wrapper); ``b`` is per datapath bit: the ``LANES`` accumulators with their
  adders, hold registers and chunk select are ``ACC_W`` bits each, and every LIF lane's spike
  adds an output-weight column into the ``N_OUT`` scores of ``SCORE_W`` bits; ``c`` is a later
  hidden layer (its LIF stage, the spike raster, the layer sequencer); ``M = width * (blocks
  deep - 1)`` is the read multiplexer of hidden-layer weights in EBR (no SPRAM: HX8K), 0 in
  SPRAM; ``A`` counts the weight-address multipliers (:func:`address_multipliers`: a layer
  whose words per row is not a power of 2 has a multiply and an add on its address path
  instead of a concatenation). Fitted by least squares to the committed synthesis table (README ``synth-table``,
  written by ``make synth``), so the coefficients move when the RTL and the table do. Few
  rows: few coefficients; a term no row exercises is fitted to 0 (``fit`` says which).
* **Cycles**: the engine's exact cycle model (:func:`icespike.rtlsim.cycle_model`), mean over
  the MNIST test images. With more than one hidden layer the cycles depend on the spikes, so
  they need the network (:func:`estimate_network`; a bare shape has none).
  Inferences/s at the mean Fmax the table measured for the same kind of lane (adders for
  binary/ternary, multipliers for 4/8/16 bits).

:func:`estimate_error` compares the estimate with every measured row of the table, in-sample
and leave-one-out (the fit without that row), so the model's error is a number, not a claim.
"""

from __future__ import annotations

import functools
import math
import re
from pathlib import Path

import numpy as np

from . import rtlsim, synth
from .export import EngineParams, engine_params
from .formats import weight_format
from .network import IntLayer, IntNetwork
from .quant import bits_name, parse_bits

__all__ = [
    "LUT_TERMS",
    "SynthRow",
    "committed_rows",
    "shape_params",
    "engine_features",
    "logic_multiplier_lut4",
    "address_multipliers",
    "fit",
    "estimate",
    "estimate_network",
    "estimate_error",
    "error_summary",
]

LUT_TERMS = ("fixed", "datapath bits", "later hidden layers", "EBR weight multiplexer", "address multipliers")
_NAME_BITS = {"q16": 16, "q8": 8, "q4": 4, "ternary": 2, "binary": 1}
CORES_DOC = synth.ROOT / "docs" / "synthesis.md"
CORES_BEGIN, CORES_END = "<!-- cores-table -->", "<!-- /cores-table -->"


class SynthRow(dict):
    """One row of the committed synthesis table (config, device, sizes, bits, lanes, p_lif,
    counts, Fmax)."""


def _num(cell: str) -> float | None:
    cell = cell.strip().split(" ")[0].replace(",", "")
    try:
        return float(cell)
    except ValueError:
        return None


def _table(path: Path, begin: str, end: str) -> list[dict]:
    """The rows (header -> cell) of the markdown tables between ``begin`` and ``end`` in ``path``."""
    text = path.read_text()
    try:
        block = text.split(begin, 1)[1].split(end, 1)[0]
    except IndexError:
        raise ValueError(f"{path}: no table between {begin} markers") from None
    rows: list[dict] = []
    header: list[str] | None = None
    for ln in block.splitlines():
        if not ln.startswith("|"):
            header = None if not ln.strip() else header
            continue
        cells = [c.strip() for c in ln.strip().strip("|").split("|")]
        if cells[0] == "configuration":
            header = cells
        elif header is not None and not set(cells[0]) <= set("-:"):
            rows.append(dict(zip(header, cells)))
    return rows


def committed_rows(readme: str | Path | None = None) -> list[SynthRow]:
    """Rows of the README's generated synthesis table that Yosys measured (LUT4 count present).

    Each row: config, device, sizes [n_in, n_hid..., n_out] (1 to 4 hidden layers), bits (int),
    lanes and p_lif (from ``LANES``/``P_LIF`` columns when the table has them, else the
    engine's defaults: lanes None, p_lif 1), lut4, ebr, spram, dsp, fmax_mhz (None when not
    placed), placed. ``readme``: another file with the same markers (default README.md).
    """
    path = Path(readme) if readme is not None else synth.ROOT / "README.md"
    rows: list[SynthRow] = []
    for d in _table(path, synth.README_BEGIN, synth.README_END):
        m = re.fullmatch(r"(\d+(?:-\d+){2,5})-(\w+)", d.get("configuration", ""))
        lut = _num(d.get("SB_LUT4", "–"))
        if not m or lut is None or m.group(2) not in _NAME_BITS:
            continue
        fmax = _num(d.get("Fmax MHz", "–"))
        lanes = _num(d.get("LANES", "–"))
        p_lif = _num(d.get("P_LIF", "–"))
        rows.append(
            SynthRow(
                config=d["configuration"],
                device=d["device"].split()[0],
                sizes=[int(v) for v in m.group(1).split("-")],
                bits=_NAME_BITS[m.group(2)],
                lanes=None if lanes is None else int(lanes),
                p_lif=1 if p_lif is None else int(p_lif),
                lut4=int(lut),
                ebr=int(_num(d["EBR"])),
                spram=int(_num(d["SPRAM"])),
                dsp=int(_num(d["DSP"])),
                fmax_mhz=fmax,
                placed=fmax is not None,
            )
        )
    if not rows:
        raise ValueError(f"{path}: the synthesis table has no measured rows")
    return rows


@functools.lru_cache(maxsize=8)
def logic_multiplier_lut4(code_w: int, doc: str | Path = CORES_DOC) -> int:
    """SB_LUT4 of one ``mul_s`` (8-bit pixel x ``code_w``-bit code) in logic, from the committed
    cores table (docs/synthesis.md, ``make synth-cores``; the HX8K row: no DSP)."""
    for d in _table(Path(doc), CORES_BEGIN, CORES_END):
        if d["configuration"] == f"mul_s 8x{code_w}" and d["device"].startswith("hx8k"):
            return int(_num(d["SB_LUT4"]))
    raise ValueError(f"{doc}: the cores table has no HX8K row 'mul_s 8x{code_w}'")


def shape_params(sizes, bits, timesteps: int = 16, leak_shift: int = 4) -> EngineParams:
    """Engine parameters of a ``[n_in, n_hid..., n_out]`` network (1 to 4 hidden layers) at
    ``bits`` (widths from the contract).

    The widths depend only on the sizes, the format and T, so placeholder codes stand in for
    trained weights. ValueError for a shape the engine cannot run.
    """
    sizes = [int(s) for s in sizes]
    if not 3 <= len(sizes) <= 2 + rtlsim.RTL_HIDDEN_LAYERS or min(sizes) < 1:
        raise ValueError(
            f"the engine runs 1 to {rtlsim.RTL_HIDDEN_LAYERS} hidden layers: sizes must be "
            f"[N_IN, N_HID..., N_OUT] of positive integers, got {sizes}"
        )
    b = parse_bits(bits)
    if b == "float":
        b = 16
    hidden = [
        IntLayer(np.ones((n, m), np.int64), bits=b, threshold=1, leak_shift=leak_shift)
        for m, n in zip(sizes[:-2], sizes[1:-1])
    ]
    out = IntLayer(np.ones((sizes[-1], sizes[-2]), np.int64), bits=b, threshold=None)
    return engine_params(IntNetwork([*hidden, out], int(timesteps)))


def address_multipliers(p: EngineParams) -> int:
    """Weight-address multipliers of ``rtl/snn_accum.v``: one per hidden layer whose words per
    row (``WPR_l = ceil(N_l / (64 / CODE_W0))``) is neither 1 nor a power of 2 (else the address
    is a concatenation or a shift); with ``-dsp`` Yosys puts each in an SB_MAC16."""
    wpr = [-(-n // p.LANES) for n in p.hidden_sizes]
    return sum(1 for w in wpr if w > 1 and w & (w - 1))


def _dsp(p: EngineParams, dev: synth.Device, lanes: int) -> int:
    """SB_MAC16s on ``dev``: one per multiplier lane (4/8/16-bit codes) and per address
    multiplier, or none when they exceed the device's (the flow then synthesises again without
    ``-dsp``: every multiplier in logic) or the device has none."""
    n = (lanes if p.CODE_W0 > 2 else 0) + address_multipliers(p)
    return n if dev.dsp and n <= dev.dsp else 0


def _logic_mul_lut4(p: EngineParams, dev: synth.Device, lanes: int) -> int:
    """LUT4 of the lane multipliers that are logic on ``dev`` (0 for binary/ternary or with DSPs)."""
    if p.CODE_W0 <= 2 or _dsp(p, dev, lanes):
        return 0
    return lanes * logic_multiplier_lut4(p.CODE_W0)


def engine_features(p: EngineParams, dev: synth.Device, lanes: int, p_lif: int = 1) -> np.ndarray:
    """The LUT4 model's features: [1, LANES * ACC_W + P_LIF * N_OUT * SCORE_W, hidden layers - 1,
    width * (blocks deep - 1) of the hidden-layer weights in EBR (their read multiplexer; 0 in
    SPRAM)]."""
    w0 = next(
        m
        for m in synth.engine_memories(p, dev, lanes=lanes, p_lif=p_lif)["memories"]
        if m["name"] == "hidden-layer weights"
    )
    mux = w0["width"] * (w0["blocks_deep"] - 1) if w0["where"] == "ebr" else 0
    return np.array(
        [
            1.0,
            lanes * p.ACC_W + p_lif * p.N_OUT * p.SCORE_W,
            p.N_LAYERS - 1.0,
            float(mux),
            float(address_multipliers(p)),
        ]
    )


def _row_params(r: SynthRow) -> tuple[EngineParams, int, int]:
    p = shape_params(r["sizes"], r["bits"])
    return p, rtlsim.check_lanes(p, r["lanes"], r["p_lif"]), r["p_lif"]


def fit(rows: list[SynthRow] | None = None) -> dict:
    """Calibrate the model on synthesis rows (default: the committed table).

    Returns ``lut_coef`` (a, b, c, d, e), ``unfitted`` (the terms no row exercises: their
    coefficient is 0), ``fmax_mhz`` {"addsub": ..., "mul": ...} (mean placed Fmax by lane kind)
    and ``rows`` (the calibration configurations).
    """
    rows = committed_rows() if rows is None else rows
    X, y = [], []
    for r in rows:
        p, lanes, p_lif = _row_params(r)
        X.append(engine_features(p, synth.device(r["device"]), lanes, p_lif))
        y.append(r["lut4"] - _logic_mul_lut4(p, synth.device(r["device"]), lanes))
    X = np.array(X)
    coef, *_ = np.linalg.lstsq(X, np.array(y, dtype=np.float64), rcond=None)
    unfitted = [name for name, col in zip(LUT_TERMS, X.T) if not np.any(col)]
    fmax: dict[str, list[float]] = {"addsub": [], "mul": []}
    for r in rows:
        if r["fmax_mhz"]:
            fmax["mul" if r["bits"] > 2 else "addsub"].append(r["fmax_mhz"])
    return {
        "lut_coef": [float(c) for c in coef],
        "unfitted": unfitted,
        "fmax_mhz": {k: (float(np.mean(v)) if v else None) for k, v in fmax.items()},
        "rows": [f"{r['config']} {r['device']}" for r in rows],
    }


@functools.lru_cache(maxsize=1)
def _default_fit() -> dict:
    return fit()


@functools.lru_cache(maxsize=1)
def _test_images() -> np.ndarray:
    from .data import load_mnist

    m = load_mnist()
    return m.test_images.reshape(len(m.test_images), -1)


def _lut4(p: EngineParams, dev: synth.Device, lanes: int, p_lif: int, coef) -> float:
    return float(np.dot(coef, engine_features(p, dev, lanes, p_lif))) + _logic_mul_lut4(p, dev, lanes)


def estimate(
    p: EngineParams,
    device_name: str,
    *,
    lanes: int | None = None,
    p_lif: int = 1,
    calib: dict | None = None,
    images=None,
    net: IntNetwork | None = None,
) -> dict:
    """The resource estimate of the engine with parameters ``p`` on ``device_name``.

    ``lanes``/``p_lif``: the engine's LANES (None: its default) and P_LIF; ValueError when
    illegal (:func:`icespike.rtlsim.check_lanes`). Returns lut4, ebr, spram, dsp,
    logic_cells_available, fits (and fit_problems), the memory check of
    :func:`icespike.synth.memory_fit` with the engine's memories, cycles_per_inference (+ min/max)
    and inferences_per_s at ``fmax_mhz`` (the calibrated Fmax of this lane kind). ``images``
    ((N, N_IN) pixels) for the cycle model default to the 10,000 MNIST test images; with more
    than one hidden layer the cycles need ``net`` (its spikes), else they are None.
    """
    rtlsim.check_rtl_depth(p)
    dev = synth.device(device_name)
    lanes = rtlsim.check_lanes(p, lanes, p_lif)
    c = calib if calib is not None else _default_fit()
    sizes = [p.N_IN, *p.hidden_sizes, p.N_OUT]
    bits = [_code_bits(p.CODE_W0), _code_bits(p.CODE_W1)]
    label = bits[0] if bits[0] == bits[1] else [bits[0]] * p.N_LAYERS + [bits[1]]
    fifo = 1 << max(1, (p.N_IN - 1).bit_length())
    mem = synth.memory_fit(sizes, label, dev.name, fifo_depth=fifo)
    mem["engine_memories"] = synth.engine_memories(p, dev, lanes=lanes, p_lif=p_lif, fifo_depth=fifo)
    counts = {
        "lut4": max(0, int(math.ceil(_lut4(p, dev, lanes, p_lif, c["lut_coef"])))),
        "ebr": mem["engine_memories"]["ebr"],
        "spram": mem["engine_memories"]["spram"],
        "dsp": _dsp(p, dev, lanes),
    }
    if mem["fits"]:
        problems = synth.cells_fit({**counts, "ff": 0, "carry": 0}, dev)
    else:
        problems = [mem["message"]]
    fmax = c["fmax_mhz"]["mul" if p.CODE_W0 > 2 else "addsub"]
    x = _test_images() if images is None else images
    if p.N_LAYERS == 1:
        cyc = np.asarray(rtlsim.cycle_model(p, x, p_lif, lanes), dtype=np.int64)
    elif net is not None:
        cyc = rtlsim.network_cycle_model(net, x, p_lif, lanes)
    else:
        cyc = None
    if cyc is None or not len(cyc):
        cycles = {
            "cycles_per_inference": None,
            "cycle_model": "a network of more than one hidden layer: its cycles depend on its spikes "
            "(estimate the network, not its shape)",
        }
    else:
        cycles = synth.cycle_summary(cyc, f"{len(cyc):,} images")
    cpi = cycles["cycles_per_inference"]
    ips = fmax * 1e6 / cpi if fmax and cpi else None
    return {
        "device": dev.name,
        "part": dev.part,
        "network": "-".join(map(str, sizes)),
        "hidden_layers": p.N_LAYERS,
        "bits": bits_name(bits[0]),
        "lanes": lanes,
        "p_lif": int(p_lif),
        **counts,
        "logic_cells_available": dev.logic_cells,
        "ebr_available": dev.ebr,
        "spram_available": dev.spram,
        "dsp_available": dev.dsp,
        "fits": not problems,
        "fit_problems": problems,
        "memory": mem,
        "fmax_mhz": fmax,
        **cycles,
        "inferences_per_s": None if ips is None else round(ips, 1),
        "model": "icespike.estimate: the engine's memories + LUT4 a + b * (LANES * ACC_W + P_LIF * "
        "N_OUT * SCORE_W) + c * (hidden layers - 1) + d * (EBR weight multiplexer) + e * (address "
        "multipliers), fitted to the committed synthesis table",
        "lut_coef": c["lut_coef"],
        "lut_terms_unfitted": c.get("unfitted", []),
        "calibration_rows": len(c["rows"]),
    }


def _code_bits(code_w: int) -> int:
    for b in (16, 8, 4, 2, 1):
        if weight_format(b).code_width == code_w:
            return b
    raise ValueError(f"no weight format has code width {code_w}")


def estimate_network(net: IntNetwork, device_name: str, **kw) -> dict:
    """:func:`estimate` for an integer network (e.g. ``Checkpoint.to_int_network()``): any depth
    the engine runs, with the exact cycles of its spikes."""
    return estimate(engine_params(net), device_name, net=net, **kw)


def estimate_error(rows: list[SynthRow] | None = None, *, images=None) -> list[dict]:
    """Estimate against every measured synthesis row (default: the committed table): LUT4
    in-sample and leave-one-out (fit without the row), EBR, SPRAM, DSP and Fmax."""
    rows = committed_rows() if rows is None else rows
    calib = fit(rows)
    out = []
    for i, r in enumerate(rows):
        p, lanes, p_lif = _row_params(r)
        dev = synth.device(r["device"])
        e = estimate(p, dev.name, lanes=lanes, p_lif=p_lif, calib=calib, images=images)
        rest = rows[:i] + rows[i + 1 :]
        lut_loo = math.ceil(_lut4(p, dev, lanes, p_lif, fit(rest)["lut_coef"])) if rest else None
        out.append(
            {
                "config": r["config"],
                "device": r["device"],
                "lanes": lanes,
                "p_lif": p_lif,
                "lut4": r["lut4"],
                "lut4_est": e["lut4"],
                "lut4_err_pct": 100.0 * (e["lut4"] - r["lut4"]) / r["lut4"],
                "lut4_est_loo": lut_loo,
                "lut4_err_loo_pct": None if lut_loo is None else 100.0 * (lut_loo - r["lut4"]) / r["lut4"],
                "ebr": r["ebr"],
                "ebr_est": e["ebr"],
                "spram": r["spram"],
                "spram_est": e["spram"],
                "dsp": r["dsp"],
                "dsp_est": e["dsp"],
                "fmax_mhz": r["fmax_mhz"],
                "fmax_est_mhz": e["fmax_mhz"],
            }
        )
    return out


def error_summary(errors: list[dict]) -> dict:
    """Mean and largest |LUT4 error| in-sample and leave-one-out (percent), the rows counted,
    and how many rows' EBR, SPRAM and DSP the estimate got exactly."""
    ins = [abs(e["lut4_err_pct"]) for e in errors]
    loo = [abs(e["lut4_err_loo_pct"]) for e in errors if e["lut4_err_loo_pct"] is not None]
    return {
        "rows": len(errors),
        "lut4_mean_abs_err_pct": float(np.mean(ins)) if ins else None,
        "lut4_max_abs_err_pct": max(ins) if ins else None,
        "lut4_loo_mean_abs_err_pct": float(np.mean(loo)) if loo else None,
        "lut4_loo_max_abs_err_pct": max(loo) if loo else None,
        **{f"{k}_exact": sum(e[f"{k}_est"] == e[k] for e in errors) for k in ("ebr", "spram", "dsp")},
    }
