"""Figures of the parameter sweeps: heatmap (two swept parameters) or lines (one)."""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

from mfg_finance.io import save_figure

OUTCOME_LABELS = {
    "liquidation_speed": "liquidation speed -ln(Q_T/Q_0)/T (1/trading day)",
    "terminal_dispersion": "terminal inventory std (inventory units)",
    "total_cost": "expected total cost (cost units)",
}
#: Shown instead of the terminal dispersion when a sweep has none (common-noise points) but a price.
PRICE_IMPACT_LABEL = "price impact p_T - p_0 (BRL)"


def _outcomes(table: pd.DataFrame) -> list[str]:
    """The three outcomes plotted: price impact replaces an all-missing terminal dispersion."""
    chosen = list(OUTCOME_LABELS)
    if (table["terminal_dispersion"].isna().all() and "price_impact" in table
            and table["price_impact"].notna().any()):
        chosen[chosen.index("terminal_dispersion")] = "price_impact"
    return chosen


def _label(outcome: str) -> str:
    return OUTCOME_LABELS.get(outcome, PRICE_IMPACT_LABEL)


def plot_sweep(table: pd.DataFrame, path, *, title: str = "Sweep") -> None:
    """Plot the sweep outcomes; points that did not converge are marked, never interpolated."""
    params = [c for c in table.columns if c.startswith("param_")]
    if len(params) == 2:
        fig = _heatmaps(table, params, title)
    else:
        fig = _lines(table, params[0], title, others=params[1:])
    save_figure(fig, path)


def _heatmaps(table, params, title):
    x_name, y_name = params
    xs = np.sort(table[x_name].unique())
    ys = np.sort(table[y_name].unique())
    outcomes = _outcomes(table)
    fig, axes = plt.subplots(1, len(outcomes), figsize=(5.2 * len(outcomes), 4.4), constrained_layout=True)
    for ax, outcome in zip(axes, outcomes):
        grid = table.pivot_table(index=y_name, columns=x_name, values=outcome, aggfunc="first", dropna=False)
        grid = grid.reindex(index=ys, columns=xs)
        image = ax.imshow(grid.to_numpy(dtype=float), origin="lower", aspect="auto", cmap="viridis")
        fig.colorbar(image, ax=ax, shrink=0.85, label=_label(outcome))
        failed = table.loc[~table["converged"]]
        for _, row in failed.iterrows():
            ax.text(np.searchsorted(xs, row[x_name]), np.searchsorted(ys, row[y_name]), "✕",
                    ha="center", va="center", color="red", fontsize=12, fontweight="bold")
        ax.set_xticks(range(len(xs)), [f"{v:.3g}" for v in xs], rotation=60, fontsize=7)
        ax.set_yticks(range(len(ys)), [f"{v:.3g}" for v in ys], fontsize=7)
        ax.set_xlabel(x_name.removeprefix("param_"))
        ax.set_ylabel(y_name.removeprefix("param_"))
        ax.set_title(outcome.replace("_", " "))
    n_failed = int((~table["converged"]).sum())
    fig.suptitle(f"{title}: {len(table)} points, {n_failed} not converged (✕)")
    return fig


def _lines(table, x_name, title, others):
    """One line per combination of the other parameters, outcome against ``x_name``.

    A non-converged point is a hole in the line (its value is set to NaN, which matplotlib does not
    join across), marked by a dotted red vertical line and a red ✕ on the x axis: never interpolated.
    """
    outcomes = _outcomes(table)
    fig, axes = plt.subplots(1, len(outcomes), figsize=(5.0 * len(outcomes), 3.8), constrained_layout=True)
    groups = table.groupby(others, sort=True) if others else [((), table)]
    for ax, outcome in zip(axes, outcomes):
        for key, group in groups:
            group = group.sort_values(x_name)
            failed = ~group["converged"].to_numpy(dtype=bool)
            y = np.where(failed, np.nan, group[outcome].to_numpy(dtype=float))
            label = ", ".join(f"{o.removeprefix('param_')}={v:.3g}" for o, v in
                              zip(others, key if isinstance(key, tuple) else (key,))) or None
            ax.plot(group[x_name].to_numpy(dtype=float), y, marker="o", label=label)
            for x in group.loc[failed, x_name]:
                ax.axvline(x, color="red", linestyle=":", linewidth=1)
                # x in data units, y in axes units: the ✕ sits on the x axis whatever the final y limits.
                ax.plot([x], [0.0], marker="x", color="red", markersize=10, clip_on=False,
                        transform=ax.get_xaxis_transform())
        ax.set_xlabel(x_name.removeprefix("param_"))
        ax.set_ylabel(_label(outcome))
        ax.grid(alpha=0.3)
        if others:
            ax.legend(fontsize=7)
    n_failed = int((~table["converged"]).sum())
    fig.suptitle(f"{title}: {len(table)} points, {n_failed} not converged (red ✕)")
    return fig
