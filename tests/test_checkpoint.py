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


# ------------------------------------------------------------------------------------ every field, every message
def _small(tmp_path, **save_kw):
    """A 6-5-4-3 ternary model with non-default settings, saved with a trainer state."""
    rng = np.random.default_rng(3)
    m = SNNModel(
        [6, 5, 4, 3],
        2,
        timesteps=3,
        leak_shift=1,
        reset="zero",
        threshold_ratio=0.6,
        surrogate_slope=3.0,
        detach_reset=False,
        gain=1.5,
        theta_f=[1.25, 0.5],
        rng=rng,
    )
    cfg = TrainConfig(bits=2, epochs=3, hidden=(5, 4), timesteps=3)
    hist = [{"epoch": 1, "loss": 0.5}, {"epoch": 2, "loss": 0.25}]
    # the optimiser state as float32 and int32: stored as float64 and int64 all the same
    opt = {
        "t": np.int32(7),
        "m": [rng.normal(size=w.shape).astype(np.float32) for w in m.weights],
        "v": [rng.uniform(size=w.shape).astype(np.float32) for w in m.weights],
    }
    # three epochs by the trainer's count, two history entries: the trainer's count is recorded
    kw = dict(history=hist, data_checksum="abc", trainer_state={"epoch": 3, "history": hist, "opt": opt})
    kw.update(save_kw)
    extra = {"note": "by hand", "n": np.int16(5), "x": np.float32(0.5), "t": (1, np.arange(2))}
    p = save_checkpoint(tmp_path / "sub" / "dir" / "c.json", m, cfg, complete=False, extra=extra, **kw)
    return p, m, cfg, hist, opt


def test_manifest_and_arrays_field_by_field(tmp_path):
    import icespike
    from icespike.checkpoint import arrays_sha256

    p, m, cfg, hist, opt = _small(tmp_path)
    assert p == tmp_path / "sub" / "dir" / "c.npz"  # a .json path names the same checkpoint; parents made
    assert sorted(f.name for f in p.parent.iterdir()) == ["c.json", "c.npz"]  # no temporaries left
    qr = m.quantize()
    with np.load(p) as z:
        arrays = {k: z[k] for k in z.files}
    names = [f"{k}{i}" for i in range(3) for k in ("w", "codes")] + ["opt_t"]
    names += [f"opt_{k}{i}" for i in range(3) for k in ("m", "v")]
    assert sorted(arrays) == sorted(names)
    for i in range(3):
        assert arrays[f"w{i}"].dtype == np.float64 and np.array_equal(arrays[f"w{i}"], m.weights[i])
        assert arrays[f"codes{i}"].dtype == np.int64 and np.array_equal(
            arrays[f"codes{i}"], qr[i].int_codes()
        )
        assert np.array_equal(arrays[f"opt_m{i}"], opt["m"][i]) and np.array_equal(
            arrays[f"opt_v{i}"], opt["v"][i]
        )
    assert arrays["opt_t"].dtype == np.int64 and arrays["opt_t"].shape == () and int(arrays["opt_t"]) == 7
    shapes = {"w0": [5, 6], "w1": [4, 5], "w2": [3, 4]}
    spec = {}
    for k in names:
        spec[k] = {"shape": [] if k == "opt_t" else shapes["w" + k[-1]], "dtype": "<f8"}
    for k in ("codes0", "codes1", "codes2", "opt_t"):
        spec[k]["dtype"] = "<i8"
    expect = {
        "format": "icespike-checkpoint",
        "format_version": 1,
        "code_version": icespike.__version__,
        "bits": "ternary",
        "weight_bits": 2,
        "scale_mode": "maxabs",
        "threshold_ratio": 0.6,
        "sizes": [6, 5, 4, 3],
        "hidden": [5, 4],
        "timesteps": 3,
        "leak_shift": 1,
        "reset": "zero",
        "scales": [r.scale for r in qr],
        "thresholds_float": [1.25, 0.5],
        "thresholds_int": m.int_thresholds(qr),
        "mem_widths": list(m.mem_widths),
        "sparsity": [float((arrays[f"codes{i}"] == 0).mean()) for i in range(3)],
        "surrogate_slope": 3.0,
        "detach_reset": False,
        "gain": 1.5,
        "training": cfg.to_dict(),
        "history": hist,
        "epochs_done": 3,
        "complete": False,
        "data_checksum": "abc",
        "arrays": spec,
        "arrays_sha256": arrays_sha256(arrays),
        "note": "by hand",
        "n": 5,
        "x": 0.5,
        "t": [1, [0, 1]],
    }
    expect["network_sha256"] = network_sha256(expect)
    man = json.loads(manifest_path(p).read_text())
    assert list(man) == list(expect) and man == expect
    assert 0 < min(man["sparsity"]) and max(man["sparsity"]) < 1  # the codes hold zeros and non-zeros
    assert manifest_path(p).read_text().endswith("}\n") and '\n "format": ' in manifest_path(p).read_text()


