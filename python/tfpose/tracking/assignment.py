"""Assignment of tracks to the people of a frame, from their similarity. No TensorFlow here."""

from __future__ import annotations

import numpy as np

from tfpose import _core

__all__ = ["ASSIGNMENTS", "NO_PAIRS", "assign", "assign_cascade", "check_assignment", "solve"]

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
    """Track-person pairs from a similarity sim [T, D] (float64; < 0 where a pair is not allowed):
    (rows, cols), int64 arrays of the paired track and person indices; the answer of
    :func:`solve` (scipy's ``linear_sum_assignment`` for "optimal", the greedy scan for "greedy"),
    which runs unless the pairs are already determined as follows (checked in one compiled call,
    tfpose._core.track_assign_determined, cpp/core/tracking.cc). Raises ValueError for another method.

    Determined: take the smaller side of the matrix (the tracks when T <= D, else the people;
    the side scipy's solver walks row by row). Every line of it has an allowed pair; in each line
    the allowed pair of least cost ``c = 1 - sim`` (as float64, the solver's cost) is the only one
    of that cost; these best pairs fall in distinct lines of the other side. Then "every line of
    the smaller side takes its best" (M) is the answer of both methods:

    * the most pairs: M pairs every line of the smaller side, and no assignment pairs more;
    * then the largest total similarity, uniquely: an assignment with as many pairs pairs every
      line of the smaller side too, so if it differs from M it gives some line another allowed
      pair, of strictly higher cost there, and no line less than its least cost; its total cost
      is higher (over the costs c as the solver sees them, so the rounding of ``1 - sim`` can
      merge no two candidates: they would be a tie, which is not determined);
    * scipy's solver (Crouse 2016's shortest augmenting path, which ``linear_sum_assignment``
      implements) returns it with no rounding at all: it walks the smaller side's lines in order
      with all column potentials 0, each line's shortest path is its least cost itself, whose
      column no earlier line took, so it is assigned at once and the potentials stay 0;
    * greedy takes it: the pairs are scanned by decreasing similarity; a pair of M comes before
      every other allowed pair of its line (strictly more similar), and when it comes its line
      of the other side is free too (the lines of M are distinct, and a pair outside M that came
      earlier would have its smaller-side line's best, of M, come before it and take that line
      first). The order is greedy's: decreasing similarity, ties in track order (row-major).

    Ties, a line of the smaller side with no allowed pair, or two lines with one best go to the
    solver. When no pair is allowed at all, no pairs (the solver is not called either)."""
    check_assignment(method)
    pairs = _core.track_assign_determined(sim, method == "greedy")
    if pairs is not None:
        return pairs
    return solve(sim, method)


def solve(sim: np.ndarray, method: str) -> tuple[np.ndarray, np.ndarray]:
    """:func:`assign` by its solvers alone. method "optimal": ``scipy.optimize.linear_sum_assignment``
    on the cost 1 - sim (the most pairs, then the largest total similarity; forbidden pairs cost
    ``FORBIDDEN`` and are dropped after); "greedy": the most similar allowed pair first, ties in
    row-major order. Raises ValueError for another method."""
    check_assignment(method)
    ok = sim >= 0
    if not np.count_nonzero(ok):
        return NO_PAIRS
    if method == "optimal":
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


def assign_cascade(
    sim: np.ndarray, lost: np.ndarray, method: str, one_level: bool = False
) -> tuple[np.ndarray, np.ndarray]:
    """Track-person pairs (rows, cols) as :func:`assign`, tracks matched more recently choosing first
    (DeepSORT's matching cascade, Wojke et al. 2017): sim [T, D]; lost [T] the frames each track has
    been lost (int); one level (a plain :func:`assign`) when ``one_level`` or all are lost as long."""
    if one_level or not (lost != lost[0]).any():
        return assign(sim, method)
    free = np.ones(sim.shape[1], bool)
    rows, cols = [], []
    for level in np.unique(lost):
        cand = np.flatnonzero(free)
        if not len(cand):
            break
        level_rows = np.flatnonzero(lost == level)
        r, c = assign(sim[np.ix_(level_rows, cand)], method)
        rows.append(level_rows[r])
        cols.append(cand[c])
        free[cand[c]] = False
    return np.concatenate(rows).astype(np.int64), np.concatenate(cols).astype(np.int64)
