"""Fuzzing of every loader: a corrupt input gives one clear error, never another exception type
and never a silently different network.

Loaders: checkpoint (.npz + .json manifest, ``icespike.checkpoint.load_checkpoint``), export
directory (manifest, ``net_params.vh``, ``w0.hex``, ``w1.hex``: ``icespike.export.load_export``)
and MNIST IDX files (``icespike.data.load_mnist``). Each test states the invariant: the load
either raises the loader's own error (``CheckpointError``, ``ExportError``, ``DataError``) with a
one-line message, or returns exactly what the (possibly edited, self-consistent) files describe.
The number of cases per test is ``FUZZ_EXAMPLES`` (150, or ``$ICESPIKE_FUZZ_EXAMPLES``).
"""

from __future__ import annotations

import gzip
import hashlib
import json
import os
import shutil
import tempfile
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from icespike import export as ex
from icespike.checkpoint import CheckpointError, load_checkpoint, manifest_path, save_checkpoint
from icespike.data import FILES, IMAGE_MAGIC, LABEL_MAGIC, DataError, load_mnist
from icespike.network import IntLayer, IntNetwork
from icespike.train import SNNModel

FUZZ_EXAMPLES = int(os.environ.get("ICESPIKE_FUZZ_EXAMPLES", "150"))
fuzz = settings(max_examples=FUZZ_EXAMPLES, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def one_line(e: BaseException) -> None:
    msg = str(e)
    assert msg and "\n" not in msg, repr(msg)


def same_network(a: IntNetwork, b: IntNetwork) -> bool:
    if a.timesteps != b.timesteps or len(a.layers) != len(b.layers):
        return False
    for li, (x, y) in enumerate(zip(a.layers, b.layers)):
        if x.bits != y.bits or x.threshold != y.threshold or not np.array_equal(x.codes, y.codes):
            return False
        if li < len(a.layers) - 1 and (
            x.leak_shift != y.leak_shift or x.reset != y.reset or a.mem_width(li) != b.mem_width(li)
        ):
            return False
    return True


# ------------------------------------------------------------------------------------ JSON edits
JSON_VALUES = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(-(2**70), 2**70)
    | st.floats(allow_nan=True, allow_infinity=True)
    | st.text(max_size=6),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=4), inner, max_size=3),
    max_leaves=6,
)


def json_paths(obj, prefix=()):
    """Every path (tuple of keys/indices) inside a JSON object, the root excluded."""
    out = []
    items = obj.items() if isinstance(obj, dict) else enumerate(obj) if isinstance(obj, list) else []
    for k, v in items:
        out.append((*prefix, k))
        out.extend(json_paths(v, (*prefix, k)))
    return out


def near_values(v):
    """Plausible wrong values for ``v``: off by one, doubled, a float, a bool, a string."""
    if isinstance(v, bool):
        return [not v, int(v), str(v)]
    if isinstance(v, int):
        return [v + 1, v - 1, 2 * v, float(v), True, str(v), -v]
    if isinstance(v, float):
        return [2 * v, v + 1e-9, -v, int(v), str(v)]
    if isinstance(v, str):
        return [v + "x", v[:-1], v.upper(), 0]
    return [[], {}, None]


@st.composite
def json_edit(draw, manifest):
    """(path, action, value): delete the field, set a near value, or set an arbitrary JSON value."""
    path = draw(st.sampled_from(json_paths(manifest)))
    cur = manifest
    for k in path:
        cur = cur[k]
    action = draw(st.sampled_from(["delete", "near", "any"]))
    value = None
    if action == "near":
        value = draw(st.sampled_from(near_values(cur)))
    elif action == "any":
        value = draw(JSON_VALUES)
    return path, action, value


def apply_edit(manifest, edit):
    m = json.loads(json.dumps(manifest))
    path, action, value = edit
    parent = m
    for k in path[:-1]:
        parent = parent[k]
    if action == "delete":
        del parent[path[-1]]
    else:
        parent[path[-1]] = value
    return m


@st.composite
def byte_edit(draw, size: int):
    """(kind, position, bytes): flip a byte, truncate, insert or append junk."""
    kind = draw(st.sampled_from(["flip", "truncate", "insert", "append"]))
    pos = draw(st.integers(0, max(size - 1, 0)))
    junk = draw(st.binary(min_size=1, max_size=8))
    return kind, pos, junk


def apply_bytes(data: bytes, edit) -> bytes:
    kind, pos, junk = edit
    if kind == "flip":
        b = bytearray(data)
        b[pos] ^= junk[0] or 0xFF
        return bytes(b)
    if kind == "truncate":
        return data[:pos]
    if kind == "insert":
        return data[:pos] + junk + data[pos:]
    return data + junk


