"""Tables as a paper prints them (tipresearch.figures.tables)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from tipresearch.errors import ParameterError
from tipresearch.figures.tables import column_formats, paper_table, plain_header


def _html(frame: pd.DataFrame, **kwargs) -> str:
    return paper_table(frame, **kwargs).to_html()


def test_years_counts_and_shares_print_as_in_a_paper() -> None:
    frame = pd.DataFrame(
        {
            "year": [2008.0, 2009.0],
            "registered_cases": [2566.0, 6513.0],
            "share_opened": [0.123456, 1e-7],
            "empty": [np.nan, np.nan],
        }
    )
    html = _html(frame)
    assert ">2008<" in html and "2,008" not in html and "2008.0" not in html
    assert ">6,513<" in html and ">2,566<" in html
    assert ">0.123<" in html and ">0.000<" in html and "e-07" not in html
    assert "registered cases" in html and "registered_cases" not in html
    assert "empty" not in html  # all-empty column left out
    assert "row_heading" not in html  # no index


def test_large_counts_never_in_scientific_notation() -> None:
    html = _html(pd.DataFrame({"cases": [1.2e7, 3.0]}))
    assert "12,000,000" in html and "e+" not in html


def test_a_meaningful_index_becomes_a_column_and_float_year_headers_are_whole() -> None:
    wide = pd.DataFrame({2009.0: [1.0], 2010.0: [2.5]}, index=pd.Index(["women"], name="type"))
    html = _html(wide)
    assert ">women<" in html and ">type<" in html
    assert ">2009<" in html and "2009.0" not in html


def test_column_formats_tell_years_from_counts() -> None:
    frame = pd.DataFrame({"period": [2011, 2020], "cases": [2011, 2020], "rate": [0.5, 0.25]})
    assert column_formats(frame) == {"period": "{:.0f}", "cases": "{:,.0f}", "rate": "{:,.3f}"}
    assert plain_header(("output", "S1")) == "output · S1"


def test_bad_digits_named() -> None:
    with pytest.raises(ParameterError, match="digits"):
        paper_table(pd.DataFrame({"a": [1.5]}), digits=-1)


def test_rows_in_years_keep_their_year_in_a_mixed_column() -> None:
    cable = pd.DataFrame({"value": [2008.0, 1174.0], "unit": ["calendar year", "cases"]})
    html = _html(cable)
    assert ">2008<" in html and ">1,174<" in html


def test_saved_figures_get_thousands_separators_and_need_a_title(tmp_path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import warnings

    import matplotlib.pyplot as plt

    from tipresearch.figures import FigureLayoutWarning, save_figure

    fig, ax = plt.subplots()
    ax.plot([2008, 2009], [2566, 31000])
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        save_figure(fig, "untitled", tmp_path)
    assert any("no title" in str(w.message) for w in caught if w.category is FigureLayoutWarning)
    labels = [t.get_text() for t in ax.get_yticklabels()]
    assert any("," in label for label in labels), labels  # counts of 10,000 and more
    assert not any("," in t.get_text() for t in ax.get_xticklabels())  # years untouched
    ax.set_title("Registered cases")
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        save_figure(fig, "titled", tmp_path)
    assert not [w for w in caught if w.category is FigureLayoutWarning]
    plt.close(fig)


def test_a_colorbar_needs_no_title_of_its_own() -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from tipresearch.figures.theme import has_title

    fig, ax = plt.subplots()
    mesh = ax.pcolormesh([[0.0, 1.0], [1.0, 0.0]])
    fig.colorbar(mesh, ax=ax)
    assert not has_title(fig)
    ax.set_title("A map")
    assert has_title(fig)
    plt.close(fig)
