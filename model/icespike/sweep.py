"""Design-space sweeps on Ray Tune: many training (and synthesis) runs, one table, one Pareto front.

A sweep is a list of *stages* run one after another; each stage is one Ray Tune experiment
whose trials are the points of a grid (every combination of the listed values, or an explicit
list of points) and, where asked, random samples. A trial is one ordinary run of the
project's flow, through the same library functions as the CLI:

* training with QAT and the golden-model accuracy: :func:`icespike.training.run_training`
  (``icespike train``), a checkpoint handed to Tune after every epoch, so that an interrupted
  trial resumes at its last epoch;
* the weight memory of the network: :func:`icespike.synth.memory_fit` (the synth fit rules);
* with ``synth``: :func:`icespike.export.export_network` (``icespike export``) and
  :func:`icespike.synth.synth_engine` (``icespike synth``): LUT4, Fmax, cycles, inferences/s.

A later stage may start every trial from the checkpoint of an earlier stage's trial with the
same hidden sizes (``init = "float"``): that is how quantised models fine-tune from the float
model. ``publish`` copies each finished model (without optimiser state) into a directory with a
``models.json`` summary, the way ``scripts/models.py`` fills ``models/``.

Results go to the output directory as trials finish (``results.json``, ``results.md``,
``pareto.png``); Ray Tune keeps its experiment state and the trial checkpoints under
``<out>/ray`` (or ``storage``), and running the same sweep again resumes it: finished trials are
not run again, unfinished and failed ones continue from their last checkpoint. See
docs/sweep.md for the spec format and for running on a Ray cluster.
"""

from __future__ import annotations

import contextlib
import hashlib
import itertools
import json
import logging
import os
import shutil
import time
import tomllib
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import ray
from ray import tune
from ray.tune.search.basic_variant import BasicVariantGenerator

from .pareto import pareto_front
from .quant import bits_name, parse_bits
from .train import TrainConfig

__all__ = [
    "SpecError",
    "Stage",
    "SweepSpec",
    "HARDWARE_KEYS",
    "TRAIN_KEYS",
    "load_spec",
    "spec_from_dict",
    "apply_overrides",
    "expand_stage",
    "trial_config",
    "pareto_front",
    "results_document",
    "write_results",
    "run_sweep",
    "trial",
]

# Settings of a trial: every TrainConfig field but ``init`` (a stage's ``init`` names where
# weights come from), plus the hardware questions asked of the trained network.
TRAIN_KEYS = tuple(f for f in TrainConfig.__dataclass_fields__ if f != "init")
HARDWARE_KEYS = ("synth", "device", "freq")
DEFAULT_HARDWARE = {"synth": None, "device": "up5k", "freq": 48.0}
DISTRIBUTIONS = ("uniform", "loguniform", "randint", "choice")
STAGE_KEYS = ("name", "init", "samples", "params", "grid", "points", "random", "max_concurrent")
SPEC_KEYS = ("name", "seed", "publish", "storage", "stage", *STAGE_KEYS)
RESULT_COLUMNS = (
    ("trial", "trial"),
    ("stage", "stage"),
    ("bits", "bits"),
    ("hidden", "hidden"),
    ("T", "timesteps"),
    ("epochs", "epochs"),
    ("accuracy", "accuracy"),
    ("memory bits", "memory_bits"),
    ("LUT4", "lut4"),
    ("Fmax MHz", "fmax_mhz"),
    ("cycles", "cycles"),
    ("inferences/s", "inferences_per_s"),
    ("status", "status"),
)


class SpecError(ValueError):
    """A sweep specification that cannot be run; the message names the key and the problem."""


@dataclass
class Stage:
    """One Ray Tune experiment of a sweep.

    ``params``: settings of every trial; ``grid``: key -> list of values (every combination);
    ``points``: explicit trials (each a dict of settings, crossed with ``grid``); ``random``:
    key -> distribution (``{"loguniform": [a, b]}``, ``uniform``, ``randint`` with the upper
    end excluded, ``choice``), drawn ``samples`` times per grid point; ``init``: an earlier
    stage whose trial with the same hidden sizes initialises each trial.
    """

    name: str
    params: dict = field(default_factory=dict)
    grid: dict = field(default_factory=dict)
    points: list = field(default_factory=list)
    random: dict = field(default_factory=dict)
    samples: int = 1
    init: str | None = None
    max_concurrent: int | None = None


@dataclass
class SweepSpec:
    """A whole sweep: its stages, where models are published, and the random-sample seed."""

    name: str
    stages: list[Stage]
    seed: int | None = 0
    publish: str | None = None
    storage: str | None = None

    def to_dict(self) -> dict:
        return asdict(self)

    def key(self) -> str:
        """Hash of everything that decides the trials (not where results go)."""
        d = self.to_dict()
        for k in ("publish", "storage"):
            d.pop(k)
        text = json.dumps(d, sort_keys=True, default=str)
        return hashlib.sha256(text.encode()).hexdigest()[:12]


