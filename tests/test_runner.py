"""The notebook runner on small throwaway notebooks (a few kernel starts, ~20 s)."""

from __future__ import annotations

import io
import json
import re
import sys
from pathlib import Path

import nbformat
import pytest
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

from tipresearch import cli
from tipresearch.collection import (
    KERNEL_START_ATTEMPTS,
    check_type,
    describe_notebook,
    find_project_root,
    inspect_parameters,
    kernel_start_failed,
    resolve_parameters,
    run_notebooks,
    stalled,
)
from tipresearch.collection.runner import RESULT_RECORD, _execute_one
from tipresearch.errors import ParameterError

KERNELSPEC = {"name": "python3", "display_name": "Python 3", "language": "python"}
PARAMETERS = 'x = 1\nfigures_dir = "f"\nresults_dir = "r"'


def make_notebook(folder: Path, stem: str, last: str, parameters: str = PARAMETERS) -> Path:
    """A notebook: title, summary, parameters, a saved file, a record and ``last``."""
    nb = new_notebook()
    params = new_code_cell(parameters)
    params.metadata["tags"] = ["parameters"]
    nb.cells = [
        new_markdown_cell(f"# Notebook {stem}\n\nWhat **{stem}** shows, with [a link](x.html).\n"),
        params,
        new_code_cell(
            "import json, os\n"
            "os.makedirs(figures_dir, exist_ok=True)\n"
            "with open(os.path.join(figures_dir, f'NAME-x{x}.txt'), 'w') as fh:\n"
            "    fh.write(str(x))".replace("NAME", stem)
        ),
        new_code_cell(
            "os.makedirs(results_dir, exist_ok=True)\n"
            "with open(os.path.join(results_dir, 'record.json'), 'w') as fh:\n"
            "    json.dump({'x_squared': x * x}, fh)\n"
            "print(f'x is {x}')"
        ),
        new_code_cell(last),
    ]
    nb.metadata["kernelspec"] = KERNELSPEC
    path = folder / f"{stem}.ipynb"
    nbformat.write(nb, path)
    return path


GOOD = "assert x < 10, 'x must stay below 10'"
BAD = "raise ValueError(f'bad input {x}')"
SLOW = "import time\ntime.sleep(60)"


@pytest.fixture(scope="module")
def folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("project") / "notebooks"
    folder.mkdir()
    make_notebook(folder, "01_good", GOOD)
    make_notebook(folder, "02_bad", BAD)
    make_notebook(folder, "03_other", GOOD)
    make_notebook(folder, "04_slow", SLOW)
    return folder


def _record(out: Path, stem: str) -> dict:
    return json.loads((out / "results" / f"{stem}.json").read_text(encoding="utf-8"))


# --------------------------------------------------------------------------- one CLI run


@pytest.fixture(scope="module")
def mixed_run(folder: Path, tmp_path_factory: pytest.TempPathFactory):
    """``tipresearch run good bad slow -p x 2 --workers 2 --timeout 4`` through the CLI."""
    out = tmp_path_factory.mktemp("mixed") / "build"
    capture = pytest.MonkeyPatch()
    err, std = io.StringIO(), io.StringIO()
    capture.setattr(sys, "stderr", err)
    capture.setattr(sys, "stdout", std)
    try:
        status = cli.main(
            [
                "run",
                str(folder / "01_good.ipynb"),
                str(folder / "02_bad.ipynb"),
                str(folder / "04_slow.ipynb"),
                "-p",
                "x",
                "2",
                "--workers",
                "2",
                "--timeout",
                "4",
                "--out",
                str(out),
            ]
        )
    finally:
        capture.undo()
    return status, out, std.getvalue(), err.getvalue()


def test_cli_exit_status_and_summary(mixed_run) -> None:
    status, _, stdout, _ = mixed_run
    assert status == 1
    assert "3 notebooks: 1 ok, 2 failed (02_bad, 04_slow)" in stdout


