"""Network-level quantisation-aware training: surrogate-gradient BPTT in integer units (numpy).

The forward pass is the contract's integer arithmetic (docs/arithmetic.md), computed on
float64 arrays that hold integers (every magnitude is below 2**53, asserted):

* layer 0: ``I0 = x @ q0^T`` with pixels ``x`` in 0..255 and integer codes ``q0`` (fake
  quantised), computed once per image;
* hidden LIF layers: floor-shift leak, integrate, saturate to the contract's ``MEM_W``, fire at
  the folded integer threshold ``theta = round_half_up(theta_f / u)``, reset by subtraction
  (or to zero);
* the output layer integrates its current over the ``T`` steps: ``score = counts @ q_out^T``;
  the class is ``argmax(score)``, lowest index on ties.

So the predictions of :meth:`SNNModel.predict` and of ``icespike.golden.run`` on
:meth:`SNNModel.to_int_network` are identical for every quantised model. The float model
(no quantisation) runs the same arithmetic on unrounded codes in the q16 grid's units.

Backward: straight-through estimator through the quantiser (``dL/dw = dL/dq / s``), a fast
sigmoid surrogate for the spike (``d spike / d v = 1 / (theta (1 + a |v - theta| / theta)^2)``),
the leak's floor passed straight through (``d v1 / d v = 1 - 2^-k``), saturation blocking the
gradient where it clamps, and BPTT over all ``T`` steps. The loss is the cross-entropy of
``logits = gain * s_out * score`` (the float value of the output integrator).
"""

from __future__ import annotations

import contextlib
import ctypes
import glob
import math
import os
import time
from dataclasses import asdict, dataclass, field

import numpy as np

from . import fixed
from .network import PIXEL_MAX, RESET_MODES, IntLayer, IntNetwork
from .quant import Quantizer, QuantResult, bits_name, parse_bits

__all__ = [
    "TrainConfig",
    "SNNModel",
    "Adam",
    "Trainer",
    "evaluate",
    "spike_rates",
    "cross_entropy",
    "F64_EXACT",
]

F64_EXACT = 2.0**53
F32_EXACT = 2.0**24


def _kernels():
    """The compiled loops (:mod:`icespike.trainkernels`), imported on first use: importing numba
    takes a second or more, which commands that only load checkpoints should not pay."""
    from . import trainkernels

    return trainkernels


def _int_matmul(a: np.ndarray, codes: np.ndarray, bound: float, exact: bool) -> np.ndarray:
    """``a @ codes.T`` as float64. When ``exact`` (both hold integers) and ``bound`` (a bound on
    every partial sum's magnitude) is below 2**24, the product runs in float32, where every
    such sum is exact, so the result equals float64's; otherwise it runs in float64."""
    if exact and bound < F32_EXACT:
        return np.matmul(a.astype(np.float32), codes.T.astype(np.float32)).astype(np.float64)
    return a @ codes.T


def _openblas_handles():
    """(get, set) thread-count functions of numpy's bundled OpenBLAS, or None if not found."""
    libdir = os.path.join(os.path.dirname(os.path.dirname(np.__file__)), "numpy.libs")
    for path in glob.glob(os.path.join(libdir, "libscipy_openblas*.so*")):
        try:
            lib = ctypes.CDLL(path)
        except OSError:
            continue
        for suffix in ("64_", "_64_", ""):
            get = getattr(lib, f"scipy_openblas_get_num_threads{suffix}", None)
            set_ = getattr(lib, f"scipy_openblas_set_num_threads{suffix}", None)
            if get is not None and set_ is not None:
                get.restype = ctypes.c_int
                set_.argtypes = [ctypes.c_int]
                return get, set_
    return None


_BLAS = _openblas_handles()


