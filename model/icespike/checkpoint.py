"""Trained-model checkpoints: an ``.npz`` of arrays plus a sibling ``.json`` manifest.

``model.npz`` holds the latent float weights (``w0``, ``w1``, ...), the exported integer
codes (``codes0``, ...) and, for resumable runs, the optimiser state (``opt_m0``, ...).
``model.json`` describes it: bit width, scale mode, per-layer scales, thresholds (float and
folded integer), leak, reset, time steps, layer sizes, training settings and history, the
MNIST checksum, the code version and a SHA-256 over the npz arrays.

:func:`load_checkpoint` verifies all of it: a missing, truncated, corrupt or foreign file, a
hash mismatch, or codes/thresholds that do not follow from the stored weights raise
:class:`CheckpointError` (a ``ValueError``) naming the problem.
:meth:`Checkpoint.to_int_network` gives the :class:`icespike.network.IntNetwork` that the
golden model, the export and the RTL flow use. A ``float`` checkpoint exports to 16-bit
codes with a max-abs scale (its float64 evaluation is :meth:`Checkpoint.evaluate_float`).
"""

from __future__ import annotations

import hashlib
import json
import os
import zipfile
import zlib
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from . import __version__
from .network import IntLayer, IntNetwork
from .quant import bits_name, parse_bits
from .train import SNNModel, TrainConfig

__all__ = [
    "CheckpointError",
    "Checkpoint",
    "save_checkpoint",
    "load_checkpoint",
    "manifest_path",
    "arrays_sha256",
    "provenance",
]

FORMAT = "icespike-checkpoint"
FORMAT_VERSION = 1


class CheckpointError(ValueError):
    """A checkpoint file is missing, corrupt, truncated, foreign or inconsistent."""


def manifest_path(path) -> Path:
    """``x.npz`` -> ``x.json``."""
    return Path(path).with_suffix(".json")


def npz_path(path) -> Path:
    p = Path(path)
    return p.with_suffix(".npz") if p.suffix in (".json", "") else p


def arrays_sha256(arrays: dict[str, np.ndarray]) -> str:
    """SHA-256 over the arrays' names, dtypes, shapes and bytes (sorted by name)."""
    h = hashlib.sha256()
    for k in sorted(arrays):
        a = np.ascontiguousarray(arrays[k])
        h.update(k.encode())
        h.update(str(a.dtype.str).encode())
        h.update(str(a.shape).encode())
        h.update(a.tobytes())
    return h.hexdigest()


def provenance(path, arrays_sha: str) -> str:
    """How a manifest names another checkpoint (e.g. the one training started from), the same on
    every machine: the path relative to the project checkout when the file lies inside it
    (``models/mnist-784-128-10-float.npz``), otherwise its file name and the SHA-256 of its
    arrays (``x.npz (arrays_sha256 9d2e...)``); never an absolute path.
    """
    p = Path(path).resolve()
    root = Path(__file__).resolve().parents[2]
    if p.is_relative_to(root):
        return p.relative_to(root).as_posix()
    return f"{p.name} (arrays_sha256 {arrays_sha})"


# The manifest fields that define the network and its trainable model: a changed value would
# load silently as another network, so ``network_sha256`` covers them with the arrays' hash.
NETWORK_KEYS = (
    "bits",
    "weight_bits",
    "scale_mode",
    "threshold_ratio",
    "sizes",
    "timesteps",
    "leak_shift",
    "reset",
    "scales",
    "thresholds_float",
    "thresholds_int",
    "surrogate_slope",
    "detach_reset",
    "gain",
    "arrays_sha256",
)


def network_sha256(manifest: dict) -> str:
    """SHA-256 over the canonical JSON of the manifest's :data:`NETWORK_KEYS`."""
    fields = {k: manifest.get(k) for k in NETWORK_KEYS}
    return hashlib.sha256(json.dumps(_jsonable(fields), sort_keys=True).encode()).hexdigest()


def _jsonable(o):
    if isinstance(o, dict):
        return {str(k): _jsonable(v) for k, v in o.items()}
    if isinstance(o, (list, tuple)):
        return [_jsonable(v) for v in o]
    if isinstance(o, np.integer):
        return int(o)
    if isinstance(o, np.floating):
        return float(o)
    if isinstance(o, np.ndarray):
        return o.tolist()
    return o


