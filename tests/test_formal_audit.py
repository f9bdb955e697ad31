"""scripts/formal.py's audit: assertions found in the property wrappers (properties apart from the
k-induction invariants) and the failed assertions read from a SymbiYosys log. Pure text, no solver."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def _formal():
    spec = importlib.util.spec_from_file_location("formal_script", ROOT / "scripts" / "formal.py")
    mod = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = mod  # its dataclasses look their module up
    spec.loader.exec_module(mod)
    return mod


def test_properties_and_invariants_of_the_loader_and_link():
    f = _formal()
    # the counts docs/verification.md gives (properties + invariants = the prove task's assertions)
    for name, props, invs in (("net_loader_props.v", 4, 38), ("host_link_props.v", 12, 51)):
        found = f.assertions(ROOT / "formal" / name)
        assert sum(not inv for _, inv, _ in found) == props, name
        assert sum(inv for _, inv, _ in found) == invs, name
    loc, inv, text = f.assertions(ROOT / "formal" / "net_loader_props.v")[0]
    assert loc.startswith("net_loader_props.v:") and not inv and text.startswith("if (net_valid) assert")


def test_ifdef_blocks(tmp_path):
    f = _formal()
    v = tmp_path / "x_props.v"
    v.write_text(
        "`ifdef FORMAL\n"
        "    assert (a);  // 2\n"
        "`ifdef X_INDUCTION\n"
        "    assert (b);\n"
        "`else\n"
        "    assert (c);  // 6\n"
        "`endif\n"
        "`ifndef X_INDUCTION\n"
        "    // assert (commented);\n"
        "    if (p) assert(d);\n"
        "`endif\n"
        "`endif\n"
    )
    assert [(loc, inv) for loc, inv, _ in f.assertions(v)] == [
        ("x_props.v:2", False),
        ("x_props.v:4", True),
        ("x_props.v:6", False),
        ("x_props.v:10", False),
    ]


def test_failed_assertions_from_the_log(tmp_path):
    f = _formal()
    (tmp_path / "logfile.txt").write_text(
        "SBY 13:43:16 [w] engine_0.basecase: ##   0:00:00  Assert failed in acc_props: acc_props.v:61.21-61.44\n"
        "SBY 13:43:16 [w] summary:   failed assertion acc_props._witness_.check_assert_acc_props_v_61_110 "
        "at acc_props.v:61.21-61.44 step 4\n"
        "SBY 13:43:16 [w] summary:   failed assertion acc_props._witness_.check_x "
        "at acc_props.v:9.3-10.44 step 4\n"
    )
    assert f._failed_asserts(tmp_path) == ("acc_props.v:9", "acc_props.v:61")
    assert f._failed_asserts(tmp_path / "missing") == ()
