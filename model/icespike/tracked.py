"""Generated files that live in git: write one only when its content changed, and say which.

Every generator of tracked files (``icespike report``, ``scripts/sim_all.py``,
``scripts/synth_all.py``, ``scripts/synth_cores.py``) writes through a :class:`TrackedWriter`,
so that a run that changes nothing leaves a clean checkout clean, and ends by naming the files
it rewrote. Run times do not make a file "changed": with ``ignore=TIMINGS`` a file whose new
content differs from the old only in timings (``"..._seconds": 12.3`` in JSON, ``123 s`` in a
table) is left as it is.
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

__all__ = ["TIMINGS", "TrackedWriter", "replace_between_markers"]

ROOT = Path(__file__).resolve().parents[2]

# Run times: JSON keys ending in "seconds" and table cells such as "123 s" or "1,234.5 s".
TIMINGS = re.compile(r'("\w*seconds"\s*:\s*)-?[0-9][0-9.eE+-]*|\b\d[\d,]*(?:\.\d+)? s\b')


def replace_between_markers(text: str, new: str, begin: str, end: str) -> str:
    """``text`` with everything strictly between ``begin`` and ``end`` replaced by ``new``.

    Raises ValueError if a marker is missing, repeated, or the end comes first.
    """
    for m in (begin, end):
        n = text.count(m)
        if n != 1:
            raise ValueError(f"marker {m!r} must occur exactly once, found {n} times")
    i, j = text.index(begin), text.index(end)
    if j < i:
        raise ValueError(f"marker {end!r} comes before {begin!r}")
    body = new if new.startswith("\n") else "\n" + new
    body = body if body.endswith("\n") else body + "\n"
    return text[: i + len(begin)] + body + text[j:]


def _same(old, new, ignore: re.Pattern | None) -> bool:
    if old == new:
        return True
    if ignore is None or isinstance(new, bytes):
        return False
    return ignore.sub(r"\1<t>", old) == ignore.sub(r"\1<t>", new)


class TrackedWriter:
    """Writes generated files, skipping those whose content would not change; keeps the lists."""

    def __init__(self, tool: str):
        self.tool = tool
        self.rewritten: list[Path] = []
        self.unchanged: list[Path] = []

    def write(self, path: str | Path, content: str | bytes, *, ignore: re.Pattern | None = None) -> bool:
        """Write ``content`` to ``path`` unless the file holds the same (apart from ``ignore``).

        Returns whether the file was written.
        """
        path = Path(path)
        binary = isinstance(content, bytes)
        if path.is_file():
            old = path.read_bytes() if binary else path.read_text()
            if _same(old, content, ignore):
                self.unchanged.append(path)
                return False
        path.parent.mkdir(parents=True, exist_ok=True)
        if binary:
            path.write_bytes(content)
        else:
            path.write_text(content)
        self.rewritten.append(path)
        return True

    def between_markers(
        self, path: str | Path, new: str, begin: str, end: str, *, ignore: re.Pattern | None = None
    ) -> bool:
        """Replace the section between ``begin`` and ``end`` in ``path`` (see :meth:`write`)."""
        text = Path(path).read_text()
        return self.write(path, replace_between_markers(text, new, begin, end), ignore=ignore)

    def summary(self) -> str:
        """One line: the files rewritten (relative to the project), or that none changed."""

        def show(p: Path) -> str:
            p = p.resolve()
            return str(p.relative_to(ROOT)) if p.is_relative_to(ROOT) else str(p)

        if not self.rewritten:
            return f"{self.tool}: no file changed ({len(self.unchanged)} checked)"
        line = f"{self.tool}: rewrote {', '.join(show(p) for p in self.rewritten)}"
        if self.unchanged:
            line += f"; unchanged: {', '.join(show(p) for p in self.unchanged)}"
        return line

    def say(self) -> None:
        """Print :meth:`summary` on stderr."""
        print(self.summary(), file=sys.stderr)
