"""The training course: answer checks, the two editions, and the course notebooks."""

from __future__ import annotations

import json
from pathlib import Path

import nbformat
import numpy as np
import pytest

from tipresearch.course import (
    READING_2009_CHOICES,
    SERIES_STATEMENTS,
    check_audit_for_half,
    check_best_clearance,
    check_capacity_for_intake,
    check_children_intake,
    check_dark_figure,
    check_dna_intake,
    check_reading_2009,
    check_series_reading,
    check_worst_rating,
    course_panel_design,
)
from tipresearch.course.editions import (
    SOLUTION_TAG,
    course_notebooks,
    edition_notebook,
    find_solutions,
    solution_fragments,
)
from tipresearch.errors import ParameterError
from tipresearch.model import ModelParams, intake_curves, metric_table

ROOT = Path(__file__).resolve().parents[1]


def _children_intake(params: ModelParams, metric: str) -> float:
    t = metric_table(params, [metric])
    return float(
        t.query(f"metric == '{metric}' and case_type == 'children'")["intake_rate"].iloc[0]
    )


# --- the answer checks ------------------------------------------------------------------------


def test_a_numeric_check_says_right_close_or_wrong_and_which_way():
    truth = _children_intake(ModelParams(), "clearance_rate")
    assert check_children_intake(truth).right
    assert check_children_intake(truth + 0.005).status == "right"
    close = check_children_intake(truth + 0.03)
    assert close.status == "close" and "too high" in close.message
    low = check_children_intake(truth - 0.2)
    assert low.status == "wrong" and "too low" in low.message
    # the message never gives the answer away
    for verdict in (close, low):
        assert f"{truth:.2f}" not in verdict.message and f"{truth:.1%}" not in verdict.message
    assert check_children_intake(None).status == "not answered"
    assert check_children_intake("a lot").status == "wrong"
    assert check_children_intake(100 * truth).status == "close"  # a percentage, not a share
    assert "Right" in str(check_children_intake(truth))
    assert check_children_intake(truth)._repr_markdown_().startswith("**✔")


def test_the_checks_follow_the_model_not_a_stored_answer():
    # with other parameters the right answer moves, and the check moves with it
    other = ModelParams().updated(capacity_ratio=2.0)
    truth = _children_intake(other, "clearance_rate")
    assert check_children_intake(truth, other).right
    assert not check_children_intake(_children_intake(ModelParams(), "clearance_rate"), other).right


def test_the_rating_audit_and_capacity_checks():
    assert check_worst_rating("clearance_target").right
    assert check_worst_rating("clearance_rate").status in ("close", "wrong")
    assert check_worst_rating("opened_count").status == "wrong"
    assert check_worst_rating("nonsense").status == "wrong"
    grid = np.linspace(0, 0.5, 201)
    curve = intake_curves(ModelParams(), ["clearance_rate"], grid)["intake_rate"].to_numpy()
    first = float(grid[np.flatnonzero(curve >= 0.5)[0]])
    assert check_audit_for_half(first).right
    assert check_audit_for_half(first + 0.1).status == "wrong"
    ratio = None
    for r in np.round(np.arange(0.05, 5.0001, 0.05), 10):
        t = metric_table(ModelParams().updated(capacity_ratio=float(r)), ["solved_count"])
        if t.query("metric == 'solved_count' and case_type == 'all'")["intake_rate"].iloc[0] >= 0.9:
            ratio = float(r)
            break
    assert ratio is not None
    assert check_capacity_for_intake(ratio).right
    assert check_capacity_for_intake(ratio + 1.0).status == "wrong"


def test_the_clearance_design_check_knows_60_percent_is_out_of_reach():
    assert check_best_clearance(0.6).status == "wrong"
    assert "too high" in check_best_clearance(0.6).message


def test_the_dna_and_dark_figure_checks():
    params = ModelParams()
    with_dna = _children_intake(params.updated({"children.dna_effect": 0.3}), "solved_count")
    assert with_dna > _children_intake(params, "solved_count")  # more cases worth opening
    assert check_dna_intake(with_dna).right
    assert not check_dna_intake(_children_intake(params, "solved_count")).right
    from tipresearch.estimation import simulate_panel

    design = course_panel_design()
    panel = simulate_panel(design, 3)
    before = panel[panel["surveyed"] & (panel["reform"] == 0)]
    dark = 1 - before["recorded"].sum() / (
        before["survey"].astype(float).sum() / design.survey_rate
    )
    assert check_dark_figure(float(dark), 3).right
    assert check_dark_figure(float(dark) - 0.2, 3).status == "wrong"


