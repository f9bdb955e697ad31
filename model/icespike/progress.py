"""Progress bars for long steps, on stderr so that ``--json`` output on stdout stays clean.

Usage (library code and commands alike)::

    from icespike import progress
    for batch in progress.bar(batches, desc="train epoch 3", unit="batch"):
        ...
    with progress.bar(total=n_images, desc="sim", unit="img") as pb:
        pb.update(k)

A bar is shown only when stderr is a terminal and the command was not run with ``--json``.
``ICESPIKE_PROGRESS=1`` forces bars on (even into a pipe or a log file), ``ICESPIKE_PROGRESS=0``
turns them off. The CLI calls :func:`configure` once with the command's ``--json`` flag.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Iterable

from tqdm import tqdm

__all__ = ["bar", "configure", "enabled", "log"]

_state = {"json_mode": False, "force": None}


def configure(*, json_mode: bool | None = None, force: bool | None = None) -> None:
    """Set the process-wide policy: ``json_mode`` (a ``--json`` run), ``force`` (True/False/None=auto)."""
    if json_mode is not None:
        _state["json_mode"] = bool(json_mode)
    _state["force"] = force


def _env_force() -> bool | None:
    v = os.environ.get("ICESPIKE_PROGRESS", "").strip().lower()
    if v in ("1", "true", "yes", "on"):
        return True
    if v in ("0", "false", "no", "off"):
        return False
    return None


def enabled() -> bool:
    """Whether a bar created now would be shown."""
    force = _state["force"] if _state["force"] is not None else _env_force()
    if force is not None:
        return force
    if _state["json_mode"]:
        return False
    try:
        return sys.stderr.isatty()
    except (AttributeError, ValueError):
        return False


def bar(
    iterable: Iterable | None = None, *, total: int | None = None, desc: str | None = None, **kwargs
) -> tqdm:
    """A tqdm bar on stderr, disabled per :func:`enabled`. Extra keyword arguments go to tqdm."""
    kwargs.setdefault("file", sys.stderr)
    kwargs.setdefault("dynamic_ncols", True)
    kwargs.setdefault("leave", False)
    kwargs.setdefault("mininterval", 0.5)
    return tqdm(iterable, total=total, desc=desc, disable=not enabled(), **kwargs)


def log(message: str) -> None:
    """A status line on stderr that does not break a running bar."""
    tqdm.write(message, file=sys.stderr)