def test_manifest_defaults(tmp_path):
    m = _model()
    p = save_checkpoint(tmp_path / "d", m)
    assert p == tmp_path / "d.npz"
    man = load_checkpoint(p).manifest
    assert man["training"] is None and man["history"] == [] and man["epochs_done"] == 0
    assert man["complete"] is True and man["data_checksum"] is None and "opt_t" not in man["arrays"]
    assert load_checkpoint(p).trainer_state() is None and load_checkpoint(p).config is None
    assert load_checkpoint(p).model().detach_reset is True  # the default, given back
    # a layer of one neuron is a legal size
    p1 = save_checkpoint(tmp_path / "one.npz", SNNModel([6, 1, 3], 2, timesteps=3))
    assert load_checkpoint(p1).manifest["sizes"] == [6, 1, 3]
    # the scale mode comes back (8 bits: the fixed Qm.n scale)
    pf = save_checkpoint(tmp_path / "fixed.npz", SNNModel([6, 4, 3], 8, scale="fixed", timesteps=3))
    assert load_checkpoint(pf).model().quantizer.scale_mode == "fixed"
    # without a trainer state, the epochs done are the history's length
    p2 = save_checkpoint(tmp_path / "h.npz", m, history=[{"epoch": 1}, {"epoch": 2}])
    assert load_checkpoint(p2).manifest["epochs_done"] == 2
    with pytest.raises(ValueError, match=r"^checkpoint path must end in \.npz, got .*d\.txt$"):
        save_checkpoint(tmp_path / "d.txt", m)


def test_loaded_checkpoint_gives_back_everything(tmp_path):
    from icespike.train import evaluate

    p, m, cfg, hist, opt = _small(tmp_path)
    ck = load_checkpoint(p)
    assert ck.path == p and ck.bits == 2 and ck.bits_name == "ternary" and ck.timesteps == 3
    assert ck.n_layers == 3 and not ck.has_bias and ck.config == cfg and ck.history == hist
    st = ck.trainer_state()
    assert list(st) == ["epoch", "history", "opt"] and st["epoch"] == 3 and st["history"] == hist
    assert list(st["opt"]) == ["t", "m", "v"] and st["opt"]["t"] == 7 and type(st["opt"]["t"]) is int
    assert len(st["opt"]["m"]) == len(st["opt"]["v"]) == 3
    for i in range(3):
        assert np.array_equal(st["opt"]["m"][i], opt["m"][i]) and np.array_equal(
            st["opt"]["v"][i], opt["v"][i]
        )
        assert st["opt"]["m"][i].dtype == np.float64 and st["opt"]["v"][i].dtype == np.float64
    m2 = ck.model()
    assert m2.sizes == [6, 5, 4, 3] and m2.timesteps == 3 and m2.leak_shift == 1 and m2.reset == "zero"
    assert m2.quantizer.scale_mode == "maxabs" and m2.quantizer.threshold_ratio == 0.6 and m2.bits == 2
    assert m2.theta_f == [1.25, 0.5] and m2.surrogate_slope == 3.0 and m2.detach_reset is False
    assert m2.gain == 1.5 and m2.biases is None
    assert all(np.array_equal(a, b) for a, b in zip(m2.weights, m.weights))
    net = ck.to_int_network()
    qr = m.quantize()
    assert net.timesteps == 3 and [lay.bits for lay in net.layers] == [2, 2, 2]
    assert [lay.threshold for lay in net.layers] == [*m.int_thresholds(qr), None]
    assert [lay.leak_shift for lay in net.layers] == [1, 1, 0]
    assert [lay.reset for lay in net.layers] == ["zero"] * 3 and not net.has_bias
    assert all(lay.codes.dtype == np.int64 for lay in net.layers)
    assert all(np.array_equal(lay.codes, r.int_codes()) for lay, r in zip(net.layers, qr))
    assert net.meta == {
        "bits": "ternary",
        "scales": [r.scale for r in qr],
        "thresholds_float": [1.25, 0.5],
        "source": str(p),
        "arrays_sha256": ck.manifest["arrays_sha256"],
    }
    x = np.random.default_rng(1).integers(0, 256, size=(8, 6))
    labels = m.predict(x)
    labels[:3] = (labels[:3] + 1) % 3  # three wrong of eight
    assert ck.evaluate_float(x, labels) == evaluate(m, x, labels) == 5 / 8


