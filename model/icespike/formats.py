"""Weight code formats: what an integer weight code is at each supported precision.

A weight is stored in hardware as an integer *code* ``q``; the float weight it stands for
is ``s * q`` with a per-layer scale ``s`` that exists only on the float side (it is folded
into the integer threshold, see docs/arithmetic.md).

====== ========== ========== ============== ==================================
bits   name       code width code range      bit pattern
====== ========== ========== ============== ==================================
16     q16 (Q8.8) 16         -32767..32767   two's complement
8      q8  (Q4.4) 8          -127..127       two's complement
4      q4  (Q2.2) 4          -7..7           two's complement
2      ternary    2          -1, 0, +1       two's complement: 00=0 01=+1 11=-1 (10 illegal)
1      binary     1          -1, +1          0 = +1, 1 = -1 (the bit is the sign)
====== ========== ========== ============== ==================================

The quantisers are symmetric (the most negative two's-complement pattern is never
produced); the hardware and the golden model accept it anyway, so the RTL's range is the
full code width.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .fixed import ArithmeticError_

SUPPORTED_BITS = (16, 8, 4, 2, 1)


@dataclass(frozen=True)
class WeightFormat:
    """Description of one weight precision."""

    bits: int
    name: str
    code_width: int
    qmin: int  # most negative code the hardware accepts
    qmax: int  # most positive code
    frac_bits: int | None  # the seed's fixed Qm.n interpretation (s = 2**-frac_bits)

    @property
    def max_abs(self) -> int:
        """Largest |code| the hardware accepts (sizes every accumulator)."""
        return max(-self.qmin, self.qmax)

    @property
    def multiplier_free(self) -> bool:
        """True for ternary and binary: a synapse adds, subtracts or skips."""
        return self.bits <= 2

    @property
    def qformat(self) -> str:
        if self.frac_bits is None:
            return self.name
        return f"Q{self.bits - self.frac_bits}.{self.frac_bits}"

    def check_codes(self, q: np.ndarray, what: str = "weight codes") -> None:
        """Raise ArithmeticError_ if ``q`` holds a value this format cannot store."""
        a = np.asarray(q)
        if not np.issubdtype(a.dtype, np.integer):
            raise ArithmeticError_(f"{what} must be integers, got dtype {a.dtype}")
        if a.size == 0:
            return
        if self.bits == 1:
            bad = ~((a == 1) | (a == -1))
        else:
            bad = (a < self.qmin) | (a > self.qmax)
        if np.any(bad):
            v = a[bad].ravel()[0]
            raise ArithmeticError_(
                f"{what}: value {int(v)} is not a legal {self.name} code "
                f"({self.describe_range()}); {int(bad.sum())} bad value(s)"
            )

    def describe_range(self) -> str:
        if self.bits == 1:
            return "-1 or +1"
        if self.bits == 2:
            return "-1, 0 or +1"
        return f"{self.qmin}..{self.qmax}"

    def encode(self, q: np.ndarray) -> np.ndarray:
        """Codes -> bit patterns (int64, each in [0, 2**code_width))."""
        self.check_codes(q)
        a = np.asarray(q, dtype=np.int64)
        if self.bits == 1:
            return (a == -1).astype(np.int64)
        return a & ((1 << self.code_width) - 1)

    def decode(self, pattern: np.ndarray) -> np.ndarray:
        """Bit patterns -> codes; the illegal ternary pattern 10 raises."""
        p = np.asarray(pattern, dtype=np.int64)
        if p.size and (int(p.min()) < 0 or int(p.max()) >= (1 << self.code_width)):
            raise ArithmeticError_(f"{self.name} bit pattern out of range")
        if self.bits == 1:
            return np.where(p == 1, -1, 1).astype(np.int64)
        if self.bits == 2 and np.any(p == 2):
            raise ArithmeticError_("ternary bit pattern 10 is illegal")
        half = 1 << (self.code_width - 1)
        return np.where(p >= half, p - (1 << self.code_width), p).astype(np.int64)


_FORMATS = {
    16: WeightFormat(16, "q16", 16, -32768, 32767, 8),
    8: WeightFormat(8, "q8", 8, -128, 127, 4),
    4: WeightFormat(4, "q4", 4, -8, 7, 2),
    2: WeightFormat(2, "ternary", 2, -1, 1, None),
    1: WeightFormat(1, "binary", 1, -1, 1, None),
}


def weight_format(bits: int) -> WeightFormat:
    """The WeightFormat for ``bits``; anything but 16, 8, 4, 2, 1 raises ValueError."""
    try:
        b = int(bits)
    except (TypeError, ValueError):
        b = None
    if b is None or isinstance(bits, bool) or b != bits or b not in _FORMATS:
        raise ValueError(f"unsupported weight_bits {bits!r}: allowed are 16, 8, 4, 2 (ternary), 1 (binary)")
    return _FORMATS[b]


def quant_qmax(bits: int) -> int:
    """Largest code the symmetric quantiser produces (2**(bits-1)-1, or 1 for ternary/binary)."""
    return weight_format(bits).qmax  # ternary and binary: 1
