"""Recovery of known values by the fit, with the coverage of its robust errors."""

from __future__ import annotations

import dataclasses

import pandas as pd
import pytest

from tipresearch.errors import ParameterError
from tipresearch.fit import (
    RECOVERY_DATA_SEED,
    FitParameter,
    china_targets,
    coverage_table,
    recovery,
)
from tipresearch.model import Dynamics
from tipresearch.reforms import ChinaModel

BASE = dataclasses.replace(
    ChinaModel(), end="2011-12", dynamics=Dynamics(adjust_rate=0.15)
).updated({"settings.n_bureaus": 30, "settings.reports_per_bureau": 1.3})
PARAMETERS = (FitParameter("settings.women_solvability", 0.3, 0.95),)
TARGETS = tuple(t for t in china_targets() if t.year != 2020)


def _small_recovery(truth, replications, **kwargs):
    return recovery(
        BASE,
        truth,
        PARAMETERS,
        TARGETS,
        replications=replications,
        screen=4,
        max_evaluations=25,
        **kwargs,
    )


def test_recovery_refits_each_replication_and_resumes():
    truth = {"settings.women_solvability": 0.7}
    saved = []
    rows = _small_recovery(truth, 2, after_each=saved.append)
    assert list(rows.replication) == [0, 1]
    assert len(saved) == 2 and len(saved[-1]) == 2
    # near the truth, and the two data sets (different seeds) give different estimates
    assert rows.estimate.sub(0.7).abs().max() < 0.07
    assert rows.estimate.iloc[0] != rows.estimate.iloc[1]
    assert (rows.robust_std_error > 0).all()
    table = coverage_table(rows)
    assert table.loc[0, "replications"] == 2
    assert table.loc[0, "coverage_90"] == rows.covered_90.mean()
    assert table.loc[0, "rmse"] >= abs(table.loc[0, "bias"])
    # the full-refit bootstrap's error is the spread of the refitted estimates
    assert table.loc[0, "refit_std_error"] == pytest.approx(rows.estimate.std(ddof=1))
    assert table.loc[0, "refit_over_robust"] == pytest.approx(
        rows.estimate.std(ddof=1) / rows.robust_std_error.mean()
    )
    # the objective at the truth is known for every refit, and on this one-parameter
    # problem the search finds a point at least as good as the truth every time
    assert (rows.truth_objective >= 0).all() and rows.truth_objective.notna().all()
    assert (rows.objective <= rows.truth_objective * (1 + 1e-9)).all()
    assert table.loc[0, "search_found_truth"] == 1.0
    # rows saved without it (an earlier version) get it recomputed, the same numbers
    refilled = _small_recovery(truth, 2, done=rows.drop(columns="truth_objective"))
    assert refilled.truth_objective.tolist() == pytest.approx(rows.truth_objective.tolist())
    # a third replication reuses the first two
    more = _small_recovery(truth, 3, done=rows)
    assert list(more.replication) == [0, 1, 2]
    assert more.iloc[:2].equals(rows)
    # the same refits on two workers give the same rows
    parallel = _small_recovery(truth, 2, workers=2)
    pd.testing.assert_frame_equal(parallel, rows)


def test_recovery_refuses_bad_input():
    with pytest.raises(ParameterError, match="truth"):
        recovery(BASE, {}, PARAMETERS, TARGETS, replications=1)
    with pytest.raises(ParameterError, match="replications"):
        recovery(BASE, {"settings.women_solvability": 0.7}, PARAMETERS, TARGETS, replications=0)
    with pytest.raises(ParameterError, match="fit_seeds"):
        recovery(
            BASE,
            {"settings.women_solvability": 0.7},
            PARAMETERS,
            TARGETS,
            replications=2,
            fit_seeds=(RECOVERY_DATA_SEED + 1,),
        )
