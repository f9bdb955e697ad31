"""The seed tutorial's API: one quantisation-aware spiking layer, its training step, ternary weights.

``QuantizedSNNLayer`` is a single LIF layer with fake-quantised weights (16/8/4-bit with a
max-abs or fixed Qm.n scale, ternary (TWN) or binary), driven by an arbitrary float input
vector that is constant over ``timesteps`` steps. ``quantize_aware_train_step`` runs it, takes
a real surrogate-gradient step (BPTT over the time steps, fast-sigmoid surrogate through the
spike, straight-through estimator through the quantiser) and returns the loss, gradient norm
and output spike rates. ``TernaryWeights`` is the TWN quantiser with real 2-bit packing in
the contract's code patterns (00 = 0, 01 = +1, 11 = -1).

This layer works in float units (its inputs are arbitrary reals, not pixels); the
network-level trainer that users train hardware models with is :mod:`icespike.train`, which
computes in the contract's integer units. A stack of these layers cannot be trained by
feeding every layer the same batch and labels (the seed tutorial's loop): the second layer
of such a stack refuses the 784-wide input with a ValueError.
"""

from __future__ import annotations

import math

import numpy as np

from .fixed import round_half_up
from .formats import weight_format
from .quant import Quantizer, check_weights

__all__ = ["QuantizedSNNLayer", "quantize_aware_train_step", "TernaryWeights", "tau_to_leak_shift"]


def tau_to_leak_shift(tau_mem: float) -> int:
    """The contract's leak shift for a membrane time constant: ``k = round(log2(tau_mem))``."""
    t = float(tau_mem)
    if not math.isfinite(t) or t < 1.0:
        raise ValueError(f"tau_mem must be a finite number >= 1 (time steps), got {tau_mem!r}")
    return int(round_half_up(math.log2(t)))


def _positive(name, v):
    try:
        f = float(v)
    except (TypeError, ValueError):
        raise ValueError(f"{name} must be a number, got {v!r}") from None
    if not math.isfinite(f) or f <= 0:
        raise ValueError(f"{name} must be a positive finite number, got {v!r}")
    return f


def _count(name, v):
    if isinstance(v, bool) or not isinstance(v, (int, np.integer)) or v < 1:
        raise ValueError(f"{name} must be a positive integer, got {v!r}")
    return int(v)


class QuantizedSNNLayer:
    """A LIF layer whose weights are fake-quantised to ``weight_bits`` in the forward pass.

    Parameters: ``n_inputs``, ``n_neurons``; ``weight_bits`` in {16, 8, 4, 2, 1} (2 = ternary,
    1 = binary); ``threshold`` (float firing threshold); ``tau_mem`` (membrane time constant in
    steps: leak ``v -= v * 2^-k`` with ``k = round(log2(tau_mem))``, 20 -> k = 4);
    ``timesteps`` (steps per input); ``scale`` ('maxabs' or, for 16/8/4 bits, the seed's
    fixed Qm.n 'fixed'); ``threshold_ratio`` (TWN); ``surrogate_slope``; ``seed``.

    ``weights`` is the latent float matrix (n_neurons, n_inputs) that training updates.
    """

    def __init__(
        self,
        n_inputs: int = 784,
        n_neurons: int = 128,
        weight_bits: int = 8,
        threshold: float = 1.0,
        tau_mem: float = 20.0,
        *,
        timesteps: int = 16,
        scale: str = "maxabs",
        threshold_ratio: float = 0.7,
        surrogate_slope: float = 5.0,
        seed: int | None = 0,
    ):
        self.n_inputs = _count("n_inputs", n_inputs)
        self.n_neurons = _count("n_neurons", n_neurons)
        fmt = weight_format(weight_bits)  # ValueError naming 16, 8, 4, 2, 1
        self.weight_bits = fmt.bits
        self.threshold = _positive("threshold", threshold)
        self.tau_mem = _positive("tau_mem", tau_mem)
        self.leak_shift = tau_to_leak_shift(self.tau_mem)
        self.timesteps = _count("timesteps", timesteps)
        self.surrogate_slope = _positive("surrogate_slope", surrogate_slope)
        self.quantizer = Quantizer(fmt.bits, scale, threshold_ratio)
        rng = np.random.default_rng(seed)
        lim = 1.0 / math.sqrt(self.n_inputs)
        self.weights = rng.uniform(-lim, lim, size=(self.n_neurons, self.n_inputs))

    @property
    def beta(self) -> float:
        """Leak factor per step, ``1 - 2^-k`` (1.0 when k = 0)."""
        return 1.0 - 2.0**-self.leak_shift if self.leak_shift else 1.0

    def __repr__(self) -> str:
        return (
            f"QuantizedSNNLayer(n_inputs={self.n_inputs}, n_neurons={self.n_neurons}, "
            f"weight_bits={self.weight_bits}, threshold={self.threshold}, tau_mem={self.tau_mem})"
        )

    # ------------------------------------------------------------------ weights
    def set_weights(self, w) -> None:
        a = check_weights(w, "weights")
        if a.shape != (self.n_neurons, self.n_inputs):
            raise ValueError(f"weights must have shape {(self.n_neurons, self.n_inputs)}, got {a.shape}")
        self.weights = a.copy()

    def quantized_codes(self) -> np.ndarray:
        """Integer weight codes (int64, n_neurons x n_inputs) in the layer's format."""
        return self.quantizer(self.weights).int_codes()

    @property
    def scale(self) -> float:
        """The per-layer scale ``s`` (float weight = s * code)."""
        return self.quantizer(self.weights).scale

    def export_weights(self) -> np.ndarray:
        """Weights at the target precision: ``scale * code`` (float64, on the quantisation grid)."""
        r = self.quantizer(self.weights)
        return r.scale * r.codes

    # ------------------------------------------------------------------ forward
    def _check_x(self, x) -> tuple[np.ndarray, bool]:
        a = np.asarray(x)
        if a.dtype.kind not in "fiub":
            raise ValueError(f"input must be numeric, got dtype {a.dtype}")
        single = a.ndim == 1
        a = a.astype(np.float64)
        if single:
            a = a[None, :]
        if a.ndim != 2 or a.shape[1] != self.n_inputs or a.shape[0] == 0:
            raise ValueError(
                f"input must have shape ({self.n_inputs},) or (batch, {self.n_inputs}), got {np.asarray(x).shape}"
            )
        if not np.all(np.isfinite(a)):
            raise ValueError("input contains NaN or infinity")
        return a, single

    def _run(self, x: np.ndarray, keep: bool):
        r = self.quantizer(self.weights)
        wq = r.scale * r.codes
        cur = x @ wq.T  # constant input current over the time steps
        T, th, beta = self.timesteps, self.threshold, self.beta
        v = np.zeros_like(cur)
        V2 = np.empty((T, *cur.shape)) if keep else None
        S = np.empty((T, *cur.shape))
        for t in range(T):
            v = beta * v + cur
            s = v >= th
            S[t] = s
            if keep:
                V2[t] = v
            v = v - S[t] * th
        return S, V2, r

    def forward(self, x) -> np.ndarray:
        """Output spike rates (fraction of the time steps each neuron spiked), shaped like x's batch."""
        a, single = self._check_x(x)
        S, _, _ = self._run(a, keep=False)
        rates = S.mean(axis=0)
        return rates[0] if single else rates


