"""Training is reproducible bit for bit: a short run gives exactly the weights it gave before the
trainer was optimised.

Each case trains a small network for a few Adam steps and hashes (SHA-256) the trained latent
weights, biases, float thresholds and per-epoch losses, as float64 bytes. The expected digests
were produced by the trainer as it was before its time loops were compiled and its integer
products moved to float32 (icespike 5afc9d4): any change of a single bit in any weight fails.
The cases cover every width, one and two hidden layers, augmentation, both reset modes with the
reset path detached and attached, biases, and a saturating membrane.

The digests hold for the float64 BLAS they were recorded with (numpy's bundled OpenBLAS on this
project's CI machine): a different BLAS kernel may sum in another order. A canary product with
the training's shapes tells the two apart, so on another machine the pinned cases are skipped
with that reason instead of failing for a change the trainer did not make. Fast tier: 8-13 s in all (of which a few seconds compile the
numba kernels when no cache is there yet).
"""

from __future__ import annotations

import hashlib

import numpy as np
import pytest

from icespike.data import load_mnist
from icespike.train import Adam, SNNModel, TrainConfig, Trainer, _int_matmul

N_IMAGES = 256
CASES = {
    "float-1h-augment": dict(bits="float", hidden=(32,), augment=1),
    "q16-2h": dict(bits=16, hidden=(48, 24)),
    "q8-1h": dict(bits=8, hidden=(32,)),
    "q4-2h": dict(bits=4, hidden=(48, 24)),
    "ternary-2h": dict(bits=2, hidden=(48, 24)),
    "binary-1h-augment": dict(bits=1, hidden=(32,), augment=1),
    "float-2h-zero-reset": dict(bits="float", hidden=(48, 24), reset="zero"),
    "ternary-2h-zero-reset-attached": dict(bits=2, hidden=(48, 24), reset="zero", detach_reset=False),
    "q8-2h-attached": dict(bits=8, hidden=(48, 24), detach_reset=False),
    "q8-2h-biases": dict(bits=8, hidden=(48, 24), biases=True),
    "float-2h-biases": dict(bits="float", hidden=(48, 24), biases=True),
    "q8-saturating": dict(bits=8, hidden=(16,), saturate=True),
}
EXPECTED = {
    "float-1h-augment": "619d68c14baf7355520dfe9247431cc4aed83a1fab6a22af4e1198856092baef",
    "q16-2h": "af3779abddc49993c2e7a7a8d9b80cf13f19b7a6f16087f2a4add7696981a3de",
    "q8-1h": "fca2da6c696fb781d83d14d77ed0ae6f6f6a714808d3bc42706ad9d518d8c090",
    "q4-2h": "c00c2ac98de4461dee564ea53731510a56c79b5d129306a7b021ed74fe0d083c",
    "ternary-2h": "1e6198f6e4a92dc697a3ddf553fb34721e179a1dbd4d382bfef99ca56d7e12f4",
    "binary-1h-augment": "36b14893463e6b92b704735b4c93ff5bb3fb2c91760bad6bc8461b6a5219d538",
    "float-2h-zero-reset": "43fb8e4fde1bc292857cdc08d74154c8553ccc7dc64b17a4ed18b5f4a377e6da",
    "ternary-2h-zero-reset-attached": "386983d4fb9fd858b6da040b15a158848497f086c1f5fbcea6f106e8488d9e7c",
    "q8-2h-attached": "9c58d69d2d75f0d09fc0277e5bbd9157977e6c8d367a6a419175e9b744ac5482",
    "q8-2h-biases": "3fac8c809cf13e3bfc006c846c23dad5fe43f3d7b2329e1f1c0204d5239d3542",
    "float-2h-biases": "c0500e1bca8e9c924da9b34ff5771c5ade8daab856d6cefae4955190a0902b4c",
    "q8-saturating": "71989959bdf4e739739c8d2d20567173ccc2d46f69806f4e0e61e68ca6fc2c09",
}


# SHA-256 of three float64 products of the training's shapes, as this BLAS computes them
BLAS_CANARY = "d9e0eb3f95cb6f940423d8b16d9a32a75739dee62c85d7b2ac09f88b966f904a"