@contextlib.contextmanager
def blas_threads(n: int):
    """Run the block with ``n`` BLAS threads (numpy's bundled OpenBLAS; a no-op elsewhere).

    Training uses one thread: its matrix products are small (batch x 784 x H), and on a
    machine shared with other jobs OpenBLAS's spinning worker threads cost far more than
    they save (measured: 8.8k vs 1.1k images/s with the other core busy).
    """
    if _BLAS is None:
        yield
        return
    get, set_ = _BLAS
    old = get()
    set_(int(n))
    try:
        yield
    finally:
        set_(old)


@dataclass
class TrainConfig:
    """Every setting of a training run (recorded in the checkpoint manifest)."""

    bits: str | int = "float"
    epochs: int = 10
    timesteps: int = 16
    hidden: tuple[int, ...] = (128,)
    seed: int = 0
    batch_size: int = 128
    lr: float = 2e-3
    lr_final: float = 0.0  # cosine schedule from lr down to lr_final over all epochs
    schedule: str = "cosine"  # or "constant"
    leak_shift: int = 4
    reset: str = "subtract"
    scale: str = "maxabs"
    threshold_ratio: float = 0.7
    threshold_init: float = 1.0
    learn_threshold: bool = True
    surrogate_slope: float = 2.0
    detach_reset: bool = True
    gain: float = 1.0
    augment: int = 0  # random shift of up to this many pixels (0 = off)
    train_subset: int | None = None  # use only the first N training images
    init: str | None = None  # checkpoint the weights were initialised from

    def validate(self) -> None:
        self.bits = parse_bits(self.bits)
        self.hidden = tuple(int(h) for h in self.hidden)
        _pos_int("epochs", self.epochs)
        _pos_int("timesteps", self.timesteps)
        if self.timesteps > 255:
            raise ValueError(f"timesteps must be in 1..255, got {self.timesteps}")
        if not self.hidden:
            raise ValueError("at least one hidden layer is needed")
        for h in self.hidden:
            _pos_int("hidden size", h)
        _pos_int("batch_size", self.batch_size)
        for name in ("lr", "surrogate_slope", "gain", "threshold_init"):
            v = getattr(self, name)
            if not (isinstance(v, (int, float)) and math.isfinite(v) and v > 0):
                raise ValueError(f"{name} must be a positive finite number, got {v!r}")
        if not (math.isfinite(self.lr_final) and self.lr_final >= 0):
            raise ValueError(f"lr_final must be >= 0, got {self.lr_final!r}")
        if self.schedule not in ("cosine", "constant"):
            raise ValueError(f"schedule must be 'cosine' or 'constant', got {self.schedule!r}")
        if self.reset not in RESET_MODES:
            raise ValueError(f"reset must be one of {RESET_MODES}, got {self.reset!r}")
        if not isinstance(self.leak_shift, (int, np.integer)) or not 0 <= self.leak_shift <= 16:
            raise ValueError(f"leak_shift must be an integer in 0..16, got {self.leak_shift!r}")
        if not isinstance(self.augment, (int, np.integer)) or not 0 <= self.augment <= 4:
            raise ValueError(f"augment must be an integer shift in 0..4 pixels, got {self.augment!r}")
        if self.train_subset is not None:
            _pos_int("train_subset", self.train_subset)
        Quantizer(self.bits, self.scale, self.threshold_ratio)  # validates scale and ratio

    def to_dict(self) -> dict:
        d = asdict(self)
        d["hidden"] = list(self.hidden)
        return d

    @classmethod
    def from_dict(cls, d: dict) -> TrainConfig:
        known = {f for f in cls.__dataclass_fields__}
        unknown = set(d) - known
        if unknown:
            raise ValueError(f"unknown training settings: {sorted(unknown)}")
        kw = dict(d)
        if "hidden" in kw:
            kw["hidden"] = tuple(kw["hidden"])
        return cls(**kw)


def _pos_int(name, v, allow_zero=False):
    ok = isinstance(v, (int, np.integer)) and not isinstance(v, bool) and (v >= 0 if allow_zero else v >= 1)
    if not ok:
        raise ValueError(
            f"{name} must be a {'non-negative' if allow_zero else 'positive'} integer, got {v!r}"
        )


