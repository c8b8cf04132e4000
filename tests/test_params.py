"""Parameters and metrics: every bad value gives one clear error."""

from __future__ import annotations

import dataclasses

import pytest

from tipresearch.errors import ParameterError
from tipresearch.model import (
    PRESETS,
    CaseType,
    Metric,
    ModelParams,
    get_metric,
    metric_names,
    parse_assignment,
)


@pytest.mark.parametrize(
    ("changes", "name"),
    [
        ({"reports_mean": -1.0}, "reports_mean"),
        ({"reports_mean": 0}, "reports_mean"),
        ({"capacity_ratio": -0.1}, "capacity_ratio"),
        ({"effort_half": 0.0}, "effort_half"),
        ({"handling_cost": -0.5}, "handling_cost"),
        ({"audit_prob": 1.5}, "audit_prob"),
        ({"audit_prob": -0.01}, "audit_prob"),
        ({"audit_penalty": -2}, "audit_penalty"),
        ({"backlog_attrition": 2}, "backlog_attrition"),
        ({"screening_noise": -0.1}, "screening_noise"),
        ({"dispersion": -1}, "dispersion"),
        ({"n_bureaus": 0}, "n_bureaus"),
        ({"n_bureaus": 2.5}, "n_bureaus"),
        ({"women.beta_a": 0}, "women.beta_a"),
        ({"children.beta_b": -3}, "children.beta_b"),
        ({"children.dna_effect": 1.0}, "children.dna_effect"),
        ({"children.backlog_hazard": 1.2}, "children.backlog_hazard"),
        ({"women.victims_per_solved": 0.5}, "women.victims_per_solved"),
        ({"children.recall_prob": 1.5}, "children.recall_prob"),
        ({"women.recall_prob": -0.1}, "women.recall_prob"),
        ({"audit_prob": "high"}, "audit_prob"),
        ({"audit_prob": True}, "audit_prob"),
        ({"audit_prob": float("nan")}, "audit_prob"),
        ({"reports_mean": float("inf")}, "reports_mean"),
        ({"reports_mean": 1e12}, "reports_mean"),
        ({"audit_penalty": float("inf")}, "audit_penalty"),
        ({"handling_cost": float("-inf")}, "handling_cost"),
        ({"women.victims_per_solved": float("inf")}, "women.victims_per_solved"),
    ],
)
def test_bad_values_name_parameter_value_and_range(changes, name):
    with pytest.raises(ParameterError) as info:
        ModelParams().updated(changes)
    err = info.value
    assert err.name == name
    value = next(iter(changes.values()))
    assert repr(value) in str(err) or str(value) in str(err)
    assert "allowed" in str(err) and err.allowed


def test_error_states_the_allowed_range():
    with pytest.raises(ParameterError, match=r"'audit_prob' = 1.5 .*\[0, 1\]"):
        ModelParams(audit_prob=1.5)
    with pytest.raises(ParameterError, match=r"'women.beta_a' = 0 .*> 0"):
        CaseType("women", 0, 1)
    with pytest.raises(ParameterError, match=r"'children.recall_prob' = 1.5 .*\[0, 1\]"):
        CaseType("children", 1, 3, recall_prob=1.5)


def test_unknown_key_lists_known_ones():
    with pytest.raises(ParameterError) as info:
        ModelParams().updated({"audit_probability": 0.3})
    assert info.value.name == "audit_probability"
    assert "audit_prob" in info.value.allowed and "children.dna_effect" in info.value.allowed


def test_updated_is_a_copy_with_dotted_keys():
    base = ModelParams()
    new = base.updated({"children.dna_effect": 0.3, "case_types.women.beta_a": 3.0}, audit_prob=0.4)
    assert new.case_type("children").dna_effect == 0.3
    assert new.case_type("women").beta_a == 3.0
    assert new.audit_prob == 0.4
    assert base.case_type("children").dna_effect == 0.0  # unchanged
    with pytest.raises(dataclasses.FrozenInstanceError):
        new.audit_prob = 0.1  # type: ignore[misc]
    flat = new.to_dict()
    assert flat["children.dna_effect"] == 0.3 and flat["audit_prob"] == 0.4
    assert hash(new) != hash(base)


def test_shares_must_sum_to_one_and_names_be_unique():
    with pytest.raises(ParameterError, match="sum to 1"):
        ModelParams().updated({"women.share": 0.7})
    with pytest.raises(ParameterError, match="distinct"):
        ModelParams(case_types=(CaseType("a", 1, 1), CaseType("a", 1, 1)))


def test_unknown_metric_lists_known_ones():
    with pytest.raises(ParameterError) as info:
        get_metric("arrests")
    for name in metric_names():
        assert name in str(info.value)
    with pytest.raises(ParameterError, match="metric.speed"):
        get_metric({"speed": 1.0})


