"""Bad input on the command line: exit 2, one line naming the parameter, no traceback.

Each case runs the command line in this process (an unexpected exception fails the
test, so no traceback can pass); the message must be a single line that names the
option or parameter at fault.
"""

from __future__ import annotations

import string
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tipresearch.cli import main as cli_main


def refused(capsys, argv: list[str]) -> str:
    """Run ``argv``; check exit 2 and one line of error; return that line."""
    try:
        rc = cli_main(argv)
    except SystemExit as exc:  # argparse's own refusals
        rc = exc.code
    err = capsys.readouterr().err.strip()
    assert rc == 2, (argv, rc, err)
    lines = [line for line in err.splitlines() if line.strip()]
    assert lines, argv
    assert "Traceback" not in err
    last = lines[-1]
    assert "error" in last, err
    return last


SIMULATE = ["simulate", "--metric", "solved_count", "--periods", "2"]


@pytest.mark.parametrize(
    ("extra", "named"),
    [
        (["--set", "reports_mean=.inf"], "reports_mean"),
        (["--set", "audit_penalty=.inf"], "audit_penalty"),
        (["--set", "reports_mean=-.inf"], "reports_mean"),
        (["--set", "reports_mean=.nan"], "reports_mean"),
        (["--set", "reports_mean=1.0e12"], "reports_mean"),
        (["--set", "n_bureaus=0", "--bureaus", "5"], "--set n_bureaus"),
        (["--bureaus", "1000000000", "--periods", "100000"], "--periods"),
        (["--set", "capacity_ratio=high"], "capacity_ratio"),
        (["--set", "nonsense=1"], "nonsense"),
        (["--set", "novalue"], "--set"),
        (["--seed", "-1"], "seed"),
        (["--engine", "quantum"], "engine"),
        (["--start", "2008-13"], "start"),
    ],
)
def test_simulate_refuses_bad_values(capsys, tmp_path, extra, named):
    line = refused(capsys, [*SIMULATE, "--out", str(tmp_path / "a.csv"), *extra])
    assert named in line
    assert not (tmp_path / "a.csv").exists()


def test_simulate_refuses_bad_outputs_before_working(capsys, tmp_path):
    (tmp_path / "file").write_text("x", encoding="utf-8")
    (tmp_path / "folder.csv").mkdir()
    out = str(tmp_path / "a.csv")
    cases = [
        (["--out", str(tmp_path / "file" / "a.csv")], "--out"),  # a file as the parent
        (["--out", str(tmp_path / "folder.csv")], "--out"),  # a folder in place of a file
        (["--out", str(tmp_path / "a.txt")], "--out"),
        (["--out", out, "--summary", out], "--summary"),  # the same file twice
        (["--out", out, "--summary", str(tmp_path / "file" / "s.csv")], "--summary"),
    ]
    for extra, named in cases:
        line = refused(capsys, [*SIMULATE, *extra])
        assert named in line, line
    assert not (tmp_path / "a.csv").exists()


_KEYS = ["reports_mean", "audit_prob", "audit_penalty", "capacity_ratio", "children.dna_effect"]
_VALUES = st.one_of(
    st.floats(allow_nan=True, allow_infinity=True).map(repr),
    st.sampled_from([".inf", "-.inf", ".nan", "1e400", "-0", "true", "[1, 2]", "{a: 1}", "''"]),
    st.text(alphabet=string.ascii_letters + string.digits + ".-+e", max_size=8),
)


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(key=st.sampled_from(_KEYS), value=_VALUES)
def test_generated_set_values_run_or_are_refused_by_name(capsys, tmp_path, key, value):
    out = tmp_path / "g.csv"
    argv = [*SIMULATE, "--bureaus", "2", "--out", str(out), "--set", f"{key}={value}", "--quiet"]
    try:
        rc = cli_main(argv)
    except SystemExit as exc:
        rc = exc.code
    err = capsys.readouterr().err.strip()
    assert "Traceback" not in err
    if rc == 0:
        assert out.exists()
        out.unlink()
    else:
        assert rc == 2, (argv, rc, err)
        lines = err.splitlines()
        assert len(lines) == 1 and key.split(".")[-1] in lines[0], err


