"""The analytic resource estimate (icespike.estimate): its structure (lanes, LIF lanes, depth,
the engine's memories against Yosys, the exact cycle model), its fit and error against a
synthesis table, the ``icespike estimate`` verb; and the trainer's epoch/batch callbacks.

No figure of the committed synthesis table is written here: ``make synth`` regenerates it."""

from __future__ import annotations

import json

import numpy as np
import pytest

from icespike import cli, golden
from icespike import estimate as est
from icespike.checkpoint import load_checkpoint
from icespike.commands.train import run_training
from icespike.data import load_mnist
from icespike.export import engine_params, export_network
from icespike.network import IntLayer, IntNetwork
from icespike.quant import bits_name
from icespike.train import TrainConfig, spike_rates
from random_codes import random_codes

MODELS = est.synth.ROOT / "models"


def _net(rng, sizes, bits, *, timesteps=4, bias=False, threshold=20):
    """A random network of ``sizes`` (1 to 4 hidden layers) at ``bits``."""
    hidden = [
        IntLayer(
            random_codes(rng, bits, (n, m)),
            bits=bits,
            threshold=threshold,
            leak_shift=4,
            bias=rng.integers(-8, 9, size=n) if bias else None,
        )
        for m, n in zip(sizes[:-2], sizes[1:-1])
    ]
    out = IntLayer(
        random_codes(rng, bits, (sizes[-1], sizes[-2])),
        bits=bits,
        threshold=None,
        bias=rng.integers(-8, 9, size=sizes[-1]) if bias else None,
    )
    return IntNetwork([*hidden, out], timesteps)


def _table(path, rows):
    """A synthesis table in the README's format (between its markers) with ``rows``
    (config, device, lut4, ebr, spram, dsp, fmax)."""
    lines = [
        est.synth.README_BEGIN,
        "| configuration | device | fits | SB_LUT4 | EBR | SPRAM | DSP | Fmax MHz |",
        "|---|---|---:|---:|---:|---:|---:|---:|",
    ]
    for cfg, dev, lut, ebr, spram, dsp, fmax in rows:
        lines.append(f"| {cfg} | {dev} sg48 | yes | {lut:,} | {ebr} | {spram} | {dsp} | {fmax} |")
    path.write_text("\n".join([*lines, "", est.synth.README_END, ""]))
    return path


def test_committed_rows_parsed():
    rows = est.committed_rows()
    assert rows
    for r in rows:
        assert r["lut4"] > 0 and 3 <= len(r["sizes"]) <= 6 and r["p_lif"] >= 1
        assert r["config"].startswith("-".join(map(str, r["sizes"])))
    # memory-rejected configurations (no Yosys run) are not calibration data
    assert all(r["config"] != "784-128-10-q16" for r in rows)


def test_rows_of_any_depth_and_knob_columns(tmp_path):
    t = _table(
        tmp_path / "t.md",
        [
            ("784-256-128-10-ternary", "up5k", 1000, 5, 4, 0, 50.0),
            ("784-64-32-16-8-10-q4", "up5k", 900, 6, 4, 8, "–"),
        ],
    )
    a, b = est.committed_rows(t)
    assert a["sizes"] == [784, 256, 128, 10] and a["bits"] == 2 and a["lanes"] is None and a["p_lif"] == 1
    assert b["sizes"] == [784, 64, 32, 16, 8, 10] and b["bits"] == 4 and b["placed"] is False
    t.write_text(
        t.read_text()
        .replace("| Fmax MHz |", "| Fmax MHz | LANES | P_LIF |")
        .replace("---:|\n|", "---:|---:|---:|\n|", 1)
    )
    t.write_text(t.read_text().replace("| 50.0 |", "| 50.0 | 8 | 2 |").replace("| – |", "| – | 4 | 1 |"))
    a, b = est.committed_rows(t)
    assert (a["lanes"], a["p_lif"], b["lanes"], b["p_lif"]) == (8, 2, 4, 1)
    with pytest.raises(ValueError, match="no table"):
        est.committed_rows(MODELS / "models.json")