def test_metric_presets_and_custom_weights():
    assert set(PRESETS) >= {"solved_count", "clearance_rate", "opened_count", "balanced"}
    assert any(m.target is not None and m.bonus > 0 for m in PRESETS.values())
    custom = get_metric({"solved": 1.0, "rate": 0.3})
    assert custom.rate == 0.3 and custom.name == "custom"
    with pytest.raises(ParameterError, match="metric.target"):
        Metric("x", bonus=1.0)
    with pytest.raises(ParameterError, match="metric.target"):
        Metric("x", target=1.5, bonus=1.0)
    with pytest.raises(ParameterError, match="metric.quota_penalty"):
        Metric("x", quota=0.1, quota_penalty=-1)


def test_parse_assignment():
    assert parse_assignment("audit_prob=0.3") == ("audit_prob", 0.3)
    assert parse_assignment("n_bureaus=7") == ("n_bureaus", 7)
    with pytest.raises(ParameterError, match="--set"):
        parse_assignment("audit_prob")


def test_metric_weights_are_checked_for_type_and_nan():
    with pytest.raises(ParameterError, match="metric.cost_weight"):
        Metric("x", cost_weight=float("nan"))
    with pytest.raises(ParameterError, match="metric.penalty_weight"):
        Metric("x", penalty_weight="high")  # type: ignore[arg-type]


def test_per_type_audit_overrides_the_model_wide_audit():
    params = ModelParams(audit_prob=0.05, audit_penalty=0.5).updated(
        {"children.audit_prob": 0.9, "children.audit_penalty": 3.0}
    )
    assert params.audit(params.case_type("children")) == (0.9, 3.0)
    assert params.audit(params.case_type("women")) == (0.05, 0.5)
    with pytest.raises(ParameterError, match="children.audit_prob"):
        params.updated({"children.audit_prob": 1.5})


@pytest.mark.parametrize(
    ("text", "value"),
    [("x=1.0e12", 1e12), ("x=1e5", 1e5), ("x=-2.5E-3", -0.0025), ("x=7", 7), ("x=.5", 0.5)],
)
def test_numbers_in_exponent_form_are_numbers(text, value):
    key, parsed = parse_assignment(text)
    assert key == "x" and parsed == value and not isinstance(parsed, str)


@pytest.mark.parametrize("text", ["x=1.2.3", "x=abc", "x=1e", "x=e5"])
def test_text_that_is_not_a_number_stays_text(text):
    assert isinstance(parse_assignment(text)[1], str)


def test_every_field_has_its_check_and_updated_equals_a_new_object():
    from tipresearch.model.params import _TOP_CHECKS, _TYPE_CHECKS

    # a field added without a check would be neither checked nor settable
    assert list(_TOP_CHECKS) == [f.name for f in dataclasses.fields(ModelParams)][1:]
    assert list(_TYPE_CHECKS) == [f.name for f in dataclasses.fields(CaseType)][1:]
    base = ModelParams()
    changes = {
        "reports_mean": 40,  # an int: stored as a float, as a new object would
        "screening_noise": 0.07,
        "capacity_ratio": 0.3,
        "children.dna_effect": 0.25,
        "women.audit_prob": 0.5,
        "children.beta_a": 2,
    }
    new = base.updated(changes)
    women = dataclasses.replace(base.case_types[0], audit_prob=0.5)
    children = dataclasses.replace(base.case_types[1], dna_effect=0.25, beta_a=2)
    made = dataclasses.replace(
        base,
        case_types=(women, children),
        reports_mean=40,
        screening_noise=0.07,
        capacity_ratio=0.3,
    )
    assert new == made and hash(new) == hash(made)
    assert type(new.reports_mean) is float and type(new.case_types[1].beta_a) is float
    assert base == ModelParams()  # the original is unchanged
    assert base.updated({}) == base


def test_metric_weighted_equals_a_new_metric_and_checks_what_changed():
    from tipresearch.model.metrics import _WEIGHTS

    # a weight added to Metric without its check would be neither checked nor settable
    assert {*_WEIGHTS, "name", "target"} == {f.name for f in dataclasses.fields(Metric)}
    base = get_metric("clearance_rate")
    new = base.weighted(rate=1, solved=0.5)
    assert new == dataclasses.replace(base, rate=1.0, solved=0.5)
    assert type(new.rate) is float and base == get_metric("clearance_rate")
    with pytest.raises(ParameterError, match="metric.rate"):
        base.weighted(rate=float("nan"))
    with pytest.raises(ParameterError, match="metric.quota_penalty"):
        base.weighted(quota_penalty=-1.0)
    with pytest.raises(ParameterError, match="metric.target"):
        base.weighted(bonus=1.0)  # a bonus needs a target
    with pytest.raises(ParameterError, match="metric.speed"):
        base.weighted(speed=1.0)
    assert base.weighted(bonus=1.0, target=0.5).target == 0.5