def save_checkpoint(
    path,
    model: SNNModel,
    cfg: TrainConfig | None = None,
    *,
    history: list | None = None,
    data_checksum: str | None = None,
    trainer_state: dict | None = None,
    complete: bool = True,
    extra: dict | None = None,
) -> Path:
    """Write ``path`` (.npz) and its ``.json`` manifest atomically; returns the npz path."""
    p = npz_path(path)
    if p.suffix != ".npz":
        raise ValueError(f"checkpoint path must end in .npz, got {p}")
    qr = model.quantize()
    thetas = model.int_thresholds(qr)
    arrays: dict[str, np.ndarray] = {}
    for i, (w, r) in enumerate(zip(model.weights, qr)):
        arrays[f"w{i}"] = np.asarray(w, np.float64)
        arrays[f"codes{i}"] = r.int_codes()
    int_biases = model.int_biases(qr)
    if int_biases is not None:  # float biases b{i} and their integer values bias{i}
        for i, (b, ib) in enumerate(zip(model.biases, int_biases)):
            arrays[f"b{i}"] = np.asarray(b, np.float64)
            arrays[f"bias{i}"] = ib
    if trainer_state is not None:
        st = trainer_state["opt"]
        arrays["opt_t"] = np.array(st["t"], np.int64)
        for i, (m, v) in enumerate(zip(st["m"], st["v"])):
            arrays[f"opt_m{i}"] = np.asarray(m, np.float64)
            arrays[f"opt_v{i}"] = np.asarray(v, np.float64)
    codes = [arrays[f"codes{i}"] for i in range(len(qr))]
    manifest = {
        "format": FORMAT,
        "format_version": FORMAT_VERSION,
        "code_version": __version__,
        "bits": bits_name(model.bits),
        "weight_bits": model.quantizer.export_bits,
        "scale_mode": model.quantizer.scale_mode,
        "threshold_ratio": model.quantizer.threshold_ratio,
        "sizes": list(model.sizes),
        "hidden": list(model.sizes[1:-1]),
        "timesteps": model.timesteps,
        "leak_shift": model.leak_shift,
        "reset": model.reset,
        "scales": [r.scale for r in qr],
        "thresholds_float": list(model.theta_f),
        "thresholds_int": thetas,
        "mem_widths": list(model.mem_widths),
        "sparsity": [float((c == 0).mean()) for c in codes],
        "surrogate_slope": model.surrogate_slope,
        "detach_reset": model.detach_reset,
        "gain": model.gain,
        "training": cfg.to_dict() if cfg is not None else None,
        "history": history or [],
        "epochs_done": (trainer_state or {}).get("epoch", len(history or [])),
        "complete": bool(complete),
        "data_checksum": data_checksum,
        "arrays": {k: {"shape": list(a.shape), "dtype": a.dtype.str} for k, a in arrays.items()},
        "arrays_sha256": arrays_sha256(arrays),
    }
    if extra:
        manifest.update(extra)
    manifest["network_sha256"] = network_sha256(manifest)
    p.parent.mkdir(parents=True, exist_ok=True)
    tmp = p.with_name(p.name + ".tmp.npz")
    np.savez_compressed(tmp, **arrays)
    os.replace(tmp, p)
    mp = manifest_path(p)
    tmpj = mp.with_name(mp.name + ".tmp")
    tmpj.write_text(json.dumps(_jsonable(manifest), indent=1, sort_keys=False) + "\n")
    os.replace(tmpj, mp)
    return p