def _template(
    sizes: list[int], export_bits: int, timesteps: int, leak_shift: int, reset: str, bias: bool
) -> IntNetwork:
    """An IntNetwork of this shape and format, for the contract's widths (membranes, biases)."""
    layers = []
    for i in range(len(sizes) - 1):
        hidden = i < len(sizes) - 2
        layers.append(
            IntLayer(
                codes=np.ones((sizes[i + 1], sizes[i]), np.int64),
                bits=export_bits,
                threshold=1 if hidden else None,
                leak_shift=leak_shift if hidden else 0,
                reset=reset,
                bias=np.zeros(sizes[i + 1], np.int64) if bias else None,
            )
        )
    return IntNetwork(layers, timesteps)


def cross_entropy(logits: np.ndarray, labels: np.ndarray) -> tuple[float, np.ndarray]:
    """Mean cross-entropy and its gradient w.r.t. logits ((B, C) float, (B,) int)."""
    z = logits - logits.max(axis=1, keepdims=True)
    e = np.exp(z)
    p = e / e.sum(axis=1, keepdims=True)
    n = len(labels)
    loss = float(-np.log(p[np.arange(n), labels] + 1e-300).mean())
    g = p
    g[np.arange(n), labels] -= 1.0
    return loss, g / n


@dataclass
class _Cache:
    x: np.ndarray
    qr: list
    thetas: list
    v2: list = field(default_factory=list)  # per hidden layer (T, B, H): membrane after saturation
    spikes: list = field(default_factory=list)  # per hidden layer (T, B, H)
    sat: list = field(default_factory=list)  # per hidden layer: None or bool mask of saturated steps
    counts: np.ndarray | None = None


