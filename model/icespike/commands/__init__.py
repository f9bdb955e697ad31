"""Subcommands of the ``icespike`` CLI, one module per command.

A command module ``icespike.commands.<name>`` defines ``register(subparsers)``, which adds its
parser (use :func:`add_parser`, which gives it the common ``--json`` option) and sets
``func``, a callable ``func(args) -> int | None`` (None means exit code 0). ``icespike.cli``
loads the modules it finds; a command whose module does not exist yet is simply absent.

Errors a user can cause are raised as exceptions (ValueError and its subclasses such as
``icespike.data.DataError`` and ``icespike.fixed.ArithmeticError_``, OSError, KeyError,
``icespike.synth.SynthError``, :class:`UserError`); a command never prints its own error or
calls ``sys.exit``. ``icespike.cli.main`` reports every failure the same way, for every command:
one line ``icespike: error: <message>`` on stderr, exit code 2 (3 for an internal error), and
with ``--json`` a JSON document ``{"error", "command", "exit_code"}`` on stdout. Argument errors
take the same path (no usage block). Nested subcommands (``add_subparsers`` on a command's
parser) get ``--json`` and the same error path too; each leaf sets ``func``.
"""

from __future__ import annotations

import argparse
import json
import math
import re
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

__all__ = [
    "COMMANDS",
    "HelpFormatter",
    "UserError",
    "add_json_option",
    "add_parser",
    "emit",
    "select_test_images",
    "to_jsonable",
]

# Commands in the order `icespike --help` lists them.
COMMANDS = ("data", "train", "eval", "export", "sim", "synth", "estimate", "report", "nir", "sweep", "studio")


class UserError(Exception):
    """An error caused by the user's input; the CLI prints its message without a traceback."""


class HelpFormatter(argparse.RawDescriptionHelpFormatter):
    """Shows an option's default when it says something (not None/False) and the help does not already."""

    def _get_help_string(self, action):
        h = action.help or ""
        d = action.default
        if (
            "default" not in h.lower()
            and d is not None
            and d is not False
            and d is not argparse.SUPPRESS
            and (action.option_strings or action.nargs in ("?", "*"))
        ):
            if isinstance(d, (tuple, list)):
                d = ",".join(str(x) for x in d)  # as typed on the command line, e.g. --hidden 128,64
            h += " (default: " + str(d).replace("%", "%%") + ")"
        return h


def add_parser(
    subparsers, name: str, *, help: str, description: str | None = None
) -> argparse.ArgumentParser:
    """Add the parser of command ``name`` with the options every command shares (``--json``)."""
    p = subparsers.add_parser(
        name,
        help=_plain(help),
        description=_plain(description or help),
        formatter_class=HelpFormatter,
    )
    add_json_option(p)
    return p


def select_test_images(n_test: int | None, images: int | None, offset: int = 0) -> slice | None:
    """The slice of test images ``--offset K --images N`` selects (``images=None``: all from K).

    A range outside the ``n_test`` images is an error, never silently clamped. With
    ``n_test=None`` (data not loaded yet) only the signs are checked and None is returned.
    """
    if images is not None and images < 1:
        raise UserError(f"--images must be >= 1, got {images}")
    if offset < 0:
        raise UserError(f"--offset must be >= 0, got {offset}")
    if n_test is None:
        return None
    if offset >= n_test:
        raise UserError(f"--offset {offset} is past the {n_test} test images")
    if images is not None and offset + images > n_test:
        where = f"--offset {offset} + --images {images}" if offset else f"--images {images}"
        raise UserError(f"{where} exceeds the {n_test} test images")
    return slice(offset, n_test if images is None else offset + images)


def _plain(text: str) -> str:
    """Docstring markup (``name``) as plain text for a terminal (name)."""
    return re.sub(r"``([^`]+)``", r"\1", text)


def add_json_option(parser: argparse.ArgumentParser, *, suppress_default: bool = False) -> None:
    """Give ``parser`` the ``--json`` flag unless it already has it.

    ``suppress_default``: no default in the namespace (for nested subcommands, so that their
    ``--json`` adds to an earlier one instead of resetting it).
    """
    if "--json" not in parser._option_string_actions:
        parser.add_argument(
            "--json",
            action="store_true",
            default=argparse.SUPPRESS if suppress_default else False,
            help="print one machine-readable JSON document on stdout (progress and messages go to stderr)",
        )


def to_jsonable(obj: Any) -> Any:
    """Convert numpy scalars/arrays, paths, tuples and sets to plain JSON types (recursively)."""
    if isinstance(obj, dict):
        return {str(k): to_jsonable(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple, set, frozenset)):
        return [to_jsonable(v) for v in obj]
    if isinstance(obj, np.ndarray):
        return to_jsonable(obj.tolist())
    if isinstance(obj, np.bool_):
        return bool(obj)
    if isinstance(obj, np.integer):
        return int(obj)
    if isinstance(obj, (np.floating, float)):
        f = float(obj)
        return f if math.isfinite(f) else None
    if isinstance(obj, Path):
        return str(obj)
    return obj


def emit(args: argparse.Namespace, result: Any, text: Callable[[Any], str] | str | None = None) -> None:
    """Print a command's result: JSON with ``--json``, else ``text(result)`` (or ``text``)."""
    if getattr(args, "json", False):
        json.dump(to_jsonable(result), sys.stdout, indent=2, sort_keys=False)
        sys.stdout.write("\n")
    else:
        out = text(result) if callable(text) else text
        if out is None:
            out = json.dumps(to_jsonable(result), indent=2)
        sys.stdout.write(out if out.endswith("\n") else out + "\n")
    sys.stdout.flush()