# ----------------------------------------------------------------------------------- the spec
def _normalise(key: str, value: Any) -> Any:
    """Canonical form of one setting (``hidden`` always a list, ``bits`` a name or an int)."""
    if key == "hidden":
        if isinstance(value, int):
            return [value]
        if isinstance(value, (list, tuple)) and value and all(isinstance(h, int) for h in value):
            return list(value)
        raise SpecError(f"hidden must be an integer or a list of integers, got {value!r}")
    if key == "bits":
        try:
            b = parse_bits(value)
        except ValueError as exc:
            raise SpecError(str(exc)) from None
        return b
    if key == "synth" and value in ("", "none", False):
        return None
    return value


def _check_keys(where: str, d: dict, allowed: tuple[str, ...]) -> None:
    bad = sorted(set(d) - set(allowed))
    if bad:
        raise SpecError(f"{where}: unknown key(s) {', '.join(bad)}; known: {', '.join(allowed)}")


def _settings(where: str, d: Any) -> dict:
    if not isinstance(d, dict):
        raise SpecError(f"{where} must be a table of settings, got {d!r}")
    _check_keys(where, d, TRAIN_KEYS + HARDWARE_KEYS)
    return {k: _normalise(k, v) for k, v in d.items()}


def _stage(d: dict, where: str, defaults: dict) -> Stage:
    _check_keys(where, d, STAGE_KEYS)
    grid = d.get("grid", {})
    if not isinstance(grid, dict):
        raise SpecError(f"{where}.grid must be a table of lists")
    _check_keys(f"{where}.grid", grid, TRAIN_KEYS + HARDWARE_KEYS)
    g = {}
    for k, values in grid.items():
        if not isinstance(values, list) or not values:
            raise SpecError(f"{where}.grid.{k} must be a non-empty list of values, got {values!r}")
        g[k] = [_normalise(k, v) for v in values]
    points = d.get("points", [])
    if not isinstance(points, list):
        raise SpecError(f"{where}.points must be a list of tables")
    pts = [_settings(f"{where}.points[{i}]", p) for i, p in enumerate(points)]
    rnd = d.get("random", {})
    if not isinstance(rnd, dict):
        raise SpecError(f"{where}.random must be a table")
    _check_keys(f"{where}.random", rnd, TRAIN_KEYS + HARDWARE_KEYS)
    for k, dist in rnd.items():
        if not (isinstance(dist, dict) and len(dist) == 1 and next(iter(dist)) in DISTRIBUTIONS):
            raise SpecError(
                f"{where}.random.{k} must be one distribution, e.g. {{loguniform = [1e-4, 1e-2]}}; "
                f"known: {', '.join(DISTRIBUTIONS)}"
            )
        kind, args = next(iter(dist.items()))
        if not isinstance(args, list) or (kind != "choice" and len(args) != 2) or not args:
            raise SpecError(
                f"{where}.random.{k}: {kind} takes a list of {'values' if kind == 'choice' else '2 numbers'}"
            )
    samples = d.get("samples", 1)
    if not isinstance(samples, int) or samples < 1:
        raise SpecError(f"{where}.samples must be a positive integer, got {samples!r}")
    mc = d.get("max_concurrent")
    if mc is not None and (not isinstance(mc, int) or mc < 1):
        raise SpecError(f"{where}.max_concurrent must be a positive integer, got {mc!r}")
    return Stage(
        name=str(d.get("name", "main")),
        params={**defaults, **_settings(f"{where}.params", d.get("params", {}))},
        grid=g,
        points=pts,
        random=rnd,
        samples=samples,
        init=d.get("init"),
        max_concurrent=mc,
    )