class SNNModel:
    """A layered LIF network with latent float weights, trained in the contract's integer units.

    weights[l]: float64 (n_out, n_in); theta_f[l]: float threshold of hidden layer l.
    """

    def __init__(
        self,
        sizes,
        bits="float",
        *,
        timesteps: int = 16,
        leak_shift: int = 4,
        reset: str = "subtract",
        scale: str = "maxabs",
        threshold_ratio: float = 0.7,
        weights=None,
        theta_f=None,
        threshold_init: float = 1.0,
        surrogate_slope: float = 2.0,
        detach_reset: bool = True,
        gain: float = 1.0,
        biases=None,
        rng=None,
    ):
        sizes = [int(s) for s in sizes]
        if len(sizes) < 3 or min(sizes) < 1:
            raise ValueError(f"sizes must be [n_in, hidden..., n_out] with positive entries, got {sizes}")
        self.sizes = sizes
        self.quantizer = Quantizer(bits, scale, threshold_ratio)
        self.timesteps = int(timesteps)
        self.leak_shift = int(leak_shift)
        self.reset = reset
        self.surrogate_slope = float(surrogate_slope)
        self.detach_reset = bool(detach_reset)
        self.gain = float(gain)
        self._work: dict = {}  # reused work arrays of the backward pass (see _scratch)
        tmpl = _template(
            sizes, self.quantizer.export_bits, self.timesteps, self.leak_shift, reset, biases is not None
        )
        self.mem_widths = [tmpl.mem_width(i) for i in range(len(sizes) - 2)]
        self.bias_ranges = [fixed.signed_range(tmpl.bias_width(i)) for i in range(len(sizes) - 1)]
        if weights is None:
            rng = np.random.default_rng(0) if rng is None else rng
            weights = []
            for i in range(len(sizes) - 1):
                lim = 1.0 / math.sqrt(sizes[i])
                weights.append(rng.uniform(-lim, lim, size=(sizes[i + 1], sizes[i])))
        self.weights = [np.array(w, dtype=np.float64) for w in weights]
        for i, w in enumerate(self.weights):
            if w.shape != (sizes[i + 1], sizes[i]):
                raise ValueError(f"layer {i}: weights shape {w.shape}, expected {(sizes[i + 1], sizes[i])}")
            if not np.all(np.isfinite(w)):
                raise ValueError(f"layer {i}: weights contain NaN or infinity")
        if theta_f is None:
            theta_f = [float(threshold_init)] * (len(sizes) - 2)
        self.theta_f = [float(t) for t in theta_f]
        # float biases per layer (in the float model's units), or None for a bias-free network
        self.biases = None if biases is None else [np.array(b, dtype=np.float64) for b in biases]
        if self.biases is not None:
            if len(self.biases) != len(sizes) - 1:
                raise ValueError(f"biases: expected {len(sizes) - 1} layers, got {len(self.biases)}")
            for i, b in enumerate(self.biases):
                if b.shape != (sizes[i + 1],) or not np.all(np.isfinite(b)):
                    raise ValueError(
                        f"layer {i}: bias must be {sizes[i + 1]} finite floats, got shape {b.shape}"
                    )
        if len(self.theta_f) != len(sizes) - 2 or not all(math.isfinite(t) and t > 0 for t in self.theta_f):
            raise ValueError(f"theta_f must hold one positive threshold per hidden layer, got {theta_f}")

    # ------------------------------------------------------------------ quantisation
    @property
    def bits(self):
        return self.quantizer.bits

    @property
    def n_hidden_layers(self) -> int:
        return len(self.sizes) - 2

    def quantize(self) -> list[QuantResult]:
        return [self.quantizer(w) for w in self.weights]

    def units(self, qr: list[QuantResult]) -> list[float]:
        """Float value of one integer membrane unit of every hidden layer (u0 = s0/255, ul = sl)."""
        return [qr[0].scale / PIXEL_MAX] + [qr[i].scale for i in range(1, self.n_hidden_layers)]

    def int_thresholds(self, qr: list[QuantResult]) -> list[int]:
        """theta = round_half_up(theta_f / u), clamped to [1, 2^(MEM_W-1) - 1]."""
        out = []
        for li, u in enumerate(self.units(qr)):
            hi = fixed.signed_range(self.mem_widths[li])[1]
            th = fixed.round_half_up(self.theta_f[li] / u)
            out.append(int(min(max(th, 1), hi)))
        return out

    def bias_units(self, qr: list[QuantResult]) -> list[float]:
        """Float value of one integer current unit of every layer (hidden: :meth:`units`; output: s_out)."""
        return self.units(qr) + [qr[-1].scale]

    def int_biases(self, qr: list[QuantResult]) -> list[np.ndarray] | None:
        """b = round_half_up(b_f / u), clamped to the bias range of each layer; None without biases."""
        if self.biases is None:
            return None
        out = []
        for b, u, (lo, hi) in zip(self.biases, self.bias_units(qr), self.bias_ranges):
            out.append(np.clip(fixed.round_half_up(b / u), lo, hi).astype(np.int64))
        return out

    def with_bits(self, bits, **kw) -> SNNModel:
        """A copy of this model (same latent weights and thresholds) with another quantiser (PTQ)."""
        args = dict(
            timesteps=self.timesteps,
            leak_shift=self.leak_shift,
            reset=self.reset,
            scale=self.quantizer.scale_mode if parse_bits(bits) in (16, 8, 4) else "maxabs",
            threshold_ratio=self.quantizer.threshold_ratio,
            weights=[w.copy() for w in self.weights],
            theta_f=list(self.theta_f),
            surrogate_slope=self.surrogate_slope,
            detach_reset=self.detach_reset,
            gain=self.gain,
            biases=None if self.biases is None else [b.copy() for b in self.biases],
        )
        args.update(kw)
        return SNNModel(self.sizes, bits, **args)

    def to_int_network(self, meta: dict | None = None) -> IntNetwork:
        """The integer network the hardware runs (float models export to q16 with max-abs scale)."""
        qr = self.quantize()
        th = self.int_thresholds(qr)
        ib = self.int_biases(qr)
        layers = []
        for li, r in enumerate(qr):
            hidden = li < self.n_hidden_layers
            layers.append(
                IntLayer(
                    codes=r.int_codes(),
                    bits=self.quantizer.export_bits,
                    threshold=th[li] if hidden else None,
                    leak_shift=self.leak_shift if hidden else 0,
                    reset=self.reset,
                    bias=None if ib is None else ib[li],
                )
            )
        m = {"bits": bits_name(self.bits), "scales": [r.scale for r in qr], "theta_f": list(self.theta_f)}
        if meta:
            m.update(meta)
        return IntNetwork(layers, self.timesteps, meta=m)

    # ------------------------------------------------------------------ forward
    def forward(self, x, *, keep: bool = False):
        """Integer-unit forward pass on pixels ``x`` ((B, n_in) integers 0..255).

        Returns ``(scores, cache)``: scores (B, n_out) float64 holding the integer output
        scores (exactly the golden model's for quantised models); cache is None unless keep.
        """
        x = np.asarray(x)
        if x.ndim != 2 or x.shape[1] != self.sizes[0]:
            raise ValueError(f"input must have shape (B, {self.sizes[0]}), got {x.shape}")
        xf = x.astype(np.float64)
        qr = self.quantize()
        thetas = self.int_thresholds(qr)
        ib = self.int_biases(qr)
        bias = [0.0] * len(qr) if ib is None else [b.astype(np.float64) for b in ib]
        T = self.timesteps
        cache = _Cache(x=xf, qr=qr, thetas=thetas) if keep else None
        # exactness: every partial sum below 2**53
        maxq = [float(np.abs(r.codes).max()) for r in qr]
        exact = self.quantizer.bits != "float"  # integer codes: float32 products are exact below 2**24
        if PIXEL_MAX * maxq[0] * self.sizes[0] >= F64_EXACT:
            raise fixed.ArithmeticError_("layer 0 current could exceed 2**53: not exact in float64")
        i_const = _int_matmul(xf, qr[0].codes, PIXEL_MAX * maxq[0] * self.sizes[0], exact) + bias[0]
        spikes_prev = None
        B = xf.shape[0]
        for li in range(self.n_hidden_layers):
            lo, hi = fixed.signed_range(self.mem_widths[li])
            assert hi < F64_EXACT
            theta = float(thetas[li])
            n = self.sizes[li + 1]
            if li == 0:
                cur = i_const.reshape(1, B, n)
            else:
                cur = _int_matmul(
                    spikes_prev.reshape(T * B, -1), qr[li].codes, maxq[li] * self.sizes[li], exact
                ).reshape(T, B, n)
                cur += bias[li]
            S = np.empty((T, B, n))
            V2 = np.empty((T, B, n))
            clipped = _kernels().lif_forward(
                cur, li == 0, V2, S, theta, float(lo), float(hi), self.leak_shift, self.reset == "subtract"
            )
            if keep:
                cache.v2.append(V2)
                cache.spikes.append(S)
                cache.sat.append((V2 <= lo) | (V2 >= hi) if clipped else None)
            spikes_prev = S
        counts = spikes_prev.sum(axis=0)
        scores = counts @ qr[-1].codes.T + T * bias[-1]
        if keep:
            cache.counts = counts
        return scores, cache

    def logits(self, scores: np.ndarray, qr: list[QuantResult]) -> np.ndarray:
        return scores * (qr[-1].scale * self.gain)

    def predict(self, x, batch_size: int = 2000) -> np.ndarray:
        """Class per image: argmax of the integer scores, lowest index on ties."""
        x = np.asarray(x)
        if x.ndim == 3:
            x = x.reshape(len(x), -1)
        preds = [
            np.argmax(self.forward(x[i : i + batch_size])[0], axis=1) for i in range(0, len(x), batch_size)
        ]
        return np.concatenate(preds).astype(np.int64) if preds else np.zeros(0, np.int64)

    # ------------------------------------------------------------------ backward
    def trainable(self) -> list[np.ndarray]:
        """The latent float arrays training updates in place: weights, then biases (if any)."""
        return list(self.weights) + ([] if self.biases is None else list(self.biases))

    def _scratch(self, key, shape: tuple[int, ...]) -> np.ndarray:
        """A float64 work array of ``shape`` kept between calls (contents undefined): the
        backward pass's per-step arrays are large, and a fresh allocation of each, every batch,
        costs more in page faults than the pass itself. Nothing held in one escapes the call."""
        buf = self._work.get(key)
        if buf is None or buf.shape != shape:
            buf = self._work[key] = np.empty(shape)
        return buf

    def backward(self, cache: _Cache, g_logits: np.ndarray) -> tuple[list[np.ndarray], list[float]]:
        """Gradients of the loss w.r.t. :meth:`trainable` and the float thresholds."""
        qr = cache.qr
        T = self.timesteps
        a = self.surrogate_slope
        beta = 1.0 - 2.0**-self.leak_shift if self.leak_shift else 1.0
        units = self.units(qr)
        g_score = g_logits * (qr[-1].scale * self.gain)  # d loss / d integer score
        grads_q = [None] * len(qr)
        grads_b = [None] * len(qr)  # d loss / d integer bias of every layer
        grads_b[-1] = T * g_score.sum(axis=0)
        g_theta = [0.0] * self.n_hidden_layers
        grads_q[-1] = g_score.T @ cache.counts
        g_s = g_score @ qr[-1].codes  # (B, H_last): same at every time step
        g_s_const = True
        for li in range(self.n_hidden_layers - 1, -1, -1):
            theta = float(cache.thetas[li])
            V2, S, sat = cache.v2[li], cache.spikes[li], cache.sat[li]
            B, n = V2.shape[1], V2.shape[2]
            subtract = self.reset == "subtract"
            detached = self.detach_reset
            # one step t = T-1 .. 0 per pass (trainkernels.lif_backward), with the fast-sigmoid
            # surrogate 1 / (theta (1 + a |v - theta| / theta)^2) computed as
            # (1/theta) / ((|v - theta| * (a/theta) + 1)^2), and per step, elementwise:
            #   subtract reset: PA = spike * gv; PB = sg * (gs, or gs - theta gv if attached);
            #                   gv2 = gv + PB
            #   reset to zero:  PB = sg * (gs, or gs - v gv if attached); gv2 = gv (1 - spike) + PB
            #   gv2 *= not saturated; gI += gv2 (layer 0) or gI[t] = gv2; gv = gv2 * beta
            gI = self._scratch(("gI", li), (1, B, n) if li == 0 else (T, B, n))
            if li == 0:
                gI.fill(0.0)
            PA = self._scratch(("PA", li), (T, B, n) if subtract else (1, 1, 1))
            PB = self._scratch(("PB", li), (T, B, n))
            # d loss / d spike is the same at every step: one product for the threshold term
            sg_once = subtract and detached and g_s_const
            SGsum = self._scratch(("SGsum", li), (B, n))
            gs_all = g_s.reshape(1, B, n) if g_s_const else g_s
            keep_mask = np.ones((1, 1, 1), bool) if sat is None else ~sat
            _kernels().lif_backward(
                V2, S, gs_all, g_s_const, keep_mask, sat is not None, theta, a, beta,
                subtract, detached, li == 0, gI, PA, PB, SGsum, sg_once,
            )  # fmt: skip
            gth = 0.0 - float((SGsum * g_s).sum()) if sg_once else 0.0
            for t in range(T - 1, -1, -1):  # the threshold gradient, summed step by step as before
                if subtract:
                    gth -= float(PA[t].sum())
                if not sg_once:
                    gth -= float(PB[t].sum())
            if li == 0:
                gI = gI[0]
            g_theta[li] = gth / units[li]
            grads_b[li] = gI.sum(axis=0) if li == 0 else gI.sum(axis=(0, 1))
            if li == 0:
                grads_q[0] = gI.T @ cache.x
            else:
                prev = cache.spikes[li - 1]
                grads_q[li] = gI.reshape(T * B, n).T @ prev.reshape(T * B, -1)
                g_s = gI @ qr[li].codes  # (T, B, H_prev)
                g_s_const = False
        grads_w = [Quantizer.backward(g, r) for g, r in zip(grads_q, qr)]
        if self.biases is not None:  # straight through the bias rounding: d/db_f = d/db / u
            grads_w += [g / u for g, u in zip(grads_b, self.bias_units(qr))]
        return grads_w, g_theta

    def loss_and_grads(self, x, labels):
        scores, cache = self.forward(x, keep=True)
        logits = self.logits(scores, cache.qr)
        loss, g = cross_entropy(logits, labels)
        gw, gt = self.backward(cache, g)
        acc = float((np.argmax(scores, axis=1) == labels).mean())
        return loss, acc, gw, gt


