"""Background jobs of the Studio: one lane each for training, synthesis and RTL runs, a queue behind each.

Every job runs in its own process (its own session, so cancelling ends the tools it started
too) and calls the library: training is ``icespike.training.run_training`` (the
function ``icespike train`` calls), synthesis exports with ``icespike.export`` and runs
``icespike.synth.synth_engine`` (what ``icespike synth`` runs), an RTL run is
``icespike.rtlsim.run_engine`` beside ``icespike.golden`` (what ``icespike sim`` compares). The process writes its events
and its final state into the :class:`~icespike.studio.store.Store`; the lane thread only
starts processes, one at a time per lane, and records how a process that died ended.
"""

from __future__ import annotations

import math
import multiprocessing as mp
import os
import signal
import threading
import time
import traceback

from .. import synth as flow
from ..quant import bits_name
from . import actions
from .actions import BadRequest
from .store import ACTIVE, Store

__all__ = ["JobManager", "validate_train", "validate_synth", "validate_rtl", "LANES", "Stopped"]

LANES = {"train": "train", "synth": "synth", "rtl": "sim"}
LIMITS = {"epochs": (1, 500), "timesteps": (1, 255), "hidden": (1, 2048), "train_subset": (1, 60000)}


class Stopped(Exception):
    """A stop was requested while a training job ran (its last epoch's checkpoint stays)."""


# ----------------------------------------------------------------------------------- validation
def _int(p: dict, key: str, default=None) -> int:
    v = p.get(key, default)
    lo, hi = LIMITS[key]
    if isinstance(v, bool) or not isinstance(v, int) or not lo <= v <= hi:
        raise BadRequest(f"{key} must be an integer in {lo}..{hi}, got {v!r}")
    return v


def validate_train(p: dict, store: Store) -> dict:
    """The training job's parameters, checked field by field (BadRequest names the field)."""
    known = {"kind", "bits", "hidden", "epochs", "timesteps", "lr", "train_subset", "init", "seed"}
    _no_unknown(p, known)
    bits = p.get("bits", 2)
    if bits != "float":
        bits = actions.check_bits(bits)
    hidden = p.get("hidden", [16])
    if isinstance(hidden, int) and not isinstance(hidden, bool):
        hidden = [hidden]
    if not isinstance(hidden, list) or not 1 <= len(hidden) <= 3:
        raise BadRequest(f"hidden must be a list of 1 to 3 layer sizes, got {hidden!r}")
    lo, hi = LIMITS["hidden"]
    for h in hidden:
        if isinstance(h, bool) or not isinstance(h, int) or not lo <= h <= hi:
            raise BadRequest(f"hidden sizes must be integers in {lo}..{hi}, got {h!r}")
    lr = p.get("lr", 2e-3)
    if isinstance(lr, bool) or not isinstance(lr, (int, float)) or not (math.isfinite(lr) and 0 < lr <= 1):
        raise BadRequest(f"lr must be a number in (0, 1], got {lr!r}")
    seed = p.get("seed", 0)
    if isinstance(seed, bool) or not isinstance(seed, int) or not 0 <= seed < 2**31:
        raise BadRequest(f"seed must be a non-negative integer, got {seed!r}")
    out = {
        "bits": bits,
        "hidden": hidden,
        "epochs": _int(p, "epochs", 5),
        "timesteps": _int(p, "timesteps", 16),
        "lr": float(lr),
        "train_subset": None if p.get("train_subset") is None else _int(p, "train_subset"),
        "seed": seed,
        "init": None,
    }
    if p.get("init") is not None:
        ck = actions.resolve_source(p["init"], store)
        from ..checkpoint import load_checkpoint

        sizes = load_checkpoint(ck).manifest["sizes"]
        if sizes != [784, *hidden, 10]:
            raise BadRequest(f"init {p['init']} has layer sizes {sizes}, not {[784, *hidden, 10]}")
        out["init"] = p["init"]
    return out


def validate_synth(p: dict, store: Store) -> dict:
    """The synthesis job's parameters: source (model:/run: id), bits, device and the engine
    knobs lanes (LANES, null = the engine's default) and lif_lanes (P_LIF)."""
    _no_unknown(p, {"kind", "source", "bits", "device", "lanes", "lif_lanes"})
    _engine_source(p, store)
    bits = actions.check_bits(p.get("bits"))
    device = actions.check_device(p.get("device", "up5k"))
    ckpt = actions.resolve_source(p["source"], store)
    lanes, lif_lanes = actions.check_lanes(ckpt, bits, p.get("lanes"), p.get("lif_lanes"))
    return {"source": p["source"], "bits": bits, "device": device, "lanes": lanes, "lif_lanes": lif_lanes}