# ------------------------------------------------------------------------------------ checkpoint
@pytest.fixture(scope="module")
def ckpt_dir(tmp_path_factory):
    d = tmp_path_factory.mktemp("ckpt")
    model = SNNModel([24, 6, 3], 2, timesteps=4, rng=np.random.default_rng(3))
    p = save_checkpoint(d / "m.npz", model)
    return p, json.loads(manifest_path(p).read_text()), load_checkpoint(p).to_int_network()


def _load_ck(npz: bytes, manifest: bytes, ref: IntNetwork) -> None:
    with tempfile.TemporaryDirectory() as td:
        p = Path(td) / "m.npz"
        p.write_bytes(npz)
        manifest_path(p).write_bytes(manifest)
        try:
            net = load_checkpoint(p).to_int_network()
        except CheckpointError as e:
            one_line(e)
            return
        assert same_network(net, ref), "a corrupt checkpoint loaded as a different network"


@fuzz
@given(data=st.data())
def test_fuzz_checkpoint_manifest_fields(ckpt_dir, data):
    p, man, ref = ckpt_dir
    edit = data.draw(json_edit(man))
    _load_ck(p.read_bytes(), json.dumps(apply_edit(man, edit)).encode(), ref)


@fuzz
@given(data=st.data())
def test_fuzz_checkpoint_bytes(ckpt_dir, data):
    p, man, ref = ckpt_dir
    npz, text = p.read_bytes(), manifest_path(p).read_bytes()
    if data.draw(st.sampled_from(["npz", "json"])) == "npz":
        npz = apply_bytes(npz, data.draw(byte_edit(len(npz))))
    else:
        text = apply_bytes(text, data.draw(byte_edit(len(text))))
    _load_ck(npz, text, ref)


# ------------------------------------------------------------------------------------ export directory
@pytest.fixture(scope="module")
def export_dir(tmp_path_factory):
    d = tmp_path_factory.mktemp("export")
    rng = np.random.default_rng(5)
    q0 = rng.integers(-8, 8, size=(6, 24), dtype=np.int64)
    q1 = rng.integers(-1, 2, size=(3, 6), dtype=np.int64)
    net = IntNetwork([IntLayer(q0, 4, threshold=300, leak_shift=3), IntLayer(q1, 2)], timesteps=5)
    ex.export_network(net, d)
    return d, net


def _copy_export(src: Path, dst: Path) -> None:
    for f in src.iterdir():
        shutil.copy(f, dst / f.name)


def _refresh(d: Path, name: str) -> None:
    mp = d / ex.MANIFEST
    m = json.loads(mp.read_text())
    m["files"][name]["sha256"] = hashlib.sha256((d / name).read_bytes()).hexdigest()
    m["files"][name]["bytes"] = (d / name).stat().st_size
    mp.write_text(json.dumps(m))


def _load_ex(d: Path):
    try:
        return ex.load_export(d)
    except ex.ExportError as e:
        one_line(e)
        return None


@fuzz
@given(data=st.data())
def test_fuzz_export_manifest_fields(export_dir, data):
    src, ref = export_dir
    man = json.loads((src / ex.MANIFEST).read_text())
    edit = data.draw(json_edit(man))
    with tempfile.TemporaryDirectory() as td:
        d = Path(td)
        _copy_export(src, d)
        (d / ex.MANIFEST).write_text(json.dumps(apply_edit(man, edit)))
        net = _load_ex(d)
        assert net is None or same_network(net, ref), f"edit {edit} loaded a different network"


@fuzz
@given(data=st.data())
def test_fuzz_export_file_bytes(export_dir, data):
    """Any byte change to a listed file is caught by its SHA-256; a manifest byte change too, or it is harmless."""
    src, ref = export_dir
    name = data.draw(st.sampled_from([ex.W0_HEX, ex.W1_HEX, ex.PARAMS_VH, ex.MANIFEST]))
    with tempfile.TemporaryDirectory() as td:
        d = Path(td)
        _copy_export(src, d)
        raw = (d / name).read_bytes()
        new = apply_bytes(raw, data.draw(byte_edit(len(raw))))
        (d / name).write_bytes(new)
        net = _load_ex(d)
        if name != ex.MANIFEST and new != raw:
            assert net is None, f"a changed {name} passed its checksum"
        assert net is None or same_network(net, ref)


