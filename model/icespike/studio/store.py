"""Persistence of the Studio: jobs (training, fine-tune, synthesis runs) and their events in SQLite.

One database file (default ``build/studio/studio.db``) and one directory per job beside it
(``build/studio/jobs/<id>/``: checkpoint, export, synthesis run). Job processes write their
own events and final state, so a page reload or a server restart loses nothing.
"""

from __future__ import annotations

import json
import sqlite3
import time
import uuid
from pathlib import Path

__all__ = ["Store", "FINAL", "ACTIVE"]

FINAL = ("done", "failed", "stopped", "cancelled")
ACTIVE = ("queued", "running")

_SCHEMA = """
CREATE TABLE IF NOT EXISTS jobs (
    id TEXT PRIMARY KEY,
    kind TEXT NOT NULL,
    lane TEXT NOT NULL,
    status TEXT NOT NULL,
    params TEXT NOT NULL,
    created REAL NOT NULL,
    started REAL,
    finished REAL,
    error TEXT,
    result TEXT,
    stop_requested INTEGER NOT NULL DEFAULT 0,
    pid INTEGER
);
CREATE TABLE IF NOT EXISTS events (
    job_id TEXT NOT NULL,
    seq INTEGER NOT NULL,
    time REAL NOT NULL,
    data TEXT NOT NULL,
    PRIMARY KEY (job_id, seq)
);
"""


class Store:
    """The job table and event log in ``root/studio.db``; job directories under ``root/jobs``."""

    def __init__(self, root: str | Path):
        self.root = Path(root).resolve()
        self.root.mkdir(parents=True, exist_ok=True)
        self.db = self.root / "studio.db"
        with self._conn() as c:
            c.executescript(_SCHEMA)

    def _conn(self) -> sqlite3.Connection:
        c = sqlite3.connect(self.db, timeout=30, isolation_level=None)
        c.execute("PRAGMA journal_mode=WAL")
        c.row_factory = sqlite3.Row
        return c

    def job_dir(self, job_id: str) -> Path:
        return self.root / "jobs" / job_id

    # ---------------------------------------------------------------------------- jobs
    def create(self, kind: str, lane: str, params: dict) -> dict:
        job_id = uuid.uuid4().hex[:12]
        with self._conn() as c:
            c.execute(
                "INSERT INTO jobs (id, kind, lane, status, params, created) VALUES (?, ?, ?, 'queued', ?, ?)",
                (job_id, kind, lane, json.dumps(params), time.time()),
            )
        self.job_dir(job_id).mkdir(parents=True, exist_ok=True)
        return self.get(job_id)

    def get(self, job_id: str) -> dict | None:
        with self._conn() as c:
            row = c.execute("SELECT * FROM jobs WHERE id = ?", (job_id,)).fetchone()
        return _job(row) if row else None

    def list(self, kind: str | None = None) -> list[dict]:
        q, a = "SELECT * FROM jobs", ()
        if kind:
            q, a = q + " WHERE kind = ?", (kind,)
        with self._conn() as c:
            rows = c.execute(q + " ORDER BY created DESC", a).fetchall()
        return [_job(r) for r in rows]

    def next_queued(self, lane: str) -> dict | None:
        with self._conn() as c:
            row = c.execute(
                "SELECT * FROM jobs WHERE lane = ? AND status = 'queued' ORDER BY created LIMIT 1", (lane,)
            ).fetchone()
        return _job(row) if row else None

    def update(self, job_id: str, **fields) -> None:
        if "params" in fields or "result" in fields:
            for k in ("params", "result"):
                if k in fields and not isinstance(fields[k], str) and fields[k] is not None:
                    fields[k] = json.dumps(fields[k])
        cols = ", ".join(f"{k} = ?" for k in fields)
        with self._conn() as c:
            c.execute(f"UPDATE jobs SET {cols} WHERE id = ?", (*fields.values(), job_id))

    def set_status_if(self, job_id: str, old: tuple[str, ...], new: str, **fields) -> bool:
        """Move a job from one of ``old`` to ``new`` atomically; False if it was in another state."""
        sets = ", ".join(["status = ?"] + [f"{k} = ?" for k in fields])
        marks = ", ".join("?" for _ in old)
        with self._conn() as c:
            cur = c.execute(
                f"UPDATE jobs SET {sets} WHERE id = ? AND status IN ({marks})",
                (new, *fields.values(), job_id, *old),
            )
            return cur.rowcount == 1

    def fail_interrupted(self) -> int:
        """Mark jobs left running by a previous server as failed (their checkpoints stay)."""
        with self._conn() as c:
            cur = c.execute(
                "UPDATE jobs SET status = 'failed', finished = ?, error = ? WHERE status = 'running'",
                (time.time(), "the server stopped while this job ran (resume a training run to continue it)"),
            )
            return cur.rowcount

    # ---------------------------------------------------------------------------- events
    def add_event(self, job_id: str, data: dict) -> int:
        with self._conn() as c:
            row = c.execute("SELECT COALESCE(MAX(seq), 0) FROM events WHERE job_id = ?", (job_id,)).fetchone()
            seq = int(row[0]) + 1
            c.execute(
                "INSERT INTO events (job_id, seq, time, data) VALUES (?, ?, ?, ?)",
                (job_id, seq, time.time(), json.dumps(data)),
            )
        return seq

    def events(self, job_id: str, after: int = 0, type_: str | None = None) -> list[dict]:
        with self._conn() as c:
            rows = c.execute(
                "SELECT seq, time, data FROM events WHERE job_id = ? AND seq > ? ORDER BY seq",
                (job_id, int(after)),
            ).fetchall()
        out = [{"seq": r["seq"], "time": r["time"], **json.loads(r["data"])} for r in rows]
        return [e for e in out if type_ is None or e.get("type") == type_]


def _job(row: sqlite3.Row) -> dict:
    d = dict(row)
    d["params"] = json.loads(d["params"])
    d["result"] = json.loads(d["result"]) if d["result"] else None
    d["stop_requested"] = bool(d["stop_requested"])
    return d