# --------------------------------------------------------------------------- sweeps


def _spec(tmp_path, **changes) -> str:
    import yaml

    spec = {
        "name": "bad",
        "parameters": {"audit_prob": {"bounds": [0.0, 0.4]}, "metric.rate": {"bounds": [0, 1]}},
        "design": {"method": "lhs", "n": 4, "seed": 1},
        "model": {"metric": "clearance_rate", "periods": 2, "params": {"n_bureaus": 2}},
        "replications": 1,
        "seed": 3,
    }
    spec.update(changes)
    path = tmp_path / "spec.yaml"
    path.write_text(yaml.safe_dump(spec), encoding="utf-8")
    return str(path)


@pytest.mark.parametrize(
    ("changes", "named", "says"),
    [
        ({"replications": 10**12}, "replications", "GiB"),
        ({"design": {"method": "grid", "levels": 100_000}}, "design", "design points"),
        ({"design": {"method": "sobol", "n": 10**15, "seed": 1}}, "design", "design points"),
        ({"replications": 0}, "replications", "whole number"),
    ],
)
def test_sweep_refuses_sizes_that_cannot_work_before_writing(
    capsys, tmp_path, changes, named, says
):
    out = tmp_path / "out"
    line = refused(capsys, ["sweep", _spec(tmp_path, **changes), "--out", str(out)])
    assert named in line and says in line
    assert not out.exists()


def test_a_spec_that_is_not_utf8_is_named(capsys, tmp_path):
    path = tmp_path / "latin1.yaml"
    path.write_bytes("name: caf\xe9\n".encode("latin-1"))
    line = refused(capsys, ["sweep", str(path), "--out", str(tmp_path / "o")])
    assert "latin1.yaml" in line and "UTF-8" in line


def test_a_parameter_file_that_is_not_utf8_is_named(capsys, tmp_path):
    path = tmp_path / "params.yaml"
    path.write_bytes("seed: 1 # caf\xe9\n".encode("latin-1"))
    line = refused(capsys, ["run", "-f", str(path), "--out", str(tmp_path / "b")])
    assert "params.yaml" in line and "UTF-8" in line


@pytest.fixture(scope="module")
def small_sweep(tmp_path_factory):
    from tipresearch.experiments import run_sweep

    folder = tmp_path_factory.mktemp("sw")
    run_sweep(_spec(folder), folder / "out", executor="inprocess", progress=False)
    return folder / "out"


def test_sensitivity_refuses_bad_sizes_and_outputs(capsys, small_sweep, tmp_path):
    (tmp_path / "file").write_text("x", encoding="utf-8")
    cases = [
        (["--resamples", str(10**9)], "resamples"),
        (["--out", str(tmp_path / "file" / "s.csv")], "--out"),
        (["--out", str(tmp_path)], "--out"),
        (["--conf", "1.5"], "conf"),
    ]
    for extra, named in cases:
        line = refused(capsys, ["sensitivity", str(small_sweep), *extra])
        assert named in line, line


def test_results_refuses_a_folder_given_twice(capsys, tmp_path):
    results = tmp_path / "run" / "results"
    results.mkdir(parents=True)
    (results / "a.json").write_text('{"notebook": "a", "status": "ok"}', encoding="utf-8")
    run = str(tmp_path / "run")
    for twice in ([run, run], [run, str(results)]):
        line = refused(capsys, ["results", *twice, "--out", str(tmp_path / "r.csv")])
        assert "each folder once" in line
    line = refused(capsys, ["results", run, "--out", str(tmp_path / "run")])
    assert "--out" in line


