"""icespike.data: the bundled MNIST loads with the published counts; corrupt files are named."""

from __future__ import annotations

import gzip
import shutil
from pathlib import Path

import numpy as np
import pytest

from icespike import data as dmod
from icespike.data import FILES, DataError, load_mnist, summary

TEST_LABEL_COUNTS = [980, 1135, 1032, 1010, 982, 892, 958, 1028, 974, 1009]
BUNDLED = dmod.default_data_dir()
LABELS = FILES["test_labels"]  # the small file that the corruption tests damage
IMAGES = FILES["test_images"]


def test_bundled_mnist_counts(mnist):
    assert mnist.train_images.shape == (60000, 28, 28)
    assert mnist.test_images.shape == (10000, 28, 28)
    assert mnist.train_labels.shape == (60000,) and mnist.test_labels.shape == (10000,)
    assert mnist.train_images.dtype == np.uint8 and mnist.test_labels.dtype == np.uint8
    assert np.bincount(mnist.test_labels, minlength=10).tolist() == TEST_LABEL_COUNTS
    assert int(mnist.train_images.max()) == 255 and int(mnist.train_images.min()) == 0


def test_summary(mnist):
    s = summary(mnist)
    assert s["train_images"] == 60000 and s["test_images"] == 10000
    assert s["image_shape"] == [28, 28]
    assert s["test_label_counts"] == TEST_LABEL_COUNTS
    assert sum(s["train_label_counts"]) == 60000
    assert set(s["sha256"]) == set(FILES.values())
    assert len(s["checksum"]) == 64 and s["checksum"] == mnist.checksum()


def test_bundled_sha256sums_are_checked():
    sums = (BUNDLED / "SHA256SUMS").read_text().split()
    assert len(sums) == 8  # four "digest name" pairs: the bundled copy is always verified


def make_copy(tmp_path: Path, *, sums: bool = True, link: bool = True) -> Path:
    """A data dir in tmp_path: the big files symlinked, the labels copied, SHA256SUMS optional."""
    d = tmp_path / "mnist"
    d.mkdir()
    for base in FILES.values():
        src = BUNDLED / (base + ".gz")
        dst = d / src.name
        if link and base != LABELS:
            dst.symlink_to(src)
        else:
            shutil.copyfile(src, dst)
    if sums:
        shutil.copyfile(BUNDLED / "SHA256SUMS", d / "SHA256SUMS")
    return d


def raw_labels() -> bytes:
    with gzip.open(BUNDLED / (LABELS + ".gz"), "rb") as f:
        return f.read()


def write_labels(d: Path, raw: bytes, *, gz: bool = True) -> Path:
    (d / (LABELS + ".gz")).unlink()
    p = d / (LABELS + (".gz" if gz else ""))
    if gz:
        with gzip.open(p, "wb") as f:
            f.write(raw)
    else:
        p.write_bytes(raw)
    return p


def test_copy_loads(tmp_path):
    m = load_mnist(make_copy(tmp_path))
    assert np.bincount(m.test_labels, minlength=10).tolist() == TEST_LABEL_COUNTS


def test_bad_magic(tmp_path):
    d = make_copy(tmp_path, sums=False)
    raw = bytearray(raw_labels())
    raw[3] = 0x03  # 0x00000803 is the image magic, not the label magic
    p = write_labels(d, bytes(raw))
    with pytest.raises(DataError, match="bad magic number 0x00000803") as e:
        load_mnist(d)
    assert str(p) in str(e.value)


def test_checksum_mismatch(tmp_path):
    d = make_copy(tmp_path)
    raw = bytearray(raw_labels())
    raw[100] = (raw[100] + 1) % 10  # still a well-formed file, only the content changed
    p = write_labels(d, bytes(raw))
    with pytest.raises(DataError, match="does not match SHA256SUMS") as e:
        load_mnist(d)
    assert str(p) in str(e.value)
    # without verification the (modified) file loads
    m = load_mnist(d, verify=False)
    assert m.test_labels[100 - 8] == raw[100]


def test_truncated_content(tmp_path):
    d = make_copy(tmp_path, sums=False)
    p = write_labels(d, raw_labels()[:-10])
    with pytest.raises(DataError, match="does not match header dims") as e:
        load_mnist(d)
    assert str(p) in str(e.value)


def test_truncated_header(tmp_path):
    d = make_copy(tmp_path, sums=False)
    p = write_labels(d, raw_labels()[:6])
    with pytest.raises(DataError, match="truncated header") as e:
        load_mnist(d)
    assert str(p) in str(e.value)


def test_truncated_gzip_stream(tmp_path):
    d = make_copy(tmp_path)
    p = d / (LABELS + ".gz")
    blob = p.read_bytes()
    p.write_bytes(blob[: len(blob) // 2])
    with pytest.raises(DataError, match="cannot read") as e:
        load_mnist(d)
    assert str(p) in str(e.value)


def test_bad_gzip(tmp_path):
    d = make_copy(tmp_path)
    p = d / (LABELS + ".gz")
    p.write_bytes(b"this is not gzip data at all" * 10)
    with pytest.raises(DataError, match="cannot read") as e:
        load_mnist(d)
    assert str(p) in str(e.value)


def test_missing_file_and_dir(tmp_path):
    d = make_copy(tmp_path)
    (d / (LABELS + ".gz")).unlink()
    with pytest.raises(DataError, match=f"missing {LABELS}"):
        load_mnist(d)
    with pytest.raises(DataError, match="does not exist"):
        load_mnist(tmp_path / "nowhere")


def test_count_mismatch_and_bad_labels(tmp_path):
    d = make_copy(tmp_path, sums=False)
    raw = bytearray(raw_labels())
    short = raw[:4] + (9999).to_bytes(4, "big") + raw[8 : 8 + 9999]
    write_labels(d, bytes(short))
    with pytest.raises(DataError, match="10000 images but 9999 labels"):
        load_mnist(d)
    raw[8] = 10
    write_labels(d, bytes(raw))
    with pytest.raises(DataError, match="labels outside 0..9"):
        load_mnist(d)


def test_raw_files_load(tmp_path, mnist):
    """Ungzipped IDX files load too, and are verified against the same SHA256SUMS."""
    d = tmp_path / "raw"
    d.mkdir()
    for base in FILES.values():
        with gzip.open(BUNDLED / (base + ".gz"), "rb") as f:
            (d / base).write_bytes(f.read())
    shutil.copyfile(BUNDLED / "SHA256SUMS", d / "SHA256SUMS")
    m = load_mnist(d)
    assert np.array_equal(m.test_images, mnist.test_images)
    assert np.array_equal(m.train_labels, mnist.train_labels)
    assert m.checksum() == mnist.checksum()
    # a damaged raw file is named as well
    (d / LABELS).write_bytes((d / LABELS).read_bytes()[:-1])
    with pytest.raises(DataError, match="SHA-256") as e:
        load_mnist(d)
    assert str(d / LABELS) in str(e.value)


def test_env_var_selects_directory(tmp_path, monkeypatch):
    d = make_copy(tmp_path)
    monkeypatch.setenv("ICESPIKE_DATA", str(d))
    assert dmod.default_data_dir() == d
    assert load_mnist().directory == d
    monkeypatch.delenv("ICESPIKE_DATA")
    assert dmod.default_data_dir() == BUNDLED