def validate_rtl(p: dict, store: Store) -> dict:
    """The RTL run's parameters: source, bits, image (test-set index), simulator."""
    _no_unknown(p, {"kind", "source", "bits", "image", "simulator"})
    _engine_source(p, store)
    image = p.get("image", 0)
    if isinstance(image, bool) or not isinstance(image, int) or not 0 <= image < 10000:
        raise BadRequest(f"image must be a test-set index in 0..9999, got {image!r}")
    sim = p.get("simulator", "verilator")
    if sim not in ("verilator", "icarus"):
        raise BadRequest(f"simulator must be 'verilator' or 'icarus', got {sim!r}")
    return {
        "source": p["source"],
        "bits": actions.check_bits(p.get("bits")),
        "image": image,
        "simulator": sim,
    }


def _engine_source(p: dict, store: Store) -> None:
    if "source" not in p:
        raise BadRequest("source is required ('model:<name>' or 'run:<id>')")
    actions.check_engine_network(actions.resolve_source(p["source"], store))


def _no_unknown(p: dict, known: set[str]) -> None:
    extra = sorted(set(p) - known)
    if extra:
        raise BadRequest(f"unknown field(s): {', '.join(extra)}")


# ----------------------------------------------------------------------------------- job bodies
def _run_train(store: Store, job: dict) -> dict:
    from ..train import TrainConfig
    from ..training import run_training

    jid, p = job["id"], job["params"]
    cfg = TrainConfig(
        bits=p["bits"],
        epochs=p["epochs"],
        timesteps=p["timesteps"],
        hidden=tuple(p["hidden"]),
        lr=p["lr"],
        train_subset=p["train_subset"],
        seed=p["seed"],
    )
    out = store.job_dir(jid) / "model.npz"
    resume = bool(p.get("resume")) and out.is_file()
    init = None if resume or not p.get("init") else actions.resolve_source(p["init"], store)
    last = [0.0]

    def stop_requested() -> bool:
        return bool(store.get(jid)["stop_requested"])

    def on_batch(done, stats):
        now = time.monotonic()
        if now - last[0] >= 0.5:
            last[0] = now
            store.add_event(
                jid,
                {
                    "type": "batch",
                    "done": done,
                    "loss": stats["loss"],
                    "acc": stats["acc"],
                    "images_per_s": stats["img/s"],
                },
            )
            if stop_requested():
                raise Stopped

    def on_epoch(rec):
        store.add_event(jid, {"type": "epoch", **rec})
        return not stop_requested()

    r = run_training(
        cfg,
        out,
        init=init,
        resume=resume,
        on_epoch=on_epoch,
        on_batch=on_batch,
        log=lambda m: store.add_event(jid, {"type": "log", "message": m}),
    )
    r.pop("history", None)
    if not r["complete"]:
        raise Stopped
    return r


def _run_synth(store: Store, job: dict) -> dict:
    jid, p = job["id"], job["params"]
    d = store.job_dir(jid)
    ckpt = actions.resolve_source(p["source"], store)
    bits, dev = p["bits"], flow.device(p["device"])
    say = lambda m: store.add_event(jid, {"type": "log", "message": m})  # noqa: E731
    say(f"export {p['source']} at {bits_name(bits)}")
    exp = actions.export_at_bits(ckpt, bits, d / "export")
    lanes, lif_lanes = p.get("lanes"), p.get("lif_lanes", 1)
    say("estimate (cycle model over the 10,000 test images)")
    est = actions.resource_estimate(ckpt, bits, dev.name, lanes, lif_lanes)
    store.add_event(jid, {"type": "estimate", "estimate": est})
    rep = flow.synth_engine(
        exp,
        dev.name,
        d / "synth",
        config=f"{p['source'].split(':', 1)[1]}-{bits_name(bits)}",
        bitstream=bool(dev.spram),
        engine_only=False,
        progress_log=say,
        lanes=lanes,
        p_lif=lif_lanes,
    )
    return {"report": rep, "estimate": est}


def _run_rtl(store: Store, job: dict) -> dict:
    jid, p = job["id"], job["params"]
    ckpt = actions.resolve_source(p["source"], store)
    store.add_event(jid, {"type": "log", "message": f"build and run the {p['simulator']} engine harness"})
    return actions.rtl_vs_golden(ckpt, p["bits"], p["image"], p["simulator"], store.root / "rtlsim")


RUNNERS = {"train": _run_train, "synth": _run_synth, "rtl": _run_rtl}


