"""Weight quantisers: fake quantisation (forward) and straight-through estimators (backward).

A quantiser turns a float weight matrix ``w`` into integer codes ``q`` and a per-layer scale
``s`` with ``w ~ s * q`` (docs/arithmetic.md, section 2). During training the forward pass
uses the codes (held as integers in float64 arrays, so the integer-unit arithmetic stays
exact) and the backward pass passes the gradient straight through: ``dL/dw = dL/dq / s``,
masked to zero where the quantiser clipped (fixed-scale mode only; max-abs never clips).

Rules (all per layer):

* ``maxabs`` (16/8/4 bits, default): ``s = max|w| / qmax``, ``q = round_half_up(w / s)``.
* ``fixed`` (16/8/4 bits): the seed's Qm.n reading ``s = 2**-n``, ``q = clip(round_half_up(w/s))``.
* ternary (2 bits, TWN): ``delta = r * mean|w|``, ``q = sign(w) * (|w| > delta)``,
  ``s = mean(|w| : |w| > delta)``.
* binary (1 bit): ``q = sign(w)`` (0 -> +1), ``s = mean|w|``.
* float (no quantisation): ``s = max|w| / 32767`` (the q16 grid's unit) and ``q = w / s``
  unrounded, so the float model computes in the same units as its 16-bit export.

Rounding ``w / s`` to a code uses round-half-up (``floor(x + 0.5)``) like every other
float-to-integer step of the project (never ``np.round``).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .fixed import round_half_up
from .formats import quant_qmax, weight_format

__all__ = [
    "BITS_CHOICES",
    "SCALE_MODES",
    "QuantResult",
    "Quantizer",
    "bits_name",
    "parse_bits",
    "check_weights",
]

BITS_CHOICES = ("float", 16, 8, 4, 2, 1)
SCALE_MODES = ("maxabs", "fixed")
_NAMES = {"float": "float", 16: "q16", 8: "q8", 4: "q4", 2: "ternary", 1: "binary"}
FLOAT_GRID_BITS = 16  # the float model computes in q16 units and exports to q16


def parse_bits(value) -> str | int:
    """'float', 'q8', 'ternary', '8', 8 ... -> 'float' or 16/8/4/2/1; anything else: ValueError."""
    if isinstance(value, str):
        v = value.strip().lower()
        for k, name in _NAMES.items():
            if v == name:
                return k
        if v.isdigit():
            value = int(v)
        else:
            raise ValueError(
                f"unsupported bits {value!r}: allowed are float, 16, 8, 4, 2 (ternary), 1 (binary)"
            )
    try:
        if isinstance(value, (bool, np.bool_)):
            raise ValueError
        weight_format(value)
    except ValueError:
        raise ValueError(
            f"unsupported bits {value!r}: allowed are float, 16, 8, 4, 2 (ternary), 1 (binary)"
        ) from None
    return int(value)


def bits_name(bits) -> str:
    """'float', 'q16', 'q8', 'q4', 'ternary' or 'binary'."""
    return _NAMES[parse_bits(bits)]


def check_weights(w, what: str = "weights", ndim: int | None = 2) -> np.ndarray:
    """Return ``w`` as float64 (``w`` itself if it is a float64 array: callers only read it),
    raising ValueError on NaN/inf, non-numeric or wrong rank."""
    a = np.asarray(w)
    if a.dtype.kind not in "fiub":
        raise ValueError(f"{what} must be numeric, got dtype {a.dtype}")
    a = a.astype(np.float64, copy=False)
    if ndim is not None and a.ndim != ndim:
        raise ValueError(f"{what} must be a {ndim}-D array, got shape {a.shape}")
    if a.size == 0:
        raise ValueError(f"{what} is empty")
    if not np.all(np.isfinite(a)):
        raise ValueError(f"{what} contain NaN or infinity")
    return a


@dataclass
class QuantResult:
    """codes: float64 array of integer codes (unrounded for float mode); scale: s > 0;
    mask: where the straight-through gradient passes (None = everywhere)."""

    codes: np.ndarray
    scale: float
    mask: np.ndarray | None = None

    def int_codes(self) -> np.ndarray:
        """The codes as int64 (float mode rounds half up to the q16 grid)."""
        return round_half_up(self.codes).astype(np.int64)

    def dequantized(self) -> np.ndarray:
        return self.scale * self.codes


class Quantizer:
    """Quantiser for one bit width ('float', 16, 8, 4, 2, 1).

    ``scale`` ('maxabs' or 'fixed') applies to 16/8/4 bits; ternary uses the TWN rule with
    ``threshold_ratio``; binary uses ``s = mean|w|``.
    """

    def __init__(self, bits, scale: str = "maxabs", threshold_ratio: float = 0.7):
        self.bits = parse_bits(bits)
        if scale not in SCALE_MODES:
            raise ValueError(f"unsupported scale mode {scale!r}: allowed are {', '.join(SCALE_MODES)}")
        if scale == "fixed" and self.bits not in (16, 8, 4):
            raise ValueError("scale='fixed' (Qm.n) exists only for 16, 8 and 4 bits")
        tr = float(threshold_ratio)
        if not np.isfinite(tr) or not 0.0 < tr < 1.0 + 1e-12:
            raise ValueError(f"threshold_ratio must be in (0, 1], got {threshold_ratio!r}")
        self.scale_mode = scale
        self.threshold_ratio = tr

    @property
    def name(self) -> str:
        return _NAMES[self.bits]

    @property
    def export_bits(self) -> int:
        """The hardware code width this quantiser's codes are stored in (float -> 16)."""
        return FLOAT_GRID_BITS if self.bits == "float" else int(self.bits)

    @property
    def qmax(self) -> int:
        return quant_qmax(self.export_bits)

    def __repr__(self) -> str:
        return f"Quantizer(bits={self.bits!r}, scale={self.scale_mode!r}, threshold_ratio={self.threshold_ratio})"

    # ------------------------------------------------------------------ forward
    def __call__(self, w) -> QuantResult:
        """Fake-quantise ``w`` (any shape): codes, scale and straight-through mask."""
        w = check_weights(w, ndim=None)
        b = self.bits
        a = np.abs(w)
        if b == "float" or (b in (16, 8, 4) and self.scale_mode == "maxabs"):
            m = float(a.max())
            if m == 0.0:
                raise ValueError("cannot quantise an all-zero weight matrix (max|w| = 0)")
            s = m / self.qmax
            x = w / s
            if b == "float":
                return QuantResult(x, s)
            q = np.clip(np.floor(x + 0.5), -self.qmax, self.qmax)
            return QuantResult(q, s)
        if b in (16, 8, 4):  # fixed Qm.n
            s = 2.0 ** -weight_format(b).frac_bits
            x = w / s
            q = np.clip(np.floor(x + 0.5), -self.qmax, self.qmax)
            mask = np.abs(x) <= self.qmax + 0.5
            return QuantResult(q, s, mask)
        if b == 2:
            delta = self.threshold_ratio * float(a.mean())
            keep = a > delta
            if not keep.any():
                raise ValueError("ternary quantisation of an all-zero weight matrix")
            s = float(np.extract(keep, a).mean())  # the kept |w| in order (a[keep], 5x faster)
            # sign(w) where |w| > delta, else 0: (w > delta) - (w < -delta), never -0.0
            q = np.subtract(w > delta, w < -delta, dtype=np.float64)
            return QuantResult(q, s)
        # binary
        s = float(a.mean())
        if s == 0.0:
            raise ValueError("cannot binarise an all-zero weight matrix (mean|w| = 0)")
        q = np.subtract(w >= 0, w < 0, dtype=np.float64)  # -1 where w < 0, else +1
        return QuantResult(q, s)

    # ------------------------------------------------------------------ backward
    @staticmethod
    def backward(grad_codes: np.ndarray, res: QuantResult) -> np.ndarray:
        """Straight-through estimator: ``dL/dw = dL/dq / s`` (zero where the quantiser clipped)."""
        g = grad_codes / res.scale
        if res.mask is not None:
            g = g * res.mask
        return g

    def quantize(self, w) -> tuple[np.ndarray, float]:
        """(int64 codes, scale) of ``w`` (float mode: codes rounded to the q16 grid)."""
        r = self(w)
        return r.int_codes(), r.scale
