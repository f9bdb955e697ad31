"""Analytic resource estimate of the network engine on an iCE40, before any Yosys run.

From the numbers alone (layer sizes, weight precision, time steps, device) this gives what
``icespike synth`` would measure: SB_LUT4, EBR, SPRAM, SB_MAC16, whether it fits, the cycles
per inference of the engine's cycle model and inferences per second.

* **Memory** (EBR, SPRAM, fits): ``icespike.synth``'s memory plan and fit rules
  (:func:`icespike.synth.memory_fit`), plus the engine's fixed EBR overhead (membrane bank and
  wider FIFO entries) measured as the mean excess of the committed runs over the plan.
* **DSP**: one SB_MAC16 per multiplier lane when the codes are multi-bit, the device has DSPs
  and the lanes fit them; otherwise the multipliers are LUT4 logic (the flow's DSP fallback).
* **LUT4**: a per-lane model, ``a + b * lanes * ACC_W + c * lanes * 8 * CODE_W0 (multipliers in
  logic only)``: the engine's fixed logic (control, LIF pipe, argmax, wrapper), the lanes'
  add/subtract (or accumulate) bits and the LUT4 multipliers' partial-product bits. (A
  membrane term ``N_HID * MEM_W`` was tried and fitted to ~0: the membranes sit in EBR.) The coefficients
  are fitted (least squares) to the committed synthesis table (README ``synth-table``, written
  by ``make synth``), so they move when the RTL and the table do.
* **Cycles**: :func:`icespike.synth.cycle_model` (``icespike.rtlsim.cycle_model``), mean over
  the MNIST test images; inferences/s at the Fmax measured for the same kind of lane (adders
  for binary/ternary, multipliers for 4/8/16 bits) in the same table.

:func:`estimate_error` compares the estimate with every committed synthesis row, in-sample and
leave-one-out (the fit without that row), so the model's error is a number, not a claim.
"""

from __future__ import annotations

import functools
import math
import re
from pathlib import Path

import numpy as np

from . import synth
from .export import EngineParams, engine_params
from .formats import weight_format
from .network import IntLayer, IntNetwork
from .quant import bits_name, parse_bits

__all__ = [
    "SynthRow",
    "committed_rows",
    "engine_features",
    "fit",
    "estimate",
    "estimate_network",
    "estimate_error",
]

_NAME_BITS = {"q16": 16, "q8": 8, "q4": 4, "ternary": 2, "binary": 1}


class SynthRow(dict):
    """One row of the committed synthesis table (config, device, sizes, bits, counts, Fmax)."""


def _num(cell: str) -> float | None:
    cell = cell.strip().split(" ")[0].replace(",", "")
    try:
        return float(cell)
    except ValueError:
        return None