class Adam:
    """Adam over a list of arrays (and float scalars held as 0-d arrays)."""

    def __init__(self, params: list[np.ndarray], lr=1e-3, betas=(0.9, 0.999), eps=1e-8):
        self.lr = lr
        self.b1, self.b2 = betas
        self.eps = eps
        self.m = [np.zeros_like(p) for p in params]
        self.v = [np.zeros_like(p) for p in params]
        self.t = 0

    def step(self, params: list[np.ndarray], grads: list[np.ndarray], lr: float) -> None:
        self.t += 1
        c1 = 1.0 - self.b1**self.t
        c2 = 1.0 - self.b2**self.t
        step = lr / c1
        inv_c2 = 1.0 / math.sqrt(c2)
        for p, g, m, v in zip(params, grads, self.m, self.v):
            # per element: m = b1 m + (1 - b1) g; v = b2 v + (1 - b2) g^2;
            # p -= step * m / (sqrt(v) / sqrt(c2) + eps)   (compiled: trainkernels.adam_update)
            flat = [a if a.flags.c_contiguous else np.ascontiguousarray(a) for a in (p, m, v)]
            pf, mf, vf = (a.reshape(-1) for a in flat)
            gf = np.ascontiguousarray(g, dtype=np.float64).reshape(-1)
            _kernels().adam_update(pf, gf, mf, vf, self.b1, self.b2, inv_c2, self.eps, step)
            for a, f in zip((p, m, v), flat):
                if f is not a:  # a non-contiguous array was updated through a copy
                    a[...] = f

    def state(self) -> dict:
        return {"t": self.t, "m": [a.copy() for a in self.m], "v": [a.copy() for a in self.v]}

    def load_state(self, st: dict) -> None:
        if len(st["m"]) != len(self.m) or any(a.shape != b.shape for a, b in zip(st["m"], self.m)):
            raise ValueError("optimiser state does not match the model's parameters")
        self.t = int(st["t"])
        self.m = [np.array(a, dtype=np.float64) for a in st["m"]]
        self.v = [np.array(a, dtype=np.float64) for a in st["v"]]


