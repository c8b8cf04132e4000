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
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from tipresearch.checks import check_size
from tipresearch.errors import ParameterError

from .space import ParameterSpace

__all__ = ["METHODS", "Design", "sample"]

#: Design methods accepted by :func:`sample`.
METHODS = ("grid", "lhs", "sobol", "morris")


@dataclass(frozen=True)
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

    space: ParameterSpace
    method: str
    unit: np.ndarray
    values: pd.DataFrame
    options: dict[str, Any]

    def __len__(self) -> int:
        return int(self.unit.shape[0])

    def point(self, i: int) -> dict[str, Any]:
        """Values of point ``i`` as plain Python scalars."""
        row = self.values.iloc[i]
        return {k: (v.item() if isinstance(v, np.generic) else v) for k, v in row.items()}


def _whole(name: str, value: Any, lo: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int | np.integer) or value < lo:
        raise ParameterError(name, value, f"a whole number >= {lo}")
    return int(value)


#: Bytes a design holds per point and parameter while it is made: the grid's index,
#: unit coordinates, values and their copies (a margin over the 8 of each array).
POINT_BYTES = 64


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

    Raises
    ------
    ParameterError
        Naming ``design.levels`` (grid) or ``design.n``, the estimate and the limit
        (:func:`tipresearch.checks.check_size`).
    """
    points = design_points(space, method, n, second_order=second_order, levels=levels)
    check_size(
        "design.levels" if method == "grid" else "design.n",
        levels if method == "grid" else n,
        points * len(space.parameters) * POINT_BYTES,
        f"{points:,} design points",
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
        levels = _whole("design.levels", levels, 2)
        axes = [p.grid(levels) for p in space.parameters]
        # every combination, the last parameter varying fastest (itertools.product's
        # order), from index arithmetic: no Python tuple per point
        sizes = tuple(len(v) for v, _ in axes)
        index = np.column_stack(np.unravel_index(np.arange(math.prod(sizes)), sizes))
        unit = np.column_stack([axes[j][1][index[:, j]] for j in range(len(axes))])
        values = pd.DataFrame(
            {
                p.name: np.asarray(axes[j][0], dtype=object if p.dist == "choice" else None)[
                    index[:, j]
                ]
                for j, p in enumerate(space.parameters)
            }
        )
        options = {"levels": levels}
        return Design(space, method, unit.astype(float), values, options)
    n = _whole("design.n", n, 1 if method != "sobol" else 2)
    options["n"] = n
    if method == "lhs":
        from SALib.sample import latin

        unit = latin.sample(problem, n, seed=seed)
    elif method == "sobol":
        import warnings

        from SALib.sample import sobol

        if not isinstance(second_order, bool):
            raise ParameterError("design.second_order", second_order, "true or false")
        options["second_order"] = second_order
        with warnings.catch_warnings():
            # SALib warns when n is not a power of 2; the design stays valid
            warnings.simplefilter("ignore", UserWarning)
            unit = sobol.sample(problem, n, calc_second_order=second_order, seed=seed)
    else:
        from SALib.sample import morris

        num_levels = _whole("design.num_levels", num_levels, 2)
        if num_levels % 2:
            raise ParameterError("design.num_levels", num_levels, "an even whole number >= 2")
        options["num_levels"] = num_levels
        unit = morris.sample(problem, n, num_levels=num_levels, seed=seed)
    unit = np.clip(np.asarray(unit, dtype=float), 0.0, 1.0)
    return Design(space, method, unit, space.from_unit(unit), options)