def spec_from_dict(d: dict, *, name: str = "sweep", base: Path | None = None) -> SweepSpec:
    """A :class:`SweepSpec` from a parsed TOML document (see docs/sweep.md for the format).

    Either one stage at the top level (``params``, ``grid``, ``points``, ``random``,
    ``samples``) or a list ``[[stage]]`` with a top-level ``params`` table shared by all
    stages. ``publish`` and ``storage`` paths are relative to ``base`` (the spec's directory).
    """
    _check_keys("spec", d, SPEC_KEYS)
    if "stage" in d:
        if not isinstance(d["stage"], list) or not d["stage"]:
            raise SpecError("spec: [[stage]] must be a non-empty list of tables")
        extra = sorted(set(d) & {"grid", "points", "random", "samples", "init", "max_concurrent"})
        if extra:
            raise SpecError(f"spec: {', '.join(extra)} belong inside a [[stage]] when stages are used")
        defaults = _settings("params", d.get("params", {}))
        stages = [_stage(s, f"stage[{i}]", defaults) for i, s in enumerate(d["stage"])]
    else:
        top = {k: v for k, v in d.items() if k in STAGE_KEYS and k != "name"}
        stages = [_stage(top, "spec", {})]
    names = [s.name for s in stages]
    if len(set(names)) != len(names):
        raise SpecError(f"stage names must differ, got {names}")
    for i, s in enumerate(stages):
        if s.init is not None and s.init not in names[:i]:
            raise SpecError(f"stage {s.name!r}: init = {s.init!r} is not an earlier stage ({names[:i]})")
    seed = d.get("seed", 0)
    if seed is not None and not isinstance(seed, int):
        raise SpecError(f"seed must be an integer, got {seed!r}")

    def rel(p):
        if p is None:
            return None
        if "://" in str(p) or base is None:
            return str(p)
        return str((base / p).resolve())

    return SweepSpec(
        name=str(d.get("name", name)),
        stages=stages,
        seed=seed,
        publish=rel(d.get("publish")),
        storage=rel(d.get("storage")),
    )


def load_spec(path: str | Path) -> SweepSpec:
    """Read a TOML sweep specification; errors name the file and the problem."""
    p = Path(path)
    try:
        d = tomllib.loads(p.read_text())
    except tomllib.TOMLDecodeError as exc:
        raise SpecError(f"{p}: not valid TOML: {exc}") from None
    try:
        return spec_from_dict(d, name=p.stem, base=p.resolve().parent)
    except SpecError as exc:
        raise SpecError(f"{p}: {exc}") from None


def apply_overrides(spec: SweepSpec, values: dict[str, list]) -> SweepSpec:
    """Set ``key -> list of values`` in every stage: one value is fixed, several are a grid.

    An override replaces the key wherever the stage had it (params, grid, points, random).
    """
    for st in spec.stages:
        for k, vals in values.items():
            if k not in TRAIN_KEYS + HARDWARE_KEYS:
                raise SpecError(f"unknown setting {k!r}")
            vals = [_normalise(k, v) for v in vals]
            st.params.pop(k, None)
            st.grid.pop(k, None)
            st.random.pop(k, None)
            for p in st.points:
                p.pop(k, None)
            if len(vals) == 1:
                st.params[k] = vals[0]
            else:
                st.grid[k] = vals
    return spec


def expand_stage(stage: Stage) -> list[dict]:
    """The grid points of a stage (before random sampling), each a dict of settings."""
    keys = list(stage.grid)
    combos = [dict(zip(keys, c)) for c in itertools.product(*(stage.grid[k] for k in keys))] or [{}]
    pts = stage.points or [{}]
    return [{**stage.params, **p, **c} for p in pts for c in combos]


def trial_config(settings: dict) -> tuple[TrainConfig, dict]:
    """Split a trial's settings into its :class:`TrainConfig` (validated) and hardware settings."""
    train = {k: v for k, v in settings.items() if k in TRAIN_KEYS}
    if "hidden" in train:
        train["hidden"] = tuple(train["hidden"])
    cfg = TrainConfig(**train)
    cfg.validate()
    hw = {**DEFAULT_HARDWARE, **{k: v for k, v in settings.items() if k in HARDWARE_KEYS}}
    return cfg, hw


def _param_space(stage: Stage, init_paths: dict[str, str]) -> dict:
    space: dict[str, Any] = dict(stage.params)
    if stage.points:
        space["_point"] = tune.grid_search(stage.points)
    for k, vals in stage.grid.items():
        space[k] = tune.grid_search(vals)
    for k, dist in stage.random.items():
        kind, args = next(iter(dist.items()))
        space[k] = {
            "uniform": lambda a: tune.uniform(*a),
            "loguniform": lambda a: tune.loguniform(*a),
            "randint": lambda a: tune.randint(*a),
            "choice": lambda a: tune.choice(a),
        }[kind](args)
    space["_stage"] = stage.name
    space["_init"] = dict(init_paths)
    return space


def _hidden_key(hidden) -> str:
    return "-".join(str(int(h)) for h in hidden)


# ----------------------------------------------------------------------------------- one trial
WORK = "work"
MODEL = "model.npz"


