"""The network engine in the flow: its RTL, its cycle model, and one call from export to report."""

from __future__ import annotations

import json
import re
from pathlib import Path

from .devices import ROOT, SYNTH_DIR, SynthError, device
from .fit import memory_fit
from .flow import not_fitting_report, run, write_report

ENGINE_SOURCES = ("snn_engine.v",)
TOP_ENGINE = SYNTH_DIR / "top_engine.v"


def rtl_closure(module: str, rtl_dir: str | Path = ROOT / "rtl") -> list[Path]:
    """``rtl/<module>.v`` and the files of every rtl/ module it instantiates, transitively.

    One module per file, file named after the module (the project's convention), so an
    instantiation ``name #(`` or ``name u_x (`` of another rtl/ module name pulls in its file.
    """
    rtl = Path(rtl_dir)
    known = {p.stem: p for p in rtl.glob("*.v")}
    if module not in known:
        raise SynthError(f"{rtl / (module + '.v')} does not exist")
    seen: list[str] = []
    todo = [module]
    while todo:
        m = todo.pop()
        if m in seen:
            continue
        seen.append(m)
        text = re.sub(r"//[^\n]*|/\*.*?\*/", "", known[m].read_text(), flags=re.S)
        for other in known:
            if (
                other != m
                and other not in seen
                and re.search(rf"\b{other}\s*(#\s*\(|[A-Za-z_]\w*\s*\()", text)
            ):
                todo.append(other)
    return [known[m] for m in seen]


def engine_sources() -> list[Path]:
    """The RTL files of the network engine: snn_engine.v and every rtl/ module it uses."""
    return rtl_closure("snn_engine")


def cycle_model(
    manifest: dict, images=None, *, p_lif: int = 1, lanes: int | None = None, export_dir=None
) -> dict:
    """Cycles per inference from the engine's analytic model (``icespike.rtlsim.cycle_model``).

    The engine skips zero pixels, so its cycle count depends on the image: the result is the
    mean over ``images`` (default: the 10,000 bundled MNIST test images), with min and max.
    Returns ``cycles_per_inference`` (mean, rounded up), ``cycles_min``, ``cycles_max`` and
    ``cycle_model`` (what produced the numbers). A network with more than one hidden layer
    needs its weights (its cycles depend on its spikes): ``export_dir`` is read for them.
    """
    import numpy as np

    from ..export import EngineParams

    try:
        from ..rtlsim import cycle_model as model  # noqa: PLC0415 - the engine's own model
    except ImportError:
        return {"cycles_per_inference": None, "cycle_model": "icespike.rtlsim not available"}
    eng = manifest["engine"]
    p = EngineParams.from_manifest(eng)
    what = "given images"
    if images is None:
        from ..data import load_mnist

        images = load_mnist().test_images.reshape(-1, p.N_IN)
        what = f"{len(images):,} MNIST test images"
    if p.N_LAYERS > 1:
        from ..export import load_export
        from ..rtlsim import network_cycle_model

        if export_dir is None:
            return {"cycles_per_inference": None, "cycle_model": "deeper network: its export is needed"}
        cyc = network_cycle_model(load_export(export_dir), images, p_lif, lanes)
    else:
        cyc = np.asarray(model(p, images, p_lif, lanes), dtype=np.int64)
    return cycle_summary(cyc, what)


