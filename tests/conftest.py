"""Shared fixtures of the Python unit tests: hypothesis profiles, bundled MNIST, random networks."""

from __future__ import annotations

import os

import numpy as np
import pytest
from hypothesis import HealthCheck, settings

from icespike.data import load_mnist
from icespike.formats import weight_format
from icespike.network import IntLayer, IntNetwork

# "dev" explores; "ci" (picked when CI is set) is reproducible run to run.
settings.register_profile("dev", max_examples=300, deadline=None)
settings.register_profile(
    "ci", max_examples=300, deadline=None, derandomize=True, suppress_health_check=[HealthCheck.too_slow]
)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci" if os.environ.get("CI") else "dev"))


@pytest.fixture(scope="session")
def mnist():
    """The bundled MNIST, loaded (and checksum-verified) once per test process."""
    return load_mnist()


def random_codes(rng: np.random.Generator, bits: int, shape: tuple[int, int]) -> np.ndarray:
    """Random weight codes over the format's full hardware range (most negative code included)."""
    fmt = weight_format(bits)
    if bits == 1:
        return rng.choice(np.array([-1, 1], dtype=np.int64), size=shape)
    return rng.integers(fmt.qmin, fmt.qmax + 1, size=shape, dtype=np.int64)


def random_network(
    rng: np.random.Generator,
    bits: int,
    sizes: list[int],
    *,
    timesteps: int = 8,
    reset: str = "subtract",
    leak_shift: int = 0,
    images: np.ndarray | None = None,
) -> IntNetwork:
    """A random integer network whose thresholds make hidden neurons spike now and then.

    Each hidden threshold is set from the spread of that layer's per-step current on
    ``images`` (or on random pixels), so the traces hold both spikes and silences.
    """
    layers = []
    x = images if images is not None else rng.integers(0, 256, size=(16, sizes[0]), dtype=np.int64)
    x = np.asarray(x, dtype=np.int64).reshape(len(x), -1)
    for li in range(len(sizes) - 1):
        codes = random_codes(rng, bits, (sizes[li + 1], sizes[li]))
        if li == len(sizes) - 2:
            layers.append(IntLayer(codes=codes, bits=bits))
            break
        cur = x @ codes.T
        spread = float(np.percentile(np.abs(cur), 60)) if cur.size else 1.0
        threshold = max(1, int(spread * rng.uniform(0.5, 1.5)))
        lay = IntLayer(codes=codes, bits=bits, threshold=threshold, leak_shift=leak_shift, reset=reset)
        layers.append(lay)
        x = (cur >= threshold).astype(np.int64)  # rough spike pattern for the next layer's scale
    net = IntNetwork(layers=layers, timesteps=timesteps)
    return net


@pytest.fixture
def make_net():
    """:func:`random_network` as a fixture (test modules do not import conftest by name)."""
    return random_network