def trial(config: dict) -> None:
    """The Ray Tune trainable: one training (+ export and synthesis) run of the project's flow.

    Reports ``status: "training"`` with a checkpoint after every epoch and a final result with
    ``status: "ok"`` (its metrics are :func:`trial_metrics`). Runs inside a Ray worker.
    """
    from .data import load_mnist
    from .training import run_training

    settings = {k: v for k, v in config.items() if not k.startswith("_")}
    settings.update(config.get("_point") or {})
    started = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    cfg, hw = trial_config(settings)
    # a fresh directory per trial (Tune may run several trials in one reused worker)
    work = Path.cwd() / f"{WORK}-{tune.get_context().get_trial_id()}"
    if work.exists():
        shutil.rmtree(work)
    resume = False
    ck = tune.get_checkpoint()
    if ck is not None:
        ck.to_directory(str(work))
        resume = (work / MODEL).is_file()
        meta = work / "trial.json"
        if meta.is_file():
            started = json.loads(meta.read_text()).get("started", started)
    work.mkdir(parents=True, exist_ok=True)
    (work / "trial.json").write_text(json.dumps({"started": started, "settings": settings}, default=str))
    init = None
    if not resume and config.get("_init"):
        key = _hidden_key(cfg.hidden)
        init = config["_init"].get(key)
        if init is None:
            raise SpecError(
                f"stage {config.get('_stage')!r}: no trial with hidden {key} to start from "
                f"(have {', '.join(config['_init']) or 'none'})"
            )
    mnist = _mnist(load_mnist)

    def on_epoch(rec: dict) -> None:
        tune.report(
            {"status": "training", "started": started, **_epoch_metrics(rec)},
            checkpoint=tune.Checkpoint.from_directory(str(work)),
        )

    t0 = time.perf_counter()
    r = run_training(
        cfg, work / MODEL, data=mnist, init=Path(init) if init else None, resume=resume, on_epoch=on_epoch
    )
    metrics = trial_metrics(r, cfg, hw, work)
    metrics.update(status="ok", started=started, trial_seconds=time.perf_counter() - t0)
    tune.report(metrics, checkpoint=tune.Checkpoint.from_directory(str(work)))


_MNIST: dict = {}


def _mnist(load):
    """The bundled MNIST, loaded once per worker process (Tune reuses workers between trials)."""
    if "data" not in _MNIST:
        _MNIST["data"] = load()
    return _MNIST["data"]


def _epoch_metrics(rec: dict) -> dict:
    return {k: rec[k] for k in ("epoch", "loss", "train_accuracy", "test_accuracy", "seconds") if k in rec}


def trial_metrics(r: dict, cfg: TrainConfig, hw: dict, work: Path) -> dict:
    """A finished trial's numbers: accuracy, weight memory and, with ``hw["synth"]``, the synthesis.

    ``r`` is the summary of :func:`icespike.training.run_training`; ``work`` holds its
    checkpoint (``model.npz``); export and synthesis write into ``work/export`` and
    ``work/synth``.
    """
    from . import synth as flow
    from .checkpoint import load_checkpoint

    man = load_checkpoint(work / MODEL).manifest
    sizes, export_bits = man["sizes"], int(man["weight_bits"])  # what `icespike export` writes
    m = {
        "bits": bits_name(cfg.bits),
        "hidden": list(cfg.hidden),
        "timesteps": cfg.timesteps,
        "epochs": r["epochs"],
        "seed": cfg.seed,
        "lr": cfg.lr,
        "leak_shift": cfg.leak_shift,
        "train_subset": cfg.train_subset,
        "accuracy": r["accuracy"],
        "float_accuracy": r["float_accuracy"],
        "images": r["images"],
        "train_seconds": r["train_seconds"],
        "sparsity": r["sparsity"],
        "memory_bits": sum(flow.network_weight_bits(sizes, export_bits)),
        "memory_device": hw["device"],
    }
    if len(sizes) == 3:
        fit = flow.memory_fit(sizes, export_bits, hw["device"])
        m["memory_fits"] = fit["fits"]
        m["memory_message"] = fit["message"]
    if hw.get("synth"):
        m.update(synthesise(work / MODEL, hw["synth"], work, freq_mhz=float(hw["freq"])))
    return m


def synthesise(checkpoint: Path, device_name: str, work: Path, *, freq_mhz: float) -> dict:
    """Export ``checkpoint`` (as ``icespike export``) and synthesise it (as ``icespike synth``)."""
    from . import synth as flow
    from .export import export_network, load_export, load_network

    net = load_network(checkpoint)
    exp = work / "export"
    export_network(net, exp, source=str(checkpoint))
    load_export(exp)
    rep = flow.synth_engine(exp, device_name, work / "synth" / device_name, freq_mhz=freq_mhz)
    out = {
        "synth_device": device_name,
        "fits": rep.get("fits"),
        "lut4": rep.get("lut4"),
        "ff": rep.get("ff"),
        "ebr": rep.get("ebr"),
        "spram": rep.get("spram"),
        "dsp": rep.get("dsp"),
        "fmax_mhz": rep.get("fmax_mhz"),
        "cycles": rep.get("cycles_per_inference"),
        "inferences_per_s": rep.get("inferences_per_s"),
        "tools": rep.get("tools"),
    }
    if not rep.get("fits"):
        out["fit_problems"] = rep.get("fit_problems") or [rep.get("memory", {}).get("message")]
    return out


