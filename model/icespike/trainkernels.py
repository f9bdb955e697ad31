"""The trainer's compiled loops (numba): the LIF time steps, forward and backward, and Adam.

:mod:`icespike.train` runs its per-step work here, one pass over (batch, neurons) per time
step instead of about ten numpy operations with their temporaries. Each element goes through
exactly the floating-point operations, in the same order, that the numpy expressions given in
each function's docstring perform (IEEE double; no fast-math, so no reassociation and no fused
multiply-add), so the results are bit-identical to the numpy formulation
(``tests/test_train_determinism.py`` checks trained weights against the digests of the numpy
trainer).

Sums that feed the threshold gradient are *not* done here: the kernels write the per-step
products out and the caller sums them with numpy (pairwise summation), as before.
"""

from __future__ import annotations

import math

import numba
import numpy as np

__all__ = ["lif_forward", "lif_backward", "adam_update"]

_JIT = {"cache": True, "fastmath": False, "error_model": "numpy"}


@numba.njit(**_JIT)
def lif_forward(cur, const_cur, V2, S, theta, lo, hi, leak_shift, subtract):  # pragma: no cover - compiled
    """Run the LIF recurrence over the T steps of ``S`` (T, B, n).

    cur: (B, n) when ``const_cur`` (the same current every step) else (T, B, n).
    Writes, per step t: ``V2[t]`` the membrane after integration and saturation, ``S[t]`` the
    spikes (1.0 / 0.0). Per element and step, as numpy would:
    ``v -= floor(v * 2^-k)`` (if k), ``v += cur``, ``v = min(max(v, lo), hi)``,
    ``s = v >= theta``, then ``v -= s * theta`` (subtract) or ``v *= 1 - s`` (zero).
    Returns True if any membrane reached ``lo`` or ``hi`` (the saturation mask is needed).
    """
    T, B, n = S.shape
    scale_k = 2.0**-leak_shift
    clipped = False
    v = np.zeros((B, n))
    for t in range(T):
        ct = 0 if const_cur else t
        for b in range(B):
            clip_row = False
            for j in range(n):  # branch-free, so that it vectorises
                x = v[b, j]
                if leak_shift:
                    x = x - np.floor(x * scale_k)
                x = x + cur[ct, b, j]
                clip_row |= (x >= hi) | (x <= lo)
                x = min(max(x, lo), hi)  # the identity unless it saturates
                s = 1.0 if x >= theta else 0.0
                V2[t, b, j] = x
                S[t, b, j] = s
                if subtract:
                    x = x - s * theta
                else:
                    x = x * (1.0 - s)
                v[b, j] = x
            clipped |= clip_row
    return clipped


@numba.njit(**_JIT)
def lif_backward(
    V2,
    S,
    gs_all,
    const_gs,
    keep,
    has_keep,
    theta,
    slope,
    beta,
    subtract,
    detached,
    accumulate,
    gI,
    PA,
    PB,
    SGsum,
    want_sgsum,
):  # pragma: no cover - compiled
    """BPTT through the LIF steps of one layer, t = T-1 .. 0.

    gs_all: d loss / d spike, (1, B, n) when ``const_gs`` else (T, B, n). keep: (T, B, n) bool,
    False where the membrane saturated (only read if ``has_keep``). Per element, as numpy would:
    the surrogate ``sg = (1/theta) / ((|v2 - theta| * (slope/theta) + 1)^2)``; with subtract
    reset ``PA[t] = s * gv`` and ``PB[t] = sg * term`` (term = gs, or gs - theta * gv when the
    reset is attached), ``gv2 = gv + PB[t]``; with reset to zero ``PB[t] = sg * term`` (term =
    gs or gs - v2 * gv), ``gv2 = gv * (1 - s) + PB[t]``; ``gv2 *= keep``; ``gI += gv2``
    (``accumulate``, gI (B, n)) or ``gI[t] = gv2``; ``gv = gv2 * beta``.
    If ``want_sgsum``, ``SGsum`` (B, n) receives ``sum_t sg`` in the order t = 0, 1, ... (numpy's axis-0 sum).
    The caller sums PA[t] and PB[t] for the threshold gradient.
    """
    T, B, n = S.shape
    inv_theta = 1.0 / theta
    c = slope / theta
    gv = np.zeros((B, n))
    for t in range(T - 1, -1, -1):
        ct = 0 if const_gs else t
        for b in range(B):
            for j in range(n):
                v2 = V2[t, b, j]
                d = abs(v2 - theta) * c + 1.0
                sg = inv_theta / (d * d)
                s = S[t, b, j]
                g = gv[b, j]
                gs = gs_all[ct, b, j]
                if subtract:
                    PA[t, b, j] = s * g
                    if detached:
                        p = sg * gs
                    else:
                        p = sg * (gs - theta * g)
                    g2 = g + p
                else:
                    if detached:
                        p = sg * gs
                    else:
                        p = sg * (gs - v2 * g)
                    g2 = g * (1.0 - s)
                    g2 = g2 + p
                PB[t, b, j] = p
                if has_keep:
                    g2 = g2 * (1.0 if keep[t, b, j] else 0.0)
                if accumulate:
                    gI[0, b, j] = gI[0, b, j] + g2
                else:
                    gI[t, b, j] = g2
                gv[b, j] = g2 * beta
    for t in range(T if want_sgsum else 0):
        for b in range(B):
            for j in range(n):
                v2 = V2[t, b, j]
                d = abs(v2 - theta) * c + 1.0
                sg = inv_theta / (d * d)
                SGsum[b, j] = sg if t == 0 else SGsum[b, j] + sg
    return gv


@numba.njit(**_JIT)
def adam_update(p, g, m, v, b1, b2, inv_c2, eps, step):  # pragma: no cover - compiled
    """One Adam step on flat float64 arrays, per element as numpy would:
    ``m = m * b1 + (1 - b1) * g``, ``v = v * b2 + g^2 * (1 - b2)``,
    ``p -= m / (sqrt(v) * inv_c2 + eps) * step``."""
    c1 = 1.0 - b1
    c2 = 1.0 - b2
    for i in range(p.size):
        gi = g[i]
        mi = m[i] * b1 + c1 * gi
        vi = v[i] * b2 + (gi * gi) * c2
        m[i] = mi
        v[i] = vi
        den = math.sqrt(vi) * inv_c2 + eps
        p[i] = p[i] - (mi / den) * step
