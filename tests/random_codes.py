"""Random weight codes for tests, importable by name from any test module.

(A test module cannot import from ``conftest``: tests/ and verif/ both have one, and which of
the two ``import conftest`` finds depends on the order pytest collected them in.)
"""

from __future__ import annotations

import numpy as np

from icespike.formats import weight_format


def random_codes(rng: np.random.Generator, bits: int, shape: tuple[int, int]) -> np.ndarray:
    """Random weight codes over the format's full hardware range (most negative code included)."""
    fmt = weight_format(bits)
    if bits == 1:
        return rng.choice(np.array([-1, 1], dtype=np.int64), size=shape)
    return rng.integers(fmt.qmin, fmt.qmax + 1, size=shape, dtype=np.int64)