@pytest.mark.parametrize(
    "address", ["tcp://127.0.0.1:9", "127.0.0.1:9", "tcp://nohost", "http://x:1", "tcp://x:port"]
)
def test_an_unreachable_or_malformed_scheduler_is_one_line_within_seconds(
    capsys, tmp_path, address
):
    import time

    out = tmp_path / "out"
    start = time.perf_counter()
    line = refused(capsys, ["sweep", _spec(tmp_path), "--out", str(out), "--scheduler", address])
    assert time.perf_counter() - start < 10
    assert "scheduler" in line and address in line
    assert not out.exists()


_ODD = st.one_of(
    st.integers(-3, 6),
    st.sampled_from([10**13, 0.5, -0.0, "x", "", None, True, [1], {"a": 1}, float("inf")]),
)


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    field=st.sampled_from(["replications", "seed", "n", "levels", "method", "bound", "periods"]),
    value=_ODD,
)
def test_generated_specs_run_or_are_refused_by_name(capsys, tmp_path_factory, field, value):
    import yaml

    folder = tmp_path_factory.mktemp("gen")
    spec = {
        "name": "gen",
        "parameters": {"audit_prob": {"bounds": [0.0, 0.4]}},
        "design": {"method": "lhs", "n": 3, "seed": 1},
        "model": {"metric": "clearance_rate", "periods": 2, "params": {"n_bureaus": 2}},
        "replications": 1,
        "seed": 3,
    }
    if field in ("replications", "seed"):
        spec[field] = value
    elif field in ("n", "method"):
        spec["design"][field] = value
    elif field == "levels":
        spec["design"] = {"method": "grid", "levels": value}
    elif field == "bound":
        spec["parameters"]["audit_prob"]["bounds"] = [0.0, value]
    else:
        spec["model"]["periods"] = value
    path = folder / "spec.yaml"
    path.write_text(yaml.safe_dump(spec), encoding="utf-8")
    argv = ["sweep", str(path), "--out", str(folder / "out"), "--executor", "inprocess"]
    try:
        rc = cli_main([*argv, "--quiet"])
    except SystemExit as exc:
        rc = exc.code
    err = capsys.readouterr().err.strip()
    assert "Traceback" not in err
    assert rc in (0, 2), (spec, rc, err)
    if rc == 2:
        lines = err.splitlines()
        assert len(lines) == 1 and "error" in lines[0], err


def test_sweep_refuses_an_output_folder_that_cannot_be_one(capsys, tmp_path):
    (tmp_path / "file").write_text("x", encoding="utf-8")
    for out in (tmp_path / "file", tmp_path / "file" / "below"):
        line = refused(capsys, ["sweep", _spec(tmp_path), "--out", str(out)])
        assert "'out'" in line and "file" in line


def test_run_refuses_an_output_folder_that_cannot_be_one(capsys, tmp_path):
    (tmp_path / "file").write_text("x", encoding="utf-8")
    for out in (tmp_path / "file", tmp_path / "file" / "below"):
        line = refused(capsys, ["run", "--out", str(out)])
        assert "'out'" in line and "file" in line


def test_ridge_refuses_a_parameter_that_is_not_fitted_and_values_out_of_bounds(capsys, tmp_path):
    fit_dir = str(Path(__file__).resolve().parents[1] / "data" / "fit")
    out = str(tmp_path / "ridge.csv")
    line = refused(
        capsys, ["ridge", fit_dir, "--parameter", "dynamics.nothing", "--values", "1", "--out", out]
    )
    assert "'key'" in line and "dynamics.nothing" in line
    line = refused(
        capsys, ["ridge", fit_dir, "--parameter", "metric.rate", "--values", "99", "--out", out]
    )
    assert "'values'" in line and "[0.3, 20]" in line
    line = refused(
        capsys,
        ["ridge", fit_dir, "--parameter", "metric.rate", "--values", "3", "--seeds", "0"],
    )
    assert "--seeds" in line
    assert not (tmp_path / "ridge.csv").exists() and not (tmp_path / "ridge_trace.csv").exists()
