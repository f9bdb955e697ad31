"""The analytic resource estimate (icespike.estimate) against the committed synthesis table,
the ``icespike estimate`` verb, and the trainer's epoch/batch callbacks."""

from __future__ import annotations

import json

import numpy as np
import pytest

from icespike import cli, golden
from icespike import estimate as est
from icespike.checkpoint import load_checkpoint
from icespike.commands.train import run_training
from icespike.train import TrainConfig, spike_rates

MODELS = est.synth.ROOT / "models"


def test_committed_rows_parsed():
    rows = est.committed_rows()
    keys = {(r["config"], r["device"]) for r in rows}
    assert ("784-128-10-ternary", "up5k") in keys and ("784-80-10-q16", "up5k") in keys
    # only measured rows: memory-rejected configurations (no Yosys run) are not calibration data
    assert ("784-128-10-q16", "up5k") not in keys
    for r in rows:
        assert r["lut4"] > 0 and len(r["sizes"]) == 3


def test_estimate_error_against_committed_synthesis():
    rows = est.estimate_error()
    assert len(rows) >= 7
    for e in rows:
        # LUT4 within 20% of Yosys in-sample, 35% leave-one-out; memory from the block plan
        assert abs(e["lut4_err_pct"]) <= 20, e
        assert abs(e["lut4_err_loo_pct"]) <= 35, e
        assert e["spram_est"] == e["spram"], e
        assert abs(e["ebr_est"] - e["ebr"]) <= 2, e
        assert abs(e["dsp_est"] - e["dsp"]) <= 1, e


def test_estimate_fit_decisions():
    q16 = est.shape_params([784, 128, 10], 16)
    r = est.estimate(q16, "up5k")
    assert r["fits"] is False and "1,626,112 bits" in r["fit_problems"][0]
    t = est.estimate(est.shape_params([784, 128, 10], 2), "up5k")
    assert t["fits"] is True and t["dsp"] == 0 and t["spram"] == 4
    q8 = est.estimate(est.shape_params([784, 128, 10], 8), "up5k")
    assert q8["dsp"] == 8  # eight multiplier lanes, eight SB_MAC16
    q4 = est.estimate(est.shape_params([784, 128, 10], 4), "up5k")
    assert q4["dsp"] == 0  # sixteen lanes exceed the DSPs: multipliers in logic (the flow's fallback)
    # cycles come from the engine's own cycle model (ternary 784-128-10 at its default lanes: 2,240)
    assert t["cycles_per_inference"] == 2240
    assert t["inferences_per_s"] == pytest.approx(t["fmax_mhz"] * 1e6 / 2240, abs=0.05)  # rounded to 0.1


def test_estimate_cli(capsys, tmp_path):
    assert (
        cli.main(["estimate", str(MODELS / "mnist-784-128-10-ternary.npz"), "--device", "up5k", "--json"])
        == 0
    )
    d = json.loads(capsys.readouterr().out)
    assert d["fits"] and d["lut4"] > 0 and d["network"] == "784-128-10"
    assert cli.main(["estimate", "--error"]) == 0
    assert "784-128-10-q8 up5k" in capsys.readouterr().out
    assert cli.main(["estimate", str(tmp_path / "none.npz")]) == 2
    err = capsys.readouterr().err
    assert err.startswith("icespike: error:") and err.count("\n") == 1


def test_train_callbacks_stop_and_resume(tmp_path, mnist):
    cfg = dict(bits=2, epochs=3, timesteps=3, hidden=(8,), train_subset=300)
    out = tmp_path / "run.npz"
    recs, batches = [], []

    def on_epoch(rec):
        recs.append(rec)
        return False  # stop after the first epoch

    r = run_training(
        TrainConfig(**cfg), out, data=mnist, on_epoch=on_epoch, on_batch=lambda n, s: batches.append(n)
    )
    assert not r["complete"] and r["epochs"] == 1 and len(recs) == 1
    rec = recs[0]
    for k in ("loss", "train_accuracy", "test_accuracy", "images_per_s", "spike_rates"):
        assert k in rec
    assert batches[-1] == 300 and batches == sorted(batches)
    # the spike rate is the golden model's: hidden spikes / (images * T * neurons)
    ck = load_checkpoint(out)
    x = mnist.test_images.reshape(10000, -1)[:1000]
    g = golden.run(ck.to_int_network(), x)
    assert rec["spike_rates"][0] == float(g.spike_counts[0].sum()) / (1000 * 3 * 8)
    assert spike_rates(ck.model(), x) == rec["spike_rates"]
    # resume continues at epoch 2
    r2 = run_training(TrainConfig(**cfg), out, data=mnist, resume=True, on_epoch=recs.append)
    assert r2["complete"] and [x["epoch"] for x in recs] == [1, 2, 3]
    # an exception from on_batch aborts; the last finished epoch's checkpoint stays
    out2 = tmp_path / "abort.npz"

    def boom(n, s):
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        run_training(TrainConfig(**cfg), out2, data=mnist, on_batch=boom)
    assert load_checkpoint(out2).trainer_state()["epoch"] == 0
    assert np.isfinite(r2["accuracy"])
