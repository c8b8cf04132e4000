"""Checks of a fitted China calendar against published figures.

:func:`fit_checks` sets the mean annual counts of simulated replications
(:func:`replication_means`) beside the published counts they are checked on,
with the relative error allowed for each (:data:`CHECK_ALLOWED`);
:func:`campaign_solved` gives the cases solved over the window of the 2009
campaign; :func:`trade_off_table` compares model variants on these figures.
"""

from __future__ import annotations

from collections.abc import Mapping

import pandas as pd

from tipresearch.data import published_value
from tipresearch.errors import ParameterError
from tipresearch.reforms import to_annual, window_totals

__all__ = [
    "CHECK_ALLOWED",
    "campaign_solved",
    "fit_checks",
    "replication_means",
    "trade_off_table",
]


#: Rows of :func:`fit_checks`: label, published row id(s), year, case type and count.
#: A pair of ids is a ratio, later year over earlier year.
_CHECK_ROWS: tuple[tuple[str, tuple[str, ...], tuple[int, ...], str, str], ...] = (
    (
        "registered 2009 / 2008",
        ("cn_reg_traf_2009", "cn_reg_traf_2008"),
        (2009, 2008),
        "all",
        "registered",
    ),
    ("registered 2011", ("cn_reg_traf_2011",), (2011,), "all", "registered"),
    ("solved 2011, women", ("cn_solved_women_2011",), (2011,), "women", "solved"),
    ("solved 2011, children", ("cn_solved_children_2011",), (2011,), "children", "solved"),
    ("registered 2020", ("cn_reg_traf_2020",), (2020,), "all", "registered"),
)

#: Largest relative error asked of each row of :func:`fit_checks` (None: not asked).
CHECK_ALLOWED: dict[str, float | None] = {
    "registered 2009 / 2008": 0.10,
    "registered 2011": 0.15,
    "solved 2011, women": 0.15,
    "solved 2011, children": 0.15,
    "registered 2020": None,
}


def replication_means(annual: pd.DataFrame) -> pd.DataFrame:
    """Mean registered and solved counts over replications, by year and case type.

    Parameters
    ----------
    annual : pandas.DataFrame
        Annual counts per replication (:func:`tipresearch.reforms.china.to_annual`), with
        ``year``, ``case_type``, ``registered`` and ``solved``.

    Returns
    -------
    pandas.DataFrame
        Indexed by ``(year, case_type)``, columns ``registered`` and ``solved``.
    """
    missing = {"year", "case_type", "registered", "solved"} - set(annual.columns)
    if missing:
        raise ParameterError(
            "annual", f"a frame without {sorted(missing)}", "annual counts from to_annual"
        )
    return annual.groupby(["year", "case_type"], observed=True)[["registered", "solved"]].mean()


def _mean_at(means: pd.DataFrame, year: int, case_type: str, count: str) -> float:
    if (year, case_type) not in means.index:
        raise ParameterError(
            "means", f"no row for ({year}, {case_type!r})", "means covering 2008 to 2020"
        )
    return float(means.loc[(year, case_type), count])


def _check_values(means: pd.DataFrame, published: pd.DataFrame) -> dict[str, tuple[float, float]]:
    """Published and model value of each row of :data:`_CHECK_ROWS`."""
    out = {}
    for label, ids, years, case_type, count in _CHECK_ROWS:
        pub = [published_value(published, i) for i in ids]
        mod = [_mean_at(means, y, case_type, count) for y in years]
        if len(ids) == 2:
            out[label] = (pub[0] / pub[1], mod[0] / mod[1])
        else:
            out[label] = (pub[0], mod[0])
    return out


