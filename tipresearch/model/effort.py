"""The effort factor an opened case can expect, averaged over the number opened.

A bureau with capacity ``K`` that opens ``O`` cases gives each the effort
``K / O`` and solves a case of solvability ``s'`` with probability ``s' h(O)``,
``h(O) = K / (K + e_half O)`` (``docs/model.md``, §3.3.6 "Dilution of effort").
``O`` is random: Poisson with mean ``mu`` when report counts are Poisson, negative
binomial with the same dispersion when they are over-dispersed (a binomial thinning
of a Poisson-gamma count keeps its shape). Expected solved cases are therefore

    E[S] = (E[s' 1(open)] / P(open)) E[O h(O)] = lam m h_eff(mu),
    h_eff(mu) = E[O h(O)] / mu,

not ``lam m h(mu)``: ``h`` is convex, so putting the expected count inside it
(Jensen) overstates solved cases.

Closed form (Poisson). With ``a = K / e_half`` and ``1/(K + e O) =
integral_0^inf exp(-(K + e O) t) dt``, ``E[O z^O] = mu z exp(mu (z - 1))`` and the
substitution ``z = exp(-e t)``::

    h_eff(mu) = a integral_0^1 z^a exp(-mu (1 - z)) dz
              = K / (K + e_half) 1F1(1; a + 2; -mu),

Kummer's confluent hypergeometric function (DLMF 13.2.2 and 13.4.1). At ``mu = 0``
it is ``K / (K + e_half)``, the factor of a lone case, and it is the mean of
``h(1 + X)`` with ``X ~ Poisson(mu)`` (the size-biased count), hence decreasing in
``mu`` and increasing in ``K``.

Over-dispersed counts (``dispersion d > 0``, shape ``r = 1/d``): ``O`` is Poisson
with mean ``mu G``, ``G ~ Gamma(r, 1/r)``, so ``h_eff(mu) = E[G h_eff_P(mu G)]``
with ``h_eff_P`` the Poisson form; the expectation over ``G`` (a size-biased gamma,
weight ``x^r e^(-x)``) is a quadrature: 48-node generalized Gauss-Laguerre for
``10 <= r <= 150`` (dispersion 0.1 down to 1/150), and otherwise 128 Gauss-Legendre
nodes over the gamma's quantiles, which also holds for the long tail of small ``r``.
Both are exact to within 1e-9 of the summed negative binomial probabilities over the
tested range (``tests/test_effort.py``).

For the many evaluations of a best-response search, :func:`effort_factor_fast`
interpolates ``log 1F1`` bilinearly on a grid in ``(log a, log(1 + mu))``; the
search uses it, the reported outcomes use the exact form.
"""

from __future__ import annotations

import hashlib
import math
import os
import tempfile
from collections.abc import Callable
from functools import lru_cache
from pathlib import Path

import numpy as np
from numba import njit
from scipy import special

__all__ = [
    "MU_MAX",
    "EffortRows",
    "TABLE_ERROR",
    "TABLE_ERROR_DISPERSED",
    "effort_factor",
    "effort_factor_fast",
    "plug_in_effort_factor",
]

_LAGUERRE_NODES = 128
# dispersion 0.1 down to 1/150: 48 generalized Gauss-Laguerre nodes instead of 128
_GAUSS_LAGUERRE_SHAPES = (10.0, 150.0)
_GAUSS_LAGUERRE_NODES = 48
_LAPLACE_FROM = 1e5
_SERIES_TO = 200.0  # below this mean, the Poisson sum (about mu + 10 sqrt(mu) terms)
# the table: log a in [log 1e-3, log 1e7], log(1 + mu) in [0, log(1 + 1e6)]
_TABLE_POINTS = 1024
_DISPERSED_STEP = 3  # 1,023 = 3 x 341: every third row of the Poisson table
_DISPERSED_POINTS = (_TABLE_POINTS - 1) // _DISPERSED_STEP + 1
_A_MIN, _A_MAX, _MU_MAX = 1e-3, 1e7, 1e6
_U0, _U1 = np.log(_A_MIN), np.log(_A_MAX)
_V1 = np.log1p(_MU_MAX)
#: Largest expected count inside the effort factor's table.
MU_MAX = _MU_MAX
#: Largest relative error of :func:`effort_factor_fast` against :func:`effort_factor`
#: that ``tests/test_effort.py`` allows over the table's range (Poisson counts).
TABLE_ERROR = 5e-5
#: The same for over-dispersed counts (a coarser table).
TABLE_ERROR_DISPERSED = 5e-4