def test_failing_notebook_reported_with_cell_and_error(mixed_run) -> None:
    _, out, _, stderr = mixed_run
    # cell 5 = parameters (1), injected parameters (2), two cells (3, 4), the raise (5)
    assert re.search(r"\[FAIL \] 02_bad +\d+\.\d s: cell 5: ValueError: bad input 2", stderr)
    record = _record(out, "02_bad")
    assert record["status"] == "failed"
    assert record["error"] == "cell 5: ValueError: bad input 2"
    # the partial notebook is kept and rendered, with the traceback in it
    executed = nbformat.read(out / "notebooks" / "02_bad.ipynb", as_version=4)
    assert executed.cells[-1].outputs[0]["ename"] == "ValueError"
    assert "bad input 2" in (out / "html" / "02_bad.html").read_text(encoding="utf-8")


def test_timeout_is_a_failure_with_the_cell(mixed_run) -> None:
    _, out, _, stderr = mixed_run
    assert re.search(r"\[FAIL \] 04_slow .*cell 5: CellTimeoutError", stderr)
    assert _record(out, "04_slow")["seconds"] < 30


def test_good_notebook_runs_next_to_failing_ones(mixed_run) -> None:
    _, out, _, stderr = mixed_run
    assert re.search(r"\[done \] 01_good +\d+\.\d s", stderr)
    record = _record(out, "01_good")
    assert record["status"] == "ok" and record["error"] is None
    assert record["seconds"] > 0


def test_parameter_reaches_the_notebook(mixed_run) -> None:
    _, out, _, _ = mixed_run
    record = _record(out, "01_good")
    assert record["parameters"]["x"] == 2
    # written by the notebook itself into its results_dir
    assert record["results"] == {"x_squared": 4}
    executed = nbformat.read(out / "notebooks" / "01_good.ipynb", as_version=4)
    printed = "".join(o.get("text", "") for c in executed.cells for o in c.get("outputs", []))
    assert "x is 2" in printed


def test_runner_sets_figures_and_results_dirs(mixed_run) -> None:
    _, out, _, _ = mixed_run
    assert (out / "figures" / "01_good-x2.txt").read_text() == "2"
    record = _record(out, "01_good")
    # paths relative to the build folder, so that a moved build still reads right
    assert record["parameters"]["figures_dir"] == "figures"
    assert record["parameters"]["results_dir"] == "results/01_good"
    assert record["executed"] == "notebooks/01_good.ipynb"
    assert record["html"] == "html/01_good.html"
    assert not Path(record["source"]).is_absolute() and record["source"].endswith("01_good.ipynb")


def test_run_builds_a_variant_book_naming_its_parameters(mixed_run) -> None:
    _, out, _, stderr = mixed_run
    sites = sorted(p.name for p in out.glob("site*"))
    assert len(sites) == 1 and sites[0].startswith("site-variant-"), sites
    landing = (out / sites[0] / "index.html").read_text()
    assert "This is a variant build" in landing
    assert (
        '<span class="pre">x</span> <span class="pre">=</span> <span class="pre">2</span>'
        in landing
    )
    assert (out / sites[0] / "notebooks" / "02_bad.html").exists()  # failed pages too
    assert f"site: {sites[0]}" in stderr or sites[0] in stderr


def test_two_workers_start_before_either_ends(mixed_run) -> None:
    _, out, _, stderr = mixed_run
    lines = [line for line in stderr.splitlines() if line.startswith("[")]
    first_end = next(i for i, line in enumerate(lines) if not line.startswith("[start]"))
    assert first_end == 2, lines  # two notebooks running at once, the third waits
    assert sum(line.startswith("[start] 0") for line in lines) == 3
    for stem in ("01_good", "02_bad", "04_slow"):
        assert (out / "notebooks" / f"{stem}.ipynb").is_file()
        assert (out / "html" / f"{stem}.html").is_file()


