#!/usr/bin/env python3
"""Accuracy report across bit widths (``make report``); the code lives in ``icespike.report``."""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "model"))

from icespike.report import main  # noqa: E402

if __name__ == "__main__":
    sys.exit(main())