def plug_in_effort_factor(
    mu: np.ndarray | float, capacity: np.ndarray | float, effort_half: float
) -> np.ndarray:
    """``h(mu) = K / (K + e_half mu)``: the factor at the expected count (overstates)."""
    mu, capacity = np.asarray(mu, dtype=float), np.asarray(capacity, dtype=float)
    return capacity / (capacity + effort_half * mu)


#: ``1 / n`` for the terms of :func:`_poisson_sum` (about ``mu + 10 sqrt(mu)`` of them,
#: fewer than 400 below :data:`_SERIES_TO`); past the table, a division.
_RECIPROCALS = np.concatenate([[0.0], 1.0 / np.arange(1.0, 1024.0)])


@njit(cache=True, nogil=True, error_model="numpy")
def _poisson_sum(mu: np.ndarray, a: np.ndarray, out: np.ndarray) -> None:  # pragma: no cover
    """``1F1(1; a + 2; -mu) = E[(a + 1) / (a + 1 + N)]``, ``N ~ Poisson(mu)``, summed.

    The integral ``(a + 1) integral_0^1 t^a exp(-mu (1 - t)) dt`` with
    ``exp(-mu (1 - t)) = E[t^N]``. The terms are positive (no cancellation); the sum
    stops past the mean once a term is below 1e-17 of it, after about
    ``mu + 10 sqrt(mu)`` terms. Within 1e-13 of scipy's ``hyp1f1`` for ``mu`` up to
    :data:`_SERIES_TO` (``tests/test_effort.py``), and four times faster there.
    Each term's ``1 / n`` is read from :data:`_RECIPROCALS`, so a term takes one
    division instead of two (a third less time; the sums move by a few units in the
    last place, 3e-15 relative).
    """
    inv = _RECIPROCALS
    for i in range(mu.size):
        x = mu[i]
        c = a[i] + 1.0
        p = math.exp(-x)  # P(N = n), from n = 0
        s = p
        n = 0
        while True:
            n += 1
            p *= x * (inv[n] if n < inv.size else 1.0 / n)
            term = p * c / (c + n)
            s += term
            if n > x and term <= 1e-17 * s:
                break
        out[i] = s


def _poisson(mu: np.ndarray, a: np.ndarray) -> np.ndarray:
    """``1F1(1; a + 2; -mu)``: ``h_eff / (K / (K + e_half))`` for Poisson counts.

    Below ``mu = 200`` the Poisson sum of :func:`_poisson_sum`; up to ``1e5`` scipy's
    ``hyp1f1``; from ``1e5`` (where the series is slow), Laplace's method on
    ``(a + 1) integral_0^1 (1 - w)^a exp(-mu w) dw`` gives
    ``(a + 1) (1 / (mu + a) - a / (mu + a)^3)``, with relative error of order
    ``1 / (mu + a)^2`` (below 1e-9 against the series at ``mu = 1e4``).
    """
    mu, a = np.broadcast_arrays(np.asarray(mu, dtype=float), np.asarray(a, dtype=float))
    out = np.empty(mu.shape)
    summed = mu < _SERIES_TO
    large = mu >= _LAPLACE_FROM
    middle = ~(summed | large)
    if summed.any():
        part = np.empty(int(summed.sum()))
        _poisson_sum(np.ascontiguousarray(mu[summed]), np.ascontiguousarray(a[summed]), part)
        out[summed] = part
    if middle.any():
        out[middle] = special.hyp1f1(1.0, a[middle] + 2.0, -mu[middle])
    if large.any():
        total = mu[large] + a[large]
        out[large] = (a[large] + 1.0) * (1.0 / total - a[large] / total**3)
    return out


