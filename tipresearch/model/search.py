"""The best-threshold search of :mod:`tipresearch.model.decision`, compiled.

A bureau's expected score (``docs/model.md``, §3.3.8 "The best response") is evaluated
on the case type's tabulated moments (1,025 thresholds): P(open) and E[s' 1(open)] at
each, linear in between. The search finds the best tabulated threshold and then the
best point in the two segments beside it:

1. the best of every 8th tabulated threshold (the coarse grid the numpy search scores
   in full), then 2. the best tabulated threshold between its two coarse neighbours,
   each by branch and bound. Every 16th point (every 8th in stage 2) is scored; a gap
   between two scored points is halved only while some point inside it could beat the
   best score so far. The bound: P(open) falls as the threshold rises, so fewer cases
   are opened and the effort factor rises; inside a gap the factor lies between those
   at its ends, and the score, with the moments fixed, is largest at one of them.
   The factor's elasticity in the cases opened rises with them, so the tangents to
   log h in log O at both ends of the gap bound it more tightly in between.
   Nothing that could be the best is left out, so stage 1 finds the same coarse
   point as scoring all 129.
3. the best point of each segment beside the best tabulated threshold, where the
   moments are linear in the threshold (:func:`_segment`): the effort table's cells
   and the quota cut it into pieces on which the score is smooth, and each piece's
   best point is where its slope is zero (Newton steps) or one of its ends. It
   replaces the tabulated point only if it scores higher.

Many runs are searched in one call (:func:`search_groups`): each case type of each run
is a group of bureaus with its own table and score weights, searched as it would be
alone.

The effort factor is looked up in the table of
:class:`tipresearch.model.effort.EffortRows`, from each bureau's own row of it
(:func:`_fill_row`). Per bureau this takes about 29 scores or slopes
where the numpy search takes 231 (``tests/test_search.py`` checks fewer than half),
each without allocating arrays. Its thresholds score at least as well as the numpy
search's (never worse by more than 1e-8 relative, and better where the numpy grids
missed a kink), and agree with them within 2e-6 except where the score is flat to
1e-6 around the optimum.

Compiled with numpy's error model (a division by zero gives inf or NaN instead of
raising): every division that could meet a zero is guarded, and numba's checks made
the search about 1.7 times slower.

Scores without the target bonus only: the bonus's jump is found by bisection in numpy
(:func:`tipresearch.model.decision._best_for_type`), as are bureaus outside the effort
table (capacity over half-effort outside [1e-3, 1e7], or more than 1e6 reports).
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit

from tipresearch.errors import ParameterError

__all__ = [
    "ANCHOR_STEP",
    "ELASTICITY_SLACK",
    "GOLDEN_ITERATIONS",
    "search_groups",
    "search_thresholds",
]

#: Every 16th point of the coarse grid is scored before the bounds prune the rest.
ANCHOR_STEP = 16
#: How far opened x effort factor may fall as more cases are opened, relative, in the
#: effort table's interpolation: the true ``mu h_eff(mu)`` rises with ``mu``, the
#: table's falls by at most 7.4e-6 (checked over its rows in ``tests/test_search.py``).
MONOTONE_SLACK = 1e-3
#: How far the effort factor's elasticity in the cases opened, ``-dlog h / dlog O``,
#: may fall below its largest value at fewer cases, relative, in the effort table:
#: the table's falls by at most 2.6e-3 (``tests/test_search.py``).
ELASTICITY_SLACK = 0.02
#: Golden-section steps in a segment between two tabulated thresholds, where the
#: piecewise search of :func:`_segment` does not apply (P(open) near 0, or more than
#: eight cells of the effort table in one segment): it shrinks to 0.618^20, about
#: 6.6e-5 of the segment. Sixteen steps (7e-7) left some bureaus of the clearance-rate
#: rating 1e-7 short of the numpy search's score.
GOLDEN_ITERATIONS = 20


@njit(cache=True, nogil=True, inline="always", error_model="numpy")
def _effort(
    opened: float, row: np.ndarray, first: float, scale: float, top: int
) -> float:  # pragma: no cover - compiled
    """:meth:`tipresearch.model.effort.EffortRows.__call__` for one bureau and count.

    ``row`` is the bureau's row of the table, interpolated once between the two rows
    of its capacity (:func:`_fill_row`), so a lookup reads two neighbouring numbers.
    ``log(1 + x)`` instead of ``log1p(x)``: a third of the time, and the table index
    it gives differs by less than 1e-13. The lookup of :func:`_effort_elasticity`,
    whose elasticity the compiler drops where it is not used.
    """
    return _effort_elasticity(opened, row, first, scale, top)[0]


@njit(cache=True, nogil=True, inline="always", error_model="numpy")
def _effort_elasticity(
    opened: float, row: np.ndarray, first: float, scale: float, top: int
) -> tuple:  # pragma: no cover - compiled
    """:func:`_effort` and its elasticity ``-dlog h / dlog O`` at ``O = opened``.

    In the table's cell the log of the factor is linear in ``scale log(1 + O)`` with
    slope ``d``, so the elasticity is ``-d scale O / (1 + O)``.
    """
    y = math.log(1.0 + opened) * scale
    j = int(y)
    if j > top:
        j = top
    lo = row[j]
    d = row[j + 1] - lo
    return math.exp(lo + d * (y - j)) * first, -d * scale * opened / (1.0 + opened)


@njit(cache=True, nogil=True, inline="always", error_model="numpy")
def _fill_row(
    row: np.ndarray, lam: float, flat: np.ndarray, base: int, fx: float, scale: float, n: int
) -> None:  # pragma: no cover - compiled
    """The table between the two rows of a bureau's capacity, as far as ``lam`` goes.

    ``row[j] = t[i, j] + (t[i + 1, j] - t[i, j]) fx``, the numbers
    :meth:`tipresearch.model.effort.EffortRows.__call__` interpolates at each lookup,
    for the counts a bureau with ``lam`` expected reports can open (``log(1 + lam)``
    and one column beyond). Interpolated once per bureau, they spare each of its
    scores two reads from rows 8 KB apart: about a sixth of the search's time.
    """
    used = min(int(math.log(1.0 + lam) * scale) + 2, n - 1)
    for j in range(used + 1):
        k = base + j
        row[j] = flat[k] + (flat[k + n] - flat[k]) * fx


@njit(cache=True, nogil=True, error_model="numpy")
def _per_report(p: float, m: float, h: float, wts: tuple) -> float:  # pragma: no cover
    """:func:`tipresearch.model.decision._score` divided by the expected reports.

    With ``solved = lam m h`` and ``opened = lam p`` every term of the score is ``lam``
    times a function of ``p``, ``m`` and ``h``: ``w_solved m h + w_opened p - audit +
    rate m h / p - penalty max(quota - m h, 0)``, where ``w_opened`` includes the
    audit weight; ``wts = (w_solved, w_opened, audit, rate, quota, penalty)``, a tuple
    of floats (array arguments would cost a reference count per call).
    """
    w_solved, w_opened, audit, rate, quota, penalty = wts
    mh = m * h
    score = w_solved * mh + w_opened * p - audit
    if rate != 0.0 and p > 1e-12:
        score += rate * mh / p
    if quota != 0.0:
        score -= penalty * max(quota - mh, 0.0)
    return score


@njit(cache=True, nogil=True, inline="always", error_model="numpy")
def _score_node(
    f: int,
    r: int,
    lam: float,
    p_f: np.ndarray,
    m_f: np.ndarray,
    h_f: np.ndarray,
    e_f: np.ndarray,
    stamp: np.ndarray,
    effort_row: tuple,
    wts: tuple,
) -> float:  # pragma: no cover - compiled
    """The score at tabulated threshold ``f`` for row ``r``, its effort factor and the
    factor's elasticity kept in ``h_f`` and ``e_f``; NaN if the row scored it already
    (``stamp[f] == r``)."""
    if stamp[f] == r:
        return np.nan
    row, first, scale, top = effort_row
    h, e = _effort_elasticity(lam * p_f[f], row, first, scale, top)
    h_f[f], e_f[f], stamp[f] = h, e, r
    return _per_report(p_f[f], m_f[f], h, wts)


@njit(cache=True, nogil=True, inline="always", error_model="numpy")
def _slope(x: float, cell: int, active: bool, seg: tuple) -> tuple:  # pragma: no cover
    """The score's first and second derivatives in ``x`` on one smooth piece, and
    ``g - quota`` and ``g'`` for solved cases per report ``g = m h``.

    At ``x`` the moments are ``p = p0 + dp x`` and ``m = m0 + dm x``; in effort-table
    cell ``c`` the factor is ``h = first exp(t[c] + d (y - c))`` with
    ``y = scale log(1 + lam p)`` and ``d = t[c + 1] - t[c]`` (:func:`_effort`), so
    ``h' = h k`` and ``h'' = h (k^2 + k')`` with ``k = d scale lam dp / (1 + lam p)``.
    The score is ``w_solved g + w_opened p - audit + rate g / p - penalty (quota - g)``
    (:func:`_per_report`), the last term only where the quota is missed (``active``).
    ``seg = (p0, dp, m0, dm, lam, row, first, scale, top, wts)`` (:func:`_segment`).
    """
    p0, dp, m0, dm, lam, row, first, scale, _, wts = seg
    w_solved, w_opened, audit, rate, quota, penalty = wts
    p = p0 + dp * x
    m = m0 + dm * x
    u = 1.0 + lam * p
    lo = row[cell]
    d = row[cell + 1] - lo
    h = math.exp(lo + d * (math.log(u) * scale - cell)) * first
    v = lam * dp / u
    k = d * scale * v
    h1 = h * k
    h2 = h * (k * k - d * scale * v * v)
    g = m * h
    g1 = dm * h + m * h1
    g2 = 2.0 * dm * h1 + m * h2
    w = w_solved + penalty if active else w_solved
    s1 = w * g1 + w_opened * dp
    s2 = w * g2
    if rate != 0.0:
        q = dp / p
        s1 += rate * (g1 - g * q) / p
        s2 += rate * (g2 - 2.0 * g1 * q + 2.0 * g * q * q) / p
    return s1, s2, g - quota, g1


@njit(cache=True, nogil=True, inline="always", error_model="numpy")
def _newton(
    a: float, b: float, fa: float, fb: float, which: int, cell: int, active: bool, seg: tuple
) -> tuple:  # pragma: no cover - compiled
    """The zero in ``[a, b]`` of the slope (``which = 0``) or of ``g - quota``
    (``which = 2``), whose values at the ends have opposite signs, and the
    evaluations: Newton steps from the false-position point, a bisection wherever a
    step would leave the bracket, to 1e-10 in ``x``."""
    up = fa < 0.0  # the function rises through its zero
    lo, hi = a, b
    x = a + (b - a) * fa / (fa - fb)
    used = 0
    for _ in range(60):
        r = _slope(x, cell, active, seg)
        f, df = (r[0], r[1]) if which == 0 else (r[2], r[3])
        used += 1
        if (f < 0.0) == up:
            lo = x
        else:
            hi = x
        nxt = x - f / df if df != 0.0 else -1.0
        if not (lo < nxt < hi):
            nxt = 0.5 * (lo + hi)
        if abs(nxt - x) <= 1e-10 or hi - lo <= 1e-10:
            return nxt, used
        x = nxt
    return x, used


@njit(cache=True, nogil=True, error_model="numpy")
def _segment(seg: tuple, iterations: int) -> tuple:  # pragma: no cover - compiled
    """The best point ``x`` in (0, 1) of a segment where P(open) and E[s' 1(open)] are
    linear, its score (-inf if no point inside was a candidate) and the evaluations.

    The table's cells, and the point where solved cases per report meet the quota,
    cut the segment into pieces on which the score is smooth (the effort factor is a
    power of ``1 + lam p`` on each cell, :func:`_slope`). On a piece whose slope falls
    from positive to negative the maximum is where it is zero (:func:`_newton`);
    otherwise it is at an end the slope rises towards (the score is often convex
    inside a cell and peaks at the cuts: it is scalloped). Each candidate is scored
    as every other point (:func:`_per_report`). With P(open) near 0 or more than
    eight cells, a golden-section search of ``iterations`` steps instead.

    ``seg = (p0, dp, m0, dm, lam, row, first, scale, top, wts)``: P(open) and
    E[s' 1(open)] at the segment's start and their rise over it, the bureau's expected
    reports, its row of the effort table with its lookup's constants (:func:`_effort`),
    and the score's weights (:func:`_per_report`).
    """
    p0, dp, m0, dm, lam, row, first, scale, top, wts = seg
    quota, penalty = wts[4], wts[5]
    p1 = p0 + dp
    if dp == 0.0:  # the factor is constant: the score is linear, best at an end
        return 0.0, -np.inf, 0
    y0 = math.log(1.0 + lam * p0) * scale
    y1 = math.log(1.0 + lam * p1) * scale
    c0, c1 = min(int(y0), top), min(int(y1), top)
    if min(p0, p1) <= 1e-12 or abs(c1 - c0) > 7:
        return _golden(seg, iterations)
    step = 1 if c1 > c0 else -1
    best_x, best_s, used = 0.0, -np.inf, 0
    a, cell = 0.0, c0
    last = -1.0  # the candidate scored last (a cut is one for the pieces on both sides)
    while True:
        if cell == c1:
            b = 1.0
        else:  # where y leaves the cell: y = cell going down, cell + 1 going up
            edge = cell if step < 0 else cell + 1
            b = ((math.exp(edge / scale) - 1.0) / lam - p0) / dp
            b = min(max(b, a), 1.0)
        # the slope without the quota's penalty, and solved cases per report less the
        # quota, at both ends; the penalty adds penalty x g' where the quota is missed
        ra = _slope(a, cell, False, seg)
        rb = _slope(b, cell, False, seg)
        used += 2
        ga, gb = ra[2], rb[2]
        cut, rc = b, rb
        if quota != 0.0 and (ga < 0.0) != (gb < 0.0):
            cut, k = _newton(a, b, ga, gb, 2, cell, False, seg)
            rc = _slope(cut, cell, False, seg)
            used += k + 1
        # one or two smooth pieces: [a, cut] and, past the quota, [cut, b]
        lo, r_lo = a, ra
        for piece in range(2):
            if piece == 0:
                hi, r_hi = cut, rc
            elif cut < b:
                hi, r_hi = b, rb
            else:
                break
            active = quota != 0.0 and (ga < 0.0 if piece == 0 else gb < 0.0)
            extra = penalty if active else 0.0
            da = r_lo[0] + extra * r_lo[3]
            db = r_hi[0] + extra * r_hi[3]
            # the best of the piece: where the slope falls through zero inside, or an
            # end it rises towards (both ends of a piece whose slope rises through
            # zero, one of them its maximum)
            if da > 0.0 and db < 0.0:
                x, k = _newton(lo, hi, da, db, 0, cell, active, seg)
                used += k
                cands = (x, -1.0)
            else:
                cands = (lo if da <= 0.0 else -1.0, hi if db >= 0.0 else -1.0)
            for x in cands:
                if 0.0 < x < 1.0 and x != last:
                    last = x
                    p = p0 + dp * x
                    h = _effort(lam * p, row, first, scale, top)
                    s = _per_report(p, m0 + dm * x, h, wts)
                    used += 1
                    if s > best_s:
                        best_x, best_s = x, s
            lo, r_lo = hi, r_hi
        if cell == c1:
            break
        a, cell = b, cell + step
    return best_x, best_s, used


@njit(cache=True, nogil=True, error_model="numpy")
def _golden(seg: tuple, iterations: int) -> tuple:  # pragma: no cover - compiled
    """A golden-section search of ``iterations`` steps for :func:`_segment`."""
    p0, dp, m0, dm, lam, row, first, scale, top, wts = seg
    golden = (math.sqrt(5.0) - 1.0) / 2.0
    lo, hi = 0.0, 1.0
    x0, x1 = hi - golden * (hi - lo), lo + golden * (hi - lo)
    s0, s1 = -np.inf, -np.inf
    for step in range(iterations + 2):
        if step == 0:
            x, which = x0, 0
        elif step == 1:
            x, which = x1, 1
        elif s0 >= s1:
            hi, x1, s1 = x1, x0, s0
            x0 = hi - golden * (hi - lo)
            x, which = x0, 0
        else:
            lo, x0, s0 = x0, x1, s1
            x1 = lo + golden * (hi - lo)
            x, which = x1, 1
        p = p0 + dp * x
        h = _effort(lam * p, row, first, scale, top)
        s = _per_report(p, m0 + dm * x, h, wts)
        if which == 0:
            s0 = s
        else:
            s1 = s
    x, s = (x0, s0) if s0 >= s1 else (x1, s1)
    return x, s, iterations + 2


@njit(cache=True, nogil=True, inline="always", error_model="numpy")
def _interp(x: float, xp: np.ndarray, fp: np.ndarray) -> float:  # pragma: no cover - compiled
    """``np.interp(x, xp, fp)`` for one ``x`` and rising ``xp``, the same arithmetic
    (numpy's ``arr_interp``: the slope of the cell times the offset, plus the left
    value; the ends' values outside), so that it gives the same number."""
    n = xp.size
    if x > xp[n - 1]:
        return fp[n - 1]
    if x < xp[0]:
        return fp[0]
    j = np.searchsorted(xp, x, side="right") - 1
    if j >= n - 1:
        return fp[n - 1]
    if xp[j] == x:
        return fp[j]
    slope = (fp[j + 1] - fp[j]) / (xp[j + 1] - xp[j])
    y = slope * (x - xp[j]) + fp[j]
    if y != y:
        y = slope * (x - xp[j + 1]) + fp[j + 1]
        if y != y and fp[j] == fp[j + 1]:
            y = fp[j]
    return y


@njit(cache=True, nogil=True, error_model="numpy")
def _search(
    tau_t: np.ndarray,
    p_t: np.ndarray,
    m_t: np.ndarray,
    table_of: np.ndarray,
    start: np.ndarray,
    coef_g: np.ndarray,
    coarse_step: int,
    anchor_step: int,
    iterations: int,
    lam: np.ndarray,
    flat: np.ndarray,
    base: np.ndarray,
    fx: np.ndarray,
    first: np.ndarray,
    scale: float,
    n: int,
    audit: np.ndarray,
    counts: np.ndarray,
    p_out: np.ndarray,
    m_out: np.ndarray,
) -> np.ndarray:  # pragma: no cover - compiled
    # groups of bureaus: group grp is bureaus start[grp] .. start[grp + 1] - 1, searched
    # on table table_of[grp] (rows of tau_t, p_t, m_t) with score weights coef_g[grp]
    n_f = tau_t.shape[1]
    n_c = (n_f - 1) // coarse_step + 1
    out = np.empty(lam.size)
    h_f = np.empty(n_f)  # effort factor at each tabulated threshold, where evaluated
    e_f = np.empty(n_f)  # and its elasticity in the cases opened
    stamp = np.full(n_f, -1, dtype=np.int64)  # the bureau h_f[f] was evaluated for
    stack = np.empty(2 * n_f + 8, dtype=np.int64)
    row_buf = np.empty(n)
    # the bound's slope in the effort factor at each tabulated threshold (see below)
    a_f = np.empty(n_f)
    inv_p_f = np.empty(n_f)  # 1 / P(open); infinite where none is opened (no bound then)
    for grp in range(table_of.size):
        tau_f, p_f, m_f = tau_t[table_of[grp]], p_t[table_of[grp]], m_t[table_of[grp]]
        # coef: solved weight (solved + unsolved), opened weight without the audit,
        # victims weight (times victims per solved case), later-solve share, rate,
        # quota, penalty
        coef = coef_g[grp]
        w_solved = coef[0] + coef[2] * (1.0 - coef[3])
        w_opened0 = coef[1] + coef[2] * coef[3]
        rate, quota, penalty = coef[4], coef[5], coef[6]
        for f in range(n_f):
            w = w_solved
            if rate != 0.0 and p_f[f] > 1e-12:
                w += rate / p_f[f]
            a_f[f] = w * m_f[f]
            inv_p_f[f] = 1.0 / p_f[f] if p_f[f] > 0.0 else np.inf
        for r in range(start[grp], start[grp + 1]):
            lam_r, base_r, fx_r, first_r, aud = lam[r], base[r], fx[r], first[r], audit[r]
            if not lam_r > 0.0:  # no reports: every threshold scores 0, numpy's argmax is the first
                out[r] = tau_f[0]
                p_out[r], m_out[r] = _interp(out[r], tau_f, p_f), _interp(out[r], tau_f, m_f)
                counts[r] = 0
                continue
            wts = (w_solved, w_opened0 + aud, aud, rate, quota, penalty)
            _fill_row(row_buf, lam_r, flat, base_r, fx_r, scale, n)
            row = (row_buf, first_r, scale, n - 2)
            evaluations = 0
            best_s, f_best = -np.inf, 0
            # 1. the best point of the coarse grid (every coarse_step-th tabulated
            # threshold), then 2. the best tabulated threshold between its neighbours.
            # Each by branch and bound: the anchors (every anchor_step-th point) are
            # scored, then a gap between two scored points is halved only while some point
            # inside it may beat the best score so far. P(open) falls as the threshold
            # rises and the effort factor rises as fewer are opened, so inside a gap the
            # factor lies between those at its ends (and below the tangents, see below). With p
            # and m fixed the score is a h + w_opened p - audit - penalty max(quota - m h,
            # 0), a = m (w_solved + rate / p) (a_f): the first term is largest at one end
            # of [h_lo, h_top] and the penalty never falls as h rises, so each term's
            # largest value bounds it.
            for stage in range(2):
                if stage == 0:
                    lo_f, hi_f, stride, every = 0, (n_c - 1) * coarse_step, coarse_step, anchor_step
                else:
                    lo_f = max(f_best - coarse_step, 0)
                    hi_f = min(f_best + coarse_step, (n_c - 1) * coarse_step)
                    stride, every = 1, coarse_step
                top = 0
                last = lo_f
                k = 0
                f = lo_f
                while True:
                    s = _score_node(f, r, lam_r, p_f, m_f, h_f, e_f, stamp, row, wts)
                    if s == s:  # scored now
                        evaluations += 1
                        if s > best_s or (s == best_s and f < f_best):
                            best_s, f_best = s, f
                    if f > lo_f:
                        stack[top], stack[top + 1] = last, f
                        top += 2
                        last = f
                    if f == hi_f:
                        break
                    k += 1
                    f = min(lo_f + k * every * stride, hi_f)
                while top > 0:
                    top -= 2
                    left, right = stack[top], stack[top + 1]
                    if right - left <= stride:
                        continue
                    h_lo, h_hi = h_f[left], h_f[right]
                    # the factor's elasticity e in the cases opened O rises with them (up
                    # to ELASTICITY_SLACK), so log h at g lies below its tangents in log O
                    # at both ends: h <= h_end (O_end / O)^e_end, and x^e <= 1 + e (x - 1)
                    # for 0 <= e <= 1. Where e at the left end may reach 1, the cases a
                    # bureau can solve, O h, never fall as it opens more: e = 1 with
                    # MONOTONE_SLACK.
                    e_lo = e_f[left] * (1.0 + ELASTICITY_SLACK)
                    m_lo = 1.0
                    if not e_lo < 1.0:
                        e_lo, m_lo = 1.0, 1.0 + MONOTONE_SLACK
                    e_hi = min(e_f[right] * (1.0 - ELASTICITY_SLACK), 1.0)
                    # h <= c_lo + d_lo / p and h <= c_hi + d_hi / p (the tangents above)
                    d_lo = h_lo * e_lo * p_f[left] * m_lo
                    c_lo = h_lo * m_lo - h_lo * e_lo * m_lo
                    d_hi = h_hi * e_hi * p_f[right]
                    c_hi = h_hi - h_hi * e_hi
                    slack = 1e-9 * (abs(best_s) + 1.0)  # rounding in the table lookups
                    hope = False
                    w_op = w_opened0 + aud
                    floor = best_s - slack + aud
                    for g in range(left + stride, right, stride):
                        a = a_f[g]
                        h_top = h_hi  # the effort factor at g is at most this
                        inv = inv_p_f[g]
                        t = c_lo + d_lo * inv
                        if t < h_top:
                            h_top = t
                        t = c_hi + d_hi * inv
                        if t < h_top:
                            h_top = t
                        b = (a * h_top if a >= 0.0 else a * h_lo) + w_op * p_f[g]
                        if quota != 0.0:
                            b -= penalty * max(quota - m_f[g] * h_top, 0.0)
                        if b >= floor:
                            hope = True
                            break
                    if not hope:
                        continue
                    mid = left + ((right - left) // stride // 2) * stride
                    s = _score_node(mid, r, lam_r, p_f, m_f, h_f, e_f, stamp, row, wts)
                    if s == s:
                        evaluations += 1
                        if s > best_s or (s == best_s and mid < f_best):
                            best_s, f_best = s, mid
                    stack[top], stack[top + 1] = left, mid
                    stack[top + 2], stack[top + 3] = mid, right
                    top += 4
            best_t = tau_f[f_best]
            # 3. inside the two segments beside the best tabulated threshold the moments
            # are linear in the threshold: the best point of each (:func:`_segment`) is
            # kept if it scores higher than the tabulated one
            for side in (-1, 1):
                other = f_best + side
                if other < 0 or other >= tau_f.size:
                    continue
                j = min(f_best, other)
                dp, dm = p_f[j + 1] - p_f[j], m_f[j + 1] - m_f[j]
                seg = (p_f[j], dp, m_f[j], dm, lam_r, row_buf, first_r, scale, n - 2, wts)
                x, s, used = _segment(seg, iterations)
                evaluations += used
                if s > best_s:
                    best_s, best_t = s, tau_f[j] + (tau_f[j + 1] - tau_f[j]) * x
            out[r] = best_t
            p_out[r], m_out[r] = _interp(best_t, tau_f, p_f), _interp(best_t, tau_f, m_f)
            counts[r] = evaluations
    return out


def search_thresholds(
    tau_f: np.ndarray,
    p_f: np.ndarray,
    m_f: np.ndarray,
    coarse_step: int,
    lam: np.ndarray,
    effort_rows: tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, float, int],
    coef: np.ndarray,
    audit: np.ndarray,
    *,
    anchor_step: int = ANCHOR_STEP,
    iterations: int = GOLDEN_ITERATIONS,
    evaluations: np.ndarray | None = None,
) -> np.ndarray:
    """Best thresholds of bureaus with expected reports ``lam`` (the compiled search).

    Parameters
    ----------
    tau_f, p_f, m_f : ndarray
        The case type's tabulated thresholds, P(open) and E[s' 1(open)].
    coarse_step : int
        The coarse grid is every ``coarse_step``-th tabulated threshold.
    lam : ndarray, shape (B,)
        Expected reports of the type per bureau.
    effort_rows : tuple
        ``(flat, base, fx, first, scale, n)`` of
        :meth:`tipresearch.model.effort.EffortRows.compiled_rows`.
    coef : ndarray, shape (7,)
        Score weights, see :func:`_score_at`.
    audit : ndarray, shape (B,)
        Each bureau's audit weight (penalty weight x audit probability x penalty).
    anchor_step : int
        Every ``anchor_step``-th coarse point is scored first.
    iterations : int
        Golden-section steps in a segment where the piecewise search of
        :func:`_segment` does not apply.
    evaluations : ndarray, shape (B,), optional
        Filled with the number of scores evaluated per bureau.

    Returns
    -------
    ndarray, shape (B,)
        The threshold with the highest expected score.
    """
    return search_groups(
        (tau_f, p_f, m_f),
        np.zeros(1, dtype=np.int64),
        np.array([0, np.size(lam)], dtype=np.int64),
        np.asarray(coef, dtype=np.float64)[None],
        coarse_step,
        lam,
        effort_rows,
        np.broadcast_to(audit, np.shape(lam)),
        anchor_step=anchor_step,
        iterations=iterations,
        evaluations=evaluations,
    )


def search_groups(
    tables: tuple[np.ndarray, np.ndarray, np.ndarray],
    table_of: np.ndarray,
    start: np.ndarray,
    coef: np.ndarray,
    coarse_step: int,
    lam: np.ndarray,
    effort_rows: tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, float, int],
    audit: np.ndarray,
    *,
    anchor_step: int = ANCHOR_STEP,
    iterations: int = GOLDEN_ITERATIONS,
    evaluations: np.ndarray | None = None,
    moments: tuple[np.ndarray, np.ndarray] | None = None,
) -> np.ndarray:
    """:func:`search_thresholds` of many groups of bureaus in one compiled call.

    Group ``g`` is bureaus ``start[g] .. start[g + 1] - 1``: one case type of one run,
    searched on its table with its score weights. Each bureau's threshold is the one
    :func:`search_thresholds` gives it alone; one call for a sweep's task saves a
    call, its argument checks and its working arrays per run and case type.

    Parameters
    ----------
    tables : tuple of ndarray, each shape (T, F) or (F,)
        Tabulated thresholds, P(open) and E[s' 1(open)]: one row per table.
    table_of : ndarray of int, shape (G,)
        Each group's table.
    start : ndarray of int, shape (G + 1,)
        Where each group's bureaus start in ``lam``, then the number of bureaus.
    coef : ndarray, shape (G, 7)
        Each group's score weights, see :func:`_score_at`.
    coarse_step, anchor_step, iterations, evaluations
        As in :func:`search_thresholds`.
    moments : tuple of ndarray, each shape (B,), optional
        Filled with P(open) and E[s' 1(open)] at each bureau's threshold, interpolated
        in its table as ``np.interp`` does (the same numbers).
    lam, effort_rows, audit
        As in :func:`search_thresholds`, for the bureaus of every group.

    Returns
    -------
    ndarray, shape (B,)
        The threshold with the highest expected score, per bureau.
    """
    if anchor_step < 1:
        raise ParameterError("anchor_step", anchor_step, "a whole number >= 1")
    if iterations < 0:
        raise ParameterError("iterations", iterations, "a whole number >= 0")
    tau_t, p_t, m_t = (np.atleast_2d(np.ascontiguousarray(t, dtype=np.float64)) for t in tables)
    table_of = np.ascontiguousarray(table_of, dtype=np.int64)
    start = np.ascontiguousarray(start, dtype=np.int64)
    coef = np.ascontiguousarray(coef, dtype=np.float64)
    lam = np.ascontiguousarray(lam, dtype=np.float64)
    groups = table_of.size
    if (
        start.shape != (groups + 1,)
        or coef.shape != (groups, 7)
        or (groups and (start[0] != 0 or start[-1] != lam.size or np.any(np.diff(start) < 0)))
        or np.any((table_of < 0) | (table_of >= tau_t.shape[0]))
    ):
        raise ParameterError(
            "start",
            start.tolist(),
            f"{groups + 1} rising offsets from 0 to {lam.size}, with {groups} tables"
            f" among {tau_t.shape[0]} and weights of shape ({groups}, 7)",
        )
    flat, base, fx, first, scale, n = effort_rows
    counts = np.zeros(lam.size, dtype=np.int64) if evaluations is None else evaluations
    p_out, m_out = (np.empty(lam.size), np.empty(lam.size)) if moments is None else moments
    return _search(
        tau_t,
        p_t,
        m_t,
        table_of,
        start,
        coef,
        int(coarse_step),
        int(anchor_step),
        int(iterations),
        lam,
        flat,
        base,
        fx,
        first,
        float(scale),
        int(n),
        np.ascontiguousarray(np.broadcast_to(audit, lam.shape), dtype=np.float64),
        counts,
        p_out,
        m_out,
    )
