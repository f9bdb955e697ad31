"""icespike studio in a real headless Chromium (Debian's /usr/bin/chromium, driven by Playwright).

Each test starts ``icespike studio`` on a free port with its own run directory and clicks
through the page; screenshots go to build/studio-shots/.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

pytest.importorskip("playwright")

from playwright.sync_api import expect, sync_playwright  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
SHOTS = ROOT / "build" / "studio-shots"
CHROMIUM = os.environ.get("ICESPIKE_CHROMIUM", "/usr/bin/chromium")

pytestmark = pytest.mark.skipif(not Path(CHROMIUM).exists(), reason=f"no Chromium at {CHROMIUM}")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextlib.contextmanager
def studio(tmp_path, *args):
    """``icespike studio`` on a free port with its own run directory (and ``args``); yields its URL."""
    port = _free_port()
    cli = shutil.which("icespike", path=str(Path(sys.executable).parent)) or "icespike"
    proc = subprocess.Popen(
        [cli, "studio", "--port", str(port), "--root", str(tmp_path / "studio"), *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    url = f"http://127.0.0.1:{port}"
    t0 = time.monotonic()
    while True:
        try:
            with urllib.request.urlopen(url + "/api/health", timeout=1) as r:
                if json.load(r)["ok"]:
                    break
        except OSError:
            if proc.poll() is not None or time.monotonic() - t0 > 60:
                proc.kill()
                raise AssertionError(f"studio did not start: {proc.stdout.read()}") from None
            time.sleep(0.2)
    try:
        yield url
    finally:
        proc.terminate()
        try:
            proc.wait(15)
        except subprocess.TimeoutExpired:
            proc.kill()


@pytest.fixture
def server(tmp_path):
    with studio(tmp_path) as url:
        yield url


@pytest.fixture
def page():
    SHOTS.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=["--no-sandbox"])
        pg = browser.new_page(viewport={"width": 1280, "height": 860})
        errors = []
        pg.on("pageerror", lambda e: errors.append(str(e)))
        yield pg
        browser.close()
        assert not errors, errors


def _points(page, name) -> int:
    loc = page.locator(f'#chart-acc path[data-name="{name}"]')
    return int(loc.get_attribute("data-n")) if loc.count() else 0


def test_training_monitor_curve_grows_and_run_survives_reload(server, page):
    page.goto(server + "/")
    expect(page.get_by_role("tab", name="Training Monitor")).to_be_visible()
    expect(page.get_by_role("tab", name="FPGA")).to_be_visible()
    form = page.locator("#train-form")
    form.locator("select[name=bits]").select_option("2")
    form.locator("input[name=hidden]").fill("16")
    form.locator("input[name=epochs]").fill("6")
    form.locator("input[name=timesteps]").fill("4")
    form.locator("input[name=train_subset]").fill("3000")
    page.click("#start-train")
    expect(page.locator("#run-status")).to_have_text("running", timeout=30_000)
    # the test-accuracy curve grows point by point while the run goes on
    seen = set()
    t0 = time.monotonic()
    while page.locator("#run-status").inner_text() != "done":
        seen.add(_points(page, "test"))
        assert time.monotonic() - t0 < 120, "training did not finish"
        time.sleep(0.1)
    seen.add(_points(page, "test"))
    assert _points(page, "test") == 6
    grown = sorted(n for n in seen if n)
    assert len(grown) >= 2 and grown[0] < 6, f"curve never seen growing: {grown}"
    expect(page.locator("#run-progress")).to_contain_text("golden-model test accuracy")
    expect(page.locator('#chart-spikes path[data-name="layer 1"]')).to_have_attribute("data-n", "6")
    page.screenshot(path=str(SHOTS / "studio-training.png"), full_page=True)
    run_id = page.locator("#runs li.sel").get_attribute("data-id")
    # a reload finds the run again, curves included
    page.reload()
    expect(page.locator(f'#runs li[data-id="{run_id}"]')).to_be_visible()
    expect(page.locator("#run-title")).to_contain_text(run_id)
    expect(page.locator('#chart-acc path[data-name="test"]')).to_have_attribute("data-n", "6")
    # a fresh page without the address fragment lists it too, and shows it when clicked
    page.goto(server + "/")
    page.click(f'#runs li[data-id="{run_id}"]')
    expect(page.locator("#run-status")).to_have_text("done")
    # the committed models are listed beside the runs, with their training curves
    page.click('#models li[data-id="model:mnist-784-128-10-ternary"]')
    expect(page.locator("#run-title")).to_contain_text("committed model mnist-784-128-10-ternary")
    expect(page.locator('#chart-acc path[data-name="test"]')).to_have_attribute("data-n", "40")


@pytest.mark.synth
@pytest.mark.icarus
def test_fpga_tab_ptq_estimate_and_synthesis(server, page):
    # a small trained network to synthesise (784-16-10, as the API trains it)
    req = urllib.request.Request(
        server + "/api/jobs",
        data=json.dumps(
            {"kind": "train", "bits": 2, "hidden": [16], "epochs": 2, "timesteps": 4, "train_subset": 2000}
        ).encode(),
        headers={"Content-Type": "application/json"},
    )
    with urllib.request.urlopen(req) as r:
        run_id = json.load(r)["id"]
    page.goto(server + "/#train/run=" + run_id)
    expect(page.locator("#run-status")).to_have_text("done", timeout=60_000)
    page.get_by_role("tab", name="FPGA").click()
    page.select_option("#source", f"run:{run_id}")
    page.check("input[name=tbits][value='2']")
    page.select_option("#device", "up5k")
    expect(page.locator("#ptq-acc")).to_contain_text("%", timeout=30_000)
    expect(page.locator("#est-fits")).to_contain_text("fits the iCE40UP5K", timeout=30_000)
    expect(page.locator("#est-table")).to_contain_text("SB_LUT4")
    # another width: PTQ to binary, new numbers
    page.check("input[name=tbits][value='1']")
    expect(page.locator("#ptq")).to_contain_text("PTQ (no retraining), binary", timeout=30_000)
    page.check("input[name=tbits][value='2']")
    expect(page.locator("#ptq")).to_contain_text("as trained, ternary", timeout=30_000)
    page.click("#synthesise")
    expect(page.locator("#synth-status")).to_have_text("running", timeout=30_000)
    expect(page.locator("#synth-log")).to_contain_text("yosys", timeout=120_000)
    expect(page.locator("#synth-status")).to_have_text("done", timeout=600_000)
    expect(page.locator("#util-table tr.util")).to_have_count(5)
    expect(page.locator("#synth-speed")).to_contain_text("Fmax")
    expect(page.locator("#synth-result")).to_contain_text("fits the iCE40UP5K")
    # one test image through the RTL engine (Icarus: its build takes a second), beside the golden model
    page.fill("#rtl-image", "7")
    page.select_option("#rtl-sim", "icarus")
    page.click("#run-rtl")
    expect(page.locator("#rtl-match")).to_contain_text("RTL = golden model", timeout=120_000)
    expect(page.locator("#rtl-scores tr")).to_have_count(11)
    assert page.locator("#rtl-raster rect").count() > 0  # the hidden layer fired
    # accuracy against resources: committed models, PTQ points and this run, a Pareto front
    assert page.locator("#pareto-lut circle.pt").count() >= 11
    expect(page.locator("#pareto-lut path.front")).to_have_count(1)
    page.screenshot(path=str(SHOTS / "studio-fpga.png"), full_page=True)
    # the bitstream is offered for download
    href = page.locator("#synth-result a", has_text="top.bin").get_attribute("href")
    with urllib.request.urlopen(server + href) as r:
        assert len(r.read()) > 10_000
    # reload finds the synthesis run again
    page.reload()
    expect(page.locator("#util-table tr.util")).to_have_count(5)


@pytest.mark.icarus
def test_fpga_tab_deep_model(server, page):
    """A committed 784-256-128-10 model: accuracy, estimate with the lane knobs, the Synthesise
    path up to Yosys (then cancelled: the full run takes minutes), one image through the RTL."""
    page.goto(server + "/")
    page.get_by_role("tab", name="FPGA").click()
    page.select_option("#source", "model:mnist-784-256-128-10-ternary")
    page.check("input[name=tbits][value='2']")
    page.select_option("#device", "up5k")
    expect(page.locator("#ptq")).to_contain_text("as trained, ternary", timeout=120_000)
    expect(page.locator("#est-engine")).to_have_text(
        "784-256-128-10: 2 hidden layers, LANES 16, P_LIF 1", timeout=120_000
    )
    expect(page.locator("#est-fits")).to_contain_text("fits the iCE40UP5K")
    one = page.locator("#est-cycles").inner_text()
    assert one.startswith("cycles/inference ") and "–" not in one.split(",")[0], one
    page.select_option("#lif-lanes", "2")
    expect(page.locator("#est-engine")).to_contain_text("P_LIF 2", timeout=120_000)
    two = page.locator("#est-cycles").inner_text()
    assert two != one  # two LIF updates per cycle: other cycles
    page.select_option("#lif-lanes", "8")  # LANES / P_LIF = 2: the deeper engine needs >= 4
    expect(page.locator("#estimate")).to_contain_text(
        "a quarter of the 16 accumulation lanes", timeout=30_000
    )
    page.click("#synthesise")
    expect(page.locator("#fpga-error")).to_contain_text("LIF lanes")
    page.select_option("#lif-lanes", "2")
    expect(page.locator("#est-engine")).to_contain_text("P_LIF 2", timeout=30_000)
    page.click("#synthesise")
    expect(page.locator("#synth-title")).to_contain_text("LANES default P_LIF 2", timeout=30_000)
    expect(page.locator("#synth-log")).to_contain_text("yosys", timeout=300_000)
    job_id = page.locator("#synth-title").inner_text().split()[1].rstrip(":")
    with urllib.request.urlopen(f"{server}/api/jobs/{job_id}/files/manifest.json") as r:
        man = json.load(r)
    assert man["engine"]["N_LAYERS"] == 2 and man["network"]["sizes"] == [784, 256, 128, 10]
    page.click("#cancel-synth")
    expect(page.locator("#synth-status")).to_have_text("cancelled", timeout=30_000)
    page.fill("#rtl-image", "7")
    page.select_option("#rtl-sim", "icarus")
    page.click("#run-rtl")
    expect(page.locator("#rtl-match")).to_contain_text("RTL = golden model", timeout=300_000)
    page.screenshot(path=str(SHOTS / "studio-fpga-deep.png"), full_page=True)


@pytest.fixture
def sweep_server(tmp_path):
    """The Studio with the fixture sweep (tests/sweep_fixture.py) under ``--sweeps``."""
    import sweep_fixture

    sweep_fixture.write_sweep(tmp_path / "sweeps" / "widths")
    with studio(tmp_path, "--sweeps", str(tmp_path / "sweeps")) as url:
        yield url


def test_sweep_points_on_the_accuracy_vs_resources_chart(sweep_server, page):
    import sweep_fixture as fx

    page.goto(sweep_server + "/#fpga")
    expect(page.locator("#pareto-lut circle.pt").first).to_be_visible(timeout=30_000)
    assert page.locator("#pareto-lut .sweep-pt").count() == 0
    page.select_option("#sweep", "widths")
    # finished trials only; the LUT4 chart only those synthesised, the others said to be missing
    expect(page.locator("#pareto-mem .sweep-pt")).to_have_count(fx.OK_TRIALS)
    expect(page.locator("#pareto-lut .sweep-pt")).to_have_count(fx.LUT4_TRIALS)
    expect(page.locator("#pareto-lut .sweep-front")).to_have_count(len(fx.FRONT_LUT4))
    expect(page.locator("#pareto-mem .sweep-front")).to_have_count(len(fx.FRONT_MEMORY))
    expect(page.locator("#pareto-mem path.sweep-front-line")).to_have_count(1)
    marked = page.locator("#pareto-mem .sweep-front").evaluate_all("ps => ps.map(p => p.dataset.trial)")
    assert set(marked) == fx.FRONT_MEMORY
    expect(page.locator('#pareto-mem .sweep-pt[fill="#fff"]')).to_have_count(len(fx.NOT_FITTING))
    tip = page.locator('#pareto-lut .sweep-pt[data-trial="t2"] title').text_content()
    assert "trial t2" in tip and "ternary" in tip and "hidden 32" in tip and "85.00%" in tip
    expect(page.locator("#sweep-missing")).to_contain_text("t3")
    expect(page.locator("#sweep-failed li")).to_have_count(1)
    expect(page.locator("#sweep-failed")).to_contain_text(f"{fx.FAILED}: ternary 784-64-10: ValueError")
    expect(page.locator("#sweep-unfinished")).to_contain_text("t6")
    page.locator("#pareto-lut").locator("xpath=..").screenshot(path=str(SHOTS / "studio-sweep.png"))
    page.select_option("#sweep", "")
    expect(page.locator("#pareto-mem .sweep-pt")).to_have_count(0)