# ----------------------------------------------------------------------------------- results
def error_line(text: str | None) -> str | None:
    """The line of a traceback that says what went wrong (its last non-empty line)."""
    if not text:
        return None
    lines = [ln.strip() for ln in str(text).strip().splitlines() if ln.strip()]
    return lines[-1] if lines else None


def _settings_of(config: dict) -> dict:
    """A trial's full settings (defaults filled in) from its Tune config."""
    settings = {k: v for k, v in config.items() if not k.startswith("_")}
    settings.update(config.get("_point") or {})
    defaults = {k: TrainConfig.__dataclass_fields__[k].default for k in TRAIN_KEYS}
    defaults["hidden"] = list(TrainConfig.hidden)
    full = {**defaults, **DEFAULT_HARDWARE, **settings}
    try:
        full["bits"] = bits_name(parse_bits(full["bits"]))
    except ValueError:
        pass  # the trial itself reports the bad value
    return full


def _row(trial_id: str, stage: str, config: dict, metrics: dict | None, error: str | None, path) -> dict:
    m = dict(metrics or {})
    done = m.get("status") == "ok" and not error
    row = {
        "trial": trial_id,
        "stage": stage,
        "status": "ok" if done else ("error" if error else "unfinished"),
    }
    row.update(_settings_of(config))
    row["accuracy"] = None
    if done:
        row.update({k: v for k, v in m.items() if k != "status" and not _ray_key(k)})
    elif m.get("training_iteration"):
        row["epochs_done"] = m.get("epoch")
        row["started"] = m.get("started")
    if error:
        row["error"] = error_line(error)
    row["path"] = str(path) if path is not None else None
    return row


def _ray_key(k: str) -> bool:
    return k in {
        "timestamp",
        "checkpoint_dir_name",
        "done",
        "training_iteration",
        "trial_id",
        "date",
        "time_this_iter_s",
        "time_total_s",
        "pid",
        "hostname",
        "node_ip",
        "config",
        "time_since_restore",
        "iterations_since_restore",
        "epoch",
        "loss",
        "train_accuracy",
        "test_accuracy",
        "seconds",
        "should_checkpoint",
        "experiment_tag",
    }


def results_document(
    spec: SweepSpec, rows: list[dict], *, out: Path, storage: str, address: str | None
) -> dict:
    """The sweep's JSON document: every trial, and the Pareto front of the finished ones.

    The front is accuracy vs LUT4 when every finished trial was synthesised, else accuracy vs
    weight memory bits (``pareto_cost`` says which).
    """
    order = {st.name: i for i, st in enumerate(spec.stages)}
    rows = sorted(rows, key=lambda r: (order.get(r["stage"], len(order)), r["trial"]))
    ok = [r for r in rows if r["status"] == "ok"]
    cost = "lut4" if ok and all(r.get("lut4") is not None for r in ok) else "memory_bits"
    front = pareto_front(ok, cost)
    return {
        "sweep": spec.name,
        "spec_key": spec.key(),
        "out": str(out),
        "storage": storage,
        "cluster": address or "local",
        "trials": rows,
        "counts": {s: sum(r["status"] == s for r in rows) for s in ("ok", "error", "unfinished")},
        "pareto_cost": cost,
        "pareto": [
            {k: r.get(k) for k in ("trial", "stage", "bits", "hidden", "timesteps", "accuracy", cost)}
            for r in front
        ],
        "written": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
    }


def _cell(v) -> str:
    if v is None:
        return ""
    if isinstance(v, float):
        return f"{v:,.1f}" if abs(v) >= 1000 else f"{v:g}"
    if isinstance(v, int):
        return f"{v:,}"
    if isinstance(v, list):
        return "-".join(map(str, v))
    return str(v)


