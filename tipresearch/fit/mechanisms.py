"""Mechanisms the misses point to, each judged against the committed fit.

A mechanism enters the model as a switch (off: the calendar fitted so far). It is
worth keeping on only if the fit with it is better on its targets *and* out of
sample. :func:`mechanism_table` compares fits made by ``tipresearch calibrate``
(each in its own folder, with ``fit.json`` and ``out_of_sample.csv``) with the
committed fit: the objective on the targets, and the figures held out of the
``full`` design (the published figures no fit is fitted to).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path

import pandas as pd

from tipresearch.errors import ParameterError

from .parameters import FITTED

__all__ = ["SWITCHES", "mechanism_table", "mechanism_verdict"]

#: The mechanism switches built so far: run name -> (parameter, bounds for
#: ``calibrate --also-fit``, what it switches on). Each is off in the committed fit.
SWITCHES: dict[str, tuple[str, str, str]] = {
    "recall": (
        "reforms.recall_prob",
        "0:0.05",
        "declined children's reports brought back, registered and solved during the 2009 "
        "campaign (docs/model.md §3.3.10)",
    ),
    "reporting": (
        "reforms.reporting_times",
        "1:3",
        "more reports reach the police from April 2009: a victims' reporting stage apart "
        "from police recording (docs/model.md §3.3.12)",
    ),
    "backlog": (
        "dynamics.backlog_effort",
        "0:1",
        "unsolved cases in the backlog take effort from new cases (docs/model.md §3.3.11)",
    ),
    "abolition": (
        "reforms.abolition_solved_times",
        "0:1",
        "the 2015 abolition also removes the weight on cases solved (docs/model.md §3.3.12)",
    ),
}


def _summary(folder: Path) -> dict:
    fit_path, oos_path = folder / "fit.json", folder / "out_of_sample.csv"
    for path in (fit_path, oos_path):
        if not path.exists():
            raise ParameterError("folder", str(folder), f"a calibrate output with {path.name}")
    data = json.loads(fit_path.read_text(encoding="utf-8"))
    oos = pd.read_csv(oos_path)
    held = oos[(oos["design"] == "full") & (oos["role"] == "held out")]
    if held.empty:
        raise ParameterError("folder", str(folder), "an out_of_sample.csv with the full design")
    fitted = {p["key"] for p in data["parameters"]}
    extra = sorted(fitted - {p.key for p in FITTED})
    return {
        "objective": float(data["objective"]),
        "fitted_parameters": len(fitted),
        "mechanism_estimates": "; ".join(
            f"{k} = {round(data['estimates'][k], 6):.4g}" for k in extra
        ),
        "held_out_figures": len(held),
        "held_out_median_abs_error": float(held["relative_error"].abs().median()),
        "held_out_in_band": int(held["in_band"].sum()),
    }


def mechanism_table(
    runs: Mapping[str, str | Path], baseline: str, descriptions: Mapping[str, str] | None = None
) -> pd.DataFrame:
    """Each run's fit on its targets and out of sample, against the baseline's.

    Parameters
    ----------
    runs : mapping of str to path
        Name of each run (the baseline among them) to its ``tipresearch calibrate``
        output folder.
    baseline : str
        The name of the committed fit's run.
    descriptions : mapping of str to str, optional
        What each run switches on.

    Returns
    -------
    pandas.DataFrame
        One row per run: ``run``, ``description``, ``objective``,
        ``fitted_parameters``, ``mechanism_estimates``, ``held_out_figures``,
        ``held_out_median_abs_error``, ``held_out_in_band``, and ``better_fit``,
        ``better_out_of_sample`` and ``keep`` (both) against the baseline.
    """
    if baseline not in runs:
        raise ParameterError("baseline", baseline, f"one of the runs: {', '.join(runs)}")
    rows = {name: _summary(Path(folder)) for name, folder in runs.items()}
    base = rows[baseline]
    out = []
    for name, row in rows.items():
        better_fit = row["objective"] < base["objective"]
        better_oos = row["held_out_median_abs_error"] < base["held_out_median_abs_error"]
        out.append(
            {
                "run": name,
                "description": (descriptions or {}).get(name, ""),
                **row,
                "better_fit": name != baseline and better_fit,
                "better_out_of_sample": name != baseline and better_oos,
                "keep": name != baseline and better_fit and better_oos,
            }
        )
    return pd.DataFrame(out)


def mechanism_verdict(table: pd.DataFrame, noise: float = 5e-4) -> str:
    """A paragraph on a :func:`mechanism_table`: where the switches end, and what is kept.

    Parameters
    ----------
    table : pandas.DataFrame
        From :func:`mechanism_table` (or ``data/fit/mechanisms.csv``), with a
        ``committed`` run.
    noise : float
        Changes of the objective below this are called simulation noise (and changes
        of the median error held out below ten times it).
    """
    need = {"run", "objective", "mechanism_estimates", "held_out_median_abs_error", "keep"}
    if not isinstance(table, pd.DataFrame) or not need <= set(table.columns):
        raise ParameterError("table", type(table).__name__, f"a mechanism table with {need}")
    if "committed" not in set(table["run"]):
        raise ParameterError("table", list(table["run"]), "a table with the committed run")
    committed = table.set_index("run").loc["committed"]
    others = table[table["run"] != "committed"].set_index("run")
    if others.empty:
        return "No mechanism has been fitted."
    gain = float(committed["objective"] - others["objective"].min())
    base_error = float(committed["held_out_median_abs_error"])
    errors = others["held_out_median_abs_error"].astype(float)
    if gain < noise and float((errors - base_error).abs().max()) < 10 * noise:
        effect = (
            f"None of the {len(others)} fits ends below the committed one's objective "
            f"({committed['objective']:.4f}) by more than simulation noise, and the median "
            f"error on the figures held out stays at {base_error:.1%}."
        )
    else:
        effect = (
            f"The best of the {len(others)} lowers the objective by {gain:.4f} from "
            f"{committed['objective']:.4f}; the median error on the figures held out goes "
            f"from {base_error:.1%} to between {errors.min():.1%} and {errors.max():.1%}."
        )
    kept = [str(r) for r in others.index[others["keep"].astype(bool)]]
    verdict = (
        f"Kept: {', '.join(kept)}."
        if kept
        else "None improves both, so every switch stays off: the figures do not ask for "
        "these mechanisms at the fitted values, and the misses out of sample remain the "
        "model's."
    )
    ends = "; ".join(str(e) for e in others["mechanism_estimates"])
    return f"Freed beside the other parameters, the switches end at {ends}. {effect} {verdict}"