def test_the_choice_checks():
    assert check_reading_2009("b").right and check_reading_2009(" B ").right
    for wrong in ("a", "c", "d"):
        assert check_reading_2009(wrong).status == "wrong"
    assert check_reading_2009("z").status == "wrong"
    supported = {"s1": True, "s2": False, "s3": True, "s4": True, "s5": False}
    assert check_series_reading(supported).right
    assert check_series_reading({**supported, "s2": True}).status == "close"
    assert check_series_reading({k: not v for k, v in supported.items()}).status == "wrong"
    assert check_series_reading({"s1": True}).status == "wrong"
    assert check_series_reading({**supported, "s1": "yes"}).status == "wrong"


def test_the_notebooks_show_the_packages_statements():
    text = " ".join(
        "".join(c.source) for p in course_notebooks(ROOT) for c in nbformat.read(p, 4).cells
    )
    for statement in (*SERIES_STATEMENTS.values(), *READING_2009_CHOICES.values()):
        assert statement in text


# --- the editions -----------------------------------------------------------------------------


def _exercises(nb) -> int:  # noqa: ANN001 - a NotebookNode
    return sum(c.cell_type == "markdown" and "{exercise}" in c.source for c in nb.cells)


def test_the_student_edition_drops_every_solution_cell():
    total = 0
    for path in course_notebooks(ROOT):
        source = nbformat.read(path, 4)
        tagged = [c for c in source.cells if SOLUTION_TAG in c.metadata.get("tags", [])]
        assert len(tagged) == 4 * _exercises(source)  # four solution cells per exercise
        total += _exercises(source)
        student = edition_notebook(path, "student")
        instructor = edition_notebook(path, "instructor")
        assert not [c for c in student.cells if SOLUTION_TAG in c.metadata.get("tags", [])]
        assert _exercises(student) == _exercises(source)  # the exercises stay
        assert len(instructor.cells) == len(source.cells)
        assert len(student.cells) == len(source.cells) - len(tagged)
        assert all(not c.get("outputs") for c in student.cells if c.cell_type == "code")
    assert total >= 8
    with pytest.raises(ParameterError, match="edition"):
        edition_notebook(course_notebooks(ROOT)[0], "teacher")


def test_solution_fragments_leave_out_lines_the_exercises_share(tmp_path):
    nb = nbformat.v4.new_notebook()
    nb.cells = [
        nbformat.v4.new_code_cell("import numpy as np\nanswer = None"),
        nbformat.v4.new_code_cell(
            "import numpy as np\nanswer = float(np.pi)  # the secret",
            metadata={"tags": ["solution"]},
        ),
        nbformat.v4.new_markdown_cell("```{solution-end}\n```", metadata={"tags": ["solution"]}),
    ]
    path = tmp_path / "x.ipynb"
    nbformat.write(nb, path)
    assert solution_fragments([path]) == ["answer = float(np.pi) # the secret"]
    page = tmp_path / "page.html"
    page.write_text(
        '<p><span class="n">answer</span> <span class="o">=</span> float(np.pi)  '
        "<span># the secret</span></p>",
        encoding="utf-8",
    )
    assert find_solutions(tmp_path, solution_fragments([path]))  # found through the markup
    page.write_text("<p>answer = None</p>", encoding="utf-8")
    (tmp_path / "x.ipynb").unlink()
    assert not find_solutions(tmp_path, ["answer = float(np.pi) # the secret"])


@pytest.fixture(scope="module")
def editions(tmp_path_factory):
    pytest.importorskip("jupyter_book")
    pytest.importorskip("sphinx_exercise")
    from tipresearch.course.editions import build_edition

    out = tmp_path_factory.mktemp("course")
    return {e: build_edition(e, out / e, ROOT, workers=2).parent for e in ("student", "instructor")}


def test_the_student_edition_holds_no_solution_and_the_instructors_all(editions):
    fragments = solution_fragments(course_notebooks(ROOT))
    assert len(fragments) > 30
    assert find_solutions(editions["student"], fragments) == []
    found = {f for _, f in find_solutions(editions["instructor"] / "site", fragments)}
    assert found == set(fragments)  # the search would see a solution that was left in
    for edition in editions.values():
        pages = list((edition / "site" / "notebooks").glob("*.html"))
        assert len(pages) == len(course_notebooks(ROOT))
        assert all(p.stat().st_mode & 0o777 == 0o644 for p in pages)
    student_page = editions["student"] / "site" / "notebooks" / "01_why_reports_go_unfiled.html"
    assert "Exercise 1" in student_page.read_text(encoding="utf-8")
    assert "Solution to" not in student_page.read_text(encoding="utf-8")


def test_the_course_command_names_a_bad_edition(capsys):
    from tipresearch import cli

    with pytest.raises(SystemExit):
        cli.main(["course", "--edition", "teacher"])
    assert "student" in capsys.readouterr().err


