"""icespike studio: the JSON API through the ASGI client, and the job queue (real job processes)."""

from __future__ import annotations

import shutil
import socket
import time

import pytest

pytest.importorskip("fastapi")

from fastapi.testclient import TestClient  # noqa: E402

from icespike import cli  # noqa: E402
from icespike.studio.app import create_app  # noqa: E402
from icespike.studio.store import Store  # noqa: E402

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")

TINY = {"kind": "train", "bits": 2, "hidden": [8], "epochs": 2, "timesteps": 2, "train_subset": 256}


@pytest.fixture
def client(tmp_path):
    with TestClient(create_app(tmp_path / "studio")) as c:
        yield c


def wait_status(c, job_id, statuses, timeout=120.0):
    t0 = time.monotonic()
    while time.monotonic() - t0 < timeout:
        job = c.get(f"/api/jobs/{job_id}").json()
        if job["status"] in statuses:
            return job
        time.sleep(0.2)
    raise AssertionError(f"job {job_id} still {job['status']} after {timeout} s")


def assert_error(r, status, words):
    assert r.status_code == status, (r.status_code, r.text)
    msg = r.json()["error"]
    assert isinstance(msg, str) and "\n" not in msg
    for w in words:
        assert w in msg, msg


# ------------------------------------------------------------------------------------ validation
@pytest.mark.parametrize(
    "field, value, words",
    [
        ("kind", "evaluate", ["kind"]),
        ("bits", 3, ["bits must be one of"]),
        ("bits", "ternary!", ["bits"]),
        ("hidden", [], ["hidden"]),
        ("hidden", [0], ["hidden sizes"]),
        ("hidden", [16, 16, 16, 16], ["hidden"]),
        ("hidden", ["16"], ["hidden sizes"]),
        ("epochs", 0, ["epochs"]),
        ("epochs", 1.5, ["epochs"]),
        ("epochs", True, ["epochs"]),
        ("timesteps", 256, ["timesteps"]),
        ("lr", -1, ["lr"]),
        ("lr", "fast", ["lr"]),
        ("train_subset", 60001, ["train_subset"]),
        ("seed", -3, ["seed"]),
        ("init", "model:nope", ["no committed model"]),
        ("init", "model:../../etc/passwd", ["bad model name"]),
        ("init", "/etc/passwd", ["source must be"]),
        ("init", "model:mnist-784-128-10-ternary", ["layer sizes"]),
        ("colour", "red", ["unknown field", "colour"]),
    ],
)
def test_train_fields_validated(client, field, value, words):
    r = client.post("/api/jobs", json={**TINY, field: value})
    status = 404 if value in ("model:nope",) else 422
    assert_error(r, status, words)
    assert client.get("/api/jobs").json() == []  # nothing was queued


@pytest.mark.parametrize(
    "body, status, words",
    [
        ({"kind": "synth"}, 422, ["source is required"]),
        ({"kind": "synth", "source": "model:mnist-784-128-10-ternary", "bits": 5}, 422, ["bits"]),
        (
            {"kind": "synth", "source": "model:mnist-784-128-10-ternary", "bits": 2, "device": "ecp5"},
            422,
            ["device"],
        ),
        ({"kind": "synth", "source": "run:0123456789ab", "bits": 2}, 404, ["no training run"]),
        ({"kind": "synth", "source": "run:../../x", "bits": 2}, 422, ["bad run id"]),
        ({"kind": "synth", "source": "file:/etc/passwd", "bits": 2}, 422, ["source must be"]),
        (
            {"kind": "synth", "source": "model:mnist-784-128-10-ternary", "bits": 2, "out": "/tmp"},
            422,
            ["out"],
        ),
        (
            {"kind": "synth", "source": "model:mnist-784-128-10-ternary", "bits": 2, "lanes": 64},
            422,
            ["accumulation lanes", "got 64"],
        ),
        (
            {"kind": "synth", "source": "model:mnist-784-256-128-10-ternary", "bits": 2, "lif_lanes": 8},
            422,
            ["a quarter of the 16 accumulation lanes"],
        ),
        (
            {"kind": "synth", "source": "model:mnist-784-128-10-ternary", "bits": 2, "lif_lanes": "2"},
            422,
            ["lif_lanes must be an integer"],
        ),
    ],
)
def test_synth_fields_validated(client, body, status, words):
    assert_error(client.post("/api/jobs", json=body), status, words)


