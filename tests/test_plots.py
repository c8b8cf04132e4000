"""Tests of the shared theme, figure saving and the cable's plots (tipresearch.figures, checks)."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import matplotlib as mpl  # noqa: E402
import matplotlib.pyplot as plt  # noqa: E402
import pytest  # noqa: E402

from tipresearch import figures  # noqa: E402
from tipresearch.checks import check_bool, check_int, check_text  # noqa: E402
from tipresearch.data import (  # noqa: E402
    CASE_TYPES,
    cable_ratios,
    load_cable,
    load_reform_timeline,
)
from tipresearch.errors import ParameterError  # noqa: E402

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


@pytest.fixture
def fig():
    figure, ax = plt.subplots()
    ax.plot([0, 1], [0, 1])
    ax.set_title("A line")
    yield figure
    plt.close(figure)


def test_save_figure_writes_png_and_creates_folder(tmp_path, fig):
    folder = tmp_path / "a" / "b"
    path = figures.save_figure(fig, "line", folder, dpi=60)
    assert path == folder / "line.png"
    assert path.read_bytes()[:8] == PNG_MAGIC
    assert (folder / "line.svg").read_text(encoding="utf-8").lstrip().startswith("<?xml")
    # no temporary file left
    assert sorted(p.name for p in folder.iterdir()) == ["line.png", "line.svg"]


def test_save_figure_accepts_png_suffix(tmp_path, fig):
    assert figures.save_figure(fig, "line.png", tmp_path, dpi=60).name == "line.png"


def test_save_figure_dpi_sets_size(tmp_path, fig):
    from matplotlib.image import imread

    small = imread(figures.save_figure(fig, "small", tmp_path, dpi=50))
    large = imread(figures.save_figure(fig, "large", tmp_path, dpi=100))
    assert large.shape[0] > small.shape[0]


def test_save_figure_writes_the_resolution_asked_and_the_themes_by_default(tmp_path, fig):
    from PIL import Image

    with Image.open(figures.save_figure(fig, "asked", tmp_path, dpi=200)) as im:
        assert round(im.info["dpi"][0]) == 200
    with mpl.rc_context():
        figures.set_theme(dpi=150)
        with Image.open(figures.save_figure(fig, "themed", tmp_path)) as im:
            assert round(im.info["dpi"][0]) == 150


def test_save_figure_is_atomic(tmp_path, fig, monkeypatch):
    path = figures.save_figure(fig, "keep", tmp_path, dpi=60)
    before = path.read_bytes()

    def broken_savefig(target, **kwargs):
        with open(target, "wb") as handle:
            handle.write(b"partial")
        raise RuntimeError("disk full")

    monkeypatch.setattr(fig, "savefig", broken_savefig)
    with pytest.raises(RuntimeError, match="disk full"):
        figures.save_figure(fig, "keep", tmp_path)
    assert path.read_bytes() == before  # the old file is intact
    with pytest.raises(RuntimeError):
        figures.save_figure(fig, "new", tmp_path)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["keep.png", "keep.svg"]


@pytest.mark.parametrize(
    "name", ["", "   ", "a/b", "../up", "a\\b", ".", "..", "fig.svg", "fig.pdf", None, 3]
)
def test_save_figure_rejects_bad_names(tmp_path, fig, name):
    with pytest.raises(ParameterError) as info:
        figures.save_figure(fig, name, tmp_path)
    assert info.value.name == "name"
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("dpi", [49, 601, 150.0, "150", True])
def test_bad_dpi(tmp_path, fig, dpi):
    with pytest.raises(ParameterError, match="dpi"):
        figures.save_figure(fig, "x", tmp_path, dpi=dpi)
    with pytest.raises(ParameterError, match=r"\[50, 600\]"):
        figures.set_theme(dpi=dpi)


def test_set_theme_is_idempotent():
    figures.set_theme(dpi=120)
    first = dict(mpl.rcParams)
    figures.set_theme(dpi=120)
    assert dict(mpl.rcParams) == first
    assert mpl.rcParams["savefig.dpi"] == 120
    assert mpl.rcParams["savefig.bbox"] == "tight"
    figures.set_theme()
    assert mpl.rcParams["savefig.dpi"] == figures.DEFAULT_DPI


def test_case_type_colours_cover_every_case_type():
    assert set(figures.CASE_TYPE_COLOURS) == set(CASE_TYPES)
    assert len(set(figures.CASE_TYPE_COLOURS.values())) == len(CASE_TYPES)


def _labels(figure):
    return [(ax.get_xlabel(), ax.get_ylabel()) for ax in figure.axes]


def test_plot_campaign_results():
    figures.set_theme()
    cable = load_cable()
    figure = figures.plot_campaign_results(cable)
    try:
        left, right = figure.axes
        assert "(cases)" in left.get_ylabel() and "(persons)" in right.get_ylabel()
        heights = sorted(round(p.get_height()) for p in left.patches if p.get_height() > 0)
        assert heights == [1174, 1214]
        heights = sorted(round(p.get_height()) for p in right.patches if p.get_height() > 0)
        assert heights == [1460, 2291]
    finally:
        plt.close(figure)


def test_plot_ratios_and_timeline():
    figures.set_theme()
    figure = figures.plot_ratios(cable_ratios(load_cable()))
    try:
        assert all(x or y for x, y in _labels(figure))
        assert "persons rescued per solved case" in figure.axes[0].get_ylabel()
    finally:
        plt.close(figure)
    events = load_reform_timeline()
    figure = figures.plot_timeline(events)
    try:
        (ax,) = figure.axes
        assert "calendar year" in ax.get_xlabel()
        assert len(ax.get_yticklabels()) == len(events)
    finally:
        plt.close(figure)


def test_checks():
    assert check_int("n", 5, 1, 10) == 5
    assert check_bool("flag", False) is False
    assert check_text("s", "x") == "x"
    for bad in (0, 11, 2.5, "3", True):
        with pytest.raises(ParameterError, match="'n'"):
            check_int("n", bad, 1, 10)
    for bad in (0, 1, "True", None):
        with pytest.raises(ParameterError, match="True or False"):
            check_bool("flag", bad)
    for bad in ("", "  ", None, 1):
        with pytest.raises(ParameterError, match="non-empty string"):
            check_text("s", bad)


@pytest.mark.parametrize(("umask", "mode"), [(0o022, 0o644), (0o027, 0o640)])
def test_written_files_are_readable_by_others(tmp_path, fig, umask, mode):
    """Atomic writes end with the mode ``open`` would give (0o666 less the umask)."""
    import os
    import stat

    import pandas as pd

    from tipresearch.io import write_table, write_text

    old = os.umask(umask)
    try:
        paths = [
            write_text(tmp_path / "a.txt", "x"),
            write_table(pd.DataFrame({"a": [1]}), tmp_path / "b.csv"),
            figures.save_figure(fig, "c", tmp_path, dpi=50),
        ]
    finally:
        os.umask(old)
    for path in paths:
        assert stat.S_IMODE(path.stat().st_mode) == mode, path.name
    assert not list(tmp_path.glob(".*.tmp"))  # no temporary file left


def test_text_problems_finds_overlapping_and_escaping_text(tmp_path):
    clean, ax = plt.subplots(figsize=(4, 3))
    ax.plot([0, 1], [0, 1])
    ax.set_xlabel("share of reports opened")
    clean.tight_layout()
    assert figures.text_problems(clean, tight=False) == []
    crowded, ax = plt.subplots(figsize=(4, 3))
    ax.text(0.5, 0.5, "first label here", transform=ax.transAxes)
    ax.text(0.52, 0.5, "second label here", transform=ax.transAxes)
    ax.text(1.3, 0.5, "beyond the edge", transform=ax.transAxes)
    problems = figures.text_problems(crowded, tight=False)
    assert "'first label here' overlaps 'second label here'" in problems
    assert "'beyond the edge' runs outside the figure" in problems
    # a tight bounding box takes in text beyond the edge: then it is no problem
    assert "'beyond the edge' runs outside the figure" not in figures.text_problems(
        crowded, tight=True
    )
    # saving such a figure warns, naming the file, and still writes it
    try:
        with pytest.warns(
            figures.FigureLayoutWarning, match="crowded.png: .*'first label here' overlaps"
        ):
            path = figures.save_figure(crowded, "crowded", tmp_path, dpi=50)
        assert path.is_file()
    finally:
        plt.close(clean)
        plt.close(crowded)


def test_keep_inside_turns_edge_labels_back_into_their_axes():
    from tipresearch.figures.layout import keep_inside

    fig, ax = plt.subplots(figsize=(4, 3))
    ax.plot([0, 10], [0, 10])
    ax.annotate("a label at the right edge", (9.8, 5), xytext=(6, 4), textcoords="offset points")
    ax.annotate("a label at the bottom", (3, 0.2), xytext=(6, -22), textcoords="offset points")
    fig.tight_layout()
    try:
        before = figures.text_problems(fig, tight=True)
        assert any("runs outside its axes" in p for p in before)
        keep_inside(fig)
        assert figures.text_problems(fig, tight=True) == []
    finally:
        plt.close(fig)
