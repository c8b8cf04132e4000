"""Designs: the points of a parameter space to evaluate, drawn in the unit hypercube.

A :class:`Design` holds the points of a :class:`~tipresearch.experiments.space.ParameterSpace`
in two forms: unit coordinates, which the Sobol' and Morris analyses work on, and the
parameters' values, which the model gets. :func:`sample` draws one: a full grid, a Latin
hypercube, Saltelli's extension of the Sobol' sequence (for Sobol' indices) or Morris
trajectories (for elementary effects), each mapped to values by every parameter's
quantile function (:meth:`~tipresearch.experiments.space.Parameter.from_unit`), as SALib
does for non-uniform inputs.

References
----------
Saltelli, A. (2002). Making best use of model evaluations to compute sensitivity
indices. Computer Physics Communications 145, 280-297.
Morris, M. D. (1991). Factorial sampling plans for preliminary computational
experiments. Technometrics 33, 161-174.
McKay, M. D., Beckman, R. J., Conover, W. J. (1979). A comparison of three methods
for selecting values of input variables. Technometrics 21, 239-245.
Herman, J., Usher, W. (2017). SALib: an open-source Python library for sensitivity
analysis. Journal of Open Source Software 2(9), 97.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pandas as pd

from tipresearch.checks import check_size
from tipresearch.errors import ParameterError

from .space import ParameterSpace

__all__ = ["METHODS", "Design", "GridDesign", "SaltelliDesign", "sample"]

#: Design methods accepted by :func:`sample`.
METHODS = ("grid", "lhs", "sobol", "morris")


class Design:
    """Points of a parameter space to evaluate.

    Attributes
    ----------
    space : ParameterSpace
    method : str
        One of :data:`METHODS`.
    unit : ndarray, shape (n_points, n_parameters)
        Unit coordinates (what the Sobol' and Morris analyses read).
    values : pandas.DataFrame
        Parameter values, one row per point, one column per parameter.
    options : dict
        The sampling options (``n``, ``seed``, ``second_order``, ``num_levels``,
        ``levels``), enough to draw the same design again.
    """

    def __init__(
        self,
        space: ParameterSpace,
        method: str,
        unit: np.ndarray,
        values: pd.DataFrame,
        options: dict[str, Any],
    ) -> None:
        self.space, self.method, self.options = space, method, options
        self._unit, self._values = unit, values

    @property
    def unit(self) -> np.ndarray:
        return self._unit

    @property
    def values(self) -> pd.DataFrame:
        return self._values

    def __len__(self) -> int:
        return int(self._unit.shape[0])

    def rows(self, lo: int, hi: int) -> pd.DataFrame:
        """Values of points ``lo`` to ``hi - 1``, one row each (index from 0)."""
        return self.values.iloc[lo:hi].reset_index(drop=True)

    def unit_rows(self, lo: int, hi: int) -> np.ndarray:
        """Unit coordinates of points ``lo`` to ``hi - 1``."""
        return self.unit[lo:hi]

    def point(self, i: int) -> dict[str, Any]:
        """Values of point ``i`` as plain Python scalars."""
        row = self.rows(i, i + 1).iloc[0]
        return {k: (v.item() if isinstance(v, np.generic) else v) for k, v in row.items()}


class _LazyDesign(Design):
    """A design whose points are made block by block (:meth:`rows`, :meth:`unit_rows`).

    Subclasses give the number of points, set :attr:`_size_key` (the option that sets
    the size: ``levels`` or ``n``) and make blocks of points; :attr:`unit` and
    :attr:`values`, which an analysis of the whole design reads, are made when first
    asked for, after a memory check naming that option.
    """

    _size_key = "n"

    def __init__(
        self, space: ParameterSpace, method: str, options: dict[str, Any], points: int
    ) -> None:
        self.space, self.method, self.options = space, method, options
        self._n = int(points)
        self._unit: np.ndarray | None = None
        self._values: pd.DataFrame | None = None

    def __len__(self) -> int:
        return self._n

    def _check_whole(self) -> None:
        check_size(
            f"design.{self._size_key}",
            self.options[self._size_key],
            self._n * len(self.space.parameters) * POINT_BYTES,
            f"the whole design's {self._n:,} points",
        )

    @property
    def unit(self) -> np.ndarray:
        if self._unit is None:
            self._check_whole()
            self._unit = self.unit_rows(0, self._n)
        return self._unit

    @property
    def values(self) -> pd.DataFrame:
        if self._values is None:
            self._check_whole()
            self._values = self.rows(0, self._n)
        return self._values


class GridDesign(_LazyDesign):
    """A full grid, generated lazily: any block of points is made from its axes on demand.

    Point ``i`` is the ``i``-th combination of the parameters' grid values
    (:meth:`~tipresearch.experiments.space.Parameter.grid`), the last parameter varying
    fastest (the order of :func:`itertools.product`); its level of each parameter is
    ``numpy.unravel_index(i, sizes)``. Only the axes are held, so a sweep over a grid
    of any size holds one task's points at a time; :attr:`values` and :attr:`unit`,
    which an analysis of the whole grid reads, are made when first asked for, after a
    memory check.

    Attributes
    ----------
    axes : tuple of (list, ndarray)
        Each parameter's grid values and their unit coordinates.
    sizes : tuple of int
        Values per parameter.
    """

    _size_key = "levels"

    def __init__(self, space: ParameterSpace, levels: int) -> None:
        self.axes = tuple(p.grid(levels) for p in space.parameters)
        self.sizes = tuple(len(v) for v, _ in self.axes)
        super().__init__(space, "grid", {"levels": levels}, math.prod(self.sizes))

    def _index(self, lo: int, hi: int) -> tuple[np.ndarray, ...]:
        lo, hi = max(0, int(lo)), min(int(hi), self._n)
        return np.unravel_index(np.arange(lo, max(lo, hi), dtype=np.int64), self.sizes)

    def rows(self, lo: int, hi: int) -> pd.DataFrame:
        index = self._index(lo, hi)
        return pd.DataFrame(
            {
                p.name: np.asarray(self.axes[j][0], dtype=object if p.dist == "choice" else None)[
                    index[j]
                ]
                for j, p in enumerate(self.space.parameters)
            }
        )

    def unit_rows(self, lo: int, hi: int) -> np.ndarray:
        index = self._index(lo, hi)
        columns = [np.asarray(self.axes[j][1], dtype=float)[index[j]] for j in range(len(index))]
        return np.column_stack(columns) if columns else np.empty((0, 0))


class SaltelliDesign(_LazyDesign):
    """Saltelli's extension of a scrambled Sobol' sequence, generated lazily, block by block.

    Base sample ``i`` is row ``i`` of a scrambled Sobol' sequence in ``2 D`` dimensions
    (:class:`scipy.stats.qmc.Sobol`, seeded; its first ``D`` columns are matrix ``A``,
    the last ``D`` matrix ``B``), and gives ``D + 2`` consecutive points (``2 D + 2``
    with second-order points): ``A``, ``A`` with column ``k`` from ``B`` for each
    ``k``, (``B`` with column ``k`` from ``A`` for each ``k``), then ``B``. This is
    SALib's ``sample.sobol`` (Herman and Usher 2017; Saltelli 2002) point for point,
    made for any block of points by moving the sequence forward
    (``fast_forward``) instead of drawing every point first, so a sweep holds one task's
    points at a time. :attr:`values` and :attr:`unit`, which a whole-design analysis
    reads, are made when first asked for, after a memory check.
    """

    def __init__(self, space: ParameterSpace, n: int, seed: int, second_order: bool) -> None:
        self.n_base, self.seed, self.second_order = int(n), int(seed), bool(second_order)
        d = len(space.parameters)
        self.step = 2 * d + 2 if second_order else d + 2
        options = {"n": n, "seed": seed, "second_order": second_order}
        super().__init__(space, "sobol", options, self.n_base * self.step)

    def _base(self, first: int, count: int) -> np.ndarray:
        import warnings

        from scipy.stats import qmc

        engine = qmc.Sobol(d=2 * len(self.space.parameters), scramble=True, seed=self.seed)
        if first:
            engine.fast_forward(first)
        with warnings.catch_warnings():
            # blocks of any length: the whole design's balance is that of n base samples
            warnings.simplefilter("ignore", UserWarning)
            return engine.random(count)

    def unit_rows(self, lo: int, hi: int) -> np.ndarray:
        lo, hi = max(0, int(lo)), min(int(hi), self._n)
        d = len(self.space.parameters)
        if hi <= lo:
            return np.empty((0, d))
        b0, b1 = lo // self.step, (hi - 1) // self.step + 1
        base = self._base(b0, b1 - b0)
        a, b = base[:, :d], base[:, d:]
        blocks = np.empty((b1 - b0, self.step, d))
        blocks[:, 0] = a
        for k in range(d):
            blocks[:, 1 + k] = a
            blocks[:, 1 + k, k] = b[:, k]
            if self.second_order:
                blocks[:, 1 + d + k] = b
                blocks[:, 1 + d + k, k] = a[:, k]
        blocks[:, -1] = b
        rows = blocks.reshape(-1, d)[lo - b0 * self.step : hi - b0 * self.step]
        return np.clip(rows, 0.0, 1.0)

    def rows(self, lo: int, hi: int) -> pd.DataFrame:
        return self.space.from_unit(self.unit_rows(lo, hi))

    @property
    def values(self) -> pd.DataFrame:
        if self._values is None:  # from the whole unit coordinates, made once
            self._values = self.space.from_unit(self.unit)
        return self._values


def _whole(name: str, value: Any, lo: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int | np.integer) or value < lo:
        raise ParameterError(name, value, f"a whole number >= {lo}")
    return int(value)


#: Bytes a design holds per point and parameter while it is made: the grid's index,
#: unit coordinates, values and their copies (a margin over the 8 of each array).
POINT_BYTES = 64

#: Bytes a sweep over a lazily made design (grid, Sobol') holds per point: the mask of
#: points to do and the two copies made to cut it into tasks, with a byte to spare (the
#: design's points are made one task at a time).
GRID_POINT_BYTES = 4


def design_points(
    space: ParameterSpace,
    method: str,
    n: int | None = None,
    *,
    second_order: bool = False,
    levels: int = 5,
) -> int:
    """Points a design will have, worked out without drawing it.

    ``grid``: the product of the parameters' grid sizes; ``lhs``: ``n``; ``sobol``:
    ``n (D + 2)``, or ``n (2 D + 2)`` with ``second_order``; ``morris``:
    ``n (D + 1)`` (Saltelli 2002; Morris 1991; SALib's samplers).

    Raises
    ------
    ParameterError
        For a size that is not a whole number in range.
    """
    d = len(space.parameters)
    if method == "grid":
        levels = _whole("design.levels", levels, 2)
        return math.prod(p.grid_size(levels) for p in space.parameters)
    n = _whole("design.n", n, 1 if method != "sobol" else 2)
    if method == "lhs":
        return n
    if method == "sobol":
        return n * (2 * d + 2 if second_order else d + 2)
    return n * (d + 1)


def check_design_size(
    space: ParameterSpace,
    method: str,
    n: int | None = None,
    *,
    second_order: bool = False,
    levels: int = 5,
) -> int:
    """The design's points (:func:`design_points`), refused if they cannot fit in memory.

    A Latin hypercube or Morris design is held whole (:data:`POINT_BYTES` per point and
    parameter); a grid and a Sobol' design are made lazily (:class:`GridDesign`,
    :class:`SaltelliDesign`), so only a sweep's masks over their points count
    (:data:`GRID_POINT_BYTES` per point).

    Raises
    ------
    ParameterError
        Naming ``design.levels`` (grid) or ``design.n``, the estimate and the limit
        (:func:`tipresearch.checks.check_size`).
    """
    points = design_points(space, method, n, second_order=second_order, levels=levels)
    if method in ("grid", "sobol"):  # made lazily: only the sweep's masks grow with the points
        name, value = ("design.levels", levels) if method == "grid" else ("design.n", n)
        check_size(name, value, points * GRID_POINT_BYTES, f"{points:,} design points")
    else:
        check_size(
            "design.n", n, points * len(space.parameters) * POINT_BYTES, f"{points:,} design points"
        )
    return points


def sample(
    space: ParameterSpace,
    method: str,
    n: int | None = None,
    *,
    seed: int = 0,
    second_order: bool = False,
    num_levels: int = 4,
    levels: int = 5,
) -> Design:
    """Draw a design from a parameter space.

    Parameters
    ----------
    space : ParameterSpace
    method : {"grid", "lhs", "sobol", "morris"}
        ``grid``: every combination of each parameter's grid values
        (:meth:`Parameter.grid`); ``lhs``: ``n`` points of a Latin hypercube;
        ``sobol``: Saltelli's scheme with ``n`` base samples, ``n (D + 2)`` points
        (``n (2D + 2)`` with ``second_order``), ``n`` best a power of 2;
        ``morris``: ``n`` trajectories of ``D + 1`` points on ``num_levels`` levels.
    n : int, optional
        Number of points (lhs), base samples (sobol) or trajectories (morris);
        not used by ``grid``.
    seed : int
        Seed of the sampler (>= 0): scrambling of the Sobol' sequence, the Latin
        hypercube's permutations, the Morris starting points.
    second_order : bool
        Sobol' only: add the points needed for second-order indices.
    num_levels : int
        Morris only: levels of the grid the trajectories move on (even, >= 2).
    levels : int
        Grid only: values per continuous parameter (>= 2) unless it sets its own.

    Returns
    -------
    Design

    References
    ----------
    SALib's ``sample.sobol``, ``sample.latin`` and ``sample.morris`` (Herman and
    Usher 2017), applied in unit coordinates.
    """
    if not isinstance(space, ParameterSpace):
        raise ParameterError("space", space, "a ParameterSpace")
    if method not in METHODS:
        raise ParameterError("design.method", method, f"one of {', '.join(METHODS)}")
    seed = _whole("design.seed", seed, 0)
    check_design_size(space, method, n, second_order=second_order, levels=levels)
    options: dict[str, Any] = {"n": n, "seed": seed}
    problem = space.problem()
    if method == "grid":
        return GridDesign(space, _whole("design.levels", levels, 2))
    n = _whole("design.n", n, 1 if method != "sobol" else 2)
    options["n"] = n
    if method == "lhs":
        from SALib.sample import latin

        unit = latin.sample(problem, n, seed=seed)
    elif method == "sobol":
        if not isinstance(second_order, bool):
            raise ParameterError("design.second_order", second_order, "true or false")
        return SaltelliDesign(space, n, seed, second_order)
    else:
        from SALib.sample import morris

        num_levels = _whole("design.num_levels", num_levels, 2)
        if num_levels % 2:
            raise ParameterError("design.num_levels", num_levels, "an even whole number >= 2")
        options["num_levels"] = num_levels
        unit = morris.sample(problem, n, num_levels=num_levels, seed=seed)
    unit = np.clip(np.asarray(unit, dtype=float), 0.0, 1.0)
    return Design(space, method, unit, space.from_unit(unit), options)