@pytest.mark.parametrize(
    "extra, status, words",
    [
        ({}, 422, ["source is required"]),
        ({"source": "model:mnist-784-128-10-ternary", "bits": 2, "image": 10000}, 422, ["image"]),
        ({"source": "model:mnist-784-128-10-ternary", "bits": 2, "image": "7"}, 422, ["image"]),
        ({"source": "model:mnist-784-128-10-ternary", "bits": 2, "simulator": "xsim"}, 422, ["simulator"]),
        ({"source": "model:mnist-784-128-10-ternary", "bits": 0}, 422, ["bits"]),
        ({"source": "run:ffffffffffff", "bits": 2}, 404, ["no training run"]),
    ],
)
def test_rtl_fields_validated(client, extra, status, words):
    assert_error(client.post("/api/jobs", json={"kind": "rtl", **extra}), status, words)


@pytest.mark.icarus
def test_rtl_run_matches_golden(client):
    j = client.post(
        "/api/jobs",
        json={
            "kind": "rtl",
            "source": "model:mnist-784-128-10-binary",
            "bits": 1,
            "image": 5,
            "simulator": "icarus",
        },
    ).json()
    r = wait_status(client, j["id"], ("done",))["result"]
    assert r["match"] and r["rtl_scores"] == r["golden_scores"] and r["rtl_class"] == r["golden_class"]
    assert r["rtl_cycles"] == r["model_cycles"]
    assert len(r["raster"]) == 16 and len(r["raster"][0]) == 128 and len(r["pixels"]) == 784


def test_pareto(client):
    pts = client.get("/api/pareto?device=up5k").json()
    models = {(p["network"], p["bits"]): p for p in pts if p["kind"] == "model"}
    widths = {"q16", "q8", "q4", "ternary", "binary"}
    assert set(models) == {(n, b) for n in ("784-128-10", "784-256-128-10") for b in widths}
    for n in ("784-128-10", "784-256-128-10"):
        assert models[n, "q16"]["fits"] is False and not models[n, "q16"]["pareto_lut4"]
    assert models["784-256-128-10", "q8"]["fits"] is False  # 1,878,016 weight bits
    assert models["784-256-128-10", "ternary"]["lut4"] >= models["784-128-10", "ternary"]["lut4"]
    front = [p for p in pts if p["pareto_memory_bits"]]
    assert front and all(p["fits"] for p in front)
    for p in front:  # nothing that fits beats a front point on both axes
        assert not any(
            q["fits"] and q["accuracy"] > p["accuracy"] and q["memory_bits"] < p["memory_bits"] for q in pts
        )
    assert_error(client.get("/api/pareto?device=gowin"), 422, ["device"])


def test_bad_bodies_and_unknown_ids(client):
    assert_error(client.post("/api/jobs", content=b"{not json"), 422, ["not valid JSON"])
    assert_error(client.post("/api/jobs", json=[1, 2]), 422, ["JSON object"])
    for url in ("/api/jobs/0123456789ab", "/api/jobs/0123456789ab/events", "/api/jobs/nonsense"):
        assert_error(client.get(url), 404, ["no job"])
    assert_error(client.post("/api/jobs/0123456789ab/cancel"), 404, ["no job"])
    assert_error(client.post("/api/jobs/0123456789ab/resume"), 404, ["no job"])
    assert_error(client.get("/api/jobs?kind=bake"), 422, ["kind"])
    assert_error(client.get("/api/jobs/0123456789ab/events?after=x"), 422, ["after"])
    assert_error(client.get("/api/nothing"), 404, [])


@pytest.mark.parametrize(
    "url",
    [
        "/api/jobs/..%2F..%2Fetc/files/passwd",
        "/static/..%2F..%2F..%2Fpyproject.toml",
        "/static/../app.py",
    ],
)
def test_path_traversal_refused(client, url):
    r = client.get(url)
    assert r.status_code == 404, (url, r.status_code, r.text[:200])
    assert "[project]" not in r.text and "import" not in r.text