def job_main(root: str, job_id: str) -> None:
    """Entry of a job process: run the job, record its end state (done, stopped or failed)."""
    os.setsid()
    store = Store(root)
    job = store.get(job_id)
    try:
        result = RUNNERS[job["kind"]](store, job)
    except Stopped:
        store.update(job_id, status="stopped", finished=time.time())
        store.add_event(job_id, {"type": "status", "status": "stopped"})
        return
    except BaseException as e:  # noqa: BLE001 - every failure ends as a failed job with its line
        line = f"{type(e).__name__}: {e}".strip().splitlines()[0] if str(e) else type(e).__name__
        store.update(job_id, status="failed", finished=time.time(), error=line[:500])
        store.add_event(job_id, {"type": "status", "status": "failed", "error": line[:500]})
        store.add_event(job_id, {"type": "log", "message": traceback.format_exc()[-2000:]})
        return
    store.update(job_id, status="done", finished=time.time(), result=result)
    store.add_event(job_id, {"type": "status", "status": "done"})


class JobManager:
    """Runs queued jobs: at most one process per lane at a time, the rest wait in order."""

    def __init__(self, store: Store):
        self.store = store
        self._ctx = mp.get_context("spawn")
        self._procs: dict[str, mp.Process] = {}
        self._kill: set[str] = set()
        self._lock = threading.Lock()
        self._closing = threading.Event()
        self._wake = threading.Event()
        self._threads: list[threading.Thread] = []

    def start(self) -> None:
        self.store.fail_interrupted()
        for lane in sorted(set(LANES.values())):
            t = threading.Thread(target=self._loop, args=(lane,), name=f"studio-{lane}", daemon=True)
            t.start()
            self._threads.append(t)

    def submit(self, kind: str, params: dict) -> dict:
        job = self.store.create(kind, LANES[kind], params)
        self._wake.set()
        return job

    def cancel(self, job_id: str) -> dict:
        """Queued: cancelled. Running training: stop after the current batch (resumable).
        Running synthesis: its process group is ended."""
        job = self.store.get(job_id)
        if self.store.set_status_if(job_id, ("queued",), "cancelled", finished=time.time()):
            self.store.add_event(job_id, {"type": "status", "status": "cancelled"})
        elif job["status"] == "running":
            if job["kind"] == "train":
                self.store.update(job_id, stop_requested=1)
            else:
                with self._lock:
                    self._kill.add(job_id)
        return self.store.get(job_id)

    def resume(self, job_id: str) -> dict:
        job = self.store.get(job_id)
        p = dict(job["params"], resume=True)
        self.store.update(job_id, params=p, stop_requested=0, error=None, finished=None)
        if not self.store.set_status_if(job_id, ("stopped", "failed"), "queued"):
            raise BadRequest(f"job {job_id} is {self.store.get(job_id)['status']}, not stopped or failed")
        self.store.add_event(job_id, {"type": "status", "status": "queued"})
        self._wake.set()
        return self.store.get(job_id)

    def _loop(self, lane: str) -> None:
        while not self._closing.is_set():
            job = self.store.next_queued(lane)
            if job is None:
                self._wake.wait(0.3)
                self._wake.clear()
                continue
            if not self.store.set_status_if(job["id"], ("queued",), "running", started=time.time()):
                continue
            self.store.add_event(job["id"], {"type": "status", "status": "running"})
            self._run(job["id"])

    def _run(self, job_id: str) -> None:
        proc = self._ctx.Process(target=job_main, args=(str(self.store.root), job_id), daemon=False)
        proc.start()
        self.store.update(job_id, pid=proc.pid)
        with self._lock:
            self._procs[job_id] = proc
        killed = False
        while proc.is_alive():
            proc.join(0.2)
            with self._lock:
                kill = job_id in self._kill or self._closing.is_set()
            if kill and not killed and proc.is_alive():
                killed = True
                _killpg(proc.pid)
        with self._lock:
            self._procs.pop(job_id, None)
            self._kill.discard(job_id)
        job = self.store.get(job_id)
        if job["status"] in ACTIVE:
            status = "cancelled" if killed else "failed"
            err = None if killed else f"the job process ended with exit code {proc.exitcode}"
            self.store.update(job_id, status=status, finished=time.time(), error=err)
            self.store.add_event(job_id, {"type": "status", "status": status, "error": err})

    def close(self, timeout: float = 10.0) -> None:
        """Stop the lanes; running job processes are ended (training keeps its last epoch)."""
        self._closing.set()
        self._wake.set()
        for t in self._threads:
            t.join(timeout)


def _killpg(pid: int) -> None:
    try:
        os.killpg(pid, signal.SIGTERM)
    except (ProcessLookupError, PermissionError):
        pass