def test_fit_recovers_a_linear_table_and_reports_its_error(tmp_path):
    """Rows made by known coefficients of the model's terms are fitted back exactly (errors 0);
    a term only one row exercises is that row's leave-one-out error; one row moved by 10 % shows
    up in the in-sample and (more) in the leave-one-out error."""
    coef = [200.0, 3.0, 300.0, 0.9, 150.0]
    shapes = [
        ([784, 128, 10], 2, "up5k"),
        ([784, 64, 10], 4, "up5k"),
        ([784, 128, 10], 8, "up5k"),
        ([784, 256, 128, 10], 2, "up5k"),
        ([784, 128, 64, 32, 10], 1, "up5k"),
        ([784, 80, 10], 2, "up5k"),  # 3 words per row: an address multiplier
        ([784, 96, 10], 2, "up5k"),  # the same
        ([784, 128, 10], 1, "hx8k"),  # weights in 7 x 4 EBR blocks: a 7:1 read multiplexer of 64 bits
    ]
    rows = []
    for sizes, bits, dev in shapes:
        p = est.shape_params(sizes, bits)
        lanes = est.rtlsim.default_lanes(p)
        mem = est.synth.engine_memories(p, est.synth.device(dev), lanes=lanes)
        w0 = next(m for m in mem["memories"] if m["name"] == "hidden-layer weights")
        mux = w0["width"] * (w0["blocks_deep"] - 1) if w0["where"] == "ebr" else 0
        assert mux == (384 if dev == "hx8k" else 0)
        addr = est.address_multipliers(p)
        assert addr == (1 if sizes[1] in (80, 96) else 0)
        x = [1, lanes * p.ACC_W + p.N_OUT * p.SCORE_W, p.N_LAYERS - 1, mux, addr]
        lut = sum(c * v for c, v in zip(coef, x))
        dsp = 0 if dev == "hx8k" else (8 if bits > 2 else 0) + addr
        cfg = "-".join(map(str, sizes)) + "-" + bits_name(bits)
        rows.append((cfg, dev, int(lut), mem["ebr"], mem["spram"], dsp, 48.0))
    exact = est.committed_rows(_table(tmp_path / "a.md", rows))
    f = est.fit(exact)
    assert f["lut_coef"] == pytest.approx(coef, abs=0.5) and f["unfitted"] == []
    assert est.fit(exact[:5])["unfitted"] == ["EBR weight multiplexer", "address multipliers"]
    errs = est.estimate_error(exact, images=np.zeros((3, 784), np.int64))
    summ = est.error_summary(errs)
    assert summ["rows"] == 8 and summ["lut4_max_abs_err_pct"] < 0.1
    assert summ["ebr_exact"] == summ["spram_exact"] == summ["dsp_exact"] == 8
    # leaving out the one EBR-weight row leaves its term unfitted: that row's error is its multiplexer
    assert [round(e["lut4_err_loo_pct"]) for e in errs][:7] == [0] * 7
    assert errs[7]["lut4_err_loo_pct"] == pytest.approx(-100 * coef[3] * 384 / rows[7][2], abs=0.2)
    moved = [(*r[:2], int(r[2] * 1.1), *r[3:]) if i == 1 else r for i, r in enumerate(rows[:5])]
    errs = est.estimate_error(
        est.committed_rows(_table(tmp_path / "b.md", moved)), images=np.zeros((3, 784), np.int64)
    )
    assert errs[1]["lut4_err_loo_pct"] < errs[1]["lut4_err_pct"] < 0 and errs[1]["lut4_err_loo_pct"] < -1
    assert all(abs(e["lut4_err_pct"]) < 10 for e in errs)


def test_estimate_error_against_committed_synthesis():
    """Every measured row of the committed table gets an estimate, in-sample and leave-one-out."""
    rows = est.committed_rows()
    errs = est.estimate_error(rows)
    assert [e["config"] for e in errs] == [r["config"] for r in rows]
    for e in errs:
        assert np.isfinite(e["lut4_err_pct"]) and e["lut4_est"] > 0
        assert e["spram_est"] == e["spram"], e  # the weights' place is a rule, not a fit
    s = est.error_summary(errs)
    assert s["rows"] == len(rows) and s["lut4_loo_mean_abs_err_pct"] >= s["lut4_mean_abs_err_pct"] - 1e-9


