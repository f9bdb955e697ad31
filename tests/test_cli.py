"""The icespike CLI: the data command, one-line errors with exit code 2, command loading, progress."""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from icespike import cli, progress
from icespike.commands import UserError, add_parser, to_jsonable
from icespike.data import DataError

TEST_LABEL_COUNTS = [980, 1135, 1032, 1010, 982, 892, 958, 1028, 974, 1009]
REPO = Path(__file__).resolve().parents[1]


def run_cli(*args, env=None):
    """Run ``python -m icespike.cli`` in a subprocess; returns CompletedProcess."""
    e = dict(os.environ)
    e.pop("ICESPIKE_DEBUG", None)
    e["PYTHONPATH"] = str(REPO / "model") + os.pathsep + e.get("PYTHONPATH", "")
    e.update(env or {})
    return subprocess.run(
        [sys.executable, "-m", "icespike.cli", *args], capture_output=True, text=True, env=e, timeout=300
    )


def test_data_json_in_process(capsys):
    assert cli.main(["data", "--json"]) == 0
    out, err = capsys.readouterr()
    s = json.loads(out)  # stdout is exactly one JSON document
    assert s["train_images"] == 60000 and s["test_images"] == 10000
    assert s["test_label_counts"] == TEST_LABEL_COUNTS
    assert sum(s["train_label_counts"]) == 60000
    assert s["verified"] is True
    assert err == ""


def test_data_text(capsys):
    assert cli.main(["data"]) == 0
    out = capsys.readouterr().out
    assert "60000 images 28x28" in out and "10000 images 28x28" in out
    assert "   980  1135  1032  1010   982   892   958  1028   974  1009" in out
    assert "SHA-256 verified" in out


def test_data_json_subprocess():
    p = run_cli("data", "--json")
    assert p.returncode == 0, p.stderr
    s = json.loads(p.stdout)
    assert (s["train_images"], s["test_images"]) == (60000, 10000)
    assert s["test_label_counts"] == TEST_LABEL_COUNTS


def test_console_script():
    exe = shutil.which("icespike", path=str(Path(sys.executable).parent))
    if exe is None:
        pytest.skip("package not installed (run `make deps`)")
    p = subprocess.run([exe, "data", "--json"], capture_output=True, text=True, timeout=300)
    assert p.returncode == 0, p.stderr
    assert json.loads(p.stdout)["test_label_counts"] == TEST_LABEL_COUNTS


def assert_one_line_error(p, *needles):
    assert p.returncode == 2, (p.returncode, p.stderr)
    lines = p.stderr.strip().splitlines()
    assert len(lines) == 1, p.stderr
    assert lines[0].startswith("icespike: error: ")
    assert "Traceback" not in p.stderr
    for n in needles:
        assert n in lines[0], lines[0]
    if "--json" in p.args:  # the same message as one JSON document on stdout
        assert json.loads(p.stdout)["error"] == lines[0][len("icespike: error: ") :]
    else:
        assert p.stdout == ""


def test_bad_data_dir_subprocess(tmp_path):
    missing = tmp_path / "no-such-dir"
    assert_one_line_error(run_cli("data", "--data", str(missing), "--json"), str(missing), "does not exist")


def test_corrupt_data_subprocess(tmp_path):
    d = tmp_path / "mnist"
    shutil.copytree(REPO / "data" / "mnist", d)
    labels = d / "t10k-labels-idx1-ubyte.gz"
    labels.write_bytes(b"garbage")
    assert_one_line_error(run_cli("data", "--data", str(d)), str(labels), "cannot read")


def test_debug_adds_the_traceback(tmp_path):
    """ICESPIKE_DEBUG=1 prints the traceback before the one line; exit code and JSON unchanged."""
    p = run_cli("data", "--data", str(tmp_path / "x"), "--json", env={"ICESPIKE_DEBUG": "1"})
    assert p.returncode == 2
    assert "Traceback" in p.stderr and "DataError" in p.stderr
    last = p.stderr.strip().splitlines()[-1]
    assert last.startswith("icespike: error: ") and "does not exist" in last
    assert json.loads(p.stdout)["command"] == "data"


