"""What the Studio does, as calls into the library (the same functions the CLI verbs call).

Networks are named by id, never by path: ``model:<name>`` is a committed checkpoint
``models/<name>.npz``, ``run:<job id>`` the checkpoint of a Studio training run. Anything else
is refused, so the API cannot reach a file outside the model and run directories.
"""

from __future__ import annotations

import functools
import json
import re
from pathlib import Path

import numpy as np

from .. import estimate as est
from .. import golden, rtlsim
from .. import synth as flow
from ..checkpoint import load_checkpoint
from ..data import load_mnist
from ..export import export_network
from ..pareto import pareto_front
from ..quant import bits_name, parse_bits
from .store import Store

__all__ = [
    "BadRequest",
    "NotFound",
    "MODELS_DIR",
    "list_models",
    "is_job_id",
    "model_history",
    "resolve_source",
    "network_at_bits",
    "ptq_accuracy",
    "check_engine_network",
    "check_lanes",
    "resource_estimate",
    "export_at_bits",
    "rtl_vs_golden",
    "accuracy_vs_resources",
]

MODELS_DIR = flow.ROOT / "models"
_MODEL_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,80}$")
_JOB_RE = re.compile(r"^[0-9a-f]{12}$")
TARGET_BITS = (16, 8, 4, 2, 1)


class BadRequest(ValueError):
    """A request field is malformed (HTTP 422 with the message)."""


class NotFound(LookupError):
    """An id names nothing (HTTP 404 with the message)."""


def list_models() -> list[dict]:
    """The committed checkpoints (``models/*.npz`` with a manifest): id, name, hidden, timesteps, bits."""
    out = []
    for p in sorted(MODELS_DIR.glob("*.npz")):
        m = p.with_suffix(".json")
        if m.is_file():
            man = json.loads(m.read_text())
            out.append(
                {
                    "id": f"model:{p.stem}",
                    "name": p.stem,
                    "hidden": man["sizes"][1:-1],
                    "timesteps": man["timesteps"],
                    "bits": man["bits"],
                }
            )
    return out


def is_job_id(text: str) -> bool:
    """True for the shape of a job id (12 lowercase hex digits); says nothing of its existence."""
    return bool(_JOB_RE.match(text))


def model_history(name: str) -> dict:
    """A committed model's training settings and per-epoch history (from its manifest)."""
    p = resolve_source(f"model:{name}", None)
    man = json.loads(p.with_suffix(".json").read_text())
    return {
        "id": f"model:{name}",
        "name": name,
        "bits": man["bits"],
        "sizes": man["sizes"],
        "timesteps": man["timesteps"],
        "training": man.get("training"),
        "history": man.get("history") or [],
        "complete": man.get("complete"),
    }


def resolve_source(source: str, store: Store | None) -> Path:
    """The checkpoint path of ``model:<name>`` or ``run:<job id>``; BadRequest/NotFound otherwise."""
    if not isinstance(source, str) or ":" not in source:
        raise BadRequest(f"source must be 'model:<name>' or 'run:<id>', got {source!r}")
    kind, name = source.split(":", 1)
    if kind == "model":
        if not _MODEL_RE.match(name) or ".." in name:
            raise BadRequest(f"bad model name {name!r}")
        p = MODELS_DIR / f"{name}.npz"
        if not p.is_file():
            raise NotFound(f"no committed model {name!r}")
        return p
    if kind == "run" and store is not None:
        if not _JOB_RE.match(name):
            raise BadRequest(f"bad run id {name!r}")
        job = store.get(name)
        if job is None or job["kind"] != "train":
            raise NotFound(f"no training run {name!r}")
        p = store.job_dir(name) / "model.npz"
        if not p.is_file():
            raise NotFound(f"run {name} has no checkpoint yet")
        return p
    raise BadRequest(f"source must be 'model:<name>' or 'run:<id>', got {source!r}")


def check_engine_network(ckpt: Path) -> None:
    """BadRequest unless the checkpoint is a network the RTL engine runs (1 to 4 hidden layers)."""
    sizes = json.loads(ckpt.with_suffix(".json").read_text())["sizes"]
    if not 1 <= len(sizes) - 2 <= rtlsim.RTL_HIDDEN_LAYERS:
        raise BadRequest(
            f"the RTL engine runs 1 to {rtlsim.RTL_HIDDEN_LAYERS} hidden layers; {ckpt.stem} is "
            f"{'-'.join(map(str, sizes))}"
        )