def test_ptq_and_estimate(client):
    src = "model:mnist-784-128-10-ternary"
    r = client.post("/api/ptq", json={"source": src, "bits": 2, "images": 200})
    assert r.status_code == 200, r.text
    d = r.json()
    assert d["how"] == "trained" and d["images"] == 200 and 0.9 < d["accuracy"] <= 1.0
    d = client.post("/api/ptq", json={"source": src, "bits": 1, "images": 200}).json()
    assert d["how"] == "ptq"
    assert_error(client.post("/api/ptq", json={"source": src, "bits": 2, "images": 0}), 422, ["images"])
    assert_error(client.post("/api/ptq", json={"source": src, "bits": 2, "images": "all"}), 422, ["images"])
    assert_error(client.post("/api/ptq", json={"source": src, "bits": 7}), 422, ["bits"])
    assert_error(client.post("/api/ptq", json={"bits": 2}), 422, ["source"])
    e = client.post("/api/estimate", json={"source": src, "bits": 2, "device": "up5k"}).json()
    assert e["fits"] is True and e["spram"] == 4 and e["cycles_per_inference"] > 0
    e = client.post("/api/estimate", json={"source": src, "bits": 8, "device": "hx8k"}).json()
    assert e["fits"] is False and "does not fit" in e["fit_problems"][0]
    assert_error(
        client.post("/api/estimate", json={"source": src, "bits": 2, "device": "x"}), 422, ["device"]
    )
    assert_error(client.post("/api/estimate", json={"source": src, "bits": 2, "speed": 1}), 422, ["speed"])
    for knobs, words in (
        ({"lanes": 3}, ["accumulation lanes", "got 3"]),
        ({"lanes": "16"}, ["lanes must be an integer"]),
        ({"lanes": True}, ["lanes must be an integer"]),
        ({"lif_lanes": 0}, ["LIF lanes"]),
        ({"lif_lanes": 2.5}, ["lif_lanes must be an integer"]),
    ):
        assert_error(client.post("/api/estimate", json={"source": src, "bits": 2, **knobs}), 422, words)
    e = client.post("/api/estimate", json={"source": src, "bits": 2, "lanes": 8, "lif_lanes": 2}).json()
    assert (e["lanes"], e["p_lif"], e["hidden_layers"]) == (8, 2, 1)


def test_committed_models(client):
    names = [m["name"] for m in client.get("/api/models").json()]
    assert "mnist-784-128-10-ternary" in names
    m = client.get("/api/models/mnist-784-128-10-ternary").json()
    assert m["sizes"] == [784, 128, 10] and len(m["history"]) == m["training"]["epochs"]
    assert_error(client.get("/api/models/nope"), 404, ["no committed model"])
    assert_error(client.get("/api/models/..%2Fpyproject"), 404, [])


def test_sources_and_devices(client):
    ids = [s["id"] for s in client.get("/api/sources").json()]
    assert "model:mnist-784-128-10-ternary" in ids
    assert {d["id"] for d in client.get("/api/devices").json()} == {"up5k", "hx8k"}
    r = client.get("/")
    assert r.status_code == 200 and "Training Monitor" in r.text and "FPGA" in r.text


