"""Integer fixed-point helpers: the arithmetic of docs/arithmetic.md, integer-only.

Every function takes and returns numpy int64 arrays (or Python ints) and never rounds
through floating point. Verilog equivalents are named in each docstring; the RTL and
the testbenches use exactly these functions as the reference.
"""

from __future__ import annotations

import numpy as np

__all__ = [
    "ArithmeticError_",
    "signed_range",
    "unsigned_range",
    "signed_width",
    "saturate",
    "floor_shift",
    "round_half_up_shift",
    "round_half_up",
    "check_signed",
    "check_unsigned",
    "to_twos",
    "from_twos",
    "leak",
    "lif_step",
    "mac",
    "ternary_accumulate",
    "binary_accumulate",
]


class ArithmeticError_(ValueError):
    """A value does not fit the width the contract gives it."""


def _as_i64(x):
    a = np.asarray(x)
    if a.dtype.kind == "b":
        return a.astype(np.int64)
    if a.dtype.kind not in "iu":
        raise TypeError(f"integer array expected, got dtype {a.dtype}")
    if a.dtype == np.uint64 and a.size and int(a.max()) > np.iinfo(np.int64).max:
        raise ArithmeticError_("uint64 value does not fit int64")
    return a.astype(np.int64, copy=False)


def signed_range(width: int) -> tuple[int, int]:
    """(min, max) of a two's-complement ``width``-bit signed integer."""
    if not 1 <= width <= 63:
        raise ValueError(f"signed width must be 1..63, got {width}")
    return -(1 << (width - 1)), (1 << (width - 1)) - 1


def unsigned_range(width: int) -> tuple[int, int]:
    """(0, max) of a ``width``-bit unsigned integer."""
    if not 1 <= width <= 63:
        raise ValueError(f"unsigned width must be 1..63, got {width}")
    return 0, (1 << width) - 1


def signed_width(max_abs: int) -> int:
    """Smallest two's-complement width that holds every value in [-max_abs, max_abs]."""
    max_abs = int(max_abs)
    if max_abs < 0:
        raise ValueError("max_abs must be >= 0")
    w = 1
    while (1 << (w - 1)) - 1 < max_abs:
        w += 1
    return w


def saturate(x, width: int):
    """Clamp to the signed ``width``-bit range (never wraps).

    Verilog: compare the wide result against the two limits and select; see rtl/sat.vh usage.
    """
    lo, hi = signed_range(width)
    a = _as_i64(x)
    out = np.minimum(np.maximum(a, lo), hi)
    return int(out) if np.ndim(x) == 0 and not isinstance(x, np.ndarray) else out


def floor_shift(x, k: int):
    """Arithmetic right shift by ``k`` (rounds toward minus infinity). Verilog ``x >>> k``."""
    if k < 0:
        raise ValueError("shift must be >= 0")
    a = _as_i64(x)
    out = a >> k
    return int(out) if np.ndim(x) == 0 and not isinstance(x, np.ndarray) else out


def round_half_up_shift(x, k: int):
    """Divide by 2**k rounding half up: ``(x + 2**(k-1)) >>> k`` (k = 0 returns x).

    -2.5 rounds to -2, -3.5 to -3, 2.5 to 3: ties go toward plus infinity.
    """
    if k < 0:
        raise ValueError("shift must be >= 0")
    a = _as_i64(x)
    out = a if k == 0 else (a + (1 << (k - 1))) >> k
    return int(out) if np.ndim(x) == 0 and not isinstance(x, np.ndarray) else out


def round_half_up(x: float | np.ndarray):
    """Round a float (or array) to the nearest integer, ties toward +inf: ``floor(x + 0.5)``.

    Used only off the hardware path (folding float thresholds into integers at export).
    """
    a = np.asarray(x, dtype=np.float64)
    if not np.all(np.isfinite(a)):
        raise ArithmeticError_("cannot round NaN or infinity")
    out = np.floor(a + 0.5).astype(np.int64)
    return int(out) if np.ndim(x) == 0 else out


def check_signed(x, width: int, what: str = "value") -> None:
    """Raise ArithmeticError_ naming ``what`` if any element is outside signed ``width`` bits."""
    lo, hi = signed_range(width)
    a = _as_i64(x)
    if a.size and (int(a.min()) < lo or int(a.max()) > hi):
        raise ArithmeticError_(
            f"{what} out of the signed {width}-bit range [{lo}, {hi}]: min {int(a.min())}, max {int(a.max())}"
        )


def check_unsigned(x, width: int, what: str = "value") -> None:
    """Raise ArithmeticError_ naming ``what`` if any element is outside unsigned ``width`` bits."""
    lo, hi = unsigned_range(width)
    a = _as_i64(x)
    if a.size and (int(a.min()) < lo or int(a.max()) > hi):
        raise ArithmeticError_(
            f"{what} out of the unsigned {width}-bit range [{lo}, {hi}]: "
            f"min {int(a.min())}, max {int(a.max())}"
        )