def markdown_table(doc: dict) -> str:
    """The trials of a results document as a Markdown table (Pareto-front trials marked *)."""
    front = {p["trial"] for p in doc["pareto"]}
    shown = {key for _, key in RESULT_COLUMNS}
    varying = [
        k
        for k in TRAIN_KEYS + HARDWARE_KEYS
        if k not in shown and len({json.dumps(r.get(k), default=str) for r in doc["trials"]}) > 1
    ]
    columns = [*RESULT_COLUMNS[:6], *((k, k) for k in varying), *RESULT_COLUMNS[6:]]
    head = [c for c, _ in columns]
    lines = [
        f"# Sweep {doc['sweep']}",
        "",
        f"{len(doc['trials'])} trials ({doc['counts']['ok']} ok, {doc['counts']['error']} failed, "
        f"{doc['counts']['unfinished']} unfinished); accuracy = integer golden model on the MNIST test set; "
        f"* = Pareto front of accuracy vs {doc['pareto_cost'].replace('_', ' ')}.",
        "",
        "| " + " | ".join(head) + " |",
        "|" + "---|" * len(head),
    ]
    for r in doc["trials"]:
        cells = []
        for _, key in columns:
            v = r.get(key)
            if key == "trial":
                v = f"{v}{' *' if v in front else ''}"
            if key == "status" and r.get("error"):
                v = f"error: {r['error']}"
            if key == "accuracy" and v is not None:
                v = f"{100 * v:.2f}%"
            cells.append(_cell(v).replace("|", "\\|"))
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"


def plot(doc: dict, path: Path) -> Path:
    """Accuracy against LUT4 and against memory bits, one point per finished trial, front marked."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    ok = [r for r in doc["trials"] if r["status"] == "ok"]
    fig, axes = plt.subplots(1, 2, figsize=(11, 4.2))
    for ax, cost, label in ((axes[0], "lut4", "SB_LUT4"), (axes[1], "memory_bits", "weight memory (bits)")):
        pts = [r for r in ok if r.get(cost) is not None]
        ax.set_xlabel(label)
        ax.set_ylabel("golden-model accuracy (%)")
        if not pts:
            ax.text(
                0.5,
                0.5,
                "no synthesised trials" if cost == "lut4" else "no finished trials",
                ha="center",
                va="center",
                transform=ax.transAxes,
            )
            continue
        ax.scatter(
            [r[cost] for r in pts], [100 * r["accuracy"] for r in pts], color="tab:blue", label="trial"
        )
        for r in pts:
            ax.annotate(
                f"{r['bits']} {_cell(r['hidden'])}",
                (r[cost], 100 * r["accuracy"]),
                fontsize=7,
                xytext=(3, 3),
                textcoords="offset points",
            )
        front = pareto_front(pts, cost)
        ax.plot(
            [r[cost] for r in front],
            [100 * r["accuracy"] for r in front],
            "o-",
            color="tab:red",
            mfc="none",
            ms=10,
            label="Pareto front",
        )
        ax.legend(fontsize=8)
        ax.grid(alpha=0.3)
    fig.suptitle(f"sweep {doc['sweep']}: accuracy vs resources")
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


def _write_atomic(path: Path, text: str) -> None:
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(text)
    os.replace(tmp, path)


def write_results(doc: dict, out: Path) -> dict[str, str]:
    """Write ``results.json``, ``results.md`` and ``pareto.png`` into ``out``; returns their paths."""
    from .commands import to_jsonable

    out.mkdir(parents=True, exist_ok=True)
    _write_atomic(out / "results.json", json.dumps(to_jsonable(doc), indent=1) + "\n")
    _write_atomic(out / "results.md", markdown_table(doc))
    plot(doc, out / "pareto.png")
    return {k: str(out / k) for k in ("results.json", "results.md", "pareto.png")}


# ----------------------------------------------------------------------------------- the driver
@dataclass
class _Collector:
    """Rows of every trial seen so far, written to the output directory whenever one changes."""

    spec: SweepSpec
    out: Path
    storage: str
    address: str | None
    log: Callable[[str], None]
    rows: dict = field(default_factory=dict)
    interrupted: bool = False

    def set(self, row: dict) -> None:
        self.rows[row["trial"]] = row
        self.flush()

    def flush(self) -> dict:
        doc = results_document(
            self.spec, list(self.rows.values()), out=self.out, storage=self.storage, address=self.address
        )
        doc["interrupted"] = self.interrupted
        write_results(doc, self.out)
        return doc


# Collectors of the sweeps this process runs, by output directory. Tune pickles a run's
# callbacks into its experiment state; a restored callback finds its collector here.
_ACTIVE: dict[str, _Collector] = {}


class _Reporter(tune.Callback):
    """Writes a trial's row as soon as it finishes or fails; logs epochs as they come."""

    def __init__(self, out_key: str, stage: str):
        self.out_key = out_key
        self.stage = stage

    def _collector(self) -> _Collector | None:
        return _ACTIVE.get(self.out_key)

    def on_trial_result(self, iteration, trials, trial, result, **info):
        c = self._collector()
        if c is not None and result.get("status") == "training":
            c.log(
                f"sweep: {self.stage}/{trial.trial_id} epoch {result.get('epoch')}: "
                f"test {100 * result.get('test_accuracy', float('nan')):.2f}%"
            )

    def on_trial_complete(self, iteration, trials, trial, **info):
        c = self._collector()
        if c is None:
            return
        row = _row(trial.trial_id, self.stage, trial.config, trial.last_result, None, trial.path)
        c.set(row)
        acc = row.get("accuracy")
        c.log(
            f"sweep: {self.stage}/{trial.trial_id} {row['bits']} {_cell(row['hidden'])} done: "
            + (f"accuracy {100 * acc:.2f}%" if acc is not None else row["status"])
        )

    def on_trial_error(self, iteration, trials, trial, **info):
        c = self._collector()
        if c is None:
            return
        text = None
        if trial.error_file and Path(trial.error_file).is_file():
            text = Path(trial.error_file).read_text()
        row = _row(trial.trial_id, self.stage, trial.config, trial.last_result, text or "error", trial.path)
        c.set(row)
        c.log(
            f"sweep: {self.stage}/{trial.trial_id} {row['bits']} {_cell(row['hidden'])} failed: {row['error']}"
        )


