"""The fast formal tasks (formal/*.sby, tasks not tagged slow) pass: proofs, covers, and every
expect-fail task fails on its mutant. scripts/formal.py runs them; ``make formal`` runs all."""

from __future__ import annotations

import subprocess
import sys

import pytest

from simrun import ROOT


@pytest.mark.formal
def test_formal_fast():
    r = subprocess.run(
        [sys.executable, str(ROOT / "scripts" / "formal.py"), "--fast", "-j", "2"],
        capture_output=True,
        text=True,
        cwd=ROOT,
    )
    last = r.stdout.strip().splitlines()[-1] if r.stdout.strip() else r.stderr
    assert r.returncode == 0, r.stdout + r.stderr
    assert " 0 of " in last and "tasks wrong" in last, last