@dataclass
class Checkpoint:
    """A loaded, verified checkpoint."""

    path: Path
    manifest: dict
    arrays: dict[str, np.ndarray]

    @property
    def bits(self):
        return parse_bits(self.manifest["bits"])

    @property
    def bits_name(self) -> str:
        return self.manifest["bits"]

    @property
    def timesteps(self) -> int:
        return int(self.manifest["timesteps"])

    @property
    def n_layers(self) -> int:
        return len(self.manifest["sizes"]) - 1

    @property
    def config(self) -> TrainConfig | None:
        t = self.manifest.get("training")
        return TrainConfig.from_dict(t) if t else None

    @property
    def history(self) -> list:
        return list(self.manifest.get("history", []))

    def model(self) -> SNNModel:
        """The trainable model (latent weights, float thresholds, quantiser) of this checkpoint."""
        m = self.manifest
        return SNNModel(
            m["sizes"],
            self.bits,
            timesteps=m["timesteps"],
            leak_shift=m["leak_shift"],
            reset=m["reset"],
            scale=m["scale_mode"],
            threshold_ratio=m["threshold_ratio"],
            weights=[self.arrays[f"w{i}"] for i in range(self.n_layers)],
            theta_f=m["thresholds_float"],
            surrogate_slope=m["surrogate_slope"],
            detach_reset=m["detach_reset"],
            gain=m["gain"],
            biases=[self.arrays[f"b{i}"] for i in range(self.n_layers)] if self.has_bias else None,
        )

    @property
    def has_bias(self) -> bool:
        return "b0" in self.arrays

    def to_int_network(self) -> IntNetwork:
        """The integer network (codes and folded thresholds) that the hardware runs."""
        m = self.manifest
        nl = self.n_layers
        layers = []
        for i in range(nl):
            hidden = i < nl - 1
            layers.append(
                IntLayer(
                    codes=self.arrays[f"codes{i}"].astype(np.int64),
                    bits=int(m["weight_bits"]),
                    threshold=int(m["thresholds_int"][i]) if hidden else None,
                    leak_shift=int(m["leak_shift"]) if hidden else 0,
                    reset=m["reset"],
                    bias=self.arrays[f"bias{i}"].astype(np.int64) if self.has_bias else None,
                )
            )
        meta = {
            "bits": m["bits"],
            "scales": list(m["scales"]),
            "thresholds_float": list(m["thresholds_float"]),
            "source": str(self.path),
            "arrays_sha256": m["arrays_sha256"],
        }
        return IntNetwork(layers, int(m["timesteps"]), meta=meta)

    def trainer_state(self) -> dict | None:
        """Optimiser state and history for resuming, or None if the checkpoint has none."""
        if "opt_t" not in self.arrays:
            return None
        n = sum(1 for k in self.arrays if k.startswith("opt_m"))
        return {
            "epoch": int(self.manifest["epochs_done"]),
            "history": self.history,
            "opt": {
                "t": int(self.arrays["opt_t"]),
                "m": [self.arrays[f"opt_m{i}"] for i in range(n)],
                "v": [self.arrays[f"opt_v{i}"] for i in range(n)],
            },
        }

    def evaluate_float(self, images, labels) -> float:
        """Accuracy of the training forward pass (float64, unrounded codes for a float model)."""
        from .train import evaluate

        return evaluate(self.model(), images, labels)


_REQUIRED = {
    "format": str,
    "format_version": int,
    "bits": str,
    "weight_bits": int,
    "scale_mode": str,
    "threshold_ratio": (int, float),
    "sizes": list,
    "timesteps": int,
    "leak_shift": int,
    "reset": str,
    "scales": list,
    "thresholds_float": list,
    "thresholds_int": list,
    "surrogate_slope": (int, float),
    "detach_reset": bool,
    "gain": (int, float),
    "arrays": dict,
    "arrays_sha256": str,
    "epochs_done": int,
    "network_sha256": str,
}


def _is_int(v) -> bool:
    return isinstance(v, int) and not isinstance(v, bool)


def _is_real(v) -> bool:
    return isinstance(v, (int, float)) and not isinstance(v, bool) and np.isfinite(v)


def _check_manifest_values(manifest: dict, mp: Path) -> None:
    """The manifest's nested values have the types the loader reads (JSON gives any type)."""
    for k, spec in manifest["arrays"].items():
        shape = spec.get("shape") if isinstance(spec, dict) else None
        if not (
            isinstance(shape, list) and all(_is_int(n) for n in shape) and isinstance(spec.get("dtype"), str)
        ):
            raise CheckpointError(f"{mp}: arrays[{k!r}] must be {{'shape': [integers], 'dtype': string}}")
    for key, ok, what in (
        ("scales", _is_real, "finite numbers"),
        ("thresholds_float", _is_real, "finite numbers"),
        ("thresholds_int", _is_int, "integers"),
    ):
        if not all(ok(v) for v in manifest[key]):
            raise CheckpointError(f"{mp}: manifest key {key!r} must hold {what}")
    for key in ("threshold_ratio", "surrogate_slope", "gain"):
        if not _is_real(manifest[key]):
            raise CheckpointError(f"{mp}: manifest key {key!r} must be a finite number")


