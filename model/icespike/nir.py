"""NIR graphs (the Neuromorphic Intermediate Representation, PyPI ``nir``) to and from icespike.

:func:`read_graph` maps a feed-forward graph as snnTorch, Norse or SpikingJelly write it,
``Input -> Affine|Linear -> LIF|CubaLIF|IF -> Affine|Linear [-> I|LI] -> Output``, onto the
contract (docs/arithmetic.md) and returns an :class:`Imported` network: float weights, biases
and threshold in icespike's float units plus the mapping report. Anything the engine cannot
run raises :class:`NIRError` with one line naming the node and the reason. The rules and
their errors are in docs/nir.md.

:func:`to_graph` writes an integer network back as NIR (weights ``s * q``, biases and
threshold in the same float units, the leak as ``tau``), so that importing it again at the
same bits reproduces the same integer network.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import nir
import numpy as np

from .network import PIXEL_MAX, IntNetwork
from .train import SNNModel

__all__ = [
    "NIRError",
    "Imported",
    "read_graph",
    "map_graph",
    "to_model",
    "leak_shift_for",
    "float_accuracy",
    "to_graph",
]

N_INPUTS = 784  # the engine's input: 28 x 28 pixels
MAX_LEAK_SHIFT = 16  # candidate leak shifts 0..16 (beta = 1 - 2^-16 is 0.99998)
_CONV = ("Conv1d", "Conv2d", "AvgPool2d", "SumPool2d")
_WEIGHTS = ("Affine", "Linear")
_SPIKING = ("LIF", "CubaLIF", "IF")
_READOUTS = ("I", "LI")
_PASS = ("Flatten",)
# How each exporter writes a LIF (docs/nir.md): snnTorch 1.0 tau = dt/(1-beta), r = tau/dt
# (dt = tau/r); SpikingJelly tau = tau_steps*dt, r = 1 or tau_steps (dt must be given);
# Norse tau = dt/tau_mem_inv, r = 1 (its tau is dt times the NIR one; dt 1e-3 by default).
EXPORTERS = ("snntorch", "spikingjelly", "norse")
_DEFAULT_RESET = {"snntorch": "subtract", "spikingjelly": "subtract", "norse": "zero"}


class NIRError(ValueError):
    """A graph (or file) icespike cannot map onto its engine: one line naming node and reason."""


@dataclass
class Imported:
    """A graph mapped onto the contract (float values; quantisation comes later).

    weights/biases: per layer (hidden, output) in icespike's float units (the pixel is x / 255).
    ``simulate`` holds the graph's own parameters for :func:`float_accuracy`.
    """

    weights: list[np.ndarray]
    biases: list[np.ndarray] | None
    threshold: float
    leak_shift: int
    reset: str
    timesteps: int
    report: dict = field(default_factory=dict)
    simulate: dict = field(default_factory=dict)

    @property
    def sizes(self) -> list[int]:
        return [self.weights[0].shape[1], self.weights[0].shape[0], self.weights[1].shape[0]]


def leak_shift_for(beta: float) -> tuple[int, float]:
    """The leak shift k whose beta (1 - 2^-k; k = 0: no leak, beta 1) is nearest ``beta``, and its error."""
    cands = [(0, 1.0)] + [(k, 1.0 - 2.0**-k) for k in range(1, MAX_LEAK_SHIFT + 1)]
    k, b = min(cands, key=lambda kb: (abs(beta - kb[1]), kb[0]))
    return k, beta - b


def _arr(node, name: str, n: int | None = None, where: str | None = None) -> np.ndarray:
    """Parameter ``name`` of ``node`` as float64 (one value per neuron if ``n``); NIRError if unusable."""
    pre = f"node {where!r}: " if where else ""
    try:
        a = np.asarray(getattr(node, name), dtype=np.float64)
        if n is not None:
            a = np.broadcast_to(a.reshape(-1) if a.size == n else a, (n,)).astype(np.float64)
    except (TypeError, ValueError):
        shape = np.shape(getattr(node, name, None))
        raise NIRError(f"{pre}{name} of shape {shape} does not give one value per neuron ({n})") from None
    if not np.all(np.isfinite(a)):
        raise NIRError(f"{pre}{name} holds NaN or infinity")
    return a


def _chain(graph: nir.NIRGraph) -> list[str]:
    """Node names from the Input to the Output; refuses branches, cycles and nested graphs."""
    nodes = graph.nodes
    for name, node in nodes.items():
        kind = type(node).__name__
        if isinstance(node, nir.NIRGraph):
            raise NIRError(
                f"node {name!r}: nested graph (a recurrent layer such as RLeaky exports one); "
                "the engine runs a feed-forward chain"
            )
        if kind in _CONV:
            raise NIRError(f"node {name!r}: {kind} is not supported (the engine has dense layers only)")
    succ: dict[str, list[str]] = {n: [] for n in nodes}
    pred: dict[str, list[str]] = {n: [] for n in nodes}
    for a, b in graph.edges:
        a, b = a.split(".")[0], b.split(".")[0]  # "node.port" names
        if a not in nodes or b not in nodes:
            raise NIRError(f"edge {a!r} -> {b!r} names a node that is not in the graph")
        succ[a].append(b)
        pred[b].append(a)
    inputs = [n for n, v in nodes.items() if isinstance(v, nir.Input)]
    outputs = [n for n, v in nodes.items() if isinstance(v, nir.Output)]
    if len(inputs) != 1 or len(outputs) != 1:
        raise NIRError(
            f"graph has {len(inputs)} Input and {len(outputs)} Output nodes; icespike needs one of each"
        )
    order = [inputs[0]]
    seen = {inputs[0]}
    while order[-1] != outputs[0]:
        cur = order[-1]
        if len(succ[cur]) != 1:
            what = "has no successor" if not succ[cur] else f"feeds {len(succ[cur])} nodes {succ[cur]}"
            raise NIRError(f"node {cur!r}: {what}; icespike maps a single chain Input -> ... -> Output")
        nxt = succ[cur][0]
        if nxt in seen:
            raise NIRError(
                f"node {nxt!r}: recurrent edge {cur!r} -> {nxt!r}; the engine runs feed-forward networks"
            )
        if len(pred[nxt]) != 1:
            raise NIRError(
                f"node {nxt!r}: {len(pred[nxt])} incoming edges from {pred[nxt]} "
                "(a recurrent or skip connection); the engine runs a feed-forward chain"
            )
        order.append(nxt)
        seen.add(nxt)
    unused = sorted(set(nodes) - seen)
    if unused:
        raise NIRError(f"node {unused[0]!r}: not on the path from Input to Output")
    return order


def map_graph(
    graph: nir.NIRGraph,
    *,
    timesteps: int | None = None,
    reset: str | None = None,
    dt: float | None = None,
    exporter: str = "snntorch",
) -> Imported:
    """Map ``graph`` onto the contract; raise NIRError naming the node that cannot be mapped.

    ``exporter`` names the tool that wrote the graph: they disagree on how tau, r and dt
    relate (see EXPORTERS); ``dt`` overrides the step that convention implies.
    """
    if exporter not in EXPORTERS:
        raise NIRError(f"exporter must be one of {EXPORTERS}, got {exporter!r}")
    meta = dict(getattr(graph, "metadata", None) or {})
    ice = meta.get("icespike") if isinstance(meta.get("icespike"), dict) else {}
    timesteps = int(timesteps or ice.get("timesteps") or 16)
    reset = reset or ice.get("reset") or _DEFAULT_RESET[exporter]
    if exporter == "norse" and dt is None:
        dt = 1e-3  # norse.torch.utils.export_nir's default
    tau_unit = dt if exporter == "norse" else 1.0  # Norse's tau is dt * (the NIR tau)
    order = _chain(graph)
    nodes = graph.nodes
    body = [n for n in order[1:-1] if type(nodes[n]).__name__ not in _PASS]
    kinds = [type(nodes[n]).__name__ for n in body]
    # input: 784 values
    in_shape = np.asarray(nodes[order[0]].input_type.get("input", [])).reshape(-1)
    n_in = int(np.prod(in_shape)) if in_shape.size else None
    if n_in is not None and n_in != N_INPUTS:
        raise NIRError(
            f"node {order[0]!r}: input of shape {tuple(in_shape.tolist())}; the engine takes {N_INPUTS} pixels"
        )
    for n, k in zip(body, kinds):
        if k not in _WEIGHTS + _SPIKING + _READOUTS:
            raise NIRError(
                f"node {n!r}: {k} is not supported (icespike maps Affine/Linear, LIF/CubaLIF/IF, I/LI)"
            )
    # expected: W, spiking, W, [readout]
    if len(kinds) < 3 or kinds[0] not in _WEIGHTS or kinds[1] not in _SPIKING or kinds[2] not in _WEIGHTS:
        where = next(
            ((n, k) for n, k, want in zip(body, kinds, (_WEIGHTS, _SPIKING, _WEIGHTS)) if k not in want),
            (order[-1], "Output"),
        )
        raise NIRError(
            f"node {where[0]!r}: {where[1]} where icespike needs Input -> Affine/Linear -> LIF/CubaLIF/IF "
            "-> Affine/Linear [-> I/LI] -> Output"
        )
    if len(kinds) > 4 or (len(kinds) == 4 and kinds[3] not in _READOUTS):
        n = body[3]
        if kinds[3] in _SPIKING or (len(kinds) > 4 and kinds[4] in _SPIKING):
            raise NIRError(f"node {n!r}: a second hidden layer; the engine holds one hidden LIF layer")
        raise NIRError(
            f"node {n!r}: {kinds[3]} after the output layer; only an I or LI readout may follow it"
        )
    w_nodes = [nodes[body[0]], nodes[body[2]]]
    weights, biases = [], []
    for name, node in zip((body[0], body[2]), w_nodes):
        w = _arr(node, "weight", where=name)
        if w.ndim != 2:
            raise NIRError(f"node {name!r}: weight of shape {w.shape}; a dense layer needs 2 dimensions")
        weights.append(w.copy())
        b = _arr(node, "bias", w.shape[0], name) if isinstance(node, nir.Affine) else np.zeros(w.shape[0])
        biases.append(b.copy())
    h, o = weights[0].shape[0], weights[1].shape[0]
    if weights[0].shape[1] != N_INPUTS:
        raise NIRError(f"node {body[0]!r}: {weights[0].shape[1]} inputs; the engine takes {N_INPUTS} pixels")
    if weights[1].shape[1] != h:
        raise NIRError(f"node {body[2]!r}: {weights[1].shape[1]} inputs but the hidden layer has {h} neurons")
    if h < 2 or o < 1 or h > 4096 or o > 256:
        raise NIRError(
            f"node {body[1]!r}: {h} hidden and {o} output neurons; the engine holds 2..4096 and 1..256"
        )

    # hidden neuron
    name, node, kind = body[1], nodes[body[1]], kinds[1]
    try:
        thr = _arr(node, "v_threshold", h)
        v_reset = _arr(node, "v_reset", h)
        r = _arr(node, "r", h)
        if kind == "IF":
            beta, gain = np.ones(h), r  # v += r * I
            step = None
        else:
            tau = _arr(node, "tau" if kind == "LIF" else "tau_mem", h) / tau_unit
            v_leak = _arr(node, "v_leak", h)
            if np.any(tau <= 0):
                raise NIRError("tau must be positive")
            if np.any(v_leak != 0):
                raise NIRError("v_leak != 0: the engine's membrane leaks toward 0")
            if exporter == "spikingjelly" and not dt:
                raise NIRError("SpikingJelly writes tau = tau_steps * dt: give the exporter's dt (--dt)")
            step = float(dt) if dt else float(np.median(tau / r))  # snnTorch writes r = tau / dt
            beta = 1.0 - step / tau
            gain = step * r / tau
            if np.any(beta < 0) or np.any(beta > 1):
                raise NIRError(f"dt {step:g} gives beta outside [0, 1]")
            if kind == "CubaLIF":
                tau_syn = _arr(node, "tau_syn", h) / tau_unit
                alpha = 1.0 - step / tau_syn
                if np.any(np.abs(alpha) > 1e-9):
                    raise NIRError(
                        f"CubaLIF with a synaptic filter (alpha up to {float(alpha.max()):.4g}); "
                        "the engine's input current is not filtered (only alpha = 0 maps)"
                    )
                gain = gain * _arr(node, "w_in", h) * step / tau_syn
    except NIRError as e:
        raise NIRError(f"node {name!r}: {e}") from None
    if np.any(thr <= 0):
        raise NIRError(f"node {name!r}: threshold must be positive, got min {float(thr.min()):g}")
    if np.any(v_reset != 0):
        raise NIRError(f"node {name!r}: v_reset != 0; the engine resets by subtraction or to 0")
    if np.any(gain <= 0):
        raise NIRError(f"node {name!r}: input gain r must be positive")
    k_per = [leak_shift_for(float(b)) for b in beta]
    k, _ = leak_shift_for(float(np.mean(beta)))
    beta_k = 1.0 if k == 0 else 1.0 - 2.0**-k
    beta_err = float(np.max(np.abs(beta - beta_k)))
    # per-neuron gain and threshold fold into the neuron's input row: one engine threshold
    theta = float(np.median(thr))
    row = gain * theta / thr
    w0 = weights[0] * row[:, None]
    b0 = biases[0] * row
    # readout
    readout = "sum"
    readout_beta = 1.0
    if len(kinds) == 4:
        ro = nodes[body[3]]
        if kinds[3] == "LI":
            tau_o = _arr(ro, "tau", o, body[3]) / tau_unit
            step_o = (
                float(dt) if dt else (step if step else float(np.median(tau_o / _arr(ro, "r", o, body[3]))))
            )
            readout_beta = float(np.mean(1.0 - step_o / tau_o))
            readout = "LI"
        else:
            readout = "I"
    has_bias = any(np.any(b != 0) for b in biases)
    report = {
        "nodes": [f"{n}:{type(nodes[n]).__name__}" for n in order],
        "sizes": [N_INPUTS, h, o],
        "neuron": kind,
        "exporter": exporter,
        "dt": step,
        "beta": {"min": float(beta.min()), "max": float(beta.max()), "mean": float(beta.mean())},
        "leak_shift": k,
        "beta_engine": beta_k,
        "beta_error_max": beta_err,
        "leak_shift_per_neuron_differs": len({kk for kk, _ in k_per}) > 1,
        "threshold": theta,
        "threshold_per_neuron_folded": bool(np.any(thr != theta)),
        "input_gain": {"min": float(gain.min()), "max": float(gain.max())},
        "reset": reset,
        "reset_note": "NIR's LIF resets to v_reset; the reset mechanism is not in the graph "
        f"(snnTorch's Leaky subtracts): used {reset!r}",
        "readout": readout,
        "readout_beta": readout_beta,
        "biases": has_bias,
        "timesteps": timesteps,
    }
    if readout == "LI" and readout_beta != 1.0:
        report["readout_note"] = (
            f"LI readout leaks (beta {readout_beta:.4g}); the engine's output integrates without leak"
        )
    sim = {
        "w": [weights[0], weights[1]],
        "b": biases,
        "beta": beta,
        "gain": gain,
        "thr": thr,
        "reset": reset,
        "readout_beta": readout_beta,
    }
    return Imported(
        weights=[w0, weights[1]],
        biases=[b0, biases[1]] if has_bias else None,
        threshold=theta,
        leak_shift=k,
        reset=reset,
        timesteps=timesteps,
        report=report,
        simulate=sim,
    )


def to_model(imp: Imported, bits) -> SNNModel:
    """The trainable icespike model of an imported graph at ``bits`` (its PTQ at those bits)."""
    return SNNModel(
        imp.sizes,
        bits,
        timesteps=imp.timesteps,
        leak_shift=imp.leak_shift,
        reset=imp.reset,
        weights=imp.weights,
        theta_f=[imp.threshold],
        biases=imp.biases,
    )


def read_graph(path: str | Path, **kw) -> Imported:
    """Read a ``.nir`` file and map it (:func:`map_graph`); NIRError if unreadable or unmappable."""
    p = Path(path)
    if not p.is_file():
        raise NIRError(f"{p}: no such file")
    try:
        graph = nir.read(str(p))
    except Exception as e:  # h5py/nir raise many types on a foreign or damaged file
        raise NIRError(f"{p}: not a readable NIR graph ({type(e).__name__}: {e})") from None
    if not isinstance(graph, nir.NIRGraph):
        raise NIRError(f"{p}: holds a single {type(graph).__name__} node, not a graph")
    return map_graph(graph, **kw)


def float_accuracy(imp: Imported, images: np.ndarray, labels: np.ndarray, batch: int = 1000) -> float:
    """Accuracy of a float simulation of the graph's own parameters (not the contract's integers).

    Pixels x / 255 at every step; per neuron ``v = beta v + gain (W x + b)``, a spike where
    ``v > threshold`` (NIR's Heaviside); ``subtract``: the threshold is taken off at the next step
    (snnTorch's Leaky), ``zero``: v = 0 after a spike. The readout adds ``W1 s + b1`` over the
    steps (an LI readout with its leak).
    """
    s = imp.simulate
    w0, w1 = s["w"]
    b0, b1 = s["b"]
    beta, gain, thr = s["beta"], s["gain"], s["thr"]
    x_all = np.asarray(images).reshape(len(images), -1).astype(np.float64) / PIXEL_MAX
    correct = 0
    for i in range(0, len(x_all), batch):
        x = x_all[i : i + batch]
        cur = gain * (x @ w0.T + b0)
        v = np.zeros_like(cur)
        spk = np.zeros_like(cur)
        score = np.zeros((len(x), w1.shape[0]))
        for _ in range(imp.timesteps):
            if s["reset"] == "subtract":
                v = beta * v + cur - spk * thr
            else:
                v = beta * v * (1.0 - spk) + cur
            spk = (v > thr).astype(np.float64)
            score = s["readout_beta"] * score + spk @ w1.T + b1
        correct += int((np.argmax(score, axis=1) == labels[i : i + batch]).sum())
    return correct / max(1, len(x_all))


def to_graph(net: IntNetwork, scales: list[float], *, dt: float = 1e-4) -> nir.NIRGraph:
    """The integer network as a NIR graph in icespike's float units (``s * q``; the unit u of
    docs/arithmetic.md for threshold and biases); ``tau = dt * 2^k`` for the leak shift k."""
    if len(net.layers) != 2:
        raise NIRError(f"NIR export writes one hidden layer; this network has {len(net.layers) - 1}")
    h, o = net.layers
    s0, s1 = float(scales[0]), float(scales[1])
    u0 = s0 / PIXEL_MAX
    n_h, n_o = h.n_out, o.n_out
    w0 = h.codes.astype(np.float64) * s0
    w1 = o.codes.astype(np.float64) * s1
    thr = np.full(n_h, h.threshold * u0)
    zeros = np.zeros(n_h)
    if h.leak_shift == 0:
        neuron = nir.IF(r=np.ones(n_h), v_threshold=thr, v_reset=zeros)
    else:
        tau = np.full(n_h, dt * 2.0**h.leak_shift)
        neuron = nir.LIF(tau=tau, r=tau / dt, v_leak=zeros, v_threshold=thr, v_reset=zeros)
    if net.has_bias:
        l0 = nir.Affine(weight=w0, bias=h.bias.astype(np.float64) * u0)
        l1 = nir.Affine(weight=w1, bias=o.bias.astype(np.float64) * s1)
    else:
        l0, l1 = nir.Linear(weight=w0), nir.Linear(weight=w1)
    nodes = {
        "input": nir.Input(input_type={"input": np.array([h.n_in])}),
        "fc1": l0,
        "lif1": neuron,
        "fc2": l1,
        "output": nir.Output(output_type={"output": np.array([n_o])}),
    }
    edges = [("input", "fc1"), ("fc1", "lif1"), ("lif1", "fc2"), ("fc2", "output")]
    meta = {
        "icespike": {
            "timesteps": int(net.timesteps),
            "reset": h.reset,
            "bits": [int(h.bits), int(o.bits)],
            "leak_shift": int(h.leak_shift),
            "input": "pixels / 255 at every time step; readout: sum of the last layer over the steps",
        }
    }
    g = nir.NIRGraph(nodes=nodes, edges=edges, metadata=meta)
    return g