def check_lanes(ckpt: Path, bits: int, lanes, lif_lanes) -> tuple[int | None, int]:
    """The engine knobs of a request: ``lanes`` (LANES; None = the engine's default) and
    ``lif_lanes`` (P_LIF, default 1), legal for the checkpoint's network at ``bits``
    (:func:`icespike.rtlsim.check_lanes`); BadRequest naming the field otherwise."""
    for name, v in (("lanes", lanes), ("lif_lanes", lif_lanes)):
        if v is not None and (isinstance(v, bool) or not isinstance(v, int)):
            raise BadRequest(f"{name} must be an integer, got {v!r}")
    p_lif = 1 if lif_lanes is None else lif_lanes
    man = json.loads(ckpt.with_suffix(".json").read_text())
    try:
        params = est.shape_params(man["sizes"], bits, man["timesteps"])
        rtlsim.check_lanes(params, lanes, p_lif)
    except ValueError as e:
        raise BadRequest(str(e)) from None
    return lanes, p_lif


def check_bits(bits) -> int:
    """A target bit width: 16, 8, 4, 2 or 1."""
    try:
        b = parse_bits(bits)
    except (ValueError, TypeError):
        b = None
    if b not in TARGET_BITS:
        raise BadRequest(f"bits must be one of {', '.join(map(str, TARGET_BITS))}, got {bits!r}")
    return b


def check_device(name) -> str:
    try:
        return flow.device(str(name)).name
    except ValueError as e:
        raise BadRequest(str(e)) from None


def network_at_bits(ckpt: Path, bits: int):
    """The checkpoint's integer network at ``bits``: itself if trained at ``bits``, else its PTQ.

    PTQ = the checkpoint's latent weights and thresholds through the ``bits`` quantiser
    (:meth:`icespike.train.SNNModel.with_bits`), as ``icespike report`` does.
    """
    ck = load_checkpoint(ckpt)
    if parse_bits(ck.manifest["bits"]) == bits:
        return ck.to_int_network(), "trained"
    try:
        return ck.model().with_bits(bits).to_int_network(), "ptq"
    except ValueError as e:
        raise BadRequest(f"PTQ of {ckpt.stem} to {bits_name(bits)}: {e}") from None


@functools.lru_cache(maxsize=1)
def _test_set():
    m = load_mnist()
    return m.test_images.reshape(len(m.test_images), -1), m.test_labels


def ptq_accuracy(ckpt: Path, bits: int, images: int = 10000) -> dict:
    """Integer golden-model accuracy of the network at ``bits`` on the first ``images`` test images.

    Results are remembered per checkpoint file (path, size, modification time), bits and images.
    """
    x, _ = _test_set()
    if not 1 <= images <= len(x):
        raise BadRequest(f"images must be in 1..{len(x)}, got {images}")
    st = Path(ckpt).stat()
    return dict(_ptq_cached(str(ckpt), st.st_size, st.st_mtime_ns, bits, images))


@functools.lru_cache(maxsize=256)
def _ptq_cached(ckpt: str, size: int, mtime_ns: int, bits: int, images: int) -> dict:
    x, y = _test_set()
    net, how = network_at_bits(Path(ckpt), bits)
    res = golden.run(net, x[:images])
    return {
        "bits": bits_name(bits),
        "how": how,
        "accuracy": golden.accuracy(res.predictions, y[:images]),
        "images": images,
        "hidden_spikes_per_image": float(np.mean(res.spike_counts[0].sum(axis=1))),
    }


def resource_estimate(
    ckpt: Path, bits: int, device_name: str, lanes: int | None = None, lif_lanes: int = 1
) -> dict:
    """:func:`icespike.estimate.estimate_network` of the network at ``bits`` (any depth the
    engine runs; the cycles of a deeper network from its spikes on the 10,000 test images),
    remembered per checkpoint file, bits, device and engine knobs."""
    st = Path(ckpt).stat()
    return dict(_estimate_cached(str(ckpt), st.st_size, st.st_mtime_ns, bits, device_name, lanes, lif_lanes))


@functools.lru_cache(maxsize=64)
def _estimate_cached(
    ckpt: str, size: int, mtime_ns: int, bits: int, device_name: str, lanes: int | None, lif_lanes: int
) -> dict:
    net, _ = network_at_bits(Path(ckpt), bits)
    try:
        return est.estimate_network(net, device_name, lanes=lanes, p_lif=lif_lanes, images=_test_set()[0])
    except ValueError as e:  # e.g. a network the engine cannot run
        raise BadRequest(str(e)) from None


def export_at_bits(ckpt: Path, bits: int, out_dir: Path) -> Path:
    """Export the network at ``bits`` (``icespike export``'s writer) into ``out_dir``."""
    net, how = network_at_bits(ckpt, bits)
    export_network(net, out_dir, source=f"{ckpt} ({how} {bits_name(bits)})")
    return out_dir