# ------------------------------------------------------------------------------------ job queue
def test_one_training_at_a_time_queue_cancel_stop_resume(client):
    a = client.post("/api/jobs", json={**TINY, "epochs": 40, "train_subset": 2000}).json()
    b = client.post("/api/jobs", json=TINY).json()
    c = client.post("/api/jobs", json=TINY).json()
    assert a["status"] == "queued"
    wait_status(client, a["id"], ("running",))
    assert client.get(f"/api/jobs/{b['id']}").json()["status"] == "queued"
    # the queued one is cancelled at once
    assert client.post(f"/api/jobs/{c['id']}/cancel").json()["status"] == "cancelled"
    assert_error(client.post(f"/api/jobs/{c['id']}/cancel"), 409, ["already ended"])
    # wait for one epoch, then stop the running run: it keeps its checkpoint
    t0 = time.monotonic()
    while not [e for e in client.get(f"/api/jobs/{a['id']}/events").json() if e["type"] == "epoch"]:
        assert time.monotonic() - t0 < 60
        time.sleep(0.2)
    assert_error(client.post(f"/api/jobs/{a['id']}/resume"), 409, ["running"])
    client.post(f"/api/jobs/{a['id']}/cancel")
    ja = wait_status(client, a["id"], ("stopped",))
    assert ja["error"] is None
    # the queued run starts only now, and ends
    jb = wait_status(client, b["id"], ("done",))
    assert jb["started"] >= ja["finished"] - 0.5
    assert jb["result"]["complete"] and 0 <= jb["result"]["accuracy"] <= 1
    assert client.get(f"/api/jobs/{b['id']}/files/model.npz").status_code == 200
    assert_error(client.get(f"/api/jobs/{b['id']}/files/top.bin"), 404, ["has no top.bin"])
    assert_error(client.get(f"/api/jobs/{b['id']}/files/secret.txt"), 404, ["no file"])
    # resume continues from the stored checkpoint: epochs already run are not run again
    n_before = len([e for e in client.get(f"/api/jobs/{a['id']}/events").json() if e["type"] == "epoch"])
    p = dict(client.post(f"/api/jobs/{a['id']}/resume").json()["params"])
    assert p["resume"] is True
    wait_status(client, a["id"], ("running",))
    client.post(f"/api/jobs/{a['id']}/cancel")
    wait_status(client, a["id"], ("stopped",))
    epochs = [e["epoch"] for e in client.get(f"/api/jobs/{a['id']}/events").json() if e["type"] == "epoch"]
    assert epochs[:n_before] == list(range(1, n_before + 1))
    assert epochs == list(range(1, len(epochs) + 1))  # resumed at n_before + 1, not at 1
    # the stream of a finished job replays its events and ends
    r = client.get(f"/api/jobs/{b['id']}/stream")
    assert r.headers["content-type"].startswith("text/event-stream")
    assert r.text.count("data: ") >= 3 and "event: end" in r.text


def test_failed_synthesis_shows_error_line_and_lanes_are_separate(client, monkeypatch, tmp_path):
    # a yosys that fails at once: the job must end failed with the tool's one-line error
    monkeypatch.setenv("YOSYS", "false")
    t = client.post("/api/jobs", json=TINY).json()
    job = wait_status(client, t["id"], ("done",))
    s1 = client.post("/api/jobs", json={"kind": "synth", "source": f"run:{job['id']}", "bits": 2}).json()
    s2 = client.post("/api/jobs", json={"kind": "synth", "source": f"run:{job['id']}", "bits": 1}).json()
    # a training run goes on beside the synthesis lane
    t2 = client.post("/api/jobs", json=TINY).json()
    f1 = wait_status(client, s1["id"], ("failed",))
    assert f1["error"].startswith("SynthError: ") and "failed (exit 1)" in f1["error"], f1["error"]
    assert "\n" not in f1["error"]
    f2 = wait_status(client, s2["id"], ("failed",))
    assert f2["started"] >= f1["finished"] - 0.5  # one synthesis at a time
    wait_status(client, t2["id"], ("done",))
    assert_error(client.post(f"/api/jobs/{s1['id']}/resume"), 409, ["only training runs"])
    ev = client.get(f"/api/jobs/{s1['id']}/events").json()
    assert any(e["type"] == "estimate" for e in ev)
    assert any(e["type"] == "status" and e["status"] == "failed" for e in ev)