@lru_cache(maxsize=64)
def _laguerre(shape: float) -> tuple[np.ndarray, np.ndarray]:
    # E[G f(mu G)] with G ~ Gamma(r, 1/r) is E[f(mu G')] with G' ~ Gamma(r + 1, 1/r),
    # the size-biased gamma (density proportional to x^r e^(-x) in x = r G').
    if _GAUSS_LAGUERRE_SHAPES[0] <= shape <= _GAUSS_LAGUERRE_SHAPES[1]:
        # a concentrated gamma: generalized Gauss-Laguerre with weight x^r e^(-x),
        # within 2e-11 of the quadrature below over the table's range with 48 nodes
        # (beyond r = 170 scipy's weights overflow)
        x, w = special.roots_genlaguerre(_GAUSS_LAGUERRE_NODES, shape)
        return x, w / w.sum()
    # otherwise an integral over its quantiles, Gauss-Legendre in a variable that
    # spreads both tails (u = Phi(y)), which stays exact for the long tail of small r
    y, w = np.polynomial.legendre.leggauss(_LAGUERRE_NODES)
    y = 9.0 * y
    w = 9.0 * w * np.exp(-0.5 * y * y) / np.sqrt(2.0 * np.pi)
    x = np.where(
        y < 0,
        special.gammaincinv(shape + 1.0, special.ndtr(y)),
        special.gammainccinv(shape + 1.0, special.ndtr(-y)),
    )
    return x, w / w.sum()


def effort_factor(
    mu: np.ndarray | float,
    capacity: np.ndarray | float,
    effort_half: float | np.ndarray,
    dispersion: float = 0.0,
) -> np.ndarray:
    """``E[O h(O)] / E[O]``: the effort factor an opened case can expect.

    Parameters
    ----------
    mu : array_like
        Expected cases opened, ``E[O] >= 0``.
    capacity : array_like
        Investigative capacity ``K > 0``, broadcast against ``mu``.
    effort_half : float or array_like
        ``e_half > 0`` of ``h(O) = K / (K + e_half O)``, broadcast against ``mu``
        (one per row when many runs are computed together).
    dispersion : float
        Over-dispersion ``d >= 0`` of the counts (variance ``mu + d mu^2``).

    Returns
    -------
    ndarray
        ``h_eff(mu)``; expected solved cases are ``lam m h_eff(mu)``.

    References
    ----------
    ``docs/model.md``, §3.3.6 "Dilution of effort"; this module's docstring for the
    closed form (Kummer's function, DLMF 13.2.2, 13.4.1).
    """
    mu = np.asarray(mu, dtype=float)
    capacity = np.asarray(capacity, dtype=float)
    mu, capacity = np.broadcast_arrays(mu, capacity)
    a = capacity / effort_half
    first = capacity / (capacity + effort_half)
    if dispersion == 0:
        return first * _poisson(mu, a)
    shape = 1.0 / dispersion
    x, w = _laguerre(shape)
    inner = _poisson(mu[..., None] * (x / shape), a[..., None])
    return first * np.sum(w * inner, axis=-1)


@lru_cache(maxsize=16)
def _table(dispersion: float) -> np.ndarray:
    """``log(h_eff / (K / (K + e_half)))`` on the grid of :data:`_U` and :data:`_V`.

    Poisson counts: Kummer's function on a 1,024-point grid (about 0.3 s).
    Over-dispersed counts: the gamma average of the Poisson table, on a coarser grid
    (0.1-0.2 s per dispersion once the Poisson table is there). Each is kept on disk once built
    (:func:`_stored_grid`), so that later processes read it instead.
    """
    points = _TABLE_POINTS if dispersion == 0 else _DISPERSED_POINTS
    grid = _stored_grid(
        f"effort-{dispersion!r}", lambda: _build_table(dispersion), (points, points)
    )
    grid.setflags(write=False)
    return grid