def test_usage_errors_are_one_line(capsys):
    """Argument errors take the same path: one line naming the command's --help, exit 2, no usage."""
    for argv, needle in (
        (["no-such-command"], "invalid choice: 'no-such-command'"),
        ([], "the following arguments are required: COMMAND"),
        (["eval"], "the following arguments are required: CHECKPOINT"),
        (["sim", "x.npz", "--images", "ten"], "argument --images: invalid int value: 'ten'"),
    ):
        assert cli.main(argv) == 2, argv
        out, err = capsys.readouterr()
        assert out == "" and err.count("\n") == 1 and "usage:" not in err, err
        assert err.startswith("icespike: error: ") and needle in err, err
    cli.main(["eval"])
    assert "(see `icespike eval --help`)" in capsys.readouterr().err


def test_help_and_version_still_exit_0(capsys):
    for argv in (["--help"], ["--version"], ["eval", "--help"]):
        with pytest.raises(SystemExit) as e:
            cli.main(argv)
        assert e.value.code == 0
    assert "usage: icespike eval" in capsys.readouterr().out


def test_help_texts_are_plain(capsys):
    """No docstring markup in any command's --help, and tuple defaults shown as typed."""
    for name in all_commands():
        with pytest.raises(SystemExit):
            cli.main([name, "--help"])
        out = capsys.readouterr().out
        assert "``" not in out and "(128,)" not in out, name
    with pytest.raises(SystemExit):
        cli.main(["synth", "--help"])
    assert "\nicespike synth: synthesise one network" in capsys.readouterr().out
    with pytest.raises(SystemExit):
        cli.main(["train", "--help"])
    assert "(default: 128)" in " ".join(capsys.readouterr().out.split())


def all_commands():
    parser = cli.build_parser()
    sub = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    return sorted(sub.choices)


@pytest.mark.parametrize("command", all_commands())
def test_every_command_json_error_document(capsys, command):
    """Every installed command, with --json and a bad option: one JSON document on stdout, one line
    on stderr, exit 2, without any code of the command's own."""
    assert cli.main([command, "--json", "--no-such-option"]) == 2
    out, err = capsys.readouterr()
    assert json.loads(out) == {
        "error": err[len("icespike: error: ") :].rstrip("\n"),
        "command": command,
        "exit_code": 2,
    }
    assert err.startswith("icespike: error: ") and err.count("\n") == 1
    assert "(see `icespike " + command + " --help`)" in err


def test_bad_input_json_error_document_subprocess(tmp_path):
    """A failing run (not an argument error) gives the JSON document too: `eval nosuch.npz --json`."""
    p = run_cli("eval", str(tmp_path / "nosuch.npz"), "--json")
    assert p.returncode == 2
    doc = json.loads(p.stdout)
    assert doc["command"] == "eval" and "does not exist" in doc["error"] and doc["exit_code"] == 2
    assert p.stderr == f"icespike: error: {doc['error']}\n"


def test_eval_and_sim_refuse_ranges_past_the_test_set(capsys):
    """`eval --images N` and `sim --offset K --images N` treat a range past the 10,000 images alike."""
    assert cli.main(["eval", str(REPO / "models" / "mnist-784-128-10-binary.npz"), "--images", "20000"]) == 2
    assert "--images 20000 exceeds the 10000 test images" in capsys.readouterr().err
    assert (
        cli.main(
            [
                "sim",
                str(REPO / "models" / "mnist-784-128-10-binary.npz"),
                "--images",
                "10",
                "--offset",
                "9995",
            ]
        )
        == 2
    )
    assert "--offset 9995 + --images 10 exceeds the 10000 test images" in capsys.readouterr().err


# ------------------------------------------------------------------------------------ error mapping
def fake_command(exc):
    """A loader that registers one command, ``boom``, which raises ``exc``."""

    def load(sub):
        p = add_parser(sub, "boom", help="raise")

        def run(args):
            raise exc

        p.set_defaults(func=run)
        return ["boom"]

    return load


