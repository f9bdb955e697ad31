"""Networks with more than one hidden layer (784-256-128-10): their recipe, the accuracy
report's table per network, their export and RTL simulation plan, and the committed
checkpoints (training forward pass = golden model)."""

from __future__ import annotations

import importlib.util
import json
import shutil
import sys
from pathlib import Path

import numpy as np
import pytest

from icespike import cli, golden
from icespike.checkpoint import load_checkpoint, save_checkpoint
from icespike.train import SNNModel, TrainConfig

REPO = Path(__file__).resolve().parents[1]
MODELS = REPO / "models"
RECIPE = REPO / "scripts" / "recipes" / "mnist-784-256-128-10.json"
DEEP = "784-256-128-10"
WIDTHS = ["float", "q16", "q8", "q4", "ternary", "binary"]


def _script(name: str):
    spec = importlib.util.spec_from_file_location(name, REPO / "scripts" / f"{name}.py")
    mod = importlib.util.module_from_spec(spec)
    sys.modules.setdefault(name, mod)
    spec.loader.exec_module(mod)
    return mod


def _small_deep(path: Path, bits=2) -> Path:
    """A random 784-16-8-10 checkpoint (two hidden layers), thresholds low enough to spike."""
    m = SNNModel([784, 16, 8, 10], bits, rng=np.random.default_rng(3), theta_f=[0.5, 0.5])
    return save_checkpoint(path, m, TrainConfig(bits=bits, hidden=(16, 8), epochs=0))


def test_recipe_is_data_the_script_reads():
    """Every step of the recipe is a valid TrainConfig; QAT steps start from the float model."""
    network, hidden, plan = _script("models").load_recipe(RECIPE)
    assert network == DEEP and hidden == (256, 128)
    assert [b for b, _, _ in plan] == ["float", 2, 1, 16, 8, 4]
    assert all(init == (None if b == "float" else "float") for b, _, init in plan)
    assert all(cfg.hidden == (256, 128) for _, cfg, _ in plan)
    models = _script("models")
    assert models.model_path(MODELS, 2, hidden).name == f"mnist-{DEEP}-ternary.npz"
    assert models.model_path(MODELS, 2).name == "mnist-784-128-10-ternary.npz"


@pytest.mark.parametrize("name", WIDTHS)
def test_committed_deep_model_follows_its_recipe(name):
    """The committed checkpoint's training settings are the recipe's (so the script reproduces it)."""
    path = MODELS / f"mnist-{DEEP}-{name}.npz"
    if not path.is_file():
        pytest.skip(f"{path.name} not trained yet (python scripts/models.py --recipe {RECIPE.name})")
    _, _, plan = _script("models").load_recipe(RECIPE)
    ck = load_checkpoint(path)
    cfg = next(c for b, c, _ in plan if b == ck.config.bits)
    assert {**ck.config.to_dict(), "init": None} == {**cfg.to_dict(), "init": None}
    assert ck.manifest["recipe"] == str(RECIPE.relative_to(REPO))
    assert ck.manifest["complete"] and len(ck.history) == cfg.epochs


@pytest.mark.parametrize("name", WIDTHS)
def test_committed_deep_model_training_forward_equals_golden(name, mnist):
    """The trainer's forward pass and the golden model agree on the first 1,000 test images
    (exactly for quantised models; the float model against its q16 export)."""
    path = MODELS / f"mnist-{DEEP}-{name}.npz"
    if not path.is_file():
        pytest.skip(f"{path.name} not trained yet")
    ck = load_checkpoint(path)
    x = mnist.test_images[:1000].reshape(1000, -1)
    g = golden.run(ck.to_int_network(), x)
    if name == "float":
        assert float((ck.model().predict(x) == g.predictions).mean()) >= 0.998
    else:
        scores, _ = ck.model().forward(x)
        assert np.array_equal(scores.astype(np.int64), g.scores)


def test_export_writes_deeper_networks_and_sim_all_runs_them(tmp_path, capsys):
    """`icespike export` writes two hidden layers (and reads them back); scripts/sim_all.py runs
    such a model (the RTL engine runs 1 to 4 hidden layers), and keeps 784-128-10 under its
    width's name."""
    deep = _small_deep(tmp_path / "mnist-784-16-8-10-ternary.npz")
    assert cli.main(["export", str(deep), "--out", str(tmp_path / "exp"), "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["sizes"] == [784, 16, 8, 10] and out["engine"]["N_LAYERS"] == 2
    assert out["engine"]["N_HID_L"] == [8] and out["engine"]["W1_DEPTH"] == 8
    sim_all = _script("sim_all")
    assert sim_all.engine_refusal(deep) is None
    shutil.copy(MODELS / "mnist-784-128-10-ternary.npz", tmp_path)
    shutil.copy(MODELS / "mnist-784-128-10-ternary.json", tmp_path)
    assert sim_all.engine_refusal(tmp_path / "mnist-784-128-10-ternary.npz") is None
    found = sim_all.checkpoints(tmp_path, "ternary")
    assert [(p.name, label) for p, label in found] == [
        ("mnist-784-128-10-ternary.npz", "ternary"),
        ("mnist-784-16-8-10-ternary.npz", "784-16-8-10-ternary"),
    ]


def test_report_has_a_table_per_network(tmp_path, capsys):
    """`icespike report` keeps 784-128-10 first and adds a named table for a deeper network
    (QAT accuracy from the golden model, PTQ of its float model)."""
    models = tmp_path / "models"
    models.mkdir()
    for ext in (".npz", ".json"):
        shutil.copy(MODELS / f"mnist-784-128-10-binary{ext}", models)
    _small_deep(models / "mnist-784-16-8-10-float.npz", "float")
    _small_deep(models / "mnist-784-16-8-10-ternary.npz", 2)
    out = tmp_path / "reports"
    assert cli.main(["report", "--models", str(models), "--out", str(out), "--no-readme", "--json"]) == 0
    res = json.loads(capsys.readouterr().out)
    assert list(res["rows"]) == ["binary"]
    deep = res["networks"]["784-16-8-10"]
    assert set(deep["rows"]) == {"float", "ternary"}
    ck = load_checkpoint(models / "mnist-784-16-8-10-ternary.npz")
    md = (out / "accuracy.md").read_text()
    assert "Network 784-16-8-10" in md
    assert md.index("| binary |") < md.index("Network 784-16-8-10")
    acc = deep["rows"]["ternary"]["golden_accuracy"]
    assert f"| ternary | {100 * acc:.2f}% |" in md
    assert deep["ptq"]["ternary"]["maxabs"] is not None
    assert "/".join(map(str, ck.manifest["thresholds_int"])) in md
