"""Integer golden model: bit-exact inference of an exported network.

Vectorised over a batch of images. With ``trace=True`` it also returns every time step's
layer currents, membranes and spikes, which the cocotb testbenches compare with the RTL.
The arithmetic is that of docs/arithmetic.md and icespike.fixed; nothing here rounds
through floating point (matrix products run in float64 only where the contract's widths
prove every partial sum exact, and are checked back to int64).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from . import fixed
from .network import PIXEL_MAX, IntNetwork

_F64_EXACT = 1 << 53


def exact_matmul(a: np.ndarray, b_t: np.ndarray, bound: int) -> np.ndarray:
    """Integer ``a @ b_t.T`` using BLAS when every partial sum is provably below 2**53.

    a: (N, K) int64, b_t: (M, K) int64, bound: a proven bound on |any partial sum|.
    Returns (N, M) int64.
    """
    if bound < _F64_EXACT:
        return (a.astype(np.float64) @ b_t.T.astype(np.float64)).astype(np.int64)
    return a.astype(np.int64) @ b_t.T.astype(np.int64)


def check_images(images, n_in: int) -> np.ndarray:
    """Validate pixels: integers 0..255, shape (N, n_in) or (N, 28, 28); returns (N, n_in) int64."""
    x = np.asarray(images)
    if not np.issubdtype(x.dtype, np.integer):
        raise ValueError(f"images must be integer pixels 0..255, got dtype {x.dtype}")
    if x.ndim == 1:
        x = x[None, :]
    if x.ndim == 3:
        x = x.reshape(x.shape[0], -1)
    if x.ndim != 2 or x.shape[1] != n_in:
        raise ValueError(f"images must have shape (N, {n_in}), got {np.asarray(images).shape}")
    if x.size and (int(x.min()) < 0 or int(x.max()) > PIXEL_MAX):
        raise ValueError(f"pixels must be in 0..{PIXEL_MAX}, got min {int(x.min())}, max {int(x.max())}")
    return x.astype(np.int64)


@dataclass
class GoldenResult:
    """Output of :func:`run`.

    predictions: (N,) int64 class (argmax of scores, lowest index on ties)
    scores:      (N, n_out) int64 accumulated output currents after T steps
    spike_counts: list per hidden layer of (N, n) int64 spike counts over T steps
    trace (only with trace=True), per hidden layer l:
        currents[l]  (N, T, n) int64 input current at each step (layer 0: constant in t)
        membranes[l] (N, T, n) int64 membrane after the step (after reset)
        spikes[l]    (N, T, n) int64 0/1
      and for the output layer:
        out_currents (N, T, n_out) int64, out_scores (N, T, n_out) running scores
    """

    predictions: np.ndarray
    scores: np.ndarray
    spike_counts: list[np.ndarray]
    currents: list[np.ndarray] = field(default_factory=list)
    membranes: list[np.ndarray] = field(default_factory=list)
    spikes: list[np.ndarray] = field(default_factory=list)
    out_currents: np.ndarray | None = None
    out_scores: np.ndarray | None = None


def argmax_lowest(scores: np.ndarray) -> np.ndarray:
    """Class index of the largest score; ties go to the lowest index (np.argmax does this)."""
    return np.argmax(scores, axis=-1).astype(np.int64)


def run(net: IntNetwork, images, *, trace: bool = False, batch_size: int = 2000) -> GoldenResult:
    """Integer inference of ``net`` on ``images`` ((N, 784) or (N, 28, 28) uint8-range ints)."""
    x_all = check_images(images, net.layers[0].n_in)
    parts = [
        _run_batch(net, x_all[i : i + batch_size], trace) for i in range(0, max(len(x_all), 1), batch_size)
    ]
    if len(parts) == 1:
        return parts[0]
    cat = np.concatenate
    nh = len(net.layers) - 1
    return GoldenResult(
        predictions=cat([p.predictions for p in parts]),
        scores=cat([p.scores for p in parts]),
        spike_counts=[cat([p.spike_counts[i] for p in parts]) for i in range(nh)],
        currents=[cat([p.currents[i] for p in parts]) for i in range(nh)] if trace else [],
        membranes=[cat([p.membranes[i] for p in parts]) for i in range(nh)] if trace else [],
        spikes=[cat([p.spikes[i] for p in parts]) for i in range(nh)] if trace else [],
        out_currents=cat([p.out_currents for p in parts]) if trace else None,
        out_scores=cat([p.out_scores for p in parts]) if trace else None,
    )


def _run_batch(net: IntNetwork, x: np.ndarray, trace: bool) -> GoldenResult:
    n = x.shape[0]
    T = int(net.timesteps)
    hidden = net.layers[:-1]
    out = net.layers[-1]

    # Layer 0 current is constant over time: computed once per image.
    bound0 = PIXEL_MAX * int(np.abs(hidden[0].codes).max(initial=0)) * hidden[0].n_in
    i0 = exact_matmul(x, hidden[0].codes, bound0) + _bias(hidden[0])
    fixed.check_signed(i0, net.acc_width(0), "layer 0 current")

    v = [np.zeros((n, lay.n_out), np.int64) for lay in hidden]
    counts = [np.zeros((n, lay.n_out), np.int64) for lay in hidden]
    score = np.zeros((n, out.n_out), np.int64)
    tr_cur = [np.zeros((n, T, lay.n_out), np.int64) for lay in hidden] if trace else []
    tr_mem = [np.zeros((n, T, lay.n_out), np.int64) for lay in hidden] if trace else []
    tr_spk = [np.zeros((n, T, lay.n_out), np.int64) for lay in hidden] if trace else []
    tr_oc = np.zeros((n, T, out.n_out), np.int64) if trace else None
    tr_os = np.zeros((n, T, out.n_out), np.int64) if trace else None

    for t in range(T):
        spikes_in = None
        for li, lay in enumerate(hidden):
            if li == 0:
                cur = i0
            else:
                cur = exact_matmul(spikes_in, lay.codes, lay.n_in * int(np.abs(lay.codes).max(initial=0)))
                cur = cur + _bias(lay)
            v[li], s = _lif_fast(v[li], cur, lay.threshold, lay.leak_shift, net.mem_width(li), lay.reset)
            counts[li] += s
            if trace:
                tr_cur[li][:, t] = cur
                tr_mem[li][:, t] = v[li]
                tr_spk[li][:, t] = s
            spikes_in = s
        oc = exact_matmul(spikes_in, out.codes, out.n_in * int(np.abs(out.codes).max(initial=0)))
        oc = oc + _bias(out)
        score += oc
        if trace:
            tr_oc[:, t] = oc
            tr_os[:, t] = score
    fixed.check_signed(score, net.score_width(), "output score")
    return GoldenResult(
        predictions=argmax_lowest(score),
        scores=score,
        spike_counts=counts,
        currents=tr_cur,
        membranes=tr_mem,
        spikes=tr_spk,
        out_currents=tr_oc,
        out_scores=tr_os,
    )


def _bias(layer) -> np.ndarray | int:
    """The layer's integer bias, added to its current at every step (0 without biases)."""
    return layer.bias if layer.has_bias else 0


def _lif_fast(v, cur, threshold, leak_shift, mem_width, reset):
    """The same step as :func:`icespike.fixed.lif_step`, without per-call range checks.

    ``tests/test_golden.py`` checks that the two agree on random inputs.
    """
    lo, hi = fixed.signed_range(mem_width)
    if leak_shift:
        v = v - (v >> leak_shift)
    v = np.clip(v + cur, lo, hi)
    s = (v >= threshold).astype(np.int64)
    if reset == "subtract":
        v = v - s * threshold
    else:
        v = v * (1 - s)
    return v, s


def accuracy(predictions: np.ndarray, labels: np.ndarray) -> float:
    """Fraction of predictions equal to labels."""
    p = np.asarray(predictions)
    y = np.asarray(labels)
    if p.shape != y.shape:
        raise ValueError(f"predictions {p.shape} and labels {y.shape} differ in shape")
    return float((p == y).mean()) if p.size else float("nan")
