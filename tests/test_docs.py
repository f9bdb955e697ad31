"""Every command shown in README.md, docs/*.md and verif/README.md runs as written.

The rule (short, so that new sections follow it; also in verif/README.md, "Running"):

- Commands live in fenced blocks tagged ``sh``. Each line is one command (a trailing ``\\``
  joins the next line); blank lines and ``#`` comments are skipped. In a block with ``$ ``
  lines (a transcript), only those lines are commands; the rest is their output.
- Each block runs in a fresh temporary copy of the checkout (its own git repository, ``.venv``
  linked), from the copy's root, with ``bash``, in order, and must exit 0. A block is
  self-contained: a command may use what an earlier line of the SAME block made.
- The environment is a new user's: the venv is not activated (no ``.venv/bin`` on PATH).
- A marker alone on the line before the opening fence (blank lines between are allowed)
  changes that, visibly in the Markdown source:
  ``<!-- doc-test: slow -->`` runs the block only in the slow tier (``make test-full``);
  ``<!-- doc-test: skip: REASON -->`` never runs it (e.g. it needs a board, or it is the test
  suite itself); the reason is shown as the skip reason.
- Synopses and other text that looks like a command but is not meant to be run go in blocks
  tagged ``text``; an untagged block holding a command (``make``, ``icespike``, ``.venv/bin/``,
  ``python``, ``bash``, ``pytest``) fails :func:`test_commands_are_in_sh_blocks`.

Cost: the fast tier runs the unmarked blocks (a few seconds each; keep them so) and the
extraction checks, about 15 s in all.
"""

from __future__ import annotations

import os
import re
import subprocess
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
DOCS = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md")), ROOT / "verif" / "README.md"]
# A marker is a line of its own (a marker quoted in prose, inside backticks, is not one).
MARKER = re.compile(r"^\s*<!--\s*doc-test:\s*(slow|skip)\s*(?::\s*(.*?))?\s*-->\s*$")
FENCE = re.compile(r"^(`{3,}|~{3,})\s*([\w+-]*)")
COMMANDISH = re.compile(r"^\s*(\$ )?(make|icespike|\.venv/bin/|python3?|bash|pytest)\b")


@dataclass
class Block:
    path: Path
    line: int  # 1-based line of the opening fence
    lang: str
    lines: list[str]
    marker: tuple[str, str] | None  # ("slow" | "skip", reason)

    @property
    def name(self) -> str:
        return f"{self.path.relative_to(ROOT)}:{self.line}"

    def commands(self) -> list[str]:
        """The commands of the block, by the rule above."""
        joined, cur = [], ""
        for raw in self.lines:
            cur += raw.rstrip()
            if cur.endswith("\\"):
                cur = cur[:-1] + " "
                continue
            joined.append(cur)
            cur = ""
        if cur:
            joined.append(cur)
        if any(ln.startswith("$ ") for ln in joined):
            joined = [ln[2:] for ln in joined if ln.startswith("$ ")]
        return [ln.strip() for ln in joined if ln.strip() and not ln.strip().startswith("#")]


def blocks(path: Path) -> list[Block]:
    """Every fenced block of ``path`` with its tag and the doc-test marker before it."""
    out, lines = [], path.read_text().splitlines()
    i = 0
    while i < len(lines):
        m = FENCE.match(lines[i])
        if not m:
            i += 1
            continue
        fence, lang, start = m.group(1), m.group(2), i
        j = i + 1
        while j < len(lines) and not lines[j].startswith(fence):
            j += 1
        k = start - 1
        while k >= 0 and not lines[k].strip():
            k -= 1
        mk = MARKER.match(lines[k]) if k >= 0 else None
        marker = (mk.group(1), mk.group(2) or "") if mk else None
        out.append(Block(path, start + 1, lang, lines[start + 1 : j], marker))
        i = j + 1
    return out


ALL = [b for p in DOCS if p.is_file() for b in blocks(p)]
SH = [b for b in ALL if b.lang == "sh"]


def _params(slow: bool):
    for b in SH:
        if b.marker and b.marker[0] == "skip":
            marks = [pytest.mark.skip(reason=f"doc-test: skip: {b.marker[1]}")]
        elif b.marker and b.marker[0] == "slow":
            marks = [pytest.mark.slow]
        else:
            marks = []
        yield pytest.param(b, marks=marks, id=b.name)


def user_env(repo: Path) -> dict:
    """A new user's environment in ``repo``: no venv on PATH, no debug, the copy's package."""
    env = {k: v for k, v in os.environ.items() if k not in ("ICESPIKE_DEBUG", "VIRTUAL_ENV")}
    env["PATH"] = os.pathsep.join(
        d for d in env.get("PATH", "").split(os.pathsep) if "/.venv/" not in d + "/" and "verilator" not in d
    )
    env["PYTHONPATH"] = str(repo / "model")  # the copy's code, not this checkout's
    return env


@pytest.mark.parametrize("block", list(_params(False)))
def test_documented_commands_run_as_written(block, checkout_copy):
    cmds = block.commands()
    assert cmds, f"{block.name}: sh block without a command"
    repo = checkout_copy
    env = user_env(repo)
    timeout = 4 * 3600 if block.marker else 300
    for cmd in cmds:
        p = subprocess.run(
            ["bash", "-c", cmd], cwd=repo, env=env, capture_output=True, text=True, timeout=timeout
        )
        assert p.returncode == 0, (
            f"{block.name}: `{cmd}` exited {p.returncode}\n--- stderr (end)\n{p.stderr[-3000:]}"
            f"\n--- stdout (end)\n{p.stdout[-1500:]}"
        )


def test_commands_are_in_sh_blocks():
    """A block that shows a command but is not tagged sh (so would silently go untested)."""
    bad = [f"{b.name}: {ln.strip()}" for b in ALL if b.lang == "" for ln in b.lines if COMMANDISH.match(ln)]
    assert not bad, "tag these blocks `sh` (commands) or `text` (synopses):\n" + "\n".join(bad)


def test_markers_sit_on_sh_blocks_and_have_reasons():
    for p in DOCS:
        n = sum(1 for ln in p.read_text().splitlines() if MARKER.match(ln))
        on_blocks = [b for b in blocks(p) if b.marker]
        assert n == len(on_blocks), f"{p.name}: a doc-test marker is not right before a code block"
        for b in on_blocks:
            assert b.lang == "sh", f"{b.name}: doc-test marker on a `{b.lang}` block"
            if b.marker[0] == "skip":
                assert b.marker[1], f"{b.name}: `doc-test: skip` needs a reason"


def test_extraction_rule(tmp_path):
    doc = tmp_path / "x.md"
    doc.write_text(
        "<!-- doc-test: skip: needs a board -->\n```sh\nmake flash\n```\n\n"
        "```sh\na --x \\\n  --y   # comment\n# only a comment\n\nb\n```\n"
        "<!-- doc-test: slow -->\n\n```sh\n$ c\noutput\n$ d\n```\n```text\nicespike x [--y]\n```\n"
    )
    bs = blocks(doc)
    assert [b.marker for b in bs] == [("skip", "needs a board"), None, ("slow", ""), None]
    assert bs[1].commands() == ["a --x    --y   # comment", "b"]
    assert bs[2].commands() == ["c", "d"]
    assert [b.lang for b in bs] == ["sh", "sh", "sh", "text"]
