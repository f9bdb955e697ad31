"""Shared fixtures of the Python unit tests: hypothesis profiles, bundled MNIST, random networks."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, settings

from icespike.data import load_mnist
from icespike.network import IntLayer, IntNetwork
from random_codes import random_codes

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


def copy_checkout(dest) -> Path:
    """A copy of this checkout's files (tracked and new, as they are on disk, build/ and .venv
    excluded) in ``dest``, committed into a fresh git repository, so that ``git status`` there
    shows exactly what a command changed. ``.venv`` is a link to this checkout's environment."""
    root = Path(__file__).resolve().parents[1]
    files = subprocess.run(
        ["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
        cwd=root,
        capture_output=True,
        check=True,
    ).stdout.split(b"\0")
    dest = Path(dest)
    for f in files:
        src = root / f.decode()
        if f and src.is_file():
            (dest / f.decode()).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(src, dest / f.decode())
    if (root / ".venv").is_dir():
        (dest / ".venv").symlink_to(root / ".venv")
    git = ["git", "-c", "user.name=t", "-c", "user.email=t@t", "-c", "commit.gpgsign=false"]
    subprocess.run(["git", "init", "-q"], cwd=dest, check=True)
    (dest / ".git" / "info" / "exclude").write_text("/.venv\n")
    subprocess.run([*git, "add", "-A"], cwd=dest, check=True)
    subprocess.run([*git, "commit", "-qm", "copy"], cwd=dest, check=True)
    return dest


@pytest.fixture
def checkout_copy(tmp_path):
    """:func:`copy_checkout` into a temporary directory."""
    return copy_checkout(tmp_path / "repo")