def to_twos(x, width: int):
    """Signed values -> their ``width``-bit two's-complement bit patterns (non-negative)."""
    check_signed(x, width)
    a = _as_i64(x)
    out = a & ((1 << width) - 1)
    return int(out) if np.ndim(x) == 0 and not isinstance(x, np.ndarray) else out


def from_twos(x, width: int):
    """``width``-bit two's-complement bit patterns -> signed values."""
    check_unsigned(x, width)
    a = _as_i64(x)
    out = np.where(a >= (1 << (width - 1)), a - (1 << width), a)
    return int(out) if np.ndim(x) == 0 and not isinstance(x, np.ndarray) else out


# ---------------------------------------------------------------------------------------
# Neuron and synapse arithmetic (one function per RTL core)
# ---------------------------------------------------------------------------------------


def leak(v, leak_shift: int):
    """Membrane leak ``v - (v >>> leak_shift)``; ``leak_shift == 0`` means no leak.

    Cannot overflow: the result lies between v and 0 (inclusive) for every v.
    """
    a = _as_i64(v)
    out = a if leak_shift == 0 else a - (a >> leak_shift)
    return int(out) if np.ndim(v) == 0 and not isinstance(v, np.ndarray) else out


def lif_step(v, current, threshold, *, leak_shift: int, mem_width: int, reset: str):
    """One LIF time step in the contract's order. Returns ``(v_next, spike)``.

    1. leak:      v1 = v - (v >>> leak_shift)          (floor shift; 0 = no leak)
    2. integrate: v2 = saturate(v1 + current, mem_width)
    3. fire:      spike = v2 >= threshold
    4. reset:     "subtract": v3 = v2 - threshold if spike; "zero": v3 = 0 if spike

    ``v`` must already be in the signed ``mem_width`` range and 1 <= threshold <= max.
    spike is returned as int64 0/1.
    """
    if reset not in ("subtract", "zero"):
        raise ValueError(f"reset must be 'subtract' or 'zero', got {reset!r}")
    scalar = np.ndim(v) == 0 and not isinstance(v, np.ndarray)
    a = _as_i64(v)
    th = _as_i64(threshold)
    check_signed(a, mem_width, "membrane")
    if th.size and (int(th.min()) < 1 or int(th.max()) > signed_range(mem_width)[1]):
        raise ArithmeticError_(f"threshold must be in [1, {signed_range(mem_width)[1]}]")
    v2 = saturate(leak(a, leak_shift) + _as_i64(current), mem_width)
    spike = (v2 >= th).astype(np.int64)
    if reset == "subtract":
        v3 = v2 - spike * th
    else:
        v3 = np.where(spike == 1, 0, v2)
    if scalar:
        return int(v3), int(spike)
    return v3, spike


def mac(acc, a, b, *, shift: int = 0, width: int):
    """Multiply-accumulate: ``saturate(acc + round_half_up_shift(a * b, shift), width)``.

    With ``shift = 8`` and Q8.8 operands this is the Q8.8 MAC; the network engine uses
    ``shift = 0`` with an accumulator wide enough never to saturate.
    """
    p = _as_i64(a) * _as_i64(b)
    # a sum of 0-d operands is a numpy scalar, which saturate returns as a Python int
    return saturate(_as_i64(acc) + round_half_up_shift(p, shift), width)


def ternary_accumulate(acc, x, code, *, width: int, saturating: bool = True):
    """Add (+1), subtract (-1) or skip (0) ``x`` into ``acc``. code in {-1, 0, +1}.

    ``saturating=False`` requires the caller to have proven that the width cannot overflow
    and raises if it does.
    """
    c = _as_i64(code)
    if c.size and (int(c.min()) < -1 or int(c.max()) > 1):
        raise ArithmeticError_("ternary code must be -1, 0 or +1")
    r = _as_i64(acc) + c * _as_i64(x)
    if saturating:
        out = saturate(r, width)
    else:
        check_signed(r, width, "ternary accumulator")
        out = r
    scalar = all(np.ndim(t) == 0 and not isinstance(t, np.ndarray) for t in (acc, x, code))
    return int(out) if scalar else out


def binary_accumulate(acc, x, code, *, width: int, saturating: bool = True):
    """Add (+1) or subtract (-1) ``x`` into ``acc``. code in {-1, +1}."""
    c = _as_i64(code)
    if c.size and not np.all((c == 1) | (c == -1)):
        raise ArithmeticError_("binary code must be -1 or +1")
    return ternary_accumulate(acc, x, code, width=width, saturating=saturating)
