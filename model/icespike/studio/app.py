"""The Studio's web application (FastAPI): the page, the JSON API and the event streams.

Every action is a library call (:mod:`icespike.studio.actions`, :mod:`icespike.studio.jobs`);
this module adds HTTP, validation messages and Server-Sent Events. Errors are JSON
``{"error": "..."}`` with a 4xx status. Networks are named by id (``model:<name>``,
``run:<id>``), files by a fixed list of names, so no request reaches a path it names itself.
"""

from __future__ import annotations

import asyncio
import json
import math
from contextlib import asynccontextmanager
from pathlib import Path

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import FileResponse, JSONResponse, StreamingResponse
from fastapi.staticfiles import StaticFiles
from starlette.exceptions import HTTPException as StarletteHTTPException

from .. import synth as flow
from ..commands.sweep import DEFAULT_DIR as SWEEPS_DIR  # where icespike sweep writes (relative)
from . import actions
from .actions import BadRequest, NotFound
from .jobs import JobManager, validate_rtl, validate_synth, validate_train
from .store import FINAL, Store
from .sweeps import list_sweeps, sweep_points

__all__ = ["create_app", "DEFAULT_ROOT", "SWEEPS_DIR", "DOWNLOADS"]

STATIC = Path(__file__).parent / "static"
DEFAULT_ROOT = flow.ROOT / "build" / "studio"
# name in the URL -> file inside the job's directory
DOWNLOADS = {
    "model.npz": "model.npz",
    "model.json": "model.json",
    "report.json": "synth/report.json",
    "top.bin": "synth/top.bin",
    "w0.hex": "export/w0.hex",
    "w1.hex": "export/w1.hex",
    "net_params.vh": "export/net_params.vh",
    "manifest.json": "export/manifest.json",
}


class Conflict(Exception):
    """The request is well formed but the job is in the wrong state (HTTP 409)."""


def _error(status: int, msg: str) -> JSONResponse:
    return JSONResponse({"error": msg}, status_code=status)