def _edit_manifest(p, edit, *, rehash=True):
    """Apply ``edit`` to the manifest of ``p`` and write it back (``rehash``: with a matching
    network_sha256, so that the check behind it must catch the edit)."""
    mp = manifest_path(p)
    man = json.loads(mp.read_text())
    edit(man)
    if rehash:
        man["network_sha256"] = network_sha256(man)
    mp.write_text(json.dumps(man))
    return man


def _edit_npz(p, arrays_edit):
    """Rewrite the npz with edited arrays and a manifest that matches them (hashes, array list)."""
    from icespike.checkpoint import arrays_sha256

    with np.load(p) as z:
        arrays = {k: z[k] for k in z.files}
    arrays_edit(arrays)
    np.savez_compressed(p, **arrays)
    mp = manifest_path(p)
    man = json.loads(mp.read_text())
    man["arrays"] = {k: {"shape": list(a.shape), "dtype": a.dtype.str} for k, a in arrays.items()}
    man["arrays_sha256"] = arrays_sha256(arrays)
    man["network_sha256"] = network_sha256(man)
    mp.write_text(json.dumps(man))


_NET_FIELDS = (
    "bits, weight_bits, scale_mode, threshold_ratio, sizes, timesteps, leak_shift, reset, scales, "
    "thresholds_float, thresholds_int, surrogate_slope, detach_reset, gain"
)


