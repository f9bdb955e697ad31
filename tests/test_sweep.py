"""`icespike sweep` on Ray Tune: the spec, a tiny sweep, a failing trial, resuming after Ctrl-C.

The Ray tests start a local Ray instance each (about 3.5 s on an idle 2-core machine) and
train 784-16-10 networks for one epoch on 1,000 images; the serial-vs-sweep comparison of
``make models`` (reduced to one epoch) is in the slow tier.
"""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from icespike import cli
from icespike.checkpoint import load_checkpoint
from icespike.commands.eval import evaluate_checkpoint
from icespike.sweep import SpecError, expand_stage, load_spec, pareto_front, spec_from_dict, trial_config

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "scripts"))

import models as serial_models  # noqa: E402  (scripts/models.py)

TINY = {"hidden": 16, "timesteps": 4, "train_subset": 1000, "epochs": 1}


def _toml(path: Path, text: str) -> Path:
    path.write_text(text)
    return path


def _model_of(row: dict) -> Path:
    """The model.npz of a finished trial's last checkpoint under its Tune trial directory."""
    found = sorted(Path(row["path"]).glob("checkpoint_*/model.npz"))
    assert found, f"no checkpoint under {row['path']}"
    return found[-1]


# ------------------------------------------------------------------------------------ the spec
def test_models_spec_is_the_serial_script():
    """sweeps/models.toml trains exactly what scripts/models.py trains, in dependency order."""
    spec = load_spec(REPO / "sweeps" / "models.toml")
    serial = {str(c.bits): c.to_dict() for c in serial_models.configs(serial_models.parser().parse_args([]))}
    seen = []
    for st in spec.stages:
        for pt in expand_stage(st):
            cfg, hw = trial_config(pt)
            assert cfg.to_dict() == serial[str(cfg.bits)], cfg.bits
            assert hw["synth"] is None
            seen.append((st.name, str(cfg.bits)))
    assert seen[0] == ("float", "float") and sorted(b for _, b in seen) == sorted(serial)
    assert [s.init for s in spec.stages] == [None, "float"]
    assert spec.publish == str(REPO / "models")


@pytest.mark.parametrize(
    "doc, match",
    [
        ({"params": {"bitz": 2}}, "unknown key"),
        ({"grid": {"bits": 2}}, "non-empty list"),
        ({"random": {"lr": {"gauss": [0, 1]}}}, "one distribution"),
        ({"stage": [{"name": "a", "init": "b"}, {"name": "b"}]}, "not an earlier stage"),
        ({"stage": [{"name": "a"}], "grid": {"bits": [1]}}, "inside a"),
        ({"grid": {"hidden": ["x"]}}, "hidden must be"),
        ({"grid": {"bits": [3]}}, "bits"),
    ],
)
def test_spec_errors_name_the_problem(doc, match):
    with pytest.raises(SpecError, match=match):
        spec_from_dict(doc)


def test_grid_points_and_overrides():
    spec = spec_from_dict(
        {
            "params": {"epochs": 3},
            "grid": {"bits": [2, 1], "hidden": [16, [32, 16]]},
            "points": [{"lr": 1e-3}],
        }
    )
    pts = expand_stage(spec.stages[0])
    assert len(pts) == 4 and {tuple(p["hidden"]) for p in pts} == {(16,), (32, 16)}
    assert all(p["epochs"] == 3 and p["lr"] == 1e-3 for p in pts)


def test_pareto_front():
    rows = [
        {"trial": "a", "accuracy": 0.9, "memory_bits": 100},
        {"trial": "b", "accuracy": 0.8, "memory_bits": 50},
        {"trial": "c", "accuracy": 0.7, "memory_bits": 60},  # beaten by b
        {"trial": "d", "accuracy": 0.9, "memory_bits": 120},  # beaten by a
        {"trial": "e", "accuracy": 0.8, "memory_bits": 50},  # tie with b: kept
    ]
    assert [r["trial"] for r in pareto_front(rows, "memory_bits")] == ["b", "e", "a"]


def test_cli_needs_a_spec_or_bits(capsys):
    assert cli.main(["sweep", "--epochs", "1"]) == 2
    assert "give a SPEC.toml or at least --bits" in capsys.readouterr().err


# ------------------------------------------------------------------------------------ on Ray
def test_tiny_sweep_json(tmp_path, capsys, mnist):
    """The issue's command, smaller: two trials, a JSON document, files, golden accuracies."""
    out = tmp_path / "sweep"
    argv = ["sweep", "--bits", "2,1", "--hidden", "16", "--epochs", "1", "--train-subset", "1000"]
    rc = cli.main([*argv, "--timesteps", "4", "--cpus", "2", "--out", str(out), "--json"])
    doc = json.loads(capsys.readouterr().out)
    assert rc == 0
    trials = doc["trials"]
    assert len(trials) == 2 and {t["bits"] for t in trials} == {"ternary", "binary"}
    for t in trials:
        assert t["status"] == "ok" and t["hidden"] == [16] and t["epochs"] == 1
        assert t["memory_bits"] == 784 * 16 * (2 if t["bits"] == "ternary" else 1) + 16 * 10 * (
            2 if t["bits"] == "ternary" else 1
        )
        # the trial's accuracy is what `icespike eval` says of its checkpoint
        assert t["accuracy"] == evaluate_checkpoint(_model_of(t), data=mnist)["accuracy"]
    assert doc["pareto_cost"] == "memory_bits"
    front = {p["trial"] for p in doc["pareto"]}
    assert front and front <= {t["trial"] for t in trials}
    binary = next(t for t in trials if t["bits"] == "binary")
    assert binary["trial"] in front  # the least memory is never dominated
    for name in ("results.json", "results.md", "pareto.png", "spec.json"):
        assert (out / name).is_file(), name
    assert json.loads((out / "results.json").read_text())["trials"] == json.loads(json.dumps(trials))


