"""Reforms as dated switches on a monthly calendar, and timelines that compose them.

The public names of three modules, importable from here:

- :mod:`tipresearch.reform_spec`: a reform (:class:`Reform`), a dated change of
  model parameters and metric weights, its operators (``times``, ``plus``,
  ``at_least``, ``at_most``), the share it leaves behind after its end
  (``persist``), and calendar months (:func:`as_month`);
- :mod:`tipresearch.timeline`: timelines (:class:`Timeline`), the order in which
  reforms in effect in the same month are composed, and simulations with them
  (:func:`simulate_timeline`);
- :mod:`tipresearch.reform_files`: reforms read from YAML files or dicts
  (:func:`load_reforms`, :func:`reforms_from_dict`).

References
----------
Model brief (``docs/model.md``), "Dynamics and reforms"; dates from
``data/reform_timeline.csv``.
"""

from __future__ import annotations

from .reform_files import REFORM_KEYS, load_reforms, reforms_from_dict
from .reform_spec import FIXED_PARAMETERS, OPERATORS, Reform, as_month
from .timeline import Timeline, simulate_timeline

__all__ = [
    "FIXED_PARAMETERS",
    "OPERATORS",
    "REFORM_KEYS",
    "Reform",
    "Timeline",
    "as_month",
    "load_reforms",
    "reforms_from_dict",
    "simulate_timeline",
]