def cycle_summary(cyc, what: str) -> dict:
    """The report fields of per-image cycle counts ``cyc`` ((N,) ints) over ``what``: mean rounded
    up (``cycles_per_inference``), ``cycles_min``, ``cycles_max`` and ``cycle_model``."""
    return {
        "cycles_per_inference": int(-(-int(cyc.sum()) // len(cyc))),
        "cycles_min": int(cyc.min()),
        "cycles_max": int(cyc.max()),
        "cycle_model": f"icespike.rtlsim.cycle_model, mean over {what}",
    }


def synth_engine(
    export_dir: str | Path,
    device_name: str,
    out_dir: str | Path | None = None,
    *,
    config: str | None = None,
    bitstream: bool = False,
    freq_mhz: float = 48.0,
    extra: dict | None = None,
    engine_only: bool = True,
    progress_log=None,
    p_lif: int = 1,
    lanes: int | None = None,
) -> dict:
    """Synthesise the network engine of an export directory inside ``synth/top_engine.v``.

    ``lanes``/``p_lif`` are the engine's accumulation and LIF lanes (LANES, P_LIF; ``lanes``
    None: the engine's default); illegal values raise SynthError before any tool runs.

    The memory check runs first (from the manifest's numbers); a network that cannot fit gets a
    report with ``fits: false`` and the numbers, and no tool runs. Otherwise :func:`run` places
    and routes the top with the device's PCF. The report adds the network, the memory check,
    the cycles per inference of the engine's analytic model and inferences per second at Fmax,
    and (``engine_only``) the cell counts of snn_engine synthesised without the wrapper.
    """
    d = Path(export_dir)
    mpath = d / "manifest.json"
    if not mpath.is_file():
        raise SynthError(f"{d}: no manifest.json (not an export directory; run `icespike export` first)")
    man = json.loads(mpath.read_text())
    try:
        eng = man["engine"]
        layers = man["network"]["layers"]
        bits = [int(layers[0]["bits"]), int(layers[-1]["bits"])]
        sizes = [int(v) for v in man["network"]["sizes"]]
    except (KeyError, TypeError, IndexError, ValueError) as exc:
        raise SynthError(f"{mpath}: missing or malformed field {exc}") from None
    from ..export import EngineParams
    from ..rtlsim import check_rtl_depth

    try:
        check_rtl_depth(EngineParams.from_manifest(eng))
    except ValueError as exc:
        raise SynthError(f"{mpath}: {exc}") from None
    dev = device(device_name)
    shape = "-".join(map(str, sizes))
    label = bits[0] if bits[0] == bits[1] else bits
    from ..formats import weight_format

    config = config or f"{shape}-{weight_format(bits[0]).name}"
    out = Path(out_dir) if out_dir is not None else ROOT / "build" / "synth" / config / dev.name
    per_layer = [bits[0]] * (len(sizes) - 2) + [bits[1]]
    fit = memory_fit(
        sizes,
        label if len(sizes) == 3 else per_layer,
        dev.name,
        fifo_depth=1 << max(1, (sizes[0] - 1).bit_length()),
    )
    from ..export import EngineParams
    from ..rtlsim import check_lanes

    try:
        lanes = check_lanes(EngineParams.from_manifest(eng), lanes, p_lif)
    except ValueError as exc:
        raise SynthError(str(exc)) from None
    info = {
        "network": shape,
        "bits": bits,
        "timesteps": int(eng["T"]),
        "memory": fit,
        "export_dir": str(d),
        "lanes": lanes,
        "p_lif": int(p_lif),
    }
    info.update(cycle_model(man, p_lif=p_lif, lanes=lanes, export_dir=d))
    if extra:
        info.update(extra)
    if not fit["fits"]:
        rep = not_fitting_report(config, dev.name, fit, info)
        write_report(rep, out / "report.json")
        return rep
    params = {"W0_SPRAM": 1 if dev.spram else 0, "LANES": lanes, "P_LIF": int(p_lif)}

    def place(flags):
        return run(
            "top_engine",
            [TOP_ENGINE, *engine_sources()],
            dev.name,
            out,
            params=params,
            include_dirs=[d],
            data_files=[d / f for f in ("w0.hex", "w1.hex", "b0.hex", "b1.hex") if (d / f).is_file()],
            config=config,
            place=True,
            freq_mhz=freq_mhz,
            bitstream=bitstream,
            extra=info,
            synth_flags=flags,
            progress_log=progress_log,
        )

    flags = tuple(dev.synth_flags)
    rep = place(flags)
    if "-dsp" in flags and rep["dsp"] > dev.dsp:
        # More multipliers than SB_MAC16s: synthesise again with every multiplier in logic.
        note = (
            f"synth_ice40 -dsp used {rep['dsp']} SB_MAC16, the {dev.part} has {dev.dsp}: "
            f"synthesised again without -dsp (multipliers in LUT4 logic)"
        )
        if progress_log:
            progress_log(f"synth {config} {dev.name}: {note}")
        flags = tuple(f for f in flags if f != "-dsp")
        info["dsp_fallback"] = note
        rep = place(flags)
    if engine_only:
        rep["engine_only"] = engine_cells(
            d,
            man,
            dev.name,
            out / "engine_only",
            synth_flags=flags,
            progress_log=progress_log,
            p_lif=p_lif,
            lanes=lanes,
        )
        write_report(rep, out / "report.json")
    return rep


def engine_cells(
    export_dir: Path,
    manifest: dict,
    device_name: str,
    out_dir: Path,
    *,
    synth_flags: tuple[str, ...] | None = None,
    progress_log=None,
    p_lif: int = 1,
    lanes: int | None = None,
) -> dict:
    """Yosys cell counts of snn_engine alone (no wrapper, no place and route).

    The difference to the top's counts is the cost of the registered wrapper; trace outputs
    are ports here, so the few cells behind them count too.
    """
    from ..export import SIZED_PARAMS, EngineParams, verilog_literal

    eng = manifest["engine"]
    p = EngineParams.from_manifest(eng)
    dev = device(device_name)
    params = {k: verilog_literal(k, v) if k in SIZED_PARAMS else v for k, v in p.verilog().items()}
    params.update(
        FIFO_DEPTH=1 << max(1, (p.N_IN - 1).bit_length()),
        W0_SPRAM=1 if dev.spram else 0,
        W0_FILE="w0.hex",
        W1_FILE="w1.hex",
        LANES=0 if lanes is None else int(lanes),
        P_LIF=int(p_lif),
    )
    if p.HAS_BIAS:
        params.update(B0_FILE="b0.hex", B1_FILE="b1.hex")
    rep = run(
        "snn_engine",
        engine_sources(),
        dev.name,
        out_dir,
        params=params,
        data_files=[
            Path(export_dir) / f
            for f in ("w0.hex", "w1.hex", "b0.hex", "b1.hex")
            if (Path(export_dir) / f).is_file()
        ],
        config="snn_engine alone",
        place=False,
        synth_flags=synth_flags,
        progress_log=progress_log,
    )
    keep = ("lut4", "carry", "ff", "ebr", "spram", "dsp", "runtime_s")
    return {k: rep[k] for k in keep} | {"flags": rep["flags"]["yosys"]}