def test_index_lists_every_notebook(mixed_run) -> None:
    _, out, _, _ = mixed_run
    index = (out / "html" / "index.html").read_text(encoding="utf-8")
    assert '<a href="01_good.html">Notebook 01_good</a>' in index
    assert "What 01_good shows, with a link." in index
    assert '<a href="02_bad.html">Notebook 02_bad</a>' in index
    assert "cell 5: ValueError: bad input 2" in index
    assert index.count('class="failed"') == 2 and index.count('class="ok"') == 1


# --------------------------------------------------------------------------- library run


def test_parameter_files_flat_and_per_notebook(folder: Path, tmp_path: Path) -> None:
    flat = tmp_path / "flat.yaml"
    flat.write_text("x: 3\n", encoding="utf-8")
    per = tmp_path / "per.yaml"
    per.write_text("03_other:\n  x: 4\n02_bad:\n  x: 5\n", encoding="utf-8")
    out = tmp_path / "build"
    frame = run_notebooks(
        [folder / "01_good.ipynb", folder / "03_other.ipynb"],
        parameter_files=[flat, per],
        out=out,
        progress=False,
    )
    assert frame["notebook"].tolist() == ["01_good", "03_other"]
    assert frame["status"].tolist() == ["ok", "ok"]
    assert _record(out, "01_good")["results"] == {"x_squared": 9}
    assert _record(out, "03_other")["results"] == {"x_squared": 16}
    assert Path(frame.loc[0, "html"]).is_file() and Path(frame.loc[1, "executed"]).is_file()
    assert (out / "html" / "index.html").is_file()


# --------------------------------------------------------------------------- checks


def test_unknown_parameter_named_before_running(folder: Path, tmp_path: Path) -> None:
    out = tmp_path / "build"
    with pytest.raises(ParameterError, match=r"'y'.*declared.*figures_dir.*x"):
        run_notebooks([folder / "01_good.ipynb"], parameters={"y": 1}, out=out, progress=False)
    assert not out.exists()


def test_wrong_type_named_with_value_and_notebook(folder: Path, tmp_path: Path) -> None:
    with pytest.raises(ParameterError) as info:
        run_notebooks([folder / "01_good.ipynb"], parameters={"x": "abc"}, out=tmp_path)
    message = str(info.value)
    assert info.value.name == "x" and info.value.value == "abc"
    assert "'abc'" in message and "int" in message and "01_good" in message


def test_cli_bad_parameter_is_one_line_exit_2(folder: Path, tmp_path: Path, capsys) -> None:
    status = cli.main(["run", str(folder / "01_good.ipynb"), "-p", "x", "abc"])
    err = capsys.readouterr().err.strip().splitlines()
    assert status == 2
    assert len(err) == 1 and "'x'" in err[0] and "'abc'" in err[0]


def test_check_type_rules() -> None:
    check_type("p", 2, 0.5, "float", "nb")  # int where float is expected
    check_type("p", [1], None, "None", "nb")  # None default accepts anything
    for value, default, type_name in [
        (True, 1, "int"),  # a bool is not an int
        (0.5, 1, "int"),
        ("1", 1.0, "float"),
        (1, True, "bool"),
        ((1,), [1], "list"),
        ("a", {"a": 1}, "dict"),
        (3, "a", "str"),
    ]:
        with pytest.raises(ParameterError, match="nb"):
            check_type("p", value, default, type_name, "nb")


def test_inspect_parameters(tmp_path: Path) -> None:
    source = 'a = 1\nb: float = 2\nc = "s"\nd = [1, 2]\ne = None\nf = True\ng = {"k": 1}'
    path = make_notebook(tmp_path, "nb", "pass", parameters=source)
    assert inspect_parameters(path) == {
        "a": (1, "int"),
        "b": (2, "float"),
        "c": ("s", "str"),
        "d": ([1, 2], "list"),
        "e": (None, "None"),
        "f": (True, "bool"),
        "g": ({"k": 1}, "dict"),
    }