@contextlib.contextmanager
def ray_session(address: str | None, num_cpus: int | None):
    """Attach to the Ray cluster at ``address``, or start a local instance sized to the machine.

    A local instance is shut down at the end; an attached cluster is left running.
    """
    if ray.is_initialized():
        yield
        return
    kw: dict[str, Any] = dict(log_to_driver=False, logging_level=logging.WARNING, configure_logging=True)
    if address:
        ray.init(address=address, **kw)
    else:
        # "local": a new instance even when a Ray cluster started elsewhere on this machine is
        # running (ray.init() without an address would attach to it)
        ray.init(address="local", num_cpus=num_cpus or os.cpu_count() or 1, include_dashboard=False, **kw)
    try:
        yield
    finally:
        ray.shutdown()


def _quiet_tune() -> None:
    # Trial failures are reported by the sweep itself, one line each; Tune's tracebacks stay in
    # the error.txt files under the storage path.
    for name in ("ray.tune", "ray.train", "ray.air"):
        logging.getLogger(name).setLevel(logging.CRITICAL)


def run_stage(
    stage: Stage,
    spec: SweepSpec,
    storage: str,
    init_paths: dict[str, str],
    collector: _Collector,
):
    """Run (or resume) one stage as a Ray Tune experiment; returns its ResultGrid."""
    exp = os.path.join(storage, stage.name)
    trainable = tune.with_resources(trial, {"cpu": 1})
    if tune.Tuner.can_restore(exp):
        collector.log(f"sweep: resuming stage {stage.name} from {exp}")
        tuner = tune.Tuner.restore(
            exp, trainable, resume_unfinished=True, resume_errored=True, param_space=None
        )
    else:
        tuner = tune.Tuner(
            trainable,
            param_space=_param_space(stage, init_paths),
            tune_config=tune.TuneConfig(
                num_samples=stage.samples,
                reuse_actors=True,
                search_alg=BasicVariantGenerator(
                    random_state=spec.seed, max_concurrent=stage.max_concurrent or 0
                ),
            ),
            run_config=tune.RunConfig(
                name=stage.name,
                storage_path=storage,
                verbose=0,
                checkpoint_config=tune.CheckpointConfig(num_to_keep=1),
                failure_config=tune.FailureConfig(max_failures=0, fail_fast=False),
                callbacks=[_Reporter(str(collector.out), stage.name)],
            ),
        )
    return tuner.fit()


def _result_rows(grid, stage: str) -> list[dict]:
    rows = []
    for r in grid:
        tid = (r.metrics or {}).get("trial_id") or Path(r.path).name
        err = None
        if r.error is not None:
            f = Path(r.path) / "error.txt"
            err = f.read_text() if f.is_file() else str(r.error)
        rows.append(_row(tid, stage, r.config or {}, r.metrics, err, r.path))
    return rows


def _checkpoint_model(result) -> Path | None:
    """The model.npz of a finished trial's last checkpoint (a local or shared path)."""
    if result.checkpoint is None:
        return None
    p = Path(result.checkpoint.path) / MODEL
    return p if p.is_file() else None


