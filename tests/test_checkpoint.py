"""Checkpoints: round trip, resumable training, and clear errors for corrupt or foreign files."""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import numpy as np
import pytest

from icespike import cli, golden
from icespike.checkpoint import (
    CheckpointError,
    load_checkpoint,
    manifest_path,
    network_sha256,
    save_checkpoint,
)
from icespike.commands.eval import evaluate_checkpoint
from icespike.commands.train import run_training
from icespike.data import load_mnist
from icespike.network import IntNetwork
from icespike.train import SNNModel, TrainConfig


@pytest.fixture(scope="module")
def mnist():
    return load_mnist()


def _model(bits=2, seed=0):
    return SNNModel([784, 32, 10], bits, timesteps=8, rng=np.random.default_rng(seed))


@pytest.fixture
def ckpt(tmp_path):
    m = _model()
    cfg = TrainConfig(bits=2, epochs=1, hidden=(32,), timesteps=8)
    p = save_checkpoint(tmp_path / "m.npz", m, cfg, history=[{"epoch": 1, "loss": 1.0}], data_checksum="abc")
    return p, m


def test_round_trip(ckpt, mnist):
    p, m = ckpt
    ck = load_checkpoint(p)
    assert ck.bits == 2 and ck.timesteps == 8 and ck.manifest["hidden"] == [32]
    assert manifest_path(p).is_file()
    net = ck.to_int_network()
    assert isinstance(net, IntNetwork)
    ref = m.to_int_network()
    for a, b in zip(net.layers, ref.layers):
        assert np.array_equal(a.codes, b.codes) and a.threshold == b.threshold and a.bits == b.bits
    m2 = ck.model()
    for a, b in zip(m.weights, m2.weights):
        assert np.array_equal(a, b)
    x = mnist.test_images[:300].reshape(300, -1)
    assert np.array_equal(m2.predict(x), golden.run(net, x).predictions)
    man = ck.manifest
    for key in (
        "scales",
        "thresholds_float",
        "thresholds_int",
        "leak_shift",
        "timesteps",
        "training",
        "data_checksum",
        "code_version",
        "arrays_sha256",
        "sparsity",
    ):
        assert key in man
    assert man["thresholds_int"] == [ref.layers[0].threshold]


def test_also_loads_by_manifest_path(ckpt):
    p, _ = ckpt
    assert load_checkpoint(manifest_path(p)).bits == 2


def test_float_checkpoint_exports_q16(tmp_path):
    m = _model("float")
    p = save_checkpoint(tmp_path / "f.npz", m)
    ck = load_checkpoint(p)
    net = ck.to_int_network()
    assert ck.manifest["bits"] == "float" and ck.manifest["weight_bits"] == 16
    assert all(lay.bits == 16 for lay in net.layers)
    assert np.abs(net.layers[0].codes).max() == 32767


def test_missing_files(tmp_path, ckpt):
    with pytest.raises(FileNotFoundError, match="does not exist"):
        load_checkpoint(tmp_path / "nothing.npz")
    p, _ = ckpt
    manifest_path(p).unlink()
    with pytest.raises(CheckpointError, match="manifest .* is missing"):
        load_checkpoint(p)