def _targets(
    layer: QuantizedSNNLayer, target, batch: int, single: bool
) -> tuple[np.ndarray, np.ndarray | None]:
    """Rate targets (batch, n_neurons) from a rate vector/matrix or from integer class labels."""
    t = np.asarray(target)
    labels = None
    if t.dtype.kind in "iu" and t.ndim == (0 if single else 1):
        labels = t.reshape(-1).astype(np.int64)
        if len(labels) != batch:
            raise ValueError(f"got {len(labels)} labels for a batch of {batch}")
        if labels.min() < 0 or labels.max() >= layer.n_neurons:
            raise ValueError(f"labels must be in 0..{layer.n_neurons - 1} (one per output neuron)")
        tt = np.zeros((batch, layer.n_neurons))
        tt[np.arange(batch), labels] = 1.0
        return tt, labels
    if t.dtype.kind not in "fiub":
        raise ValueError(f"target must be numeric, got dtype {t.dtype}")
    tt = t.astype(np.float64)
    if single and tt.ndim == 1:
        tt = tt[None, :]
    if tt.shape != (batch, layer.n_neurons):
        raise ValueError(
            f"target must have shape {(layer.n_neurons,) if single else (batch, layer.n_neurons)} "
            f"(spike-rate targets) or be integer labels, got {t.shape}"
        )
    if not np.all(np.isfinite(tt)):
        raise ValueError("target contains NaN or infinity")
    return tt, labels