def evaluate(model: SNNModel, images, labels, batch_size: int = 2000) -> float:
    """Accuracy of the model's own (integer-unit) forward pass."""
    p = model.predict(images, batch_size)
    y = np.asarray(labels)
    return float((p == y).mean()) if len(y) else float("nan")


def spike_rates(model: SNNModel, images, batch_size: int = 500) -> list[float]:
    """Mean spikes per neuron per time step of every hidden layer on ``images`` ((N, n_in) pixels)."""
    x = np.asarray(images).reshape(len(images), -1)
    tot = np.zeros(model.n_hidden_layers)
    for i in range(0, len(x), batch_size):
        _, cache = model.forward(x[i : i + batch_size], keep=True)
        tot += [float(s.sum()) for s in cache.spikes]
    per = [len(x) * model.timesteps * n for n in model.sizes[1:-1]]
    return [float(t / p) for t, p in zip(tot, per)] if len(x) else [float("nan")] * len(per)


def _augment(x: np.ndarray, shift: int, rng: np.random.Generator) -> np.ndarray:
    """Shift each 28x28 image by up to ``shift`` pixels in x and y (zero fill)."""
    B = len(x)
    side = int(round(math.sqrt(x.shape[1])))
    img = x.reshape(B, side, side)
    pad = np.zeros((B, side + 2 * shift, side + 2 * shift), x.dtype)
    pad[:, shift : shift + side, shift : shift + side] = img
    dy = rng.integers(0, 2 * shift + 1, B)
    dx = rng.integers(0, 2 * shift + 1, B)
    rows = dy[:, None] + np.arange(side)[None, :]
    cols = dx[:, None] + np.arange(side)[None, :]
    out = pad[np.arange(B)[:, None, None], rows[:, :, None], cols[:, None, :]]
    return out.reshape(B, -1)