@pytest.mark.icarus
def test_runs_survive_a_restart(tmp_path, monkeypatch):
    root = tmp_path / "studio"
    with TestClient(create_app(root)) as c:
        j = c.post("/api/jobs", json=TINY).json()
        wait_status(c, j["id"], ("done",))
        # a QAT fine-tune from the run at another width
        f = c.post("/api/jobs", json={**TINY, "bits": 1, "epochs": 1, "init": f"run:{j['id']}"}).json()
        assert f["params"]["init"] == f"run:{j['id']}"
        assert wait_status(c, f["id"], ("done",))["result"]["bits"] == "binary"
        # two hidden layers go to the engine: estimate, synthesis path, RTL run
        d = c.post("/api/jobs", json={**TINY, "hidden": [8, 8], "epochs": 1}).json()
        wait_status(c, d["id"], ("done",))
        src = f"run:{d['id']}"
        e = c.post("/api/estimate", json={"source": src, "bits": 2, "lanes": 8, "lif_lanes": 2}).json()
        assert (e["network"], e["hidden_layers"], e["lanes"], e["p_lif"]) == ("784-8-8-10", 2, 8, 2)
        assert e["cycles_per_inference"] > 0 and "spike raster" in str(e["memory"]["engine_memories"])
        r = c.post("/api/jobs", json={"kind": "synth", "source": src, "bits": 2, "lif_lanes": 4})
        assert_error(r, 422, ["a quarter of the 8 accumulation lanes"])
        assert_error(
            c.post("/api/estimate", json={"source": src, "bits": 2, "lif_lanes": 4}), 422, ["LIF lanes"]
        )
        monkeypatch.setenv("YOSYS", "false")  # the synthesis path up to the tool, which fails at once
        s = c.post("/api/jobs", json={"kind": "synth", "source": src, "bits": 2, "lanes": 8, "lif_lanes": 2})
        assert s.status_code == 201 and s.json()["params"]["lif_lanes"] == 2
        wait_status(c, s.json()["id"], ("failed",))
        ev = c.get(f"/api/jobs/{s.json()['id']}/events").json()
        est = next(x["estimate"] for x in ev if x["type"] == "estimate")
        assert est["hidden_layers"] == 2 and est["p_lif"] == 2
        man = c.get(f"/api/jobs/{s.json()['id']}/files/manifest.json").json()
        assert man["engine"]["N_LAYERS"] == 2 and man["network"]["sizes"] == [784, 8, 8, 10]
        rtl = c.post(
            "/api/jobs", json={"kind": "rtl", "source": src, "bits": 2, "image": 3, "simulator": "icarus"}
        )
        res = wait_status(c, rtl.json()["id"], ("done",))["result"]
        assert res["match"] is True and res["rtl_cycles"] == res["model_cycles"]
    with TestClient(create_app(root)) as c:
        again = c.get(f"/api/jobs/{j['id']}").json()
        assert again["status"] == "done" and again["result"]["accuracy"] >= 0
        assert f"run:{j['id']}" in [s["id"] for s in c.get("/api/sources").json()]
        assert [e["epoch"] for e in c.get(f"/api/jobs/{j['id']}/events").json() if e["type"] == "epoch"] == [
            1,
            2,
        ]


def test_job_left_running_by_a_dead_server_is_failed_with_its_line(tmp_path):
    root = tmp_path / "studio"
    with TestClient(create_app(root)) as c:
        j = c.post("/api/jobs", json=TINY).json()
        wait_status(c, j["id"], ("done",))
    Store(root).update(j["id"], status="running")  # as if the server had died mid-run
    with TestClient(create_app(root)) as c:
        job = c.get(f"/api/jobs/{j['id']}").json()
        assert job["status"] == "failed" and "server stopped" in job["error"]
        c.post(f"/api/jobs/{j['id']}/resume")  # the checkpoint is complete: resuming ends at once
        assert wait_status(c, j["id"], ("done",))["result"]["epochs"] == 2


@pytest.mark.parametrize("bad", ["port", "root", "taken", "host", "sweeps"])
def test_studio_cli_bad_input(capsys, tmp_path, bad):
    f = tmp_path / "a-file"
    f.write_text("")
    with socket.create_server(("127.0.0.1", 0)) as taken:
        argv = {
            "port": ["--port", "70000"],
            "root": ["--root", str(f)],
            "taken": ["--port", str(taken.getsockname()[1]), "--root", str(tmp_path / "r")],
            "host": ["--host", "192.0.2.1", "--port", "8765", "--root", str(tmp_path / "r")],
            "sweeps": ["--sweeps", str(tmp_path / "none"), "--root", str(tmp_path / "r")],
        }[bad]
        assert cli.main(["studio", *argv]) == 2
    err = capsys.readouterr().err
    assert err.startswith("icespike: error:") and err.count("\n") == 1


# ------------------------------------------------------------------------------------ sweeps
@pytest.fixture(scope="module")
def sweeps(tmp_path_factory):
    """Sweep directories: the fixture sweep, a corrupt one, a cut-short one, a link out."""
    from sweep_fixture import write_sweep

    tmp_path = tmp_path_factory.mktemp("sweeps")
    root = tmp_path / "sweeps"
    write_sweep(root / "widths")
    (root / "corrupt").mkdir()
    (root / "corrupt" / "results.json").write_text('{"sweep": "corrupt", "trials": [')
    (root / "partial").mkdir()
    (root / "partial" / "results.json").write_text(
        '{"sweep": "partial", "trials": [{"trial": "a", "status": "ok"}]}'
    )
    outside = tmp_path / "outside"
    outside.mkdir()
    shutil.copy(root / "widths" / "results.json", outside / "results.json")
    (root / "linked").symlink_to(outside, target_is_directory=True)
    with TestClient(create_app(tmp_path / "studio", sweeps=[root])) as c:
        yield c