def test_truncated_npz(ckpt):
    p, _ = ckpt
    data = p.read_bytes()
    p.write_bytes(data[: len(data) // 2])
    with pytest.raises(CheckpointError, match="corrupt or truncated"):
        load_checkpoint(p)


def test_flipped_byte_in_npz(ckpt):
    p, _ = ckpt
    data = bytearray(p.read_bytes())
    data[len(data) // 3] ^= 0xFF
    p.write_bytes(bytes(data))
    with pytest.raises(
        CheckpointError,
        match=r"^checkpoint .*m\.npz is corrupt or truncated \(BadZipFile: Bad CRC-32 for file '\w+\.npy'\)$",
    ):
        load_checkpoint(p)


def test_foreign_npz_with_manifest_of_another_model(tmp_path, ckpt):
    p, _ = ckpt
    other = save_checkpoint(tmp_path / "o.npz", _model(seed=7))
    shutil.copy(other, p)  # right format, wrong arrays
    with pytest.raises(CheckpointError, match="SHA-256"):
        load_checkpoint(p)


def test_not_a_checkpoint(tmp_path):
    p = tmp_path / "x.npz"
    np.savez(p, a=np.zeros(3))
    manifest_path(p).write_text(json.dumps({"hello": 1}))
    with pytest.raises(CheckpointError, match="not an icespike checkpoint"):
        load_checkpoint(p)
    manifest_path(p).write_text("{not json")
    with pytest.raises(CheckpointError, match="not valid JSON"):
        load_checkpoint(p)


@pytest.mark.parametrize(
    "edit,match",
    [
        (
            lambda m: m.update(thresholds_int=[m["thresholds_int"][0] + 1]),
            r": integer thresholds do not follow from the float thresholds and scales$",
        ),
        (lambda m: m.update(thresholds_float=[m["thresholds_float"][0] * 2]), "integer thresholds"),
        (
            lambda m: m.update(bits="q8", weight_bits=8),
            r"m\.npz: codes0 do not follow from the stored weights w0$",
        ),
        (
            lambda m: m.update(format_version=99),
            r"m\.json: checkpoint format version 99 is not supported \(this code reads version 1\)$",
        ),
        (lambda m: m.pop("timesteps"), r"m\.json: manifest lacks the key 'timesteps'$"),
        (lambda m: m.update(timesteps="16"), r"m\.json: manifest key 'timesteps' has the wrong type$"),
        (
            lambda m: m.update(bits="int3"),
            r"m\.json: unsupported bits 'int3': allowed are float, 16, 8, 4, 2 \(ternary\), 1 \(binary\)$",
        ),
        (
            lambda m: m.update(arrays_sha256="0" * 64),
            r"m\.npz: SHA-256 of the arrays [0-9a-f]{16}\.\.\. does not match the manifest \(0{16}\.\.\.\): file and manifest do not belong together$",
        ),
        (
            lambda m: m.update(scales=[2 * s for s in m["scales"]]),
            r": scales do not follow from the stored weights$",
        ),
        (lambda m: m.update(scales=m["scales"][:1]), r": expected 2 layer scales$"),
        (lambda m: m.update(scales=[True, 1.0]), r": manifest key 'scales' must hold finite numbers$"),
        (lambda m: m.update(thresholds_int=[5.0]), r": manifest key 'thresholds_int' must hold integers$"),
        (
            lambda m: m["arrays"].update(w0=[1]),
            r": arrays\['w0'\] must be \{'shape': \[integers\], 'dtype': string\}$",
        ),
        (lambda m: m.update(gain=float("nan")), r": manifest key 'gain' must be a finite number$"),
    ],
)
def test_manifest_mismatch(ckpt, edit, match):
    p, _ = ckpt
    mp = manifest_path(p)
    man = json.loads(mp.read_text())
    edit(man)
    mp.write_text(json.dumps(man))
    with pytest.raises(CheckpointError) as first:
        load_checkpoint(p)
    if "network_sha256: the manifest was edited" in str(first.value):
        man["network_sha256"] = network_sha256(man)  # a consistent edit: the deeper check must catch it
        mp.write_text(json.dumps(man))
        with pytest.raises(CheckpointError, match=match):
            load_checkpoint(p)
    else:
        assert re.search(match, str(first.value)), str(first.value)


@pytest.mark.parametrize("key, value", [("timesteps", 5), ("leak_shift", 3), ("reset", "zero")])
def test_edited_network_field_refused(ckpt, key, value):
    """Fields no array can confirm (T, leak, reset) are covered by network_sha256."""
    p, _ = ckpt
    mp = manifest_path(p)
    man = json.loads(mp.read_text())
    assert man[key] != value
    man[key] = value
    mp.write_text(json.dumps(man))
    with pytest.raises(CheckpointError, match=r"do not match network_sha256: the manifest was edited$"):
        load_checkpoint(p)


def test_resume_gives_the_same_weights_as_one_run(tmp_path, mnist):
    kw = dict(bits=2, hidden=(16,), timesteps=4, train_subset=512, batch_size=64)
    a = tmp_path / "a.npz"
    b = tmp_path / "b.npz"
    quiet = lambda s: None  # noqa: E731
    run_training(TrainConfig(epochs=2, **kw), a, data=mnist, log=quiet)
    run_training(TrainConfig(epochs=2, **kw), b, data=mnist, stop_after=1, log=quiet)
    assert not load_checkpoint(b).manifest["complete"]
    r = run_training(TrainConfig(epochs=2, **kw), b, data=mnist, resume=True, log=quiet)
    ca, cb = load_checkpoint(a), load_checkpoint(b)
    for i in range(2):
        assert np.array_equal(ca.arrays[f"w{i}"], cb.arrays[f"w{i}"])
    assert cb.manifest["epochs_done"] == 2 and len(cb.history) == 2
    assert r["accuracy"] == evaluate_checkpoint(b, data=mnist)["accuracy"]
    with pytest.raises(ValueError, match="different settings"):
        run_training(TrainConfig(epochs=3, **{**kw, "hidden": (8,)}), b, data=mnist, resume=True, log=quiet)


def test_cli_eval_json_and_errors(ckpt, capsys, tmp_path):
    p, _ = ckpt
    assert cli.main(["eval", str(p), "--json", "--images", "200"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["images"] == 200 and out["bits"] == "ternary" and out["timesteps"] == 8
    assert 0.0 <= out["accuracy"] <= 1.0 and out["evaluator"] == "golden"
    assert cli.main(["eval", str(p), "--json", "--images", "200", "--float"]) == 0
    out_f = json.loads(capsys.readouterr().out)
    assert out_f["accuracy"] == out["accuracy"]  # integer-exact training forward pass
    bad = tmp_path / "bad.npz"
    bad.write_bytes(b"garbage")
    manifest_path(bad).write_text(manifest_path(p).read_text())
    assert cli.main(["eval", str(bad)]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "corrupt or truncated" in err[0]


def test_cli_train_small(tmp_path, capsys):
    out = tmp_path / "t.npz"
    rc = cli.main(
        [
            "train",
            "--bits",
            "1",
            "--epochs",
            "1",
            "--hidden",
            "16",
            "--timesteps",
            "4",
            "--train-subset",
            "256",
            "--out",
            str(out),
            "--json",
        ]
    )
    assert rc == 0
    r = json.loads(capsys.readouterr().out)
    assert r["bits"] == "binary" and r["epochs"] == 1 and r["images"] == 10000
    assert load_checkpoint(out).manifest["training"]["train_subset"] == 256
    # argparse rejects the width: one line, no usage block, exit 2
    assert cli.main(["train", "--bits", "3", "--out", str(out)]) == 2
    err = capsys.readouterr().err
    assert err.startswith("icespike: error: argument --bits") and err.count("\n") == 1
    assert "allowed are float, 16, 8, 4, 2 (ternary), 1 (binary)" in err
    assert cli.main(["train", "--bits", "8", "--epochs", "1", "--out", str(tmp_path / "x.txt")]) == 2
    assert "must end in .npz" in capsys.readouterr().err


def test_biases_round_trip_and_are_verified(tmp_path, mnist):
    rng = np.random.default_rng(2)
    m = SNNModel(
        [784, 32, 10], 8, timesteps=8, biases=[rng.normal(0, 0.5, 32), rng.normal(0, 0.5, 10)], rng=rng
    )
    p = save_checkpoint(tmp_path / "b.npz", m)
    ck = load_checkpoint(p)
    net = ck.to_int_network()
    assert net.has_bias
    for a, b in zip(net.layers, m.to_int_network().layers):
        assert np.array_equal(a.bias, b.bias)
    x = mnist.test_images[:200]
    assert np.array_equal(golden.run(net, x).scores, m.forward(x.reshape(200, -1))[0].astype(np.int64))
    # an integer bias that does not follow from the float bias is caught
    with np.load(p) as z:
        arrays = {k: z[k] for k in z.files}
    arrays["bias0"] = arrays["bias0"] + 1
    np.savez_compressed(p, **arrays)
    man = json.loads(manifest_path(p).read_text())
    from icespike.checkpoint import arrays_sha256, network_sha256

    man["arrays_sha256"] = arrays_sha256(arrays)
    man["network_sha256"] = network_sha256(man)
    manifest_path(p).write_text(json.dumps(man))
    with pytest.raises(CheckpointError, match="bias0 does not follow"):
        load_checkpoint(p)


def test_provenance_names_no_machine_path(tmp_path):
    """A manifest names its --init checkpoint relative to the checkout, or by file name and hash."""
    from icespike.checkpoint import provenance

    root = Path(__file__).resolve().parents[1]
    assert provenance(root / "models" / "x.npz", "ab" * 32) == "models/x.npz"
    assert provenance(tmp_path / "y.npz", "cd" * 32) == f"y.npz (arrays_sha256 {'cd' * 32})"


def test_committed_manifests_hold_no_absolute_path():
    root = Path(__file__).resolve().parents[1]

    def strings(o):
        if isinstance(o, dict):
            for v in o.values():
                yield from strings(v)
        elif isinstance(o, list):
            for v in o:
                yield from strings(v)
        elif isinstance(o, str):
            yield o

    files = [*sorted((root / "models").glob("*.json")), *sorted((root / "reports").glob("*.json"))]
    assert len(files) >= 8
    for f in files:
        bad = [s for s in strings(json.loads(f.read_text())) if s.startswith("/") or "/home/" in s]
        assert not bad, f"{f.name}: {bad[:3]}"
    ck = load_checkpoint(root / "models" / "mnist-784-128-10-ternary.npz")
    assert ck.config.init == "models/mnist-784-128-10-float.npz"
