"""The live explorer: controls for the rating and the bureau, redrawing what follows.

:func:`outcomes` works out, for the mean bureau, the share of reports opened, the
clearance rate and the victims rescued per case type under a rating and a world
(:func:`tipresearch.model.metric_table`); :func:`plot_outcomes` draws them;
:func:`make_explorer` wires ipywidgets controls (the rating, its weights, the audit
probability, capacity, the children's DNA effect) to both, for JupyterLab or Voilà
(``tipresearch explore`` serves ``notebooks/course/03_explorer.ipynb`` on localhost).

References
----------
``docs/model.md`` (the model), §2.1 (ratings and their weights); ``docs/teaching.md``
(how the course uses the explorer).
"""

from __future__ import annotations

from typing import Any

import pandas as pd

from tipresearch.errors import ParameterError
from tipresearch.model import PRESETS, Metric, ModelParams, metric_table

__all__ = ["CONTROLS", "make_explorer", "outcomes", "plot_outcomes", "summary_html"]

#: The explorer's controls: name -> (label, low, high, step, default).
CONTROLS: dict[str, tuple[str, float, float, float, float]] = {
    "solved": ("weight on cases solved", 0.0, 2.0, 0.1, 1.0),
    "opened": ("weight on cases opened", 0.0, 2.0, 0.1, 0.0),
    "rate": ("weight on clearance rate", 0.0, 1.0, 0.05, 0.0),
    "audit_prob": ("audit probability", 0.0, 0.5, 0.01, ModelParams().audit_prob),
    "capacity_ratio": ("capacity per report", 0.1, 3.0, 0.05, ModelParams().capacity_ratio),
    "dna_effect": ("children's DNA effect", 0.0, 0.9, 0.05, 0.0),
}
_CUSTOM = "weights below"


def outcomes(
    metric: str = "solved_count",
    *,
    solved: float = 1.0,
    opened: float = 0.0,
    rate: float = 0.0,
    audit_prob: float | None = None,
    capacity_ratio: float | None = None,
    dna_effect: float = 0.0,
) -> pd.DataFrame:
    """The mean bureau's outcomes by case type under a rating and a world.

    Parameters
    ----------
    metric : str
        A preset rating (:data:`tipresearch.model.PRESETS`), or ``"weights below"`` for
        a rating with the weights ``solved``, ``opened`` and ``rate``.
    audit_prob, capacity_ratio : float, optional
        The model's parameters (defaults if None).
    dna_effect : float
        The children's DNA effect.

    Returns
    -------
    pandas.DataFrame
        One row per case type and ``all``: ``case_type``, ``intake_rate``,
        ``clearance_rate``, ``victims_total``, ``rescues_lost_share``.
    """
    if metric == _CUSTOM:
        chosen: str | Metric = Metric("custom", solved=solved, opened=opened, rate=rate)
    elif metric in PRESETS:
        chosen = metric
    else:
        raise ParameterError("metric", metric, f"one of {', '.join([*PRESETS, _CUSTOM])}")
    changes: dict[str, Any] = {"children.dna_effect": dna_effect}
    if audit_prob is not None:
        changes["audit_prob"] = audit_prob
    if capacity_ratio is not None:
        changes["capacity_ratio"] = capacity_ratio
    params = ModelParams().updated(changes)
    table = metric_table(params, [chosen])
    rows = table[table["metric"] != "planner"]
    columns = ["case_type", "intake_rate", "clearance_rate", "victims_total", "rescues_lost_share"]
    return rows[columns].reset_index(drop=True)


def plot_outcomes(frame: pd.DataFrame, title: str = "The mean bureau under this rating"):  # noqa: ANN201
    """Bars of the share opened, the clearance rate and the share of rescues kept, by type."""
    import matplotlib.pyplot as plt
    import numpy as np

    data = frame.set_index("case_type")
    kept = 1 - data["rescues_lost_share"]
    measures = {
        "share of reports opened": data["intake_rate"],
        "clearance rate": data["clearance_rate"],
        "rescues kept (of the planner's)": kept,
    }
    fig, ax = plt.subplots(figsize=(7.5, 3.6))
    x = np.arange(len(data.index))
    width = 0.26
    for i, (label, values) in enumerate(measures.items()):
        ax.bar(x + (i - 1) * width, values.to_numpy(), width, label=label)
    ax.set_xticks(x)
    ax.set_xticklabels(data.index)
    ax.set_ylim(0, 1.05)
    ax.set_ylabel("share")
    ax.set_title(title)
    ax.legend(fontsize="small", loc="upper left", bbox_to_anchor=(1.0, 1.0))
    fig.tight_layout()
    return fig


def summary_html(frame: pd.DataFrame) -> str:
    """The numbers for all case types, in a line of HTML the browser test can read."""
    row = frame.set_index("case_type").loc["all"]
    return (
        '<p class="tip-explorer-numbers">'
        f'opened <b class="tip-intake">{row["intake_rate"]:.1%}</b> of reports; '
        f'clearance rate <b class="tip-clearance">{row["clearance_rate"]:.1%}</b>; '
        f'victims rescued a month <b class="tip-rescued">{row["victims_total"]:.2f}</b> '
        f"({1 - row['rescues_lost_share']:.0%} of the planner's)</p>"
    )


def make_explorer():  # noqa: ANN201 - an ipywidgets box
    """ipywidgets controls wired to :func:`outcomes`, :func:`plot_outcomes` and the numbers."""
    import ipywidgets as widgets
    import matplotlib.pyplot as plt
    from IPython.display import display

    rating = widgets.Dropdown(
        options=[*PRESETS, _CUSTOM], value="solved_count", description="rating"
    )
    sliders = {
        name: widgets.FloatSlider(
            value=default,
            min=low,
            max=high,
            step=step,
            description=label,
            continuous_update=False,
            style={"description_width": "15em"},
            layout=widgets.Layout(width="36em"),
        )
        for name, (label, low, high, step, default) in CONTROLS.items()
    }
    numbers = widgets.HTML()
    picture = widgets.Output()

    def redraw(*_: Any) -> None:
        values = {name: s.value for name, s in sliders.items()}
        frame = outcomes(rating.value, **values)
        numbers.value = summary_html(frame)
        with picture:
            picture.clear_output(wait=True)
            fig = plot_outcomes(frame, f"Rated on: {rating.value}")
            display(fig)
            plt.close(fig)

    for control in (rating, *sliders.values()):
        control.observe(redraw, names="value")
    for name in ("solved", "opened", "rate"):
        sliders[name].disabled = True
    rating.observe(
        lambda change: [
            setattr(sliders[n], "disabled", change["new"] != _CUSTOM)
            for n in ("solved", "opened", "rate")
        ],
        names="value",
    )
    redraw()
    return widgets.VBox([rating, *sliders.values(), numbers, picture])