@pytest.mark.parametrize(
    "exc, message",
    [
        (ValueError("bad\nmulti-line   value"), "bad multi-line value"),
        (DataError("/x/y: truncated header (3 bytes)"), "/x/y: truncated header (3 bytes)"),
        (KeyError("w0_codes"), "missing entry 'w0_codes'"),
        (
            FileNotFoundError(2, "No such file or directory", "model.npz"),
            "model.npz: No such file or directory",
        ),
        (zipfile.BadZipFile("File is not a zip file"), "File is not a zip file"),
        (UserError("--bits 3: allowed are 16, 8, 4, 2, 1"), "--bits 3: allowed are 16, 8, 4, 2, 1"),
        (EOFError(), "EOFError"),
    ],
)
def test_user_errors_are_one_line(monkeypatch, capsys, exc, message):
    monkeypatch.delenv("ICESPIKE_DEBUG", raising=False)
    monkeypatch.setattr(cli, "load_commands", fake_command(exc))
    assert cli.main(["boom"]) == 2
    out, err = capsys.readouterr()
    assert out == ""
    assert err == f"icespike: error: {message}\n"


def test_bugs_are_not_hidden(monkeypatch, capsys):
    """A bug takes the same path with exit code 3 and names itself as one."""
    monkeypatch.delenv("ICESPIKE_DEBUG", raising=False)
    monkeypatch.setattr(cli, "load_commands", fake_command(RuntimeError("internal")))
    monkeypatch.setattr(cli, "COMMANDS", ("boom",))
    assert cli.main(["boom", "--json"]) == 3
    out, err = capsys.readouterr()
    assert err == (
        "icespike: error: internal error: RuntimeError: internal "
        "(a bug in icespike; ICESPIKE_DEBUG=1 shows the traceback)\n"
    )
    assert json.loads(out) == {"error": err[17:-1], "command": "boom", "exit_code": 3}


def test_nested_subcommands_get_json_and_the_error_path(monkeypatch, capsys):
    """A command with its own subcommands (like `icespike board build`) needs no code for either."""
    monkeypatch.delenv("ICESPIKE_DEBUG", raising=False)
    seen = {}

    def load(sub):
        p = add_parser(sub, "nest", help="nested")
        inner = p.add_subparsers(dest="what")
        q = inner.add_parser("leaf")
        q.add_argument("--n", type=int, default=1)
        add_parser(inner, "other", help="a nested command made with add_parser (has --json)").set_defaults(
            func=lambda args: seen.update(json=args.json)
        )

        def run(args):
            seen["json"] = args.json
            if args.n < 0:
                raise UserError("--n must be >= 0")

        q.set_defaults(func=run)
        return ["nest"]

    monkeypatch.setattr(cli, "load_commands", load)
    monkeypatch.setattr(cli, "COMMANDS", ("nest",))
    assert cli.main(["nest", "leaf", "--json"]) == 0 and seen["json"] is True
    assert cli.main(["nest", "--json", "leaf"]) == 0 and seen["json"] is True
    assert cli.main(["nest", "leaf"]) == 0 and seen["json"] is False
    assert cli.main(["nest", "--json", "other"]) == 0 and seen["json"] is True
    assert cli.main(["nest", "other"]) == 0 and seen["json"] is False
    capsys.readouterr()
    assert cli.main(["nest", "leaf", "--n", "x", "--json"]) == 2
    out, err = capsys.readouterr()
    assert json.loads(out)["command"] == "nest" and "(see `icespike nest leaf --help`)" in err
    assert cli.main(["nest"]) == 2
    assert (
        capsys.readouterr().err == "icespike: error: nest needs a subcommand (see `icespike nest --help`)\n"
    )
    assert cli.main(["nest", "leaf", "--n", "-1", "--json"]) == 2
    out, err = capsys.readouterr()
    assert json.loads(out) == {"error": "--n must be >= 0", "command": "nest", "exit_code": 2}


def test_keyboard_interrupt(monkeypatch, capsys):
    monkeypatch.delenv("ICESPIKE_DEBUG", raising=False)
    monkeypatch.setattr(cli, "load_commands", fake_command(KeyboardInterrupt()))
    assert cli.main(["boom"]) == 130
    assert capsys.readouterr().err == "icespike: interrupted\n"


# ------------------------------------------------------------------------------------ command loading
def test_missing_command_modules_are_skipped(monkeypatch):
    monkeypatch.setattr(cli, "COMMANDS", ("data", "does_not_exist_yet"))
    sub = argparse.ArgumentParser().add_subparsers()
    assert cli.load_commands(sub) == ["data"]