def test_resolve_parameters_precedence(folder: Path, tmp_path: Path) -> None:
    first = tmp_path / "first.yaml"
    first.write_text("x: 3\n01_good: {x: 4}\n04_slow: {x: 9}\n", encoding="utf-8")
    second = tmp_path / "second.yaml"
    second.write_text("03_other:\n  x: 5\n", encoding="utf-8")
    nbs = [folder / "01_good.ipynb", folder / "03_other.ipynb"]
    resolved = resolve_parameters(nbs, {}, [first, second])
    assert resolved == {"01_good": {"x": 4}, "03_other": {"x": 5}}
    # the command line wins over every file
    resolved = resolve_parameters(nbs, {"x": 7}, [first, second], out=tmp_path)
    assert resolved["01_good"]["x"] == resolved["03_other"]["x"] == 7
    assert resolved["03_other"]["results_dir"] == str(tmp_path.resolve() / "results/03_other")


def test_per_notebook_unknown_parameter(folder: Path, tmp_path: Path) -> None:
    per = tmp_path / "per.yaml"
    per.write_text("01_good: {z: 1}\n", encoding="utf-8")
    with pytest.raises(ParameterError, match=r"'z'.*notebook 01_good.*per\.yaml"):
        resolve_parameters([folder / "01_good.ipynb"], None, [per])


@pytest.mark.parametrize(
    ("text", "match"),
    [
        ("x: [1, 2\n", r"bad\.yaml.*YAML error at line \d"),
        ("- 1\n- 2\n", r"bad\.yaml.*holds a list"),
        ("x: !!python/object:os.system ls\n", r"bad\.yaml.*YAML error"),
    ],
)
def test_malformed_parameter_file(folder: Path, tmp_path: Path, text: str, match: str) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text(text, encoding="utf-8")
    with pytest.raises(ParameterError, match=match):
        run_notebooks([folder / "01_good.ipynb"], parameter_files=[bad], out=tmp_path)


@pytest.mark.parametrize(
    ("kwargs", "name"),
    [
        ({"workers": 0}, "workers"),
        ({"timeout": 0}, "timeout"),
        ({"timeout": -1.5}, "timeout"),
        ({"notebooks": ["missing.ipynb"]}, "notebook"),
    ],
)
def test_bad_run_options(folder: Path, tmp_path: Path, kwargs: dict, name: str) -> None:
    kwargs = {"notebooks": [folder / "01_good.ipynb"], **kwargs}
    with pytest.raises(ParameterError) as info:
        run_notebooks(out=tmp_path, progress=False, **kwargs)
    assert info.value.name == name


def test_describe_notebook() -> None:
    nb = new_notebook()
    nb.cells = [
        new_code_cell("x = 1"),
        new_markdown_cell("Intro text.\n\n# The title\n"),
        new_markdown_cell("## Part\n\nFirst `paragraph`\nover two lines.\n\nSecond."),
    ]
    assert describe_notebook(nb, "stem") == ("The title", "First paragraph over two lines.")
    nb.metadata["tipresearch"] = {"summary": "Given summary."}
    assert describe_notebook(nb, "stem") == ("The title", "Given summary.")
    assert describe_notebook(new_notebook(), "stem") == ("stem", "")


def test_find_project_root(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "notebooks").mkdir()
    (tmp_path / "docs" / "deep").mkdir(parents=True)
    monkeypatch.chdir(tmp_path / "docs" / "deep")
    assert find_project_root() == tmp_path.resolve()


# ----------------------------------------------------------------- kernel start failures


def _job(folder: Path, out: Path, stem: str) -> dict:
    path = folder / f"{stem}.ipynb"
    return {
        "path": str(path),
        "out": str(out),
        "parameters": {"x": 3},
        "declared": inspect_parameters(path),
        "timeout": 30,
    }


def _flaky_papermill(monkeypatch: pytest.MonkeyPatch, failures: int, message: str) -> list[int]:
    """Make papermill fail ``failures`` times with ``message``, then run for real."""
    import papermill

    real = papermill.execute_notebook
    calls: list[int] = []

    def flaky(*args, **kwargs):
        calls.append(1)
        if len(calls) <= failures:
            raise RuntimeError(message)
        return real(*args, **kwargs)

    monkeypatch.setattr(papermill, "execute_notebook", flaky)
    return calls


