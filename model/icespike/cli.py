"""The ``icespike`` command line: one subcommand per step of the flow.

Subcommands live in ``icespike.commands.<name>`` (see that package's docstring). Errors a
user can cause become one line ``icespike: error: <message>`` on stderr and exit code 2;
set ``ICESPIKE_DEBUG=1`` to get the traceback instead.
"""

from __future__ import annotations

import argparse
import importlib
import importlib.util
import os
import sys
import zipfile

from . import __version__, progress
from .commands import COMMANDS, UserError, add_json_option

EXIT_USER_ERROR = 2
EXIT_INTERRUPTED = 130

# Exceptions that mean "bad input" (files, options, data), not a bug in icespike.
# DataError and ArithmeticError_ are ValueError subclasses; JSONDecodeError is one too.
USER_ERRORS = (UserError, ValueError, OSError, KeyError, EOFError, zipfile.BadZipFile)


def load_commands(subparsers) -> list[str]:
    """Register every command module that exists; returns the names registered.

    A missing module is skipped; any other import problem (a bug) propagates.
    """
    found = []
    for name in COMMANDS:
        modname = f"{__package__}.commands.{name}"
        if importlib.util.find_spec(modname) is None:
            continue
        module = importlib.import_module(modname)
        module.register(subparsers)
        found.append(name)
    return found


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="icespike",
        description="Quantisation-aware training of spiking networks and their bit-exact iCE40 hardware.",
    )
    parser.add_argument("--version", action="version", version=f"icespike {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    load_commands(sub)
    for name, p in sub.choices.items():
        add_json_option(p)
        if p.get_default("func") is None:
            raise RuntimeError(f"command {name!r} did not set func with set_defaults(func=...)")
    return parser


def error_message(exc: BaseException) -> str:
    """One-line message for a user error."""
    if isinstance(exc, KeyError):
        key = exc.args[0] if exc.args else "?"
        msg = f"missing entry {key!r}"
    elif isinstance(exc, OSError) and exc.filename is not None and exc.strerror:
        msg = f"{exc.filename}: {exc.strerror}"
    else:
        msg = str(exc) or type(exc).__name__
    return " ".join(msg.split())


def main(argv: list[str] | None = None) -> int:
    """Entry point of the ``icespike`` console script; returns the exit code."""
    parser = build_parser()
    args = parser.parse_args(argv)
    debug = os.environ.get("ICESPIKE_DEBUG", "") not in ("", "0")
    progress.configure(json_mode=bool(getattr(args, "json", False)))
    try:
        rc = args.func(args)
    except KeyboardInterrupt:
        if debug:
            raise
        print("icespike: interrupted", file=sys.stderr)
        return EXIT_INTERRUPTED
    except BrokenPipeError:
        # Output piped into a command that closed early (e.g. `| head`): not an error.
        # Point stdout at /dev/null so that the flush at interpreter exit cannot fail again.
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return 0
    except USER_ERRORS as exc:
        if debug:
            raise
        print(f"icespike: error: {error_message(exc)}", file=sys.stderr)
        return EXIT_USER_ERROR
    return 0 if rc is None else int(rc)


if __name__ == "__main__":
    sys.exit(main())