def test_broken_command_module_raises(monkeypatch, tmp_path):
    import icespike.commands as commands

    (tmp_path / "brokencmd.py").write_text("import icespike_no_such_dependency\n")
    monkeypatch.setattr(commands, "__path__", [*commands.__path__, str(tmp_path)])
    monkeypatch.setattr(cli, "COMMANDS", ("data", "brokencmd"))
    sub = argparse.ArgumentParser().add_subparsers()
    try:
        with pytest.raises(ModuleNotFoundError, match="icespike_no_such_dependency"):
            cli.load_commands(sub)
    finally:
        sys.modules.pop("icespike.commands.brokencmd", None)


def test_every_command_has_json():
    parser = cli.build_parser()
    sub = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    assert "data" in sub.choices
    for name, p in sub.choices.items():
        assert "--json" in p._option_string_actions, name
        assert callable(p.get_default("func")), name


def test_to_jsonable():
    import numpy as np

    obj = {"a": np.int64(3), "b": np.array([[1, 2]]), "c": (np.float32(0.5), float("nan")), 4: Path("/x")}
    assert to_jsonable(obj) == {"a": 3, "b": [[1, 2]], "c": [0.5, None], "4": "/x"}
    json.dumps(to_jsonable(obj))


# ------------------------------------------------------------------------------------ progress
def test_progress_policy(monkeypatch):
    monkeypatch.delenv("ICESPIKE_PROGRESS", raising=False)
    try:
        progress.configure(json_mode=False)
        monkeypatch.setattr(sys.stderr, "isatty", lambda: True, raising=False)
        assert progress.enabled()
        progress.configure(json_mode=True)
        assert not progress.enabled()  # --json: no bars even on a terminal
        monkeypatch.setenv("ICESPIKE_PROGRESS", "1")
        assert progress.enabled()  # forced
        monkeypatch.setenv("ICESPIKE_PROGRESS", "0")
        progress.configure(json_mode=False)
        assert not progress.enabled()
        monkeypatch.delenv("ICESPIKE_PROGRESS")
        monkeypatch.setattr(sys.stderr, "isatty", lambda: False, raising=False)
        assert not progress.enabled()  # not a terminal
        progress.configure(json_mode=False, force=True)
        assert progress.enabled()
    finally:
        progress.configure(json_mode=False, force=None)


def test_progress_bar_writes_to_stderr_only(capsys, monkeypatch):
    monkeypatch.setenv("ICESPIKE_PROGRESS", "1")
    progress.configure(json_mode=True)
    try:
        assert sum(progress.bar(range(50), desc="work", mininterval=0)) == sum(range(50))
        with progress.bar(total=3, desc="manual") as pb:
            pb.update(3)
        progress.log("status line")
    finally:
        progress.configure(json_mode=False, force=None)
    out, err = capsys.readouterr()
    assert out == ""
    assert "work" in err and "status line" in err
    monkeypatch.setenv("ICESPIKE_PROGRESS", "0")
    assert list(progress.bar(range(3))) == [0, 1, 2]
    assert capsys.readouterr().err == ""


def test_report_missing_models_dir(capsys, tmp_path):
    assert cli.main(["report", "--models", str(tmp_path / "none"), "--out", str(tmp_path)]) == 2
    assert "does not exist" in capsys.readouterr().err


def test_report_of_one_model(capsys, tmp_path):
    """`icespike report` measures what it finds with the golden model and writes the table."""
    models = tmp_path / "models"
    models.mkdir()
    for ext in (".npz", ".json"):
        shutil.copy(REPO / "models" / f"mnist-784-128-10-binary{ext}", models)
    out = tmp_path / "reports"
    assert cli.main(["report", "--models", str(models), "--out", str(out), "--no-readme", "--json"]) == 0
    res = json.loads(capsys.readouterr().out)
    row = res["rows"]["binary"]
    recorded = json.loads((REPO / "models" / "models.json").read_text())["models"]["binary"]
    assert row["golden_accuracy"] == recorded["golden_accuracy"]
    assert row["disagreements"] == 0
    assert f"{100 * row['golden_accuracy']:.2f}%" in (out / "accuracy.md").read_text()
    assert (out / "accuracy_vs_bits.png").stat().st_size > 0