def test_estimate_structure_lanes_layers_memory():
    up5k = "up5k"
    # more lanes, more LIF lanes, more layers: never less logic; memory exactly the engine's
    luts = [est.estimate(est.shape_params([784, 128, 10], 2), up5k, lanes=n)["lut4"] for n in (4, 8, 16, 32)]
    assert luts == sorted(luts) and luts[0] < luts[-1]
    p1 = [est.estimate(est.shape_params([784, 128, 10], 2), up5k, p_lif=k) for k in (1, 2, 4)]
    assert [e["lut4"] for e in p1] == sorted(e["lut4"] for e in p1) and p1[0]["lut4"] < p1[-1]["lut4"]
    deep = [est.estimate(est.shape_params([784, *[64] * n, 10], 2), up5k) for n in (1, 2, 3, 4)]
    assert [e["lut4"] for e in deep] == sorted(e["lut4"] for e in deep)
    assert [e["ebr"] for e in deep] == sorted(e["ebr"] for e in deep) and deep[0]["ebr"] < deep[1]["ebr"]
    for e in deep:
        names = [m["name"] for m in e["memory"]["engine_memories"]["memories"]]
        assert sum(n.endswith("membranes") for n in names) == e["hidden_layers"]
        assert ("spike raster" in names) == (e["hidden_layers"] > 1)
        assert e["spram"] == 4 and (e["cycles_per_inference"] is None) == (e["hidden_layers"] > 1)
    # the weights' memory comes from the same plan as icespike synth's fit rules
    q8 = est.estimate(est.shape_params([784, 256, 128, 10], 8), up5k)
    assert q8["fits"] is False and "1,878,016 bits" in q8["fit_problems"][0]
    t = est.estimate(est.shape_params([784, 128, 10], 2), up5k)
    assert t["fits"] is True and t["dsp"] == 0 and t["lanes"] == 16 and t["p_lif"] == 1
    q4 = est.estimate(est.shape_params([784, 128, 10], 4), up5k)
    assert q4["dsp"] == 8  # eight multiplier lanes, eight SB_MAC16
    q4_16 = est.estimate(est.shape_params([784, 128, 10], 4), up5k, lanes=16)
    assert q4_16["dsp"] == 0  # sixteen lanes exceed the DSPs: multipliers in logic (the flow's fallback)
    assert q4_16["lut4"] >= 16 * est.logic_multiplier_lut4(4) and q4_16["lut4"] > q4["lut4"]