def publish(results: list[tuple[dict, Path]], directory: Path, *, source: str, mnist) -> dict:
    """Copy finished models into ``directory`` (``mnist-784-H-10-<bits>.npz``) and update
    ``models.json`` there, as ``scripts/models.py`` does; returns the updated summary."""
    from .training import checkpoint_name, publish_checkpoint

    directory.mkdir(parents=True, exist_ok=True)
    summary_path = directory / "models.json"
    summary = json.loads(summary_path.read_text()) if summary_path.is_file() else {"models": {}}
    for row, model in results:
        final = directory / checkpoint_name(row["bits"], row["hidden"])
        r = publish_checkpoint(model, final, mnist, extra={"source": source})
        here = Path.cwd()
        summary.setdefault("models", {})[r["bits"]] = {
            "checkpoint": str(final.relative_to(here)) if final.is_relative_to(here) else str(final),
            **r,
            "step_wall_seconds": row.get("trial_seconds"),
            "reused": False,
            "trial": row["trial"],
        }
    _write_atomic(summary_path, json.dumps(summary, indent=1) + "\n")
    return summary


def run_sweep(
    spec: SweepSpec,
    out: str | Path,
    *,
    address: str | None = None,
    num_cpus: int | None = None,
    storage: str | None = None,
    fresh: bool = False,
    log: Callable[[str], None] | None = None,
) -> dict:
    """Run (or resume) ``spec``; returns the results document (also written under ``out``).

    ``address``: an existing Ray cluster (``ray start --head`` and workers), else a local Ray
    instance of ``num_cpus`` CPUs (default: all) is started and shut down. ``storage``: where
    Tune keeps experiment state and checkpoints (default ``<out>/ray``; on a cluster a path
    every node shares, or a URI such as ``s3://...``). A second run with the same spec and
    ``out`` resumes; a different spec in the same ``out`` is refused unless ``fresh``.
    """
    from .progress import log as default_log

    log = log or default_log
    t_start = time.perf_counter()
    out = Path(out).resolve()
    storage = storage or spec.storage or str(out / "ray")
    if "://" not in storage:
        storage = str(Path(storage).resolve())
    record = out / "spec.json"
    if record.is_file() and not fresh:
        old = json.loads(record.read_text())
        if old.get("key") != spec.key():
            raise SpecError(
                f"{out} holds a different sweep ({old.get('name')}, spec {old.get('key')}); "
                "choose another --out, or --fresh to discard it"
            )
    if fresh and out.exists():
        for name in ("ray", "results.json", "results.md", "pareto.png", "spec.json"):
            p = out / name
            if p.is_dir():
                shutil.rmtree(p)
            elif p.exists():
                p.unlink()
        if "://" not in storage and Path(storage).is_dir():
            shutil.rmtree(storage)
    out.mkdir(parents=True, exist_ok=True)
    _write_atomic(record, json.dumps({"key": spec.key(), **spec.to_dict()}, indent=1, default=str) + "\n")
    collector = _Collector(spec, out, storage, address, log)
    _ACTIVE[str(out)] = collector
    mnist = None
    _quiet_tune()
    try:
        with ray_session(address, num_cpus):
            done: dict[str, dict[str, str]] = {}
            for st in spec.stages:
                init_paths = done.get(st.init, {}) if st.init else {}
                if st.init and not init_paths:
                    raise SpecError(f"stage {st.name!r}: stage {st.init!r} finished no trial to start from")
                grid = run_stage(st, spec, storage, init_paths, collector)
                finished = []
                for row, res in zip(_result_rows(grid, st.name), grid):
                    collector.rows[row["trial"]] = row
                    model = _checkpoint_model(res) if row["status"] == "ok" else None
                    if model is not None:
                        finished.append((row, model))
                collector.flush()
                if any(collector.rows[r]["status"] == "unfinished" for r in collector.rows):
                    collector.interrupted = True
                    log(f"sweep: interrupted in stage {st.name}; run the same command again to resume")
                    break
                paths = {_hidden_key(row["hidden"]): str(model) for row, model in finished}
                if spec.publish and finished:
                    from .data import load_mnist
                    from .training import checkpoint_name

                    mnist = mnist or load_mnist()
                    pub = Path(spec.publish)
                    publish(finished, pub, source=f"icespike sweep {spec.name}", mnist=mnist)
                    paths = {
                        _hidden_key(row["hidden"]): str(pub / checkpoint_name(row["bits"], row["hidden"]))
                        for row, _ in finished
                    }
                done[st.name] = paths
            if spec.publish and not collector.interrupted:
                summary_path = Path(spec.publish) / "models.json"
                if summary_path.is_file():
                    summary = json.loads(summary_path.read_text())
                    summary["last_run"] = {
                        "command": f"icespike sweep ({spec.name})",
                        "widths": [r["bits"] for r in collector.rows.values() if r["status"] == "ok"],
                        "wall_seconds": time.perf_counter() - t_start,
                    }
                    _write_atomic(summary_path, json.dumps(summary, indent=1) + "\n")
            return collector.flush()
    finally:
        _ACTIVE.pop(str(out), None)
