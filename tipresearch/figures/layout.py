"""Checks of a drawn figure's text: labels that overlap each other or leave the figure.

:func:`text_problems` draws the figure and compares the boxes of its visible text
(titles, axis and tick labels, legend entries, annotations) in display coordinates:
two boxes that overlap by more than a pixel each way, or a box that reaches outside
the figure, is a problem a reader would see. Tick labels that matplotlib hides (out of
the axis range) and empty strings are left out.
"""

from __future__ import annotations

import matplotlib as mpl
from matplotlib.figure import Figure
from matplotlib.text import Annotation, Text

__all__ = ["keep_inside", "text_problems"]

#: Pixels two boxes may share each way, or a box may pass the figure's edge, before
#: it counts (anti-aliasing and rounding).
TOLERANCE = 1.0


def _hidden_tick_labels(fig: Figure) -> set[int]:
    """Ids of tick labels matplotlib does not draw: ticks outside the axis' view."""
    hidden: set[int] = set()
    for ax in fig.axes:
        for axis in (ax.xaxis, ax.yaxis):
            lo, hi = sorted(axis.get_view_interval())
            eps = 1e-9 * max(abs(hi - lo), 1e-300)
            for tick in [*axis.get_major_ticks(), *axis.get_minor_ticks()]:
                if not lo - eps <= tick.get_loc() <= hi + eps:
                    hidden.update({id(tick.label1), id(tick.label2)})
    return hidden


def _visible_texts(fig: Figure) -> list[Text]:
    hidden = _hidden_tick_labels(fig)
    return [
        t
        for t in fig.findobj(Text)
        if t.get_visible() and t.get_text().strip() and id(t) not in hidden
    ]


def text_problems(
    fig: Figure, tolerance: float = TOLERANCE, tight: bool | None = None
) -> list[str]:
    """Text in a figure that overlaps other text or runs outside the figure.

    Parameters
    ----------
    fig : matplotlib.figure.Figure
        The figure, as it will be saved (it is drawn here).
    tolerance : float
        Pixels of overlap (each way) or overhang that are allowed.
    tight : bool, optional
        Whether the figure is saved with a tight bounding box, which takes in text
        beyond the figure's edge (then such text is no problem); default: as
        ``savefig.bbox`` says (:func:`tipresearch.figures.set_theme` sets it).

    Returns
    -------
    list of str
        One line per problem, naming the texts (empty: none).
    """
    fig.canvas.draw()  # places the ticks and labels as they will be saved
    renderer = fig.canvas.get_renderer()
    width, height = fig.bbox.width, fig.bbox.height
    boxes = [(t, t.get_window_extent(renderer)) for t in _visible_texts(fig)]
    problems = []
    if tight is None:
        tight = mpl.rcParams["savefig.bbox"] == "tight"
    for text, box in [] if tight else boxes:
        if (
            box.x0 < -tolerance
            or box.y0 < -tolerance
            or box.x1 > width + tolerance
            or box.y1 > height + tolerance
        ):
            problems.append(f"{text.get_text()!r} runs outside the figure")
    for text, box in boxes:
        if _outside_axes(text, box, tolerance):
            problems.append(f"{text.get_text()!r} runs outside its axes")
    for i, (a, box_a) in enumerate(boxes):
        for b, box_b in boxes[i + 1 :]:
            dx = min(box_a.x1, box_b.x1) - max(box_a.x0, box_b.x0)
            dy = min(box_a.y1, box_b.y1) - max(box_a.y0, box_b.y0)
            if dx > tolerance and dy > tolerance:
                problems.append(f"{a.get_text()!r} overlaps {b.get_text()!r}")
    return problems


def _outside_axes(text: Text, box, tolerance: float) -> bool:
    """True for a text placed in an axes' data (``ax.text``, ``ax.annotate``) that leaves it."""
    ax = text.axes
    if ax is None or text not in ax.texts:
        return False
    frame = ax.bbox
    return (
        box.x0 < frame.x0 - tolerance
        or box.x1 > frame.x1 + tolerance
        or box.y0 < frame.y0 - tolerance
        or box.y1 > frame.y1 + tolerance
    )


def keep_inside(fig: Figure) -> None:
    """Move annotations that leave their axes back inside, by flipping their offset.

    Annotations placed with an offset in points (``textcoords="offset points"``) are
    taken out of the layout (they belong inside their axes, so they should not shrink
    it) and the figure is laid out again (``tight_layout``). Then, for each that runs
    outside its axes, the offset is mirrored left-right (the text then right-aligned),
    up-down, or both, and the first of these that keeps the text inside the axes is
    kept; one that fits none of them is left as it was. Call it once the axes' limits
    are final.
    """
    notes = [
        t
        for ax in fig.axes
        for t in ax.texts
        if isinstance(t, Annotation) and t.anncoords == "offset points"
    ]
    for text in notes:
        text.set_in_layout(False)
    fig.tight_layout()
    fig.canvas.draw()
    renderer = fig.canvas.get_renderer()
    for ax in fig.axes:
        frame = ax.bbox
        for text in ax.texts:
            if not isinstance(text, Annotation) or text.anncoords != "offset points":
                continue
            if not _outside_axes(text, text.get_window_extent(renderer), TOLERANCE):
                continue
            (dx, dy), align = text.xyann, text.get_horizontalalignment()
            below = -22 if dy >= 0 else 4  # two lines of small text under, or over, the point
            for x, y, ha in ((-dx, dy, "right"), (dx, below, align), (-dx, below, "right")):
                text.xyann = (x, y)
                text.set_horizontalalignment(ha)
                box = text.get_window_extent(renderer)
                if (
                    frame.x0 <= box.x0
                    and box.x1 <= frame.x1
                    and frame.y0 <= box.y0 <= box.y1 <= frame.y1
                ):
                    break
            else:
                text.xyann = (dx, dy)
                text.set_horizontalalignment(align)