def test_estimate_cycles_are_the_engine_model():
    rng = np.random.default_rng(3)
    x = load_mnist().test_images.reshape(10000, -1)[:40]
    one = _net(rng, [784, 32, 10], 2)
    e = est.estimate_network(one, "up5k", images=x, p_lif=2)
    cyc = est.rtlsim.cycle_model(engine_params(one), x, 2)
    assert e["cycles_per_inference"] == -(-int(cyc.sum()) // len(cyc)) and e["cycles_max"] == cyc.max()
    deep = _net(rng, [784, 48, 24, 16, 10], 4)
    e = est.estimate_network(deep, "up5k", images=x, lanes=8)
    cyc = est.rtlsim.network_cycle_model(deep, x, 1, 8)
    assert e["hidden_layers"] == 3 and e["network"] == "784-48-24-16-10"
    assert (e["cycles_per_inference"], e["cycles_min"]) == (-(-int(cyc.sum()) // len(cyc)), cyc.min())
    assert e["inferences_per_s"] == pytest.approx(e["fmax_mhz"] * 1e6 / e["cycles_per_inference"], abs=0.05)
    # a bare shape of a deeper network has no cycles (they depend on its spikes)
    s = est.estimate(engine_params(deep), "up5k", lanes=8, images=x)
    assert (
        s["cycles_per_inference"] is None and "spikes" in s["cycle_model"] and s["inferences_per_s"] is None
    )


@pytest.mark.parametrize(
    "call, words",
    [
        (lambda: est.shape_params([784, 8, 8, 8, 8, 8, 10], 2), "1 to 4 hidden layers"),
        (lambda: est.shape_params([784, 10], 2), "1 to 4 hidden layers"),
        (lambda: est.estimate(est.shape_params([784, 128, 10], 2), "up5k", lanes=3), "accumulation lanes"),
        (lambda: est.estimate(est.shape_params([784, 128, 10], 2), "up5k", lanes=64), "accumulation lanes"),
        (lambda: est.estimate(est.shape_params([784, 128, 10], 2), "up5k", p_lif=16), "LIF lanes"),
        (lambda: est.estimate(est.shape_params([784, 256, 128, 10], 2), "up5k", p_lif=8), "a quarter"),
        (lambda: est.estimate(est.shape_params([784, 128, 10], 2), "ecp5"), "device"),
    ],
)
def test_estimate_refusals(call, words):
    with pytest.raises(ValueError, match=words):
        call()


@pytest.mark.synth
@pytest.mark.parametrize(
    "sizes, bits, dev, lanes, p_lif, bias",
    [
        ([64, 32, 16, 10], 2, "up5k", 8, 1, False),  # raster, a membrane bank per layer
        pytest.param(  # weights in EBR, banks of 4 in flip-flops, biases (about 60 s)
            [64, 16, 10], 2, "hx8k", 8, 2, True, marks=pytest.mark.slow
        ),
    ],
)
def test_engine_memories_equal_yosys(tmp_path, sizes, bits, dev, lanes, p_lif, bias):
    """The engine's memories as icespike.synth plans them = the EBR and SPRAM Yosys infers for
    the synthesis top that icespike synth places (Yosys only, 20-60 s)."""
    net = _net(np.random.default_rng(5), sizes, bits, bias=bias)
    d = tmp_path / "exp"
    export_network(net, d)
    device = est.synth.device(dev)
    rep = est.synth.run(
        "top_engine",
        [est.synth.TOP_ENGINE, *est.synth.engine_sources()],
        dev,
        tmp_path / "y",
        params={"W0_SPRAM": 1 if device.spram else 0, "LANES": lanes, "P_LIF": p_lif},
        include_dirs=[d],
        data_files=sorted(d.glob("*.hex")),
        config="memories",
        place=False,
    )
    plan = est.synth.engine_memories(engine_params(net), device, lanes=lanes, p_lif=p_lif)
    assert (rep["ebr"], rep["spram"]) == (plan["ebr"], plan["spram"]), plan
    # the output weights (16 x 20 bits) are a ROM in the top: LUT logic, not EBR
    w1 = next(m for m in plan["memories"] if m["name"] == "output weights")
    assert w1["rom"] and w1["where"] == "ff"


def test_ebr_or_logic_rule():
    rule = est.synth.ebr_or_logic
    assert rule(4, 24) == "ff" and rule(8, 24) == "ebr" and rule(8, 8) == "ff" and rule(8, 9) == "ebr"
    assert rule(1024, 19) == "ebr"
    assert (
        rule(64, 20, rom=True) == "ff"
        and rule(128, 20, rom=True) == "ebr"
        and rule(128, 10, rom=True) == "ebr"
    )


def test_estimate_cli(capsys, tmp_path):
    assert (
        cli.main(["estimate", str(MODELS / "mnist-784-128-10-ternary.npz"), "--device", "up5k", "--json"])
        == 0
    )
    d = json.loads(capsys.readouterr().out)
    assert d["fits"] and d["lut4"] > 0 and d["network"] == "784-128-10" and d["hidden_layers"] == 1
    assert cli.main(["estimate", str(MODELS / "mnist-784-128-10-ternary.npz"), "--lif-lanes", "2"]) == 0
    assert "LANES 16, P_LIF 2" in capsys.readouterr().out
    assert cli.main(["estimate", "--error", "--json"]) == 0
    d = json.loads(capsys.readouterr().out)
    assert d["summary"]["rows"] == len(d["rows"]) > 0 and len(d["lut_coef"]) == len(est.LUT_TERMS)
    assert cli.main(["estimate", "--error"]) == 0
    assert "leave-one-out" in capsys.readouterr().out
    for bad in (
        [str(tmp_path / "none.npz")],
        [str(MODELS / "mnist-784-128-10-ternary.npz"), "--lanes", "3"],
        [str(MODELS / "mnist-784-128-10-ternary.npz"), "--table", "README.md"],
        ["--error", "--table", str(tmp_path / "none.md")],
        ["--error", str(MODELS / "mnist-784-128-10-ternary.npz")],
    ):
        assert cli.main(["estimate", *bad]) == 2, bad
        err = capsys.readouterr().err
        assert err.startswith("icespike: error:") and err.count("\n") == 1, err


def test_estimate_cli_deep_checkpoint(capsys):
    """A committed 784-256-128-10 model: two hidden layers, cycles from its spikes (about 17 s)."""
    assert cli.main(["estimate", str(MODELS / "mnist-784-256-128-10-binary.npz"), "--json"]) == 0
    d = json.loads(capsys.readouterr().out)
    assert d["network"] == "784-256-128-10" and d["hidden_layers"] == 2 and d["fits"] is True
    assert d["cycles_per_inference"] > 3072  # layer 1 alone: 128 rounds of at least 24 cycles
    assert (
        d["ebr"]
        == est.synth.engine_memories(
            est.shape_params([784, 256, 128, 10], 1), est.synth.device("up5k"), lanes=16
        )["ebr"]
    )


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