def test_failure_and_resume_after_interrupt(tmp_path, capsys):
    """One trial fails (its error line is reported) while the others run; Ctrl-C stops the
    sweep; running it again finishes it without running the finished trial again."""
    spec = _toml(
        tmp_path / "spec.toml",
        """
name = "resume"
[params]
hidden = 16
timesteps = 4
train_subset = 1000
epochs = 1
[[points]]
bits = 2
[[points]]
bits = 2
leak_shift = 17
[[points]]
bits = 1
epochs = 12
""",
    )
    out = tmp_path / "out"
    err = tmp_path / "stderr.txt"
    cmd = [sys.executable, "-m", "icespike.cli", "sweep", str(spec), "--out", str(out), "--cpus", "2"]
    with open(err, "w") as ferr:
        proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=ferr, cwd=tmp_path)
        try:
            deadline = time.monotonic() + 240
            while time.monotonic() < deadline and proc.poll() is None:
                text = err.read_text()
                ready = all(m in text for m in ("ternary 16 done", "failed: ", "_00002 epoch 1:"))
                if ready and "binary 16 done" not in text:
                    break
                time.sleep(0.2)
            assert proc.poll() is None, "the sweep ended before it could be interrupted:\n" + err.read_text()
            proc.send_signal(signal.SIGINT)
            rc = proc.wait(timeout=120)
        finally:
            if proc.poll() is None:
                proc.kill()
    first = json.loads((out / "results.json").read_text())
    assert rc == 130 and first["interrupted"], err.read_text()
    by_bits = {(t["bits"], t["leak_shift"]): t for t in first["trials"]}
    done, failed, cut = by_bits[("ternary", 4)], by_bits[("ternary", 17)], by_bits[("binary", 4)]
    assert done["status"] == "ok" and cut["status"] == "unfinished"
    assert failed["status"] == "error"
    assert failed["error"] == "ValueError: leak_shift must be an integer in 0..16, got 17"

    assert cli.main(cmd[3:] + ["--json"]) == 1  # one trial still fails
    doc = json.loads(capsys.readouterr().out)
    again = {(t["bits"], t["leak_shift"]): t for t in doc["trials"]}
    assert not doc["interrupted"] and doc["counts"] == {"ok": 2, "error": 1, "unfinished": 0}
    # the finished trial was not run again: same start time, same checkpoint
    assert again[("ternary", 4)]["started"] == done["started"]
    assert np.array_equal(
        load_checkpoint(_model_of(again[("ternary", 4)])).arrays["w0"],
        load_checkpoint(_model_of(done)).arrays["w0"],
    )
    # the interrupted one continued from its last epoch checkpoint (same start) and finished
    b = again[("binary", 4)]
    assert b["status"] == "ok" and b["epochs"] == 12 and b["started"] == cut.get("started", b["started"])
    assert len(load_checkpoint(_model_of(b)).history) == 12
    assert again[("ternary", 17)]["error"] == failed["error"]


@pytest.mark.slow
def test_models_sweep_equals_serial_script(tmp_path):
    """`make models` reduced to one epoch on 1,000 images: the sweep's models are the serial
    script's, weight for weight (training is deterministic for a given seed)."""
    small = ["--hidden", "16", "--timesteps", "4", "--train-subset", "1000"]
    assert (
        serial_models.main(
            [*small, "--float-epochs", "1", "--qat-epochs", "1", "--lowbit-epochs", "1"]
            + ["--out", str(tmp_path / "serial"), "--work", str(tmp_path / "work")]
        )
        == 0
    )
    rc = cli.main(
        ["sweep", str(REPO / "sweeps" / "models.toml"), *small, "--epochs", "1", "--cpus", "2"]
        + ["--out", str(tmp_path / "sweep"), "--publish", str(tmp_path / "published")]
    )
    assert rc == 0
    for name in ("float", "q16", "q8", "q4", "ternary", "binary"):
        a = load_checkpoint(tmp_path / "serial" / f"mnist-784-16-10-{name}.npz")
        b = load_checkpoint(tmp_path / "published" / f"mnist-784-16-10-{name}.npz")
        assert set(a.arrays) == set(b.arrays)
        for k in a.arrays:
            assert np.array_equal(a.arrays[k], b.arrays[k]), (name, k)


def test_random_samples_follow_the_spec():
    """`[random]` becomes Tune distributions: values in range, the same draws for the same seed."""
    from ray.tune.search.variant_generator import generate_variants

    from icespike.sweep import _param_space

    spec = spec_from_dict(
        {
            "grid": {"bits": [2, 1]},
            "random": {
                "lr": {"loguniform": [1e-4, 1e-2]},
                "leak_shift": {"randint": [3, 6]},
                "seed": {"choice": [0, 1, 2]},
            },
            "samples": 3,
        }
    )

    def draws(seed):  # as Tune's BasicVariantGenerator: one random state, one call per sample
        space, rng = _param_space(spec.stages[0], {}), np.random.RandomState(seed)
        return [
            cfg
            for _ in range(spec.stages[0].samples)
            for _, cfg in generate_variants(space, random_state=rng)
        ]

    a, b = draws(7), draws(7)
    assert a == b and len(a) == 6 and {c["bits"] for c in a} == {2, 1}
    for c in a:
        assert 1e-4 <= c["lr"] <= 1e-2 and c["leak_shift"] in (3, 4, 5) and c["seed"] in (0, 1, 2)
        trial_config({k: v for k, v in c.items() if not k.startswith("_")})  # every draw is a valid config
    assert len({c["lr"] for c in a}) == 6 and draws(8) != a
