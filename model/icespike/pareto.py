"""The Pareto front of accuracy against a resource cost: one definition for the sweep's results,
its plot and the Studio's accuracy-vs-resources chart (this module imports nothing heavy)."""

from __future__ import annotations

__all__ = ["pareto_front"]


def pareto_front(rows: list[dict], cost: str) -> list[dict]:
    """Rows no other row beats on both accuracy (higher) and ``cost`` (lower); ties all kept."""
    pts = [r for r in rows if r.get("accuracy") is not None and r.get(cost) is not None]
    front = []
    for r in pts:
        dominated = any(
            o["accuracy"] >= r["accuracy"]
            and o[cost] <= r[cost]
            and (o["accuracy"] > r["accuracy"] or o[cost] < r[cost])
            for o in pts
        )
        if not dominated:
            front.append(r)
    return sorted(front, key=lambda r: (r[cost], -r["accuracy"]))