@pytest.mark.parametrize(
    "edit, rehash, match",
    [
        (
            lambda m: m.update(epochs_done=True),
            False,
            r"c\.json: manifest key 'epochs_done' has the wrong type$",
        ),
        (
            lambda m: m.update(epochs_done=2.0),
            False,
            r"c\.json: manifest key 'epochs_done' has the wrong type$",
        ),
        (
            lambda m: m.update(arrays_sha256="0" * 64),
            False,
            r"c\.json: the network fields \(.*\) do not match network_sha256: the manifest was edited$",
        ),
        (lambda m: m.pop("network_sha256"), False, r"c\.json: manifest lacks the key 'network_sha256'$"),
        (lambda m: m.pop("format_version"), False, r"format version None is not supported \(this code"),
        (
            lambda m: m.update(gain=2.5),
            False,
            rf"^.*c\.json: the network fields \({_NET_FIELDS}\) do not match network_sha256: "
            r"the manifest was edited$",
        ),
        (
            lambda m: m["arrays"].update(w0={"shape": [5, True], "dtype": "<f8"}),
            False,
            r"arrays\['w0'\] must be",
        ),
        (lambda m: m["arrays"].update(w0={"shape": [5, 6], "dtype": 8}), False, r"arrays\['w0'\] must be"),
        (lambda m: m["arrays"].update(w0={"dtype": "<f8"}), False, r"arrays\['w0'\] must be"),
        (
            lambda m: m.update(thresholds_float=[1.25, float("inf")]),
            True,
            r"c\.json: manifest key 'thresholds_float' must hold finite numbers$",
        ),
        (
            lambda m: m.update(threshold_ratio=float("inf")),
            True,
            r"c\.json: manifest key 'threshold_ratio' must be a finite number$",
        ),
        (
            lambda m: m.update(surrogate_slope=True),
            True,
            r"c\.json: manifest key 'surrogate_slope' must be a finite number$",
        ),
        (
            lambda m: m["arrays"].pop("opt_t"),
            False,
            r"^checkpoint .*c\.npz: arrays \['codes0', .*'opt_t', .*\] do not match the manifest's "
            r"\['codes0', 'codes1', 'codes2', 'opt_m0', .*'w2'\]$",
        ),
        (
            lambda m: m["arrays"].update(w0={"shape": [6, 5], "dtype": "<f8"}),
            False,
            r"^checkpoint .*c\.npz: array 'w0' has shape/dtype \(5, 6\)/<f8, manifest says "
            r"\{'shape': \[6, 5\], 'dtype': '<f8'\}$",
        ),
        (
            lambda m: m["arrays"].update(w0={"shape": [5, 6], "dtype": "<f4"}),
            False,
            r"array 'w0' has shape/dtype \(5, 6\)/<f8, manifest says",
        ),
        (lambda m: m.update(sizes=[6, 3]), True, r"^.*c\.json: bad layer sizes \[6, 3\]$"),
        (lambda m: m.update(sizes=[6, 5, 4, 0]), True, r"c\.json: bad layer sizes \[6, 5, 4, 0\]$"),
        (lambda m: m.update(sizes=[6, 5, 4, True]), True, r"c\.json: bad layer sizes \[6, 5, 4, True\]$"),
        (lambda m: m.update(sizes=[6, 5, 4, 3, 2]), True, r"^checkpoint .*c\.npz: array 'w3' is missing$"),
        (
            lambda m: m.update(sizes=[6, 5, 4, 4]),
            True,
            r"^checkpoint .*c\.npz: w2 has shape \(3, 4\), expected \(4, 4\)$",
        ),
        (
            lambda m: m.update(sizes=[7, 5, 4, 3]),
            True,
            r"^checkpoint .*c\.npz: w0 has shape \(5, 6\), expected \(5, 7\)$",
        ),
        (
            lambda m: m.update(thresholds_float=[1.25]),
            True,
            r"^.*c\.json: expected 2 hidden-layer thresholds$",
        ),
        (lambda m: m.update(thresholds_int=[5]), True, r"c\.json: expected 2 hidden-layer thresholds$"),
        (
            lambda m: m.update(thresholds_float=[-1.0, 0.5]),
            True,
            r"^checkpoint .*c\.npz: theta_f must hold one positive threshold per hidden layer",
        ),
        (
            lambda m: m.update(weight_bits=8),
            True,
            r"^.*c\.json: bits 'ternary' and weight_bits 8 disagree$",
        ),
        (
            lambda m: m.update(bits="binary"),
            True,
            r"^.*c\.json: bits 'binary' and weight_bits 2 disagree$",
        ),
    ],
)
def test_every_load_error_names_its_cause(tmp_path, edit, rehash, match):
    p, *_ = _small(tmp_path)
    _edit_manifest(p, edit, rehash=rehash)
    with pytest.raises(CheckpointError) as e:
        load_checkpoint(p)
    assert re.search(match, str(e.value)), str(e.value)


