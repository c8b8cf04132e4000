"""Reforms as dated switches on a monthly calendar, and timelines that compose them.

A :class:`Reform` changes model parameters and metric weights from a start month
to an optional end month (both inclusive). A change is written as in
:meth:`tipresearch.params.ModelParams.updated`, with a value that is

- a number: the new value (``{"audit_prob": 0.9}``);
- ``{"times": x}``: the current value multiplied by ``x``
  (``{"children.beta_a": {"times": 1.5}}``);
- ``{"plus": x}``: ``x`` added to the current value;
- ``{"at_least": x}`` / ``{"at_most": x}``: the larger / smaller of the current
  value and ``x`` (a campaign that raises audits to at least 0.3 leaves a
  stricter audit in place).

Metric changes name :class:`tipresearch.metrics.Metric` weights the same way
(``{"solved": {"times": 2}}``). Keys may be scoped to one case type with
``TYPE.``: ``children.dna_effect`` and ``children.audit_prob`` are case-type
fields (an unset per-type audit starts from the model-wide value);
``children.handling_cost`` (a model-wide field) or ``children.solved`` (a metric
weight) apply to that type only, which :func:`simulate_timeline` handles by
running the case types one by one.

After its end a reform may leave part of its change behind (``persist``, the
institutionalised share): the value becomes ``v + persist (v' - v)``, where ``v``
is the value before the reform and ``v'`` the value with it.

Composition order
-----------------
In a given month the reforms in effect are applied one after the other, ordered
by ``priority`` (lower first), then start month, then their position in the
timeline's list. Each change acts on the value left by the reforms before it: a
later absolute value replaces an earlier one, multipliers and additions compound.

Calendar
--------
Periods are calendar months. A reform dated to a day (9 April 2009) takes effect
for the whole of that month; a reform dated to a year only (2008) starts in its
January. The bureaus are drawn once per simulation: a reform may scale every
bureau's incidence and capacity through ``reports_mean`` and ``capacity_ratio``,
but not change ``n_bureaus``, ``reports_sigma``, ``capacity_sigma`` or the case
types' ``share``.

A reform (:class:`Reform`, :func:`as_month`) is in :mod:`tipresearch.reform_spec`,
timelines and simulations with them (:class:`Timeline`, :func:`simulate_timeline`)
in :mod:`tipresearch.timeline`, and reform files (:func:`load_reforms`,
:func:`reforms_from_dict`) in :mod:`tipresearch.reform_files`; all are importable
from this module as well.

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
