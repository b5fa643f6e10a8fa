"""Assignment of tracks to the people of a frame, from their similarity. No TensorFlow here."""

from __future__ import annotations

import numpy as np

__all__ = ["ASSIGNMENTS", "NO_PAIRS", "assign", "check_assignment"]

ASSIGNMENTS = ("optimal", "greedy")
FORBIDDEN = 1e6  # assignment cost of a pair below the threshold: larger than any sum of real costs
NO_PAIRS = (np.zeros(0, np.int64), np.zeros(0, np.int64))  # no track-person pair (shared: read-only)
for _a in NO_PAIRS:
    _a.flags.writeable = False


def check_assignment(method: object) -> str:
    """``method`` if it is one of :data:`ASSIGNMENTS`; ValueError naming them otherwise."""
    if method not in ASSIGNMENTS:
        raise ValueError(f"assignment: expected one of {list(ASSIGNMENTS)}, got {method!r}")
    return str(method)


def assign(sim: np.ndarray, method: str) -> tuple[np.ndarray, np.ndarray]:
    """Track-person pairs from a similarity sim [T, D] (float; < 0 where a pair is not allowed):
    (rows, cols), int64 arrays of the paired track and person indices.

    method "optimal": ``scipy.optimize.linear_sum_assignment`` on the cost 1 - sim (the most pairs,
    then the largest total similarity; forbidden pairs cost ``FORBIDDEN`` and are dropped after);
    "greedy": the most similar allowed pair first, ties in row-major order. Raises ValueError for
    another method."""
    check_assignment(method)
    ok = sim >= 0
    if not np.count_nonzero(ok):
        return NO_PAIRS
    if method == "optimal":
        if sim.shape == (1, 1):  # (one allowed pair: the answer, without scipy's per-call cost)
            return np.zeros(1, np.int64), np.zeros(1, np.int64)
        from scipy.optimize import linear_sum_assignment

        rows, cols = linear_sum_assignment(np.where(ok, np.subtract(1.0, sim), FORBIDDEN))
        keep = ok[rows, cols]
        return rows[keep].astype(np.int64, copy=False), cols[keep].astype(np.int64, copy=False)
    pairs = []
    used_t, used_p = set(), set()
    for flat in np.argsort(-sim, axis=None, kind="stable"):
        r, c = divmod(int(flat), sim.shape[1])
        if not ok[r, c]:
            break
        if r not in used_t and c not in used_p:
            pairs.append((r, c))
            used_t.add(r)
            used_p.add(c)
    if not pairs:
        return NO_PAIRS
    rows, cols = np.array(pairs, np.int64).T
    return rows, cols