def quantize_aware_train_step(layer: QuantizedSNNLayer, x, target, lr: float = 0.01) -> dict:
    """One quantisation-aware SGD step of ``layer`` on one sample or a batch.

    ``x``: (n_inputs,) or (batch, n_inputs) floats, constant over the time steps.
    ``target``: spike-rate targets shaped like the output ((n_neurons,) or (batch, n_neurons),
    e.g. one-hot), or integer class labels (a scalar or (batch,)) meaning one-hot targets.
    Loss: per-sample sum of squared rate errors, averaged over the batch. Gradient:
    BPTT through the ``timesteps`` steps with a fast-sigmoid surrogate for the spike and the
    straight-through estimator through the weight quantiser; update ``w -= lr * grad``.

    Returns a dict: ``loss`` (before the step), ``grad_norm`` (Frobenius norm of the weight
    gradient), ``output`` (spike rates before the step, shaped like the target), ``spikes``
    (total output spikes), ``accuracy`` (with labels, or argmax agreement with the target).
    """
    if not isinstance(layer, QuantizedSNNLayer):
        raise ValueError(f"layer must be a QuantizedSNNLayer, got {type(layer).__name__}")
    lr = _positive("lr", lr)
    xa, single = layer._check_x(x)
    B = xa.shape[0]
    tt, labels = _targets(layer, target, B, single)
    S, V2, r = layer._run(xa, keep=True)
    T, th, beta, a = layer.timesteps, layer.threshold, layer.beta, layer.surrogate_slope
    rates = S.mean(axis=0)
    err = rates - tt
    loss = float((err**2).sum(axis=1).mean())
    g_rate = 2.0 * err / B
    g_s = g_rate / T  # d loss / d spike at every step
    gv = np.zeros_like(rates)
    g_cur = np.zeros_like(rates)
    for t in range(T - 1, -1, -1):
        sg = 1.0 / (th * (1.0 + a * np.abs(V2[t] - th) / th) ** 2)
        gv2 = gv + sg * g_s  # reset path detached
        g_cur += gv2
        gv = beta * gv2
    g_wq = g_cur.T @ xa  # d loss / d (s * q)
    g_w = Quantizer.backward(g_wq * r.scale, r)  # straight through: d/dw = d/d(s q) (masked)
    grad_norm = float(np.sqrt((g_w**2).sum()))
    layer.weights = layer.weights - lr * g_w
    pred = np.argmax(rates, axis=1)
    ref = labels if labels is not None else np.argmax(tt, axis=1)
    out = rates[0] if single else rates
    return {
        "loss": loss,
        "grad_norm": grad_norm,
        "output": out,
        "spikes": int(S.sum()),
        "accuracy": float((pred == ref).mean()),
        "weight_bits": layer.weight_bits,
    }


class TernaryWeights:
    """Ternary weight quantiser (TWN rule) with real 2-bit packing.

    ``quantize(w)``: codes in {-1, 0, +1} (int32), ``q = sign(w) * (|w| > r * mean|w|)``;
    ``scale(w)``: ``mean(|w| : |w| > delta)``; ``sparsity(w)``: fraction of zero codes;
    ``pack(t)``: uint8 array, four codes per byte (code i in bits 2*(i % 4) + 1 .. 2*(i % 4),
    patterns 00 = 0, 01 = +1, 11 = -1), so a 128 x 784 layer takes 25,088 bytes;
    ``unpack(packed, shape)``: the codes back.
    """

    def __init__(self, threshold_ratio: float = 0.7):
        r = _positive("threshold_ratio", threshold_ratio)
        if r > 1.0:
            raise ValueError(f"threshold_ratio must be in (0, 1], got {threshold_ratio!r}")
        self.threshold_ratio = r
        self._q = Quantizer(2, threshold_ratio=r)
        self._fmt = weight_format(2)

    def __repr__(self) -> str:
        return f"TernaryWeights(threshold_ratio={self.threshold_ratio})"

    def quantize(self, w) -> np.ndarray:
        a = check_weights(w, "weights", ndim=None)
        return self._q(a).codes.astype(np.int32)

    def scale(self, w) -> float:
        return self._q(check_weights(w, "weights", ndim=None)).scale

    def sparsity(self, w) -> float:
        return float((self.quantize(w) == 0).mean())

    def pack(self, t) -> np.ndarray:
        c = np.asarray(t)
        if c.dtype.kind not in "iu":
            raise ValueError(f"ternary codes must be integers, got dtype {c.dtype}")
        flat = c.reshape(-1).astype(np.int64)
        pat = self._fmt.encode(flat).astype(np.uint8)  # raises on codes outside -1..1
        pad = (-len(pat)) % 4
        if pad:
            pat = np.concatenate([pat, np.zeros(pad, np.uint8)])
        p4 = pat.reshape(-1, 4)
        return (p4[:, 0] | (p4[:, 1] << 2) | (p4[:, 2] << 4) | (p4[:, 3] << 6)).astype(np.uint8)

    def unpack(self, packed, shape) -> np.ndarray:
        p = np.asarray(packed)
        if p.dtype != np.uint8 or p.ndim != 1:
            raise ValueError(f"packed ternary data must be a 1-D uint8 array, got {p.dtype} {p.shape}")
        shape = tuple(int(s) for s in np.atleast_1d(shape))
        n = int(np.prod(shape))
        if len(p) != (n + 3) // 4:
            raise ValueError(f"{len(p)} packed bytes do not hold {n} codes (need {(n + 3) // 4})")
        pat = np.stack([(p >> (2 * i)) & 3 for i in range(4)], axis=1).reshape(-1)
        if np.any(pat[n:] != 0):
            raise ValueError("packed ternary data has non-zero padding bits")
        return self._fmt.decode(pat[:n]).astype(np.int32).reshape(shape)