def committed_rows(readme: str | Path | None = None) -> list[SynthRow]:
    """Rows of the README's generated synthesis table that Yosys measured (LUT4 count present).

    Each row: config, device, sizes [n_in, n_hid, n_out], bits (int), lut4, ebr, spram, dsp,
    fmax_mhz (None when not placed), placed.
    """
    path = Path(readme) if readme is not None else synth.ROOT / "README.md"
    text = path.read_text()
    try:
        block = text.split(synth.README_BEGIN, 1)[1].split(synth.README_END, 1)[0]
    except IndexError:
        raise ValueError(f"{path}: no synthesis table between {synth.README_BEGIN} markers") from None
    rows: list[SynthRow] = []
    header: list[str] | None = None
    for ln in block.splitlines():
        if not ln.startswith("|"):
            header = None if not ln.strip() else header
            continue
        cells = [c.strip() for c in ln.strip().strip("|").split("|")]
        if cells[0] == "configuration":
            header = cells
            continue
        if header is None or set(cells[0]) <= set("-:"):
            continue
        d = dict(zip(header, cells))
        m = re.fullmatch(r"(\d+)-(\d+)-(\d+)-(\w+)", d["configuration"])
        lut = _num(d.get("SB_LUT4", "–"))
        if not m or lut is None or m.group(4) not in _NAME_BITS:
            continue
        fmax = _num(d.get("Fmax MHz", "–"))
        rows.append(
            SynthRow(
                config=d["configuration"],
                device=d["device"].split()[0],
                sizes=[int(m.group(i)) for i in (1, 2, 3)],
                bits=_NAME_BITS[m.group(4)],
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


def shape_params(sizes, bits, timesteps: int = 16, leak_shift: int = 4) -> EngineParams:
    """Engine parameters of a ``[n_in, n_hid, n_out]`` network at ``bits`` (widths from the contract).

    The widths depend only on the sizes, the format and T, so placeholder codes stand in for
    trained weights.
    """
    sizes = [int(s) for s in sizes]
    if len(sizes) != 3 or min(sizes) < 1:
        raise ValueError(f"the engine runs one hidden layer: sizes must be [N_IN, N_HID, N_OUT], got {sizes}")
    b = parse_bits(bits)
    if b == "float":
        b = 16
    layers = [
        IntLayer(np.ones((sizes[1], sizes[0]), np.int64), bits=b, threshold=1, leak_shift=leak_shift),
        IntLayer(np.ones((sizes[2], sizes[1]), np.int64), bits=b, threshold=None),
    ]
    return engine_params(IntNetwork(layers, int(timesteps)))


def _dsp_lanes(p: EngineParams, dev: synth.Device) -> int:
    """SB_MAC16s the engine's layer-0 multipliers take on ``dev`` (0: in logic or none needed)."""
    if p.CODE_W0 <= 2 or not dev.dsp or p.LANES > dev.dsp:
        return 0
    return p.LANES


def engine_features(p: EngineParams, dev: synth.Device) -> np.ndarray:
    """The LUT4 model's features: [1, lanes*ACC_W, lanes*8*CODE_W0 if multipliers in logic else 0]."""
    mul_in_logic = p.CODE_W0 > 2 and _dsp_lanes(p, dev) == 0
    return np.array(
        [
            1.0,
            p.LANES * p.ACC_W,
            p.LANES * 8 * p.CODE_W0 if mul_in_logic else 0.0,
        ]
    )


def _row_params(r: SynthRow) -> EngineParams:
    return shape_params(r["sizes"], r["bits"])


def fit(rows: list[SynthRow] | None = None) -> dict:
    """Calibrate the model on synthesis rows (default: the committed table).

    Returns ``lut_coef`` (3 floats), ``ebr_extra`` (mean measured EBR minus the plan's lower
    bound), ``fmax_mhz`` {"addsub": ..., "mul": ...} (mean placed Fmax by lane kind) and ``rows``
    (the calibration configurations).
    """
    rows = committed_rows() if rows is None else rows
    X = np.array([engine_features(_row_params(r), synth.device(r["device"])) for r in rows])
    y = np.array([r["lut4"] for r in rows], dtype=np.float64)
    coef, *_ = np.linalg.lstsq(X, y, rcond=None)
    extra = []
    for r in rows:
        plan = synth.engine_memory_plan(r["sizes"], r["bits"], synth.device(r["device"]), fifo_depth=1024)
        extra.append(r["ebr"] - plan["ebr_blocks_min"])
    fmax: dict[str, list[float]] = {"addsub": [], "mul": []}
    for r in rows:
        if r["fmax_mhz"]:
            fmax["mul" if r["bits"] > 2 else "addsub"].append(r["fmax_mhz"])
    return {
        "lut_coef": [float(c) for c in coef],
        "ebr_extra": int(round(float(np.mean(extra)))),
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


def estimate(p: EngineParams, device_name: str, *, calib: dict | None = None, images=None) -> dict:
    """The resource estimate of the engine with parameters ``p`` on ``device_name``.

    Returns lut4, ebr, spram, dsp, logic_cells_available, fits (and fit_problems), the memory
    check of :func:`icespike.synth.memory_fit`, cycles_per_inference (+ min/max) and
    inferences_per_s at ``fmax_mhz`` (the calibrated Fmax of this lane kind). ``images``
    ((N, N_IN) pixels) for the cycle model default to the 10,000 MNIST test images.
    """
    if p.N_LAYERS > 1:
        raise ValueError(
            f"the resource estimate models the engine with one hidden layer; this network has "
            f"{p.N_LAYERS} hidden layers (run `icespike synth` for it)"
        )
    dev = synth.device(device_name)
    c = calib if calib is not None else _default_fit()
    sizes = [p.N_IN, p.N_HID, p.N_OUT]
    bits = [_code_bits(p.CODE_W0), _code_bits(p.CODE_W1)]
    label = bits[0] if bits[0] == bits[1] else bits
    fifo = 1 << max(1, (p.N_IN - 1).bit_length())
    mem = synth.memory_fit(sizes, label, dev.name, fifo_depth=fifo)
    plan = mem.get("engine_plan") or synth.engine_memory_plan(sizes, label, dev, fifo_depth=fifo)
    lut = float(np.dot(c["lut_coef"], engine_features(p, dev)))
    counts = {
        "lut4": max(0, int(math.ceil(lut))),
        "ebr": int(plan["ebr_blocks_min"]) + c["ebr_extra"],
        "spram": int(plan["spram_blocks"]),
        "dsp": _dsp_lanes(p, dev),
    }
    if mem["fits"]:
        problems = synth.cells_fit({**counts, "ff": 0, "carry": 0}, dev)
    else:
        problems = [mem["message"]]
    fmax = c["fmax_mhz"]["mul" if p.CODE_W0 > 2 else "addsub"]
    cyc = synth.cycle_model({"engine": p.as_dict()}, _test_images() if images is None else images)
    ips = fmax * 1e6 / cyc["cycles_per_inference"] if fmax and cyc.get("cycles_per_inference") else None
    return {
        "device": dev.name,
        "part": dev.part,
        "network": "-".join(map(str, sizes)),
        "bits": bits_name(bits[0]),
        **counts,
        "logic_cells_available": dev.logic_cells,
        "ebr_available": dev.ebr,
        "spram_available": dev.spram,
        "dsp_available": dev.dsp,
        "fits": not problems,
        "fit_problems": problems,
        "memory": mem,
        "fmax_mhz": fmax,
        **cyc,
        "inferences_per_s": None if ips is None else round(ips, 1),
        "model": "icespike.estimate: memory plan + per-lane LUT4 model fitted to the committed synthesis table",
    }


def _code_bits(code_w: int) -> int:
    for b in (16, 8, 4, 2, 1):
        if weight_format(b).code_width == code_w:
            return b
    raise ValueError(f"no weight format has code width {code_w}")


def estimate_network(net: IntNetwork, device_name: str, **kw) -> dict:
    """:func:`estimate` for an integer network (e.g. ``Checkpoint.to_int_network()``)."""
    return estimate(engine_params(net), device_name, **kw)


def estimate_error(rows: list[SynthRow] | None = None, *, images=None) -> list[dict]:
    """Estimate against every committed synthesis row: LUT4, EBR, DSP, SPRAM and Fmax-based
    inferences/s, with the LUT4 error in-sample and leave-one-out (fit without the row)."""
    rows = committed_rows() if rows is None else rows
    calib = fit(rows)
    out = []
    for i, r in enumerate(rows):
        p = _row_params(r)
        dev = synth.device(r["device"])
        e = estimate(p, dev.name, calib=calib, images=images)
        loo = fit(rows[:i] + rows[i + 1 :])
        lut_loo = float(np.dot(loo["lut_coef"], engine_features(p, dev)))
        out.append(
            {
                "config": r["config"],
                "device": r["device"],
                "lut4": r["lut4"],
                "lut4_est": e["lut4"],
                "lut4_err_pct": 100.0 * (e["lut4"] - r["lut4"]) / r["lut4"],
                "lut4_est_loo": int(math.ceil(lut_loo)),
                "lut4_err_loo_pct": 100.0 * (math.ceil(lut_loo) - r["lut4"]) / r["lut4"],
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