def test_sweep_points_and_fronts(sweeps):
    import sweep_fixture as fx

    listed = {s["id"]: s for s in sweeps.get("/api/sweeps").json()}
    assert set(listed) == {"widths", "corrupt", "partial"}  # "linked" leads outside: not a sweep
    assert listed["widths"]["name"] == fx.SWEEP and listed["widths"]["trials"] == 6
    assert listed["widths"]["counts"] == {"ok": 4, "error": 1, "unfinished": 1}
    assert "not valid JSON" in listed["corrupt"]["error"] and "\n" not in listed["corrupt"]["error"]
    r = sweeps.get("/api/sweeps/widths")
    assert r.status_code == 200, r.text
    trials = {t["trial"]: t for t in r.json()["trials"]}
    assert len(trials) == 6 and sum(t["status"] == "ok" for t in trials.values()) == fx.OK_TRIALS
    assert {n for n, t in trials.items() if t["pareto_lut4"]} == fx.FRONT_LUT4
    assert {n for n, t in trials.items() if t["pareto_memory_bits"]} == fx.FRONT_MEMORY
    assert sum(t["lut4"] is not None for t in trials.values()) == fx.LUT4_TRIALS
    t2 = trials["t2"]
    assert (t2["bits"], t2["hidden"], t2["accuracy"], t2["lut4"], t2["memory_bits"], t2["fmax_mhz"]) == (
        "ternary",
        [32],
        0.85,
        3900,
        50816,
        48.1,
    )
    assert {n for n, t in trials.items() if t["fits"] is False} == fx.NOT_FITTING
    assert trials["t1"]["fits"] is True and trials["t3"]["fits"] is True
    failed = trials[fx.FAILED]
    assert failed["status"] == "error" and failed["error"].startswith("ValueError: leak_shift")
    assert not failed["pareto_lut4"] and not failed["pareto_memory_bits"]


@pytest.mark.parametrize(
    "name, status, words",
    [
        ("nope", 404, ["no sweep 'nope'", "widths"]),
        ("linked", 404, ["no sweep 'linked'"]),
        ("%2E%2E", 422, ["bad sweep name"]),
        ("..%2F..%2Fetc", 404, []),
        ("a..b", 422, ["bad sweep name"]),
        ("corrupt", 422, ["sweep corrupt: results.json is not valid JSON"]),
        ("partial", 422, ["sweep partial: results.json: trial a: hidden must be"]),
    ],
)
def test_sweep_bad_requests(sweeps, name, status, words):
    assert_error(sweeps.get(f"/api/sweeps/{name}"), status, words)
    assert sweeps.get("/api/pareto?device=up5k").status_code == 200  # the chart keeps working


@pytest.mark.parametrize(
    "trials, words",
    [
        ('"many"', ["no list of trials"]),
        ('[{"trial": "a", "status": "ok", "bits": "binary", "hidden": [8], "accuracy": 1.5}]', ["accuracy"]),
        (
            '[{"trial": "a", "status": "ok", "bits": "binary", "hidden": [8], "accuracy": 0.5}]',
            ["memory_bits"],
        ),
        ('[{"trial": "a", "status": "done", "bits": "binary", "hidden": [8]}]', ["status must be one of"]),
        ("[3]", ["trial 0 is not an object"]),
    ],
)
def test_sweep_malformed_results(tmp_path, trials, words):
    d = tmp_path / "sweeps" / "s"
    d.mkdir(parents=True)
    (d / "results.json").write_text('{"trials": ' + trials + "}")
    with TestClient(create_app(tmp_path / "studio", sweeps=[tmp_path / "sweeps"])) as c:
        assert_error(c.get("/api/sweeps/s"), 422, ["sweep s: results.json", *words])
        assert "error" in c.get("/api/sweeps").json()[0]