def fit_checks(means: pd.DataFrame, published: pd.DataFrame) -> pd.DataFrame:
    """The fitted model's annual means against the published counts it is checked on.

    Rows: the rise of registered cases from 2008 to 2009 (a ratio, 2009 over
    2008), registered cases in 2011, cases solved in 2011 by type (women,
    children) and registered cases in 2020.

    Parameters
    ----------
    means : pandas.DataFrame
        Mean counts over replications (:func:`replication_means`), indexed by
        ``(year, case_type)``, covering 2008, 2009, 2011 and 2020.
    published : pandas.DataFrame
        The published figures (:func:`tipresearch.data.published.load_published`).

    Returns
    -------
    pandas.DataFrame
        Indexed by the row label, columns ``published``, ``model``, ``allowed``
        (:data:`CHECK_ALLOWED`) and ``relative_error`` = model / published - 1.

    References
    ----------
    China Statistical Yearbook 2010 (registered cases 2008, 2009); the yearbook
    as cited for 2011 and 2020; Xinhua for cases solved in 2011 (rows of
    ``data/published/``, with their sources).
    """
    values = _check_values(means, published)
    checks = pd.DataFrame(
        {
            "published": [p for p, _ in values.values()],
            "model": [m for _, m in values.values()],
            "allowed": [CHECK_ALLOWED[label] for label in values],
        },
        index=list(values),
    )
    checks["relative_error"] = checks.model / checks.published - 1
    return checks


def campaign_solved(monthly: pd.DataFrame, published: pd.DataFrame) -> pd.Series:
    """Mean cases solved by type over the window of the cable's campaign counts.

    The window runs from the earliest ``period_start`` to the latest ``period_end``
    of the ``cable_solved_*`` rows of ``published`` (April to mid-August 2009);
    months are weighted by their days inside it
    (:func:`tipresearch.reforms.china.window_totals`).

    Parameters
    ----------
    monthly : pandas.DataFrame
        Monthly counts per replication (:func:`tipresearch.reforms.china.replicate` with
        ``monthly=True``).
    published : pandas.DataFrame
        The published figures.

    Returns
    -------
    pandas.Series
        Mean solved cases over replications, indexed by ``case_type``.

    References
    ----------
    09BEIJING2594 ¶8 (cases solved during the campaign, by type).
    """
    cable = _cable_rows(published)
    window = (cable["period_start"].min(), cable["period_end"].max())
    totals = window_totals(monthly, *window)
    return totals.groupby("case_type", observed=True)["solved"].mean()


def _cable_rows(published: pd.DataFrame) -> pd.DataFrame:
    cable = published[published["id"].str.startswith("cable_solved_")].set_index("case_type")
    if cable.empty:
        raise ParameterError("published", "a table without cable_solved_* rows", "load_published()")
    return cable


def trade_off_table(runs: Mapping[str, pd.DataFrame], published: pd.DataFrame) -> pd.DataFrame:
    """Compare model variants on the 2009/2008 ratio, the 2011 counts and the campaign counts.

    Parameters
    ----------
    runs : Mapping[str, pandas.DataFrame]
        Monthly counts per replication (:func:`tipresearch.reforms.china.replicate` with
        ``monthly=True``) by variant name, e.g. the fitted model and one with a
        slower adjustment rate, run on the same seeds.
    published : pandas.DataFrame
        The published figures (:func:`tipresearch.data.published.load_published`).

    Returns
    -------
    pandas.DataFrame
        Rows ``registered 2009 / 2008``, ``registered 2011``, ``solved 2011,
        women``, ``solved 2011, children``, ``campaign solved, women`` and
        ``campaign solved, children``; one column of model means per variant,
        ``published``, and ``error, NAME`` = NAME / published - 1 per variant.

    References
    ----------
    Published rows as in :func:`fit_checks`; the campaign counts from
    09BEIJING2594 ¶8 (:func:`campaign_solved`).
    """
    if not runs:
        raise ParameterError("runs", "{}", "at least one named frame of monthly counts")
    labels = ["registered 2009 / 2008", "registered 2011", "solved 2011, women"]
    labels.append("solved 2011, children")
    cable = _cable_rows(published)
    columns: dict[str, list[float]] = {}
    pub: list[float] = []
    for name, monthly in runs.items():
        values = _check_values(replication_means(to_annual(monthly)), published)
        solved = campaign_solved(monthly, published)
        columns[name] = [values[label][1] for label in labels]
        columns[name] += [float(solved["women"]), float(solved["children"])]
        pub = [values[label][0] for label in labels]
    table = pd.DataFrame(
        columns, index=[*labels, "campaign solved, women", "campaign solved, children"]
    )
    table["published"] = [*pub, cable.loc["women", "value"], cable.loc["children", "value"]]
    for name in runs:
        table[f"error, {name}"] = table[name] / table["published"] - 1
    return table
