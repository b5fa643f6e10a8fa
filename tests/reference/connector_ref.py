"""Slow, independent numpy reference of OpenPose's connector, written from docs/algorithms/body.md (§7.1, 7.2, 7.4,
7.5), not from the C++: the PAF line score and the CPU build's per-limb assembly.

float32 scalars (np.float32) reproduce OpenPose's float arithmetic where it matters.
"""

from __future__ import annotations

import math

import numpy as np

F = np.float32


def _pir(v) -> int:
    # int(v + 0.5) with truncation toward zero
    return int(math.trunc(float(F(v) + F(0.5))))


def paf_score(a, b, paf_x, paf_y, inter_threshold, inter_min_above, nms_threshold, fail=0.0):
    """Spec 7.1. a, b: (x, y) with NMS offset; paf_x/paf_y: [H, W] planes."""
    h, w = paf_x.shape
    ax, ay = F(a[0]), F(a[1])
    dx, dy = F(b[0]) - ax, F(b[1]) - ay
    n = _pir(np.sqrt(F(5) * max(abs(dx), abs(dy))))
    n = min(25, max(5, n))
    norm = F(np.sqrt(dx * dx + dy * dy))
    if not float(norm) > 1e-6:
        return F(0)
    ux, uy = dx / norm, dy / norm
    sx, sy = dx / F(n), dy / F(n)
    total, passed = F(0), 0
    for m in range(n):
        px = min(w - 1, max(0, _pir(ax + F(m) * sx)))
        py = min(h - 1, max(0, _pir(ay + F(m) * sy)))
        e = ux * F(paf_x[py, px]) + uy * F(paf_y[py, px])
        if e > F(inter_threshold):
            total = total + e
            passed += 1
    if F(passed) / F(n) > F(inter_min_above):
        return total / F(passed)
    if norm < F(np.sqrt(F(w * h))) / F(150):
        return F(float(F(nms_threshold)) + 1e-6)
    return F(fail)


def connect_cpu_ref(maps, peaks, counts, model, scale, th):
    """One image, CPU build. maps [H, W, C]; peaks [P, K, 3]; counts [P]; model: tfpose.models
    object; th: dict of the five thresholds. Returns (keypoints [M, P, 3], scores [M])."""
    P = model.num_parts
    L = model.num_limbs
    people = []  # each: [parts list (index or None), cnt, score]

    def s_of(part, i):
        return F(peaks[part, i, 2])

    for k, (A, B) in enumerate(model.pairs):
        na, nb = int(counts[A]), int(counts[B])
        if na == 0 or nb == 0:
            part, np_ = (B, nb) if na == 0 else (A, na)
            for i in range(np_):
                if P != 15 and any(q[0][part] == i for q in people):
                    continue
                parts = [None] * P
                parts[part] = i
                people.append([parts, 1, s_of(part, i)])
            continue
        cx, cy = model.paf_channels[k]
        cands = []
        for i in range(na):
            for j in range(nb):
                s = paf_score(
                    peaks[A, i, :2],
                    peaks[B, j, :2],
                    maps[..., cx],
                    maps[..., cy],
                    th["inter_threshold"],
                    th["inter_min_above_threshold"],
                    th["nms_threshold"],
                )
                if float(s) > 1e-6:
                    cands.append((float(s), i, j))
        cands.sort(reverse=True)
        conns, ua, ub = [], set(), set()
        for s, i, j in cands:
            if i in ua or j in ub:
                continue
            conns.append((i, j, F(s)))
            ua.add(i)
            ub.add(j)
            if len(conns) == min(na, nb):
                break
        if k == 0:
            for i, j, s in conns:
                parts = [None] * P
                parts[A], parts[B] = i, j
                people.append([parts, 2, s_of(A, i) + s_of(B, j) + s])
        elif k in model.ear_limbs:
            for i, j, _s in conns:
                for q in people:
                    if q[0][A] == i and q[0][B] is None:
                        q[0][B] = j
                    elif q[0][B] == j and q[0][A] is None:
                        q[0][A] = i
        else:
            for i, j, s in conns:
                for q in people:
                    if q[0][A] == i:
                        q[0][B] = j
                        q[1] += 1
                        q[2] = q[2] + (s_of(B, j) + s)
                        break
                else:
                    parts = [None] * P
                    parts[A], parts[B] = i, j
                    people.append([parts, 2, s_of(A, i) + s_of(B, j) + s])

    def accepted(maximize):
        out = []
        for q in people:
            n = q[1]
            if not maximize and model.foot_parts:
                f = sum(q[0][p] is not None for p in model.foot_parts)
                n -= f
                if f > 0 and n <= 4:
                    continue
            if n >= th["min_subset_cnt"] and q[2] / F(n) >= F(th["min_subset_score"]):
                out.append(q)
        return out

    keep = accepted(False) or accepted(True)
    kp = np.zeros((len(keep), P, 3), np.float32)
    sc = np.zeros(len(keep), np.float32)
    for m, q in enumerate(keep):
        for p in range(P):
            i = q[0][p]
            if i is not None:
                kp[m, p] = (F(peaks[p, i, 0]) * F(scale), F(peaks[p, i, 1]) * F(scale), peaks[p, i, 2])
        sc[m] = q[2] * (F(1) / F(P + L))
    return kp, sc