class Trainer:
    """Mini-batch Adam training of an :class:`SNNModel` with a cosine learning-rate schedule.

    ``history`` holds one dict per finished epoch (loss, train/test accuracy, seconds,
    images/s, learning rate). ``state()``/``load_state()`` make a run resumable.
    """

    def __init__(self, model: SNNModel, cfg: TrainConfig):
        cfg.validate()
        self.model = model
        self.cfg = cfg
        self.opt = Adam(self._params(), lr=cfg.lr)
        self.epoch = 0
        self.history: list[dict] = []

    def _params(self) -> list[np.ndarray]:
        self._theta_arr = [np.array([t]) for t in self.model.theta_f]
        return self.model.trainable() + self._theta_arr

    def lr_at(self, step: int, total: int) -> float:
        c = self.cfg
        if c.schedule == "constant" or total <= 1:
            return c.lr
        return c.lr_final + 0.5 * (c.lr - c.lr_final) * (1.0 + math.cos(math.pi * step / total))

    def train_epoch(self, images: np.ndarray, labels: np.ndarray, progress=None) -> dict:
        c = self.cfg
        m = self.model
        x_all = images.reshape(len(images), -1)
        n = len(x_all)
        rng = np.random.default_rng([c.seed, self.epoch])
        order = rng.permutation(n)
        nb = (n + c.batch_size - 1) // c.batch_size
        total_steps = nb * c.epochs
        t0 = time.perf_counter()
        tot_loss = tot_acc = 0.0
        seen = 0
        with blas_threads(1):
            for b in range(nb):
                idx = order[b * c.batch_size : (b + 1) * c.batch_size]
                xb = x_all[idx]
                if c.augment:
                    xb = _augment(xb, c.augment, rng)
                yb = labels[idx].astype(np.int64)
                loss, acc, gw, gt = m.loss_and_grads(xb, yb)
                if not math.isfinite(loss):
                    raise FloatingPointError(f"training diverged (loss {loss}) in epoch {self.epoch}")
                lr = self.lr_at(self.epoch * nb + b, total_steps)
                params = m.trainable() + self._theta_arr
                grads = gw + [np.array([g]) if c.learn_threshold else np.zeros(1) for g in gt]
                self.opt.step(params, grads, lr)
                for i, ta in enumerate(self._theta_arr):
                    ta[0] = max(ta[0], 1e-6)
                    m.theta_f[i] = float(ta[0])
                tot_loss += loss * len(idx)
                tot_acc += acc * len(idx)
                seen += len(idx)
                if progress is not None:
                    dt = time.perf_counter() - t0
                    progress(
                        len(idx),
                        {"loss": tot_loss / seen, "acc": tot_acc / seen, "img/s": seen / max(dt, 1e-9)},
                    )
        dt = time.perf_counter() - t0
        self.epoch += 1
        return {
            "epoch": self.epoch,
            "loss": tot_loss / seen,
            "train_accuracy": tot_acc / seen,
            "seconds": dt,
            "images_per_s": seen / dt,
            "lr": self.lr_at(self.epoch * nb, total_steps),
        }

    def state(self) -> dict:
        return {"epoch": self.epoch, "opt": self.opt.state(), "history": list(self.history)}

    def load_state(self, st: dict) -> None:
        self.opt.load_state(st["opt"])
        self.epoch = int(st["epoch"])
        self.history = list(st["history"])