@fuzz
@given(data=st.data())
def test_fuzz_export_files_with_refreshed_checksums(export_dir, data):
    """Edited hex/vh files whose checksums were updated: the loader rebuilds exactly what they say, or refuses.

    Hex files: the loaded network's packed weights equal the words in the edited file; the
    parameter header: any changed macro value is refused (it must match the manifest).
    """
    src, ref = export_dir
    name = data.draw(st.sampled_from([ex.W0_HEX, ex.W1_HEX, ex.PARAMS_VH]))
    with tempfile.TemporaryDirectory() as td:
        d = Path(td)
        _copy_export(src, d)
        text = (d / name).read_text()
        how = data.draw(st.sampled_from(["bytes", "char", "line"]))
        if how == "bytes":
            new = apply_bytes(text.encode(), data.draw(byte_edit(len(text)))).decode("latin-1")
        elif how == "char":
            pos = data.draw(st.integers(0, len(text) - 1))
            new = (
                text[:pos]
                + data.draw(st.sampled_from(list("0123456789abcdefABCDEFg \n-x`")))
                + text[pos + 1 :]
            )
        else:
            lines = text.splitlines()
            i = data.draw(st.integers(0, len(lines) - 1))
            op = data.draw(st.sampled_from(["drop", "dup", "swap"]))
            if op == "drop":
                del lines[i]
            elif op == "dup":
                lines.insert(i, lines[i])
            else:
                j = data.draw(st.integers(0, len(lines) - 1))
                lines[i], lines[j] = lines[j], lines[i]
            new = "\n".join(lines) + "\n"
        (d / name).write_bytes(new.encode("latin-1"))
        _refresh(d, name)
        net = _load_ex(d)
        if net is None:
            return
        if name == ex.PARAMS_VH:
            assert same_network(net, ref)
            assert ex.parse_params_vh(new) == ex.parse_params_vh(text)
        else:
            p = ex.engine_params(net)
            words = ex.pack_w0(net) if name == ex.W0_HEX else ex.pack_w1(net)
            width, depth = (ex.WORD_W, p.W0_DEPTH) if name == ex.W0_HEX else (p.W1_DATA_W, p.W1_DEPTH)
            assert words == ex.read_hex(d / name, width, depth)


# ------------------------------------------------------------------------------------ IDX files
def _idx(magic: int, arr: np.ndarray) -> bytes:
    head = magic.to_bytes(4, "big") + b"".join(int(n).to_bytes(4, "big") for n in arr.shape)
    return head + arr.astype(np.uint8).tobytes()


@pytest.fixture(scope="module")
def idx_files():
    rng = np.random.default_rng(9)
    arrays = {
        "train_images": rng.integers(0, 256, size=(5, 28, 28)),
        "train_labels": rng.integers(0, 10, size=5),
        "test_images": rng.integers(0, 256, size=(3, 28, 28)),
        "test_labels": rng.integers(0, 10, size=3),
    }
    raw = {FILES[k]: _idx(IMAGE_MAGIC if k.endswith("images") else LABEL_MAGIC, a) for k, a in arrays.items()}
    return raw, arrays


def _write_idx(d: Path, raw: dict[str, bytes], gz: set[str], sums: bool) -> None:
    for base, data in raw.items():
        if base in gz:
            (d / (base + ".gz")).write_bytes(gzip.compress(data, mtime=0))
        else:
            (d / base).write_bytes(data)
    if sums:
        (d / "SHA256SUMS").write_text(
            "".join(f"{hashlib.sha256(v).hexdigest()}  {k}\n" for k, v in raw.items())
        )


@fuzz
@given(data=st.data())
def test_fuzz_idx(idx_files, data):
    """A corrupt IDX file (raw or gzip, with or without SHA256SUMS) is a DataError, or loads as its bytes say."""
    raw, arrays = idx_files
    base = data.draw(st.sampled_from(sorted(raw)))
    gz = set(data.draw(st.sets(st.sampled_from(sorted(raw)))))
    sums = data.draw(st.booleans())
    where = data.draw(st.sampled_from(["content", "gzip"])) if base in gz else "content"
    with tempfile.TemporaryDirectory() as td:
        d = Path(td)
        _write_idx(d, raw, gz, sums)  # SHA256SUMS holds the good contents
        if where == "content":
            new = apply_bytes(raw[base], data.draw(byte_edit(len(raw[base]))))
            if base in gz:
                (d / (base + ".gz")).write_bytes(gzip.compress(new, mtime=0))
            else:
                (d / base).write_bytes(new)
        else:
            packed = (d / (base + ".gz")).read_bytes()
            new = None
            (d / (base + ".gz")).write_bytes(apply_bytes(packed, data.draw(byte_edit(len(packed)))))
        try:
            m = load_mnist(d)
        except DataError as e:
            one_line(e)
            return
        key = next(k for k, v in FILES.items() if v == base)
        got = getattr(m, key)
        if new is None or new == raw[base]:  # a gzip edit that leaves the content intact, or no change
            assert np.array_equal(got, arrays[key])
            return
        assert not sums, "a changed file passed SHA256SUMS"
        # no checksums: the file loaded as exactly what its bytes say
        assert got.tobytes() == new[len(new) - got.size :] and got.size == len(new) - (
            16 if got.ndim == 3 else 8
        )
        for k in FILES:
            if k != key:
                assert np.array_equal(getattr(m, k), arrays[k])