def test_kernel_that_does_not_start_is_started_again(folder, tmp_path, monkeypatch) -> None:
    calls = _flaky_papermill(monkeypatch, 2, "Kernel didn't respond in 60 seconds")
    row = _execute_one(_job(folder, tmp_path, "01_good"))
    assert len(calls) == 3
    assert row["status"] == "ok", row["error"]
    executed = nbformat.read(row["executed"], as_version=4)
    assert "x is 3" in json.dumps([c.get("outputs", []) for c in executed.cells])


def test_kernel_start_failure_is_reported_after_the_last_attempt(
    folder, tmp_path, monkeypatch
) -> None:
    calls = _flaky_papermill(monkeypatch, 99, "Kernel died before replying to kernel_info")
    row = _execute_one(_job(folder, tmp_path, "01_good"))
    assert len(calls) == KERNEL_START_ATTEMPTS
    assert row["status"] == "failed"
    assert "kernel_info" in row["error"]
    assert f"kernel started {KERNEL_START_ATTEMPTS} times" in row["error"]


def test_other_failures_are_not_retried(folder, tmp_path, monkeypatch) -> None:
    calls = _flaky_papermill(monkeypatch, 99, "something else went wrong")
    row = _execute_one(_job(folder, tmp_path, "01_good"))
    assert len(calls) == 1
    assert row["status"] == "failed" and "something else went wrong" in row["error"]
    assert "kernel started" not in row["error"]


def _stalling_papermill(monkeypatch: pytest.MonkeyPatch, stalls: int) -> list[int]:
    """Make papermill's cell time out ``stalls`` times (as nbclient raises it), then run."""
    import papermill
    from nbclient.exceptions import CellTimeoutError

    real = papermill.execute_notebook
    calls: list[int] = []

    def stalling(*args, **kwargs):
        calls.append(1)
        if len(calls) <= stalls:
            raise CellTimeoutError("A cell timed out while it was being executed")
        return real(*args, **kwargs)

    monkeypatch.setattr(papermill, "execute_notebook", stalling)
    return calls


def test_a_cell_that_never_finishes_runs_its_notebook_once_more(
    folder, tmp_path, monkeypatch
) -> None:
    calls = _stalling_papermill(monkeypatch, 1)
    row = _execute_one(_job(folder, tmp_path, "01_good"))
    assert len(calls) == 2
    assert row["status"] == "ok", row["error"]


def test_a_cell_that_stalls_twice_is_the_notebooks_failure(folder, tmp_path, monkeypatch) -> None:
    calls = _stalling_papermill(monkeypatch, 2)
    row = _execute_one(_job(folder, tmp_path, "01_good"))
    assert len(calls) == 2  # once more, not again and again
    assert row["status"] == "failed" and "timed out" in row["error"]


def test_stalled_follows_the_exception_chain() -> None:
    from nbclient.exceptions import CellTimeoutError, DeadKernelError

    assert stalled(CellTimeoutError("x")) and stalled(DeadKernelError("x"))
    try:
        try:
            raise DeadKernelError("kernel died")
        except DeadKernelError as inner:
            raise RuntimeError("papermill wrapped it") from inner
    except RuntimeError as outer:
        assert stalled(outer)
    assert not stalled(RuntimeError("Kernel didn't respond in 60 seconds"))
    assert not stalled(ValueError("a cell raised"))


def test_kernel_start_failed_matches_only_start_messages() -> None:
    assert kernel_start_failed(RuntimeError("Kernel didn't respond in 60 seconds"))
    assert not kernel_start_failed(RuntimeError("Kernel died while waiting for execute reply."))
    assert not kernel_start_failed(ValueError("Kernel didn't respond in 60 seconds"))


# --------------------------------------------------------------------------- runs into one folder