def _build_table(dispersion: float) -> np.ndarray:
    if dispersion == 0:
        u, v = _axes(_TABLE_POINTS)
        grid = np.log(_poisson(np.expm1(v)[None, :], np.exp(u)[:, None]))
    else:
        # rows of the Poisson table (every _DISPERSED_STEP-th), averaged over the gamma
        poisson = _table(0.0)
        u_full, v_full = _axes(_TABLE_POINTS)
        u, v = _axes(_DISPERSED_POINTS)
        x, w = _laguerre(1.0 / dispersion)
        mu = np.expm1(v)[:, None] * (x * dispersion)
        far = mu > _MU_MAX
        a_rows = np.exp(u_full)
        grid = np.empty((u.size, v.size))
        for row in range(u.size):
            full_row = row * _DISPERSED_STEP
            inner = np.exp(np.interp(np.log1p(mu), v_full, poisson[full_row]))
            inner[far] = _poisson(mu[far], a_rows[full_row])
            grid[row] = np.log(np.sum(w * inner, axis=-1))
    return grid


def _stored_grid(
    name: str,
    build: Callable[[], np.ndarray],
    shape: tuple[int, ...],
    folder: Path | None = None,
) -> np.ndarray:
    """``build()``, kept in ``folder`` (the package's ``__pycache__``) and read next time.

    The file's name carries a hash of this module's source and of the numpy and scipy
    versions, so a change to any of them builds the table again; a file that cannot be
    read, or holds another shape, is built again too. It is written to a temporary
    file and renamed (two processes building it at once each write a whole file);
    where the folder cannot be written, the table is built every time.
    """
    import scipy

    source = Path(__file__).read_bytes()
    key = hashlib.sha256(
        b"\0".join([source, name.encode(), np.__version__.encode(), scipy.__version__.encode()])
    ).hexdigest()[:20]
    folder = Path(__file__).parent / "__pycache__" if folder is None else Path(folder)
    path = folder / f"{name}-{key}.npy"
    try:
        stored = np.load(path, allow_pickle=False)
        if stored.shape == shape and stored.dtype == np.float64:
            return stored
    except (OSError, ValueError, EOFError):
        pass
    grid = build()
    try:
        path.parent.mkdir(exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=path.stem, suffix=".tmp")
        with os.fdopen(fd, "wb") as fh:
            np.save(fh, grid, allow_pickle=False)
        os.chmod(tmp, 0o644)
        os.replace(tmp, path)
    except OSError:
        pass
    return grid


def _axes(points: int) -> tuple[np.ndarray, np.ndarray]:
    return np.linspace(_U0, _U1, points), np.linspace(0.0, _V1, points)


def _interpolate(table: np.ndarray, a: np.ndarray, mu: np.ndarray) -> np.ndarray:
    """Bilinear interpolation of ``exp(table)`` at ``(log a, log1p mu)`` inside the grid."""
    n = table.shape[0]
    x = (np.log(a) - _U0) * ((n - 1) / (_U1 - _U0))
    y = np.log1p(mu) * ((n - 1) / _V1)
    i = np.minimum(x.astype(np.int64), n - 2)
    j = np.minimum(y.astype(np.int64), n - 2)
    fx, fy = x - i, y - j
    z = (table[i, j] * (1 - fx) + table[i + 1, j] * fx) * (1 - fy) + (
        table[i, j + 1] * (1 - fx) + table[i + 1, j + 1] * fx
    ) * fy
    return np.exp(z)


def _inside(a: np.ndarray, mu: np.ndarray) -> np.ndarray:
    return (a >= _A_MIN) & (a <= _A_MAX) & (mu >= 0) & (mu <= _MU_MAX)