def create_app(
    root: str | Path | None = None, *, start_jobs: bool = True, sweeps: list[str | Path] | None = None
) -> FastAPI:
    """The Studio app storing its runs under ``root`` (default ``build/studio``) and showing the
    sweeps found under ``sweeps`` (default ``build/sweeps``, where ``icespike sweep`` writes)."""
    store = Store(root if root is not None else DEFAULT_ROOT)
    sweep_roots = [Path(d).resolve() for d in (sweeps if sweeps is not None else [SWEEPS_DIR])]
    jobs = JobManager(store)

    @asynccontextmanager
    async def lifespan(app):
        if start_jobs:
            jobs.start()
        yield
        jobs.close()

    app = FastAPI(title="icespike studio", lifespan=lifespan, docs_url=None, redoc_url=None)
    app.state.store = store
    app.state.jobs = jobs

    @app.exception_handler(BadRequest)
    async def _bad(request, exc):
        return _error(422, str(exc))

    @app.exception_handler(NotFound)
    async def _nf(request, exc):
        return _error(404, str(exc.args[0]) if exc.args else "not found")

    @app.exception_handler(Conflict)
    async def _conf(request, exc):
        return _error(409, str(exc))

    @app.exception_handler(RequestValidationError)
    async def _val(request, exc):
        e = exc.errors()[0] if exc.errors() else {}
        where = ".".join(str(x) for x in e.get("loc", ()) if x not in ("body", "query", "path"))
        return _error(
            422, f"{where}: {e.get('msg', 'invalid')}" if where else e.get("msg", "invalid request")
        )

    @app.exception_handler(StarletteHTTPException)
    async def _http(request, exc):
        return _error(exc.status_code, str(exc.detail))

    async def body(request: Request) -> dict:
        try:
            d = json.loads(await request.body() or b"{}")
        except ValueError:
            raise BadRequest("the request body is not valid JSON") from None
        if not isinstance(d, dict):
            raise BadRequest("the request body must be a JSON object")
        return d

    def job_or_404(job_id: str) -> dict:
        job = store.get(job_id) if actions.is_job_id(job_id) else None
        if job is None:
            raise NotFound(f"no job {job_id!r}")
        return job

    # ------------------------------------------------------------------------------ page
    @app.get("/", include_in_schema=False)
    async def index():
        return FileResponse(STATIC / "index.html")

    app.mount("/static", StaticFiles(directory=STATIC), name="static")

    # ------------------------------------------------------------------------------ data
    @app.get("/api/health")
    async def health():
        return {"ok": True, "root": str(store.root), "sweeps": [str(d) for d in sweep_roots]}

    @app.get("/api/devices")
    async def devices():
        return [
            {
                "id": d.name,
                "part": d.part,
                "logic_cells": d.logic_cells,
                "ebr": d.ebr,
                "spram": d.spram,
                "dsp": d.dsp,
            }
            for d in flow.DEVICES.values()
        ]

    @app.get("/api/models")
    async def models():
        return actions.list_models()

    @app.get("/api/models/{name}")
    async def model(name: str):
        return _finite(actions.model_history(name))

    @app.get("/api/sources")
    async def sources():
        """Networks to pick: committed models and training runs that have a checkpoint."""
        out = [{**m, "label": f"model {m['name']}", "kind": "model"} for m in actions.list_models()]
        for j in store.list("train"):
            if (store.job_dir(j["id"]) / "model.npz").is_file():
                p = j["params"]
                shape = "-".join(map(str, [784, *p["hidden"], 10]))
                out.append(
                    {
                        "id": f"run:{j['id']}",
                        "label": f"run {j['id']} {shape} {p['bits']} ({j['status']})",
                        "kind": "run",
                        "hidden": p["hidden"],
                        "timesteps": p["timesteps"],
                        "bits": p["bits"],
                    }
                )
        return out

    async def network_request(request: Request, extra: str) -> tuple[dict, Path, int]:
        """The body of a request about a network at a width: (body, checkpoint, bits)."""
        d = await body(request)
        _only(d, {"source", "bits", extra})
        return d, actions.resolve_source(d.get("source"), store), actions.check_bits(d.get("bits"))

    @app.post("/api/ptq")
    async def ptq(request: Request):
        d, ck, bits = await network_request(request, "images")
        n = d.get("images", 10000)
        if isinstance(n, bool) or not isinstance(n, int):
            raise BadRequest(f"images must be an integer, got {n!r}")
        return await asyncio.to_thread(actions.ptq_accuracy, ck, bits, n)

    @app.post("/api/estimate")
    async def estimate(request: Request):
        d = await body(request)
        _only(d, {"source", "bits", "device", "lanes", "lif_lanes"})
        ck, bits = actions.resolve_source(d.get("source"), store), actions.check_bits(d.get("bits"))
        actions.check_engine_network(ck)
        dev = actions.check_device(d.get("device", "up5k"))
        lanes, lif_lanes = actions.check_lanes(ck, bits, d.get("lanes"), d.get("lif_lanes"))
        return _finite(await asyncio.to_thread(actions.resource_estimate, ck, bits, dev, lanes, lif_lanes))

    @app.get("/api/pareto")
    async def pareto(device: str = "up5k"):
        dev = actions.check_device(device)
        return _finite(await asyncio.to_thread(actions.accuracy_vs_resources, store, dev))

    @app.get("/api/sweeps")
    async def sweeps_list():
        """Sweeps found under the sweep directories (an unreadable one with its error line)."""
        return _finite(await asyncio.to_thread(list_sweeps, sweep_roots))

    @app.get("/api/sweeps/{sweep_id}")
    async def sweep(sweep_id: str):
        """One sweep's trials as points of the accuracy-vs-resources chart, fronts marked."""
        return _finite(await asyncio.to_thread(sweep_points, sweep_roots, sweep_id))

    # ------------------------------------------------------------------------------ jobs
    @app.get("/api/jobs")
    async def list_jobs(kind: str | None = None):
        if kind is not None and kind not in ("train", "synth", "rtl"):
            raise BadRequest(f"kind must be 'train', 'synth' or 'rtl', got {kind!r}")
        return _finite(store.list(kind))

    @app.post("/api/jobs", status_code=201)
    async def submit(request: Request):
        d = await body(request)
        kind = d.get("kind")
        if kind == "train":
            params = await asyncio.to_thread(validate_train, d, store)
        elif kind == "synth":
            params = validate_synth(d, store)
        elif kind == "rtl":
            params = validate_rtl(d, store)
        else:
            raise BadRequest(f"kind must be 'train', 'synth' or 'rtl', got {kind!r}")
        return jobs.submit(kind, params)

    @app.get("/api/jobs/{job_id}")
    async def get_job(job_id: str):
        return _finite(job_or_404(job_id))

    @app.get("/api/jobs/{job_id}/events")
    async def events(job_id: str, after: int = 0):
        job_or_404(job_id)
        return _finite(store.events(job_id, after))

    @app.get("/api/jobs/{job_id}/stream")
    async def stream(job_id: str, request: Request, after: int = 0):
        """Server-Sent Events: every event of the job after ``after``, until the job ends."""
        job_or_404(job_id)

        async def gen():
            last = after
            while True:
                evs = store.events(job_id, last)
                for e in evs:
                    last = e["seq"]
                    yield f"id: {e['seq']}\ndata: {json.dumps(_finite(e))}\n\n"
                if not evs and store.get(job_id)["status"] in FINAL:
                    yield "event: end\ndata: {}\n\n"
                    return
                if await request.is_disconnected():
                    return
                await asyncio.sleep(0.25)

        return StreamingResponse(gen(), media_type="text/event-stream", headers={"Cache-Control": "no-cache"})

    @app.post("/api/jobs/{job_id}/cancel")
    async def cancel(job_id: str):
        job = job_or_404(job_id)
        if job["status"] in FINAL:
            raise Conflict(f"job {job_id} has already ended ({job['status']})")
        return jobs.cancel(job_id)

    @app.post("/api/jobs/{job_id}/resume")
    async def resume(job_id: str):
        job = job_or_404(job_id)
        if job["kind"] != "train":
            raise Conflict("only training runs can be resumed")
        if job["status"] not in ("stopped", "failed"):
            raise Conflict(f"job {job_id} is {job['status']}: only a stopped or failed run resumes")
        if not (store.job_dir(job_id) / "model.npz").is_file():
            raise Conflict(f"run {job_id} has no checkpoint to resume from")
        return jobs.resume(job_id)

    @app.get("/api/jobs/{job_id}/files/{name}")
    async def download(job_id: str, name: str):
        job_or_404(job_id)
        if name not in DOWNLOADS:
            raise NotFound(f"no file {name!r} (files: {', '.join(DOWNLOADS)})")
        base = store.job_dir(job_id).resolve()
        p = (base / DOWNLOADS[name]).resolve()
        if base not in p.parents or not p.is_file():
            raise NotFound(f"job {job_id} has no {name}")
        return FileResponse(p, filename=name)

    return app


def _only(d: dict, known: set[str]) -> None:
    extra = sorted(set(d) - known)
    if extra:
        raise BadRequest(f"unknown field(s): {', '.join(extra)}")


def _finite(o):
    """JSON-safe copy: NaN/inf become null (JSON has neither)."""
    if isinstance(o, dict):
        return {k: _finite(v) for k, v in o.items()}
    if isinstance(o, (list, tuple)):
        return [_finite(v) for v in o]
    if isinstance(o, float) and not math.isfinite(o):
        return None
    return o