def test_file_level_errors_in_full(tmp_path):
    p, *_ = _small(tmp_path)
    mp = manifest_path(p)
    text = mp.read_text()
    with pytest.raises(
        FileNotFoundError, match=rf"^checkpoint {re.escape(str(tmp_path / 'x.npz'))} does not exist$"
    ):
        load_checkpoint(tmp_path / "x.npz")
    mp.write_text("[1, 2]")  # JSON, but not an object
    with pytest.raises(
        CheckpointError,
        match=rf"^{re.escape(str(mp))} is not an icespike checkpoint manifest \(format != 'icespike-checkpoint'\)$",
    ):
        load_checkpoint(p)
    mp.write_bytes(b"\xff\xfe{")
    with pytest.raises(CheckpointError, match=rf"^manifest {re.escape(str(mp))} is not valid JSON \(.+\)$"):
        load_checkpoint(p)
    mp.unlink()
    with pytest.raises(
        CheckpointError, match=rf"^checkpoint {re.escape(str(p))}: manifest {re.escape(str(mp))} is missing$"
    ):
        load_checkpoint(p)
    mp.write_text(text)
    p.write_bytes(b"PK\x03\x04 not a zip")
    with pytest.raises(
        CheckpointError, match=rf"^checkpoint {re.escape(str(p))} is corrupt or truncated \(\w+: .+\)$"
    ):
        load_checkpoint(p)


def test_unverified_load_and_derived_array_errors(tmp_path):
    p, *_ = _small(tmp_path)
    man = _edit_manifest(p, lambda m: m["thresholds_int"].__setitem__(0, m["thresholds_int"][0] + 1))
    with pytest.raises(CheckpointError, match=r"integer thresholds do not follow"):
        load_checkpoint(p)
    assert load_checkpoint(p, verify_codes=False).manifest["thresholds_int"] == man["thresholds_int"]
    # codes of the last layer edited (and hashed): the check walks every layer
    _edit_npz(p, lambda a: a.update(codes2=-a["codes2"]))
    with pytest.raises(
        CheckpointError, match=r"^checkpoint .*c\.npz: codes2 do not follow from the stored weights w2$"
    ):
        load_checkpoint(p)


def test_small_biased_checkpoint(tmp_path):
    rng = np.random.default_rng(5)
    m = SNNModel([6, 5, 3], 8, timesteps=3, biases=[rng.normal(0, 0.5, 5), rng.normal(0, 0.5, 3)], rng=rng)
    p = save_checkpoint(tmp_path / "b.npz", m)
    ck = load_checkpoint(p)
    assert ck.has_bias and sorted(ck.arrays) == ["b0", "b1", "bias0", "bias1", "codes0", "codes1", "w0", "w1"]
    assert ck.arrays["bias1"].dtype == np.int64 and ck.arrays["b1"].dtype == np.float64
    assert all(np.array_equal(a, b) for a, b in zip(ck.model().biases, m.biases))
    ref = m.int_biases(m.quantize())
    assert any(np.any(b != 0) for b in ref)
    for lay, b in zip(ck.to_int_network().layers, ref):
        assert lay.bias.dtype == np.int64 and np.array_equal(lay.bias, b)
    _edit_npz(p, lambda a: a.update(bias1=a["bias1"] + 1))
    with pytest.raises(
        CheckpointError, match=r"^checkpoint .*b\.npz: bias1 does not follow from the stored float bias b1$"
    ):
        load_checkpoint(p)


def test_scales_are_checked_to_twelve_digits(tmp_path):
    """A scale off by one part in 10^9 is refused (rtol 1e-12, no absolute slack)."""
    p, *_ = _small(tmp_path)
    _edit_manifest(p, lambda m: m["scales"].__setitem__(0, m["scales"][0] * (1 + 1e-9)))
    with pytest.raises(CheckpointError, match=r"c\.json: scales do not follow from the stored weights$"):
        load_checkpoint(p)


def test_unverified_load_still_refuses_an_illegal_network(tmp_path):
    """Without the code checks, an integer threshold the network refuses is still one clear error."""
    p, *_ = _small(tmp_path)
    _edit_manifest(p, lambda m: m["thresholds_int"].__setitem__(0, 0))
    with pytest.raises(CheckpointError, match=r"^checkpoint .*c\.npz: .*threshold"):
        load_checkpoint(p, verify_codes=False)