def test_a_second_run_into_a_folder_marks_what_is_older(folder: Path, tmp_path: Path) -> None:
    from tipresearch.collection import gather_records

    out = tmp_path / "build"
    first = run_notebooks([folder / "01_good.ipynb"], {"x": 2}, out=out, progress=False)
    assert list(first["status"]) == ["ok"]
    old_id = json.loads((out / "run.json").read_text())["run_id"]
    # what a run killed while writing leaves behind
    stale = out / "notebooks" / ".03_other.ipynb.x1y2.tmp"
    stale.write_text("partial", encoding="utf-8")
    # a notebook that fails before writing its key results, with an old record in place
    early = new_notebook()
    params = new_code_cell(PARAMETERS)
    params.metadata["tags"] = ["parameters"]
    early.cells = [params, new_code_cell("raise RuntimeError('early')")]
    early.metadata["kernelspec"] = KERNELSPEC
    nbformat.write(early, folder / "05_early.ipynb")
    (folder / "r").mkdir(exist_ok=True)
    stale_record = folder / "r" / RESULT_RECORD
    try:
        stale_record.write_text('{"x_squared": 999}', encoding="utf-8")
        status = cli.main(
            [
                "run",
                str(folder / "03_other.ipynb"),
                str(folder / "05_early.ipynb"),
                "--timeout",
                "30.5",
                "--out",
                str(out),
            ]
        )
    finally:
        (folder / "05_early.ipynb").unlink()
    assert status == 1  # 05_early failed
    assert not stale.exists()
    run = json.loads((out / "run.json").read_text())
    assert run["run_id"] != old_id and run["finished"]
    assert run["notebooks"] == ["03_other", "05_early"]
    assert _record(out, "05_early")["results"] is None  # not the old record's 999
    table = gather_records([out]).set_index("notebook")
    assert not table.loc["01_good", "current"] and table.loc["01_good", "run_id"] == old_id
    assert table.loc["03_other", "current"] and table.loc["05_early", "current"]
    index = (out / "html" / "index.html").read_text(encoding="utf-8")
    assert "03_other" in index and "01_good" not in index


def test_records_and_executed_notebooks_name_the_environment(mixed_run) -> None:
    import numpy

    _, out, _, _ = mixed_run
    record = json.loads((out / "results" / "01_good.json").read_text())
    packages = record["environment"]["packages"]
    assert packages["numpy"] == numpy.__version__ and "tipresearch" in packages
    nb = nbformat.read(out / "notebooks" / "01_good.ipynb", as_version=4)
    assert nb.metadata["tipresearch"]["environment"] == record["environment"]


def test_environment_names_the_checked_out_commit() -> None:
    import subprocess

    from tipresearch.collection.provenance import environment

    root = Path(__file__).resolve().parents[1]
    head = subprocess.run(["git", "rev-parse", "HEAD"], cwd=root, capture_output=True, text=True)
    env = environment(root)
    if head.returncode != 0:
        assert env["commit"] is None
    else:
        assert env["commit"] == head.stdout.strip() and isinstance(env["modified"], bool)


def test_a_run_starts_the_notebooks_that_took_longest_last_time(tmp_path: Path, capsys) -> None:
    folder = tmp_path / "nbs"
    folder.mkdir()
    quick = make_notebook(folder, "01_quick", "pass")
    slow = make_notebook(folder, "02_slow", "pass")
    out = tmp_path / "build"
    first = run_notebooks([quick, slow], out=out, workers=1, progress=True)
    assert first["status"].tolist() == ["ok", "ok"]
    starts = re.findall(r"\[start\] (\S+)", capsys.readouterr().err)
    assert starts == ["01_quick", "02_slow"]  # no times yet: the given order
    record = json.loads((out / "run.json").read_text(encoding="utf-8"))
    assert set(record["seconds"]) == {"01_quick", "02_slow"}
    assert all(v > 0 for v in record["seconds"].values())
    # the recorded times decide the order, not the wall clock of this machine
    for times, order in (
        ({"01_quick": 1.0, "02_slow": 50.0}, ["02_slow", "01_quick"]),
        ({"01_quick": 50.0, "02_slow": 1.0}, ["01_quick", "02_slow"]),
    ):
        record["seconds"] = times
        (out / "run.json").write_text(json.dumps(record), encoding="utf-8")
        again = run_notebooks([quick, slow], out=out, workers=1, progress=True)
        starts = re.findall(r"\[start\] (\S+)", capsys.readouterr().err)
        assert starts == order  # the longest first
        assert again["notebook"].tolist() == ["01_quick", "02_slow"]  # results in given order