def blas_canary() -> str:
    rng = np.random.default_rng(0)
    a, b, c = rng.normal(size=(64, 784)), rng.normal(size=(784, 48)), rng.normal(size=(48, 64))
    h = hashlib.sha256()
    for m in (a @ b, c @ a, a.T @ (a @ b)):
        h.update(m.tobytes())
    return h.hexdigest()


def run_case(case: dict, images: np.ndarray, labels: np.ndarray) -> str:
    """Train ``case`` two epochs (4 Adam steps each) and return the digest of the result."""
    c = dict(case)
    bits, hidden = c.pop("bits"), c.pop("hidden")
    biases, saturate = c.pop("biases", False), c.pop("saturate", False)
    reset, detach = c.get("reset", "subtract"), c.pop("detach_reset", True)
    cfg = TrainConfig(bits=bits, epochs=2, timesteps=6, hidden=hidden, batch_size=64, seed=7, **c)
    cfg.validate()
    sizes = [784, *hidden, 10]
    rng = np.random.default_rng(11)
    kw = dict(timesteps=cfg.timesteps, reset=reset, detach_reset=detach, rng=rng)
    if biases:
        kw["biases"] = [rng.normal(0, 0.2, n) for n in sizes[1:]]
    if saturate:  # no leak, positive weights, threshold at the top of the range: membranes clamp
        cfg.timesteps = kw["timesteps"] = 24
        kw.update(leak_shift=0, weights=[np.full((16, 784), 0.01), rng.normal(size=(10, 16))], theta_f=[1e9])
    model = SNNModel(sizes, cfg.bits, **kw)
    tr = Trainer(model, cfg)
    losses = [tr.train_epoch(images, labels)["loss"] for _ in range(cfg.epochs)]
    h = hashlib.sha256()
    for a in model.trainable():
        h.update(np.ascontiguousarray(a, np.float64).tobytes())
    h.update(np.array(model.theta_f + losses, np.float64).tobytes())
    return h.hexdigest()


@pytest.fixture(scope="module")
def data():
    m = load_mnist()
    return m.train_images[:N_IMAGES].reshape(N_IMAGES, -1), m.train_labels[:N_IMAGES]


@pytest.mark.parametrize("name", list(CASES))
def test_short_training_gives_the_same_weights_bit_for_bit(name, data):
    if blas_canary() != BLAS_CANARY:
        pytest.skip("this float64 BLAS sums in another order than the one the digests were recorded with")
    assert run_case(CASES[name], *data) == EXPECTED[name]


def test_adam_updates_non_contiguous_parameters_in_place_as_contiguous_ones():
    rng = np.random.default_rng(2)
    w = rng.normal(size=(5, 7))
    grads = [rng.normal(size=(5, 7)) for _ in range(3)]
    p_c, p_f = w.copy(), np.asfortranarray(w)
    opt_c, opt_f = Adam([p_c], lr=1e-2), Adam([p_f], lr=1e-2)
    for i, g in enumerate(grads):
        opt_c.step([p_c], [g], 1e-2 * (i + 1))
        opt_f.step([p_f], [np.asfortranarray(g)], 1e-2 * (i + 1))
    assert not np.array_equal(p_c, w)
    assert np.array_equal(p_c, p_f) and np.array_equal(opt_c.v[0], opt_f.v[0])


def test_integer_products_run_in_float32_only_where_exact():
    """Every partial sum below 2**24: float32; above: float64 (float32 would round 2**24 + 1)."""
    codes = np.array([[1.0, 1.0]])
    small = np.array([[2.0**23, 1.0]])
    big = np.array([[2.0**24, 1.0]])
    assert _int_matmul(small, codes, bound=2.0**23 + 1, exact=True)[0, 0] == 2.0**23 + 1
    assert _int_matmul(big, codes, bound=2.0**24 + 1, exact=True)[0, 0] == 2.0**24 + 1
    # the bound decides: a wrong (too small) bound would show as float32's rounding
    assert _int_matmul(big, codes, bound=1.0, exact=True)[0, 0] == 2.0**24