def rtl_vs_golden(ckpt: Path, bits: int, index: int, simulator: str, build_root: Path) -> dict:
    """Test image ``index`` through the RTL engine (``icespike.rtlsim.run_engine``, as
    ``icespike sim`` runs it) and through the golden model (with its trace).

    Returns the pixels, the golden hidden spike raster (T x N_HID), the RTL and golden scores
    and classes, whether they match exactly, and the measured cycles against the cycle model.
    """
    from .. import rtlsim

    x, y = _test_set()
    if isinstance(index, bool) or not isinstance(index, int) or not 0 <= index < len(x):
        raise BadRequest(f"image must be an index in 0..{len(x) - 1}, got {index!r}")
    if simulator not in rtlsim.SIMULATORS:
        raise BadRequest(f"simulator must be one of {', '.join(rtlsim.SIMULATORS)}, got {simulator!r}")
    net, how = network_at_bits(ckpt, bits)
    img = x[index : index + 1]
    g = golden.run(net, img, trace=True)
    run = rtlsim.run_engine(net, img, simulator=simulator, build_root=build_root)
    cmp = rtlsim.compare_with_golden(net, img, y[index : index + 1], run)
    return {
        "image": index,
        "label": int(y[index]),
        "pixels": img[0].tolist(),
        "bits": bits_name(bits),
        "how": how,
        "simulator": simulator,
        "raster": g.spikes[0][0].tolist(),
        "golden_scores": g.scores[0].tolist(),
        "golden_class": int(g.predictions[0]),
        "rtl_scores": run.scores[0].tolist(),
        "rtl_class": int(run.classes[0]),
        "match": cmp["mismatches"] == 0,
        "rtl_cycles": int(run.cycles[0]),
        "model_cycles": int(cmp["model_cycles"]["min"]),
        "build_seconds": cmp["build_seconds"],
        "run_seconds": cmp["run_seconds"],
    }


def accuracy_vs_resources(store: Store, device_name: str) -> list[dict]:
    """Every committed model and finished run (1 to 4 hidden layers): golden-model accuracy against
    the estimated LUT4 and the weight memory bits on ``device_name``, the Pareto fronts (among
    the points that fit the device) marked.

    Committed models (every network of ``reports/accuracy.json``, written by ``icespike report``)
    and their float model's PTQ at each width take their accuracy from that report; runs from
    their own result.
    """
    pts = []
    rep = flow.ROOT / "reports" / "accuracy.json"
    if rep.is_file():
        acc = json.loads(rep.read_text())
        nets = [(acc.get("network", "784-128-10"), acc), *acc.get("networks", {}).items()]
        for shape, block in nets:
            sizes = [int(v) for v in shape.split("-")]
            for name, row in block.get("rows", {}).items():
                if name != "float" and row.get("golden_accuracy") is not None:
                    ck = Path(row["checkpoint"]).stem
                    pts.append(
                        dict(
                            label=f"model {ck}",
                            sizes=sizes,
                            bits=name,
                            T=row["timesteps"],
                            accuracy=row["golden_accuracy"],
                            kind="model",
                        )
                    )
            for name, row in block.get("ptq", {}).items():
                if row.get("maxabs") is not None:
                    pts.append(
                        dict(
                            label=f"PTQ of the {shape} float model to {name}",
                            sizes=sizes,
                            bits=name,
                            T=16,
                            accuracy=row["maxabs"],
                            kind="ptq",
                        )
                    )
    for j in store.list("train"):
        p, r = j["params"], j["result"]
        if j["status"] == "done" and r and p["bits"] != "float":
            pts.append(
                dict(
                    label=f"run {j['id']}",
                    sizes=[784, *p["hidden"], 10],
                    bits=bits_name(p["bits"]),
                    T=p["timesteps"],
                    accuracy=r["accuracy"],
                    kind="run",
                )
            )
    out = []
    for p in pts:
        e = est.estimate(est.shape_params(p["sizes"], p["bits"], p["T"]), device_name, images=_test_set()[0])
        out.append(
            {
                **p,
                "network": "-".join(map(str, p["sizes"])),
                "lut4": e["lut4"],
                "memory_bits": e["memory"]["weight_bits_total"],
                "fits": e["fits"],
            }
        )
    fit = [p for p in out if p["fits"]]  # a design that does not fit is no choice
    for cost in ("lut4", "memory_bits"):
        front = {id(p) for p in pareto_front(fit, cost)}
        for p in out:
            p[f"pareto_{cost}"] = id(p) in front
    return out