def load_checkpoint(path, *, verify_codes: bool = True) -> Checkpoint:
    """Load and verify a checkpoint (``x.npz`` or ``x.json``; both files must exist)."""
    p = npz_path(path)
    mp = manifest_path(p)
    if not p.is_file():
        raise FileNotFoundError(f"checkpoint {p} does not exist")
    if not mp.is_file():
        raise CheckpointError(f"checkpoint {p}: manifest {mp} is missing")
    try:
        manifest = json.loads(mp.read_text())
    except (UnicodeDecodeError, json.JSONDecodeError) as e:
        raise CheckpointError(f"manifest {mp} is not valid JSON ({e})") from None
    if not isinstance(manifest, dict) or manifest.get("format") != FORMAT:
        raise CheckpointError(f"{mp} is not an icespike checkpoint manifest (format != {FORMAT!r})")
    if manifest.get("format_version") != FORMAT_VERSION:
        raise CheckpointError(
            f"{mp}: checkpoint format version {manifest.get('format_version')!r} is not supported "
            f"(this code reads version {FORMAT_VERSION})"
        )
    for key, typ in _REQUIRED.items():
        if key not in manifest:
            raise CheckpointError(f"{mp}: manifest lacks the key {key!r}")
        if not isinstance(manifest[key], typ) or (typ is int and isinstance(manifest[key], bool)):
            raise CheckpointError(f"{mp}: manifest key {key!r} has the wrong type")
    if network_sha256(manifest) != manifest["network_sha256"]:
        raise CheckpointError(
            f"{mp}: the network fields ({', '.join(NETWORK_KEYS[:-1])}) do not match network_sha256: "
            "the manifest was edited"
        )
    _check_manifest_values(manifest, mp)
    try:
        with np.load(p, allow_pickle=False) as z:
            arrays = {k: z[k] for k in z.files}
    except (OSError, ValueError, EOFError, zipfile.BadZipFile, zlib.error, KeyError) as e:
        raise CheckpointError(f"checkpoint {p} is corrupt or truncated ({type(e).__name__}: {e})") from None
    expected = manifest["arrays"]
    if set(arrays) != set(expected):
        raise CheckpointError(
            f"checkpoint {p}: arrays {sorted(arrays)} do not match the manifest's {sorted(expected)}"
        )
    for k, a in arrays.items():
        if list(a.shape) != expected[k]["shape"] or a.dtype.str != expected[k]["dtype"]:
            raise CheckpointError(
                f"checkpoint {p}: array {k!r} has shape/dtype {a.shape}/{a.dtype.str}, manifest says {expected[k]}"
            )
    digest = arrays_sha256(arrays)
    if digest != manifest["arrays_sha256"]:
        raise CheckpointError(
            f"checkpoint {p}: SHA-256 of the arrays {digest[:16]}... does not match the manifest "
            f"({manifest['arrays_sha256'][:16]}...): file and manifest do not belong together"
        )
    try:
        bits = parse_bits(manifest["bits"])
    except ValueError as e:
        raise CheckpointError(f"{mp}: {e}") from None
    sizes = manifest["sizes"]
    nl = len(sizes) - 1
    if nl < 2 or not all(_is_int(s) and s > 0 for s in sizes):
        raise CheckpointError(f"{mp}: bad layer sizes {sizes}")
    for i in range(nl):
        for name in (f"w{i}", f"codes{i}"):
            if name not in arrays:
                raise CheckpointError(f"checkpoint {p}: array {name!r} is missing")
            if arrays[name].shape != (sizes[i + 1], sizes[i]):
                raise CheckpointError(
                    f"checkpoint {p}: {name} has shape {arrays[name].shape}, expected {(sizes[i + 1], sizes[i])}"
                )
    if len(manifest["thresholds_float"]) != nl - 1 or len(manifest["thresholds_int"]) != nl - 1:
        raise CheckpointError(f"{mp}: expected {nl - 1} hidden-layer thresholds")
    if len(manifest["scales"]) != nl:
        raise CheckpointError(f"{mp}: expected {nl} layer scales")
    ck = Checkpoint(path=p, manifest=manifest, arrays=arrays)
    try:
        model = ck.model()
    except (ValueError, TypeError) as e:
        raise CheckpointError(f"checkpoint {p}: {e}") from None
    if model.quantizer.export_bits != manifest["weight_bits"] or bits_name(bits) != manifest["bits"]:
        raise CheckpointError(
            f"{mp}: bits {manifest['bits']!r} and weight_bits {manifest['weight_bits']} disagree"
        )
    if verify_codes:
        qr = model.quantize()
        for i, r in enumerate(qr):
            if not np.array_equal(r.int_codes(), arrays[f"codes{i}"]):
                raise CheckpointError(f"checkpoint {p}: codes{i} do not follow from the stored weights w{i}")
        if model.int_thresholds(qr) != [int(t) for t in manifest["thresholds_int"]]:
            raise CheckpointError(
                f"{mp}: integer thresholds do not follow from the float thresholds and scales"
            )
        ib = model.int_biases(qr)
        for i, b in enumerate(ib or []):
            if not np.array_equal(b, arrays.get(f"bias{i}")):
                raise CheckpointError(
                    f"checkpoint {p}: bias{i} does not follow from the stored float bias b{i}"
                )
        if not np.allclose([r.scale for r in qr], manifest["scales"], rtol=1e-12, atol=0):
            raise CheckpointError(f"{mp}: scales do not follow from the stored weights")
    try:
        ck.to_int_network()
    except ValueError as e:
        raise CheckpointError(f"checkpoint {p}: {e}") from None
    return ck