def test_every_course_notebook_checks_its_own_solutions():
    for path in course_notebooks(ROOT):
        nb = json.loads(path.read_text(encoding="utf-8"))
        solutions = [
            c
            for c in nb["cells"]
            if c["cell_type"] == "code" and SOLUTION_TAG in c["metadata"].get("tags", [])
        ]
        assert all("assert verdict.right" in "".join(c["source"]) for c in solutions)


# --- the live explorer -----------------------------------------------------------------------


def test_the_explorer_outcomes_follow_the_controls():
    from tipresearch.course.explorer import outcomes, summary_html

    base = outcomes().set_index("case_type")
    assert base.loc["all", "intake_rate"] == pytest.approx(
        metric_table(ModelParams(), ["solved_count"])
        .query("metric == 'solved_count' and case_type == 'all'")["intake_rate"]
        .iloc[0]
    )
    audited = outcomes("clearance_rate", audit_prob=0.3).set_index("case_type")
    plain = outcomes("clearance_rate").set_index("case_type")
    assert audited.loc["all", "intake_rate"] > plain.loc["all", "intake_rate"]
    with_dna = outcomes(dna_effect=0.5).set_index("case_type")
    assert with_dna.loc["children", "intake_rate"] > base.loc["children", "intake_rate"]
    custom = outcomes("weights below", solved=0.0, opened=1.0).set_index("case_type")
    assert custom.loc["all", "intake_rate"] == pytest.approx(1.0)
    assert 'class="tip-intake"' in summary_html(outcomes())
    with pytest.raises(ParameterError, match="metric"):
        outcomes("popularity")


def test_the_served_explorer_responds_to_its_controls(driver):
    pytest.importorskip("voila")
    browser = driver
    browser.set_window_size(1280, 1600)
    from selenium.common.exceptions import NoSuchElementException, StaleElementReferenceException
    from selenium.webdriver.common.by import By
    from selenium.webdriver.common.keys import Keys
    from selenium.webdriver.support.ui import Select, WebDriverWait

    from tipresearch.course.serve import explorer_url, free_port, start_explorer, wait_until_up

    port = free_port()
    process = start_explorer(ROOT, port)
    try:
        wait_until_up(explorer_url(port), process)
        browser.get(explorer_url(port))
        # the widgets redraw their elements: a wait goes on past one that was replaced
        wait = WebDriverWait(
            browser,
            120,
            ignored_exceptions=(NoSuchElementException, StaleElementReferenceException),
        )
        number = wait.until(lambda d: d.find_element(By.CSS_SELECTOR, ".tip-intake").text)
        picture = wait.until(
            lambda d: d.find_element(By.CSS_SELECTOR, ".widget-output img").get_attribute("src")
        )
        # no still picture in the live page: one figure, the explorer's
        assert len(browser.find_elements(By.CSS_SELECTOR, "img")) == 1
        wait.until(
            lambda d: (
                Select(d.find_element(By.CSS_SELECTOR, "select")).select_by_visible_text(
                    "clearance_rate"
                )
                or True
            )
        )
        wait.until(lambda d: d.find_element(By.CSS_SELECTOR, ".tip-intake").text != number)
        wait.until(
            lambda d: (
                d.find_element(By.CSS_SELECTOR, ".widget-output img").get_attribute("src")
                != picture
            )
        )
        after = wait.until(lambda d: d.find_element(By.CSS_SELECTOR, ".tip-intake").text)
        expected = outcomes_intake("clearance_rate")
        assert after == f"{expected:.1%}"  # the page shows the model's number
        # a slider, moved with the keyboard: the audit probability, ten steps up
        handle = browser.find_elements(By.CSS_SELECTOR, ".noUi-handle")[3]
        handle.click()
        for _ in range(10):
            handle.send_keys(Keys.ARROW_RIGHT)
        wait.until(lambda d: d.find_elements(By.CSS_SELECTOR, ".widget-readout")[3].text == "0.15")
        # each step redraws; the number settles on the model's value at the slider's last
        expected = f"{outcomes_intake('clearance_rate', audit_prob=0.15):.1%}"
        assert expected != after
        wait.until(lambda d: d.find_element(By.CSS_SELECTOR, ".tip-intake").text == expected)
    finally:
        browser.get("about:blank")  # leave the page (its kernel shuts down) while Voila runs
        browser.get_log("browser")  # and leave no messages to the next user of the browser
        process.terminate()
        process.wait(timeout=20)


def outcomes_intake(metric: str, **world: float) -> float:
    from tipresearch.course.explorer import outcomes

    return float(outcomes(metric, **world).set_index("case_type").loc["all", "intake_rate"])


def test_both_editions_pass_the_books_browser_checks(editions, driver):
    from tipresearch.collection.site_check import check_site

    for edition, folder in editions.items():
        report = check_site(folder / "site", driver=driver)
        assert report.problems == [], (edition, report.problems)
        # the landing page, three notebooks, and for instructors their guide
        assert report.pages == (5 if edition == "instructor" else 4)