@pytest.mark.skipif(sys.platform == "win32", reason="Unix sockets only")
def test_kernels_listen_on_sockets_of_their_own_not_tcp_ports(folder, tmp_path) -> None:
    # kernels started at once by separate processes could pick the same TCP port
    last = (
        "from ipykernel.connect import get_connection_info\n"
        "info = json.loads(get_connection_info())\n"
        "print('kernel on', info['transport'], info['ip'])"
    )
    make_notebook(tmp_path, "05_where", last)
    rows = [_execute_one(_job(tmp_path, tmp_path / f"out{i}", "05_where")) for i in range(2)]
    places = []
    for row in rows:
        assert row["status"] == "ok", row["error"]
        text = json.dumps([c.get("outputs", []) for c in nbformat.read(row["executed"], 4).cells])
        found = re.search(r"kernel on (\w+) (\S+?)\\n", text)
        assert found, text
        assert found.group(1) == "ipc"
        places.append(found.group(2))
        assert not list(Path(found.group(2)).parent.glob(Path(found.group(2)).name + "-*"))
    assert places[0] != places[1]  # a fresh name for every kernel


class _MissedWakeUp:
    """A socket whose first poll misses a message that is already there (it waits out
    its timeout and reports nothing), as zmq's asyncio poll can; later polls see it."""

    def __init__(self, has_message: bool = True) -> None:
        self.polls: list[float | None] = []
        self.has_message = has_message

    async def poll(self, timeout_ms: float | None = None) -> int:
        import asyncio

        self.polls.append(timeout_ms)
        if len(self.polls) == 1 or not self.has_message:
            await asyncio.sleep((timeout_ms or 0) / 1000)
            return 0
        return 1


def _channel(socket: _MissedWakeUp):
    from tipresearch.collection.kernels import SlicedChannel

    channel = SlicedChannel.__new__(SlicedChannel)
    channel.socket = socket

    async def recv(**_):
        return {"msg_type": "execute_reply"}

    channel._recv = recv
    return channel


def test_a_wait_for_a_kernel_message_polls_in_slices(monkeypatch) -> None:
    import asyncio
    import time
    from queue import Empty

    from tipresearch.collection import kernels

    monkeypatch.setattr(kernels, "POLL_SLICE", 0.05)
    socket = _MissedWakeUp()
    start = time.monotonic()
    msg = asyncio.run(_channel(socket).get_msg(timeout=30))
    assert msg["msg_type"] == "execute_reply"
    assert time.monotonic() - start < 5  # read at the next slice, not after 30 s
    assert socket.polls == [50, 50]
    # no message at all: Empty once the whole timeout has passed
    socket = _MissedWakeUp(has_message=False)
    start = time.monotonic()
    with pytest.raises(Empty):
        asyncio.run(_channel(socket).get_msg(timeout=0.3))
    assert time.monotonic() - start >= 0.29 and len(socket.polls) >= 6


@pytest.mark.skipif(sys.platform == "win32", reason="Unix sockets only")
def test_the_runners_kernels_read_their_messages_through_sliced_channels() -> None:
    from tipresearch.collection.kernels import SlicedChannel, kernel_manager_class

    manager = kernel_manager_class()()
    client = manager.client()
    for name in ("shell", "iopub", "stdin", "control"):
        assert getattr(client, f"{name}_channel_class") is SlicedChannel
    assert manager.transport == "ipc" and "kernel-" in manager.ip