def effort_factor_fast(
    mu: np.ndarray | float,
    capacity: np.ndarray | float,
    effort_half: float,
    dispersion: float = 0.0,
) -> np.ndarray:
    """:func:`effort_factor` by bilinear interpolation in a table.

    Relative error below :data:`TABLE_ERROR` (Poisson counts) or
    :data:`TABLE_ERROR_DISPERSED` inside the table (``1e-3 <= K / e_half <= 1e7``,
    ``mu <= 1e6``); outside it, the exact form.
    """
    mu = np.asarray(mu, dtype=float)
    capacity = np.asarray(capacity, dtype=float)
    mu, capacity = np.broadcast_arrays(mu, capacity)
    a = capacity / effort_half
    inside = _inside(a, mu)
    out = np.empty(mu.shape)
    table = _table(float(dispersion))
    out[inside] = _interpolate(table, a[inside], mu[inside])
    out *= capacity / (capacity + effort_half)
    if not inside.all():
        out[~inside] = effort_factor(mu[~inside], capacity[~inside], effort_half, dispersion)
    return out


class EffortRows:
    """:func:`effort_factor_fast` for fixed capacities, at many expected counts.

    A best-response search evaluates the effort factor of each bureau at many
    thresholds; the capacity, hence the row of the table, stays the same. The rows
    are interpolated once, so that each evaluation is a one-dimensional lookup.

    Parameters
    ----------
    capacity : ndarray, shape (B,)
        Capacity of each bureau.
    effort_half, dispersion : float
        As in :func:`effort_factor`.
    """

    def __init__(self, capacity: np.ndarray, effort_half: float, dispersion: float = 0.0) -> None:
        self.capacity = np.asarray(capacity, dtype=float)
        self.effort_half, self.dispersion = effort_half, float(dispersion)
        a = self.capacity / effort_half
        self.first = self.capacity / (self.capacity + effort_half)
        self.ok = (a >= _A_MIN) & (a <= _A_MAX)
        self.all_ok = bool(self.ok.all())
        table = _table(self.dispersion)
        n = table.shape[0]
        x = (np.log(np.where(self.ok, a, 1.0)) - _U0) * ((n - 1) / (_U1 - _U0))
        i = np.minimum(x.astype(np.int64), n - 2)
        self.flat = table.ravel()
        self.base = (i * n)[:, None]  # flat index of each bureau's lower row
        self.fx = (x - i)[:, None]
        self.scale = (n - 1) / _V1
        self.n = n

    def compiled_rows(self) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, float, int]:
        """The lookup's arrays for :func:`tipresearch.model.search.search_thresholds`.

        ``(flat table, flat index of each bureau's lower row, fraction between the
        rows, K / (K + e_half), index scale of log1p(mu), table size)``; valid for the
        bureaus with ``ok`` and counts up to 1e6.
        """
        return (
            np.ascontiguousarray(self.flat),
            np.ascontiguousarray(self.base[:, 0], dtype=np.int64),
            np.ascontiguousarray(self.fx[:, 0]),
            np.ascontiguousarray(self.first, dtype=float),
            float(self.scale),
            int(self.n),
        )

    def __call__(self, mu: np.ndarray) -> np.ndarray:
        """Effort factor at expected counts ``mu``, shape (B,) or (B, G)."""
        mu = np.asarray(mu, dtype=float)
        two_d = mu.ndim == 2
        m2 = mu if two_d else mu[:, None]
        within = self.all_ok and m2.max(initial=0.0) <= _MU_MAX
        y = np.log1p(m2 if within else np.minimum(m2, _MU_MAX)) * self.scale
        j = np.minimum(y.astype(np.int64), self.n - 2)
        fy = y - j
        k = self.base + j
        flat, n, fx = self.flat, self.n, self.fx
        lo = flat[k] + (flat[k + n] - flat[k]) * fx
        hi = flat[k + 1] + (flat[k + n + 1] - flat[k + 1]) * fx
        out = np.exp(lo + (hi - lo) * fy) * self.first[:, None]
        if within:
            return out if two_d else out[:, 0]
        bad = ~self.ok[:, None] | (m2 > _MU_MAX)
        if bad.any():
            cap = np.broadcast_to(self.capacity[:, None], m2.shape)
            exact = effort_factor(m2[bad], cap[bad], self.effort_half, self.dispersion)
            out = out.copy()
            out[bad] = exact
        return out if two_d else out[:, 0]
