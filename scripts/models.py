#!/usr/bin/env python3
"""Train every committed model: ``models/mnist-784-128-10-{float,q16,q8,q4,ternary,binary}.npz``.

    python scripts/models.py                  # everything, one after another (about 35 min)
    python scripts/models.py --only ternary   # one width (needs the float model for --init)
    python scripts/models.py --recipe scripts/recipes/mnist-784-256-128-10.json   # another network

``make models`` runs the same trainings as the sweep ``sweeps/models.toml`` on Ray Tune (both
cores busy once the float model is done); this script is the serial path of the same
library calls (``make models-serial``), and ``make bench`` times the two side by side.

1. The float model trains from scratch (``--float-epochs``, Adam, cosine schedule).
2. Every width (16, 8, 4, ternary, binary) is trained with QAT, initialised from the float
   model's weights and threshold (``--qat-epochs`` each).

Runs are resumable: training checkpoints (with optimiser state) live in ``build/models/``;
an interrupted run continues where it stopped when this script is started again. The
committed copies in ``models/`` hold no optimiser state. ``models/models.json`` records
the settings, the golden-model accuracies and the wall time of each step.

A recipe (``--recipe``, JSON) trains another network from data instead of the options: its
``common`` settings and a list of ``steps``, each a ``TrainConfig`` with an optional
``init_from`` (the width whose finished model initialises it). Its summary goes to
``models/models-<network>.json``; the manifests name the recipe.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "model"))

from icespike.checkpoint import load_checkpoint  # noqa: E402
from icespike.data import load_mnist  # noqa: E402
from icespike.quant import bits_name, parse_bits  # noqa: E402
from icespike.train import TrainConfig  # noqa: E402
from icespike.training import checkpoint_name, publish_checkpoint, run_training  # noqa: E402

WIDTHS = ("float", 16, 8, 4, 2, 1)


def model_path(directory: Path, bits, hidden=128) -> Path:
    return directory / checkpoint_name(bits, (hidden,) if isinstance(hidden, int) else tuple(hidden))


def load_recipe(path: Path) -> tuple[str, tuple[int, ...], list]:
    """(network name, hidden sizes, [(bits, TrainConfig, init width or None)]) of a recipe file."""
    d = json.loads(Path(path).read_text())
    plan = []
    for step in d["steps"]:
        step = dict(step)
        init = step.pop("init_from", None)
        cfg = TrainConfig.from_dict({**d["common"], **step})
        cfg.validate()
        plan.append((cfg.bits, cfg, None if init is None else parse_bits(init)))
    hidden = tuple(d["common"]["hidden"])
    name = "-".join(str(h) for h in (784, *hidden, 10))
    if d.get("network", name) != name:
        raise SystemExit(f"models: {path}: network {d['network']!r} differs from its hidden sizes ({name})")
    return name, hidden, plan


def _train(
    cfg: TrainConfig,
    work: Path,
    final: Path,
    mnist,
    init: Path | None,
    previous: dict | None,
    extra: dict | None = None,
) -> dict:
    t0 = time.perf_counter()
    resume = reuse = False
    if work.is_file():
        try:
            ck = load_checkpoint(work)
            old = ck.config.to_dict() if ck.config is not None else {}
            same = {**old, "init": None} == {**cfg.to_dict(), "init": None}
        except ValueError:
            same = False
        if same and ck.manifest["complete"]:
            reuse = True
        elif same:
            resume = True
        else:
            work.unlink()
    if reuse:
        print(f"models: {work} is complete, reusing it", file=sys.stderr)
    else:
        print(
            f"models: training {bits_name(cfg.bits)} -> {work}" + (" (resuming)" if resume else ""),
            file=sys.stderr,
        )
        run_training(cfg, work, data=mnist, init=None if resume else init, resume=resume)
    r = publish_checkpoint(work, final, mnist, extra={"source": "scripts/models.py", **(extra or {})})
    wall = time.perf_counter() - t0
    if reuse and previous and previous.get("step_wall_seconds"):
        wall = previous["step_wall_seconds"]  # the time of the run that trained it
    return {
        "checkpoint": str(final.relative_to(REPO)) if final.is_relative_to(REPO) else str(final),
        **r,
        "step_wall_seconds": wall,
        "reused": reuse,
    }


def parser() -> argparse.ArgumentParser:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--float-epochs", type=int, default=40)
    ap.add_argument("--qat-epochs", type=int, default=20)
    ap.add_argument("--float-lr", type=float, default=2e-3)
    ap.add_argument("--qat-lr", type=float, default=1e-3)
    ap.add_argument("--timesteps", type=int, default=16)
    ap.add_argument("--hidden", type=int, default=128)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--augment", type=int, default=0, help="random pixel shift for float/16/8/4")
    ap.add_argument("--lowbit-epochs", type=int, default=40, help="QAT epochs for ternary and binary")
    ap.add_argument("--lowbit-augment", type=int, default=0, help="random pixel shift for ternary and binary")
    ap.add_argument("--only", default=None, help="comma list of widths (float,16,8,4,2,1 or names)")
    ap.add_argument("--recipe", type=Path, default=None, help="train the steps of this recipe (JSON)")
    ap.add_argument("--out", type=Path, default=REPO / "models")
    ap.add_argument("--work", type=Path, default=REPO / "build" / "models")
    ap.add_argument("--data", type=Path, default=None)
    ap.add_argument("--train-subset", type=int, default=None, metavar="N", help="first N training images")
    return ap


def configs(args: argparse.Namespace, widths=WIDTHS) -> list[TrainConfig]:
    """The training settings of every width, in order (the float model first)."""
    common = dict(
        timesteps=args.timesteps,
        hidden=(args.hidden,),
        seed=args.seed,
        augment=args.augment,
        train_subset=args.train_subset,
    )
    out = []
    for bits in widths:
        if bits == "float":
            out.append(TrainConfig(bits="float", epochs=args.float_epochs, lr=args.float_lr, **common))
            continue
        low = bits in (2, 1)
        kw = {**common, "augment": args.lowbit_augment} if low else common
        epochs = args.lowbit_epochs if low else args.qat_epochs
        out.append(TrainConfig(bits=bits, epochs=epochs, lr=args.qat_lr, **kw))
    return out


def main(argv=None) -> int:
    args = parser().parse_args(argv)
    widths = WIDTHS if args.only is None else tuple(parse_bits(w) for w in args.only.split(","))
    mnist = load_mnist(args.data)
    args.out.mkdir(parents=True, exist_ok=True)
    args.work.mkdir(parents=True, exist_ok=True)
    summary_path = args.out / "models.json"
    if args.recipe is not None:
        network, hidden, plan = load_recipe(args.recipe)
        summary_path = args.out / f"models-{network}.json"
        recipe = args.recipe.resolve()
        extra = {"recipe": str(recipe.relative_to(REPO)) if recipe.is_relative_to(REPO) else str(args.recipe)}
    else:
        hidden, extra = args.hidden, None
        plan = [(b, cfg, None if b == "float" else "float") for b, cfg in zip(WIDTHS, configs(args))]
    plan = [p for p in plan if p[0] in widths]
    summary = json.loads(summary_path.read_text()) if summary_path.is_file() else {"models": {}}
    t_all = time.perf_counter()
    for bits, cfg, init_bits in plan:
        name = bits_name(bits)
        init = None
        if init_bits is not None:
            init = model_path(args.out, init_bits, hidden)
            if not init.is_file():
                raise SystemExit(f"models: {init} is missing: train the {bits_name(init_bits)} model first")
        r = _train(
            cfg,
            model_path(args.work, bits, hidden),
            model_path(args.out, bits, hidden),
            mnist,
            init,
            summary.get("models", {}).get(name),
            extra,
        )
        # re-read before writing: two widths may train in parallel (--only) and share the file
        summary = json.loads(summary_path.read_text()) if summary_path.is_file() else {"models": {}}
        summary["models"][name] = r
        summary.update(extra or {})  # a recipe run names its recipe
        print(
            f"models: {name}: golden {100 * r['golden_accuracy']:.2f}% after {r['epochs']} epochs "
            f"({r['train_seconds']:.0f} s training)",
            file=sys.stderr,
        )
        summary_path.write_text(json.dumps(summary, indent=1) + "\n")
    summary = json.loads(summary_path.read_text()) if summary_path.is_file() else {"models": {}}
    summary["last_run"] = {
        "command": "python scripts/models.py"
        + (" " + " ".join(argv if argv is not None else sys.argv[1:])).rstrip(),
        "widths": [bits_name(p[0]) for p in plan],
        "wall_seconds": time.perf_counter() - t_all,
    }
    summary_path.write_text(json.dumps(summary, indent=1) + "\n")
    print(f"models: done in {summary['last_run']['wall_seconds']:.0f} s", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
