"""MNIST loading from the four standard IDX files (gzip or raw), with integrity checks."""

from __future__ import annotations

import gzip
import hashlib
import math
import os
import zlib
from dataclasses import dataclass
from pathlib import Path

import numpy as np

FILES = {
    "train_images": "train-images-idx3-ubyte",
    "train_labels": "train-labels-idx1-ubyte",
    "test_images": "t10k-images-idx3-ubyte",
    "test_labels": "t10k-labels-idx1-ubyte",
}
IMAGE_MAGIC = 0x00000803
LABEL_MAGIC = 0x00000801


class DataError(ValueError):
    """A data file is missing, corrupt, truncated or does not match its checksum."""


def default_data_dir() -> Path:
    """``$ICESPIKE_DATA`` if set, else the bundled ``data/mnist`` of the project checkout."""
    env = os.environ.get("ICESPIKE_DATA")
    if env:
        return Path(env)
    return Path(__file__).resolve().parents[2] / "data" / "mnist"


@dataclass
class MNIST:
    """Images as uint8 (N, 28, 28), labels as uint8 (N,)."""

    train_images: np.ndarray
    train_labels: np.ndarray
    test_images: np.ndarray
    test_labels: np.ndarray
    directory: Path
    sha256: dict[str, str]

    def checksum(self) -> str:
        """One SHA-256 over the four files' uncompressed contents (for checkpoints)."""
        h = hashlib.sha256()
        for key in sorted(self.sha256):
            h.update(self.sha256[key].encode())
        return h.hexdigest()


def _find(directory: Path, base: str) -> Path:
    for cand in (directory / base, directory / (base + ".gz")):
        if cand.is_file():
            return cand
    raise DataError(f"{directory}: missing {base} (or {base}.gz)")


def _read_bytes(path: Path) -> bytes:
    try:
        if path.suffix == ".gz":
            with gzip.open(path, "rb") as f:
                return f.read()
        return path.read_bytes()
    except (OSError, EOFError, gzip.BadGzipFile, zlib.error) as e:
        raise DataError(f"{path}: cannot read ({e})") from None


def _parse_idx(raw: bytes, path: Path, magic: int) -> np.ndarray:
    ndim = 3 if magic == IMAGE_MAGIC else 1
    header = 4 + 4 * ndim
    if len(raw) < header:
        raise DataError(f"{path}: truncated header ({len(raw)} bytes)")
    got = int.from_bytes(raw[0:4], "big")
    if got != magic:
        raise DataError(f"{path}: bad magic number 0x{got:08x}, expected 0x{magic:08x}")
    dims = [int.from_bytes(raw[4 + 4 * i : 8 + 4 * i], "big") for i in range(ndim)]
    n = math.prod(dims)
    if len(raw) != header + n:
        raise DataError(
            f"{path}: size {len(raw)} bytes does not match header dims {dims} (expected {header + n})"
        )
    return np.frombuffer(raw, dtype=np.uint8, offset=header).reshape(dims).copy()


def _read_sums(directory: Path) -> dict[str, str]:
    p = directory / "SHA256SUMS"
    if not p.is_file():
        return {}
    sums = {}
    for line in p.read_text().splitlines():
        parts = line.split()
        if len(parts) == 2:
            sums[parts[1]] = parts[0]
    return sums


def load_mnist(directory: str | Path | None = None, *, verify: bool = True) -> MNIST:
    """Load MNIST from ``directory`` (default: bundled copy).

    Verifies magic numbers and sizes always, and SHA-256 of the uncompressed content when a
    ``SHA256SUMS`` file is present (the bundled copy has one). Raises DataError naming the file.
    """
    d = Path(directory) if directory is not None else default_data_dir()
    if not d.is_dir():
        raise DataError(f"data directory {d} does not exist")
    sums = _read_sums(d) if verify else {}
    arrays, digests = {}, {}
    for key, base in FILES.items():
        path = _find(d, base)
        raw = _read_bytes(path)
        digest = hashlib.sha256(raw).hexdigest()
        if base in sums and sums[base] != digest:
            raise DataError(
                f"{path}: SHA-256 {digest[:16]}... does not match SHA256SUMS ({sums[base][:16]}...)"
            )
        arrays[key] = _parse_idx(raw, path, IMAGE_MAGIC if key.endswith("images") else LABEL_MAGIC)
        digests[base] = digest
    for split in ("train", "test"):
        ni, nl = len(arrays[f"{split}_images"]), len(arrays[f"{split}_labels"])
        if ni != nl:
            raise DataError(f"{d}: {split} has {ni} images but {nl} labels")
        if arrays[f"{split}_labels"].size and arrays[f"{split}_labels"].max() > 9:
            raise DataError(f"{d}: {split} labels outside 0..9")
    return MNIST(directory=d, sha256=digests, **arrays)


def summary(m: MNIST) -> dict:
    """Counts per split and per label, for ``icespike data``."""
    return {
        "directory": str(m.directory),
        "train_images": int(len(m.train_images)),
        "test_images": int(len(m.test_images)),
        "image_shape": list(m.train_images.shape[1:]),
        "train_label_counts": np.bincount(m.train_labels, minlength=10).tolist(),
        "test_label_counts": np.bincount(m.test_labels, minlength=10).tolist(),
        "sha256": m.sha256,
        "checksum": m.checksum(),
    }
