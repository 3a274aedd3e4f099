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
#: A fourth panel where a sweep has a price (the systemic sweeps: issue 16 asks how speed, cost *and price impact*
#: change with sigma0 and the urgent share); it replaces an all-missing terminal dispersion.
PRICE_IMPACT_LABEL = "price impact p_T - p_0 (BRL)"


def _outcomes(table: pd.DataFrame) -> list[str]:
    """The outcomes plotted: the three of :data:`OUTCOME_LABELS`, and the price impact where the sweep has one
    (in place of an all-missing terminal dispersion)."""
    chosen = list(OUTCOME_LABELS)
    if "price_impact" in table and table["price_impact"].notna().any():
        if table["terminal_dispersion"].isna().all():
            chosen[chosen.index("terminal_dispersion")] = "price_impact"
        else:
            chosen.append("price_impact")
    return chosen


def _label(outcome: str) -> str:
    return OUTCOME_LABELS.get(outcome, PRICE_IMPACT_LABEL)


def _tick(value) -> str:
    """A tick or legend label: a number to 3 digits, a weight vector's label (text) as is."""
    return value if isinstance(value, str) else f"{value:.3g}"


def _is_numeric(table: pd.DataFrame, column: str) -> bool:
    return pd.api.types.is_numeric_dtype(table[column])


def plot_sweep(table: pd.DataFrame, path, *, title: str = "Sweep") -> None:
    """Plot the sweep outcomes; points that did not converge are marked, never interpolated. A weight-vector axis
    (``type_weights``: text labels) is placed at evenly spaced positions in the order of its labels, and is the
    line plot's x axis only when no numeric axis is swept."""
    params = sorted((c for c in table.columns if c.startswith("param_")), key=lambda c: not _is_numeric(table, c))
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
        ax.set_xticks(range(len(xs)), [_tick(v) for v in xs], rotation=60, fontsize=7)
        ax.set_yticks(range(len(ys)), [_tick(v) for v in ys], fontsize=7)
        ax.set_xlabel(x_name.removeprefix("param_"))
        ax.set_ylabel(y_name.removeprefix("param_"))
        ax.set_title(outcome.replace("_", " "))
    n_failed = int((~table["converged"]).sum())
    fig.suptitle(f"{title}: {len(table)} points, {n_failed} not converged (✕)")
    return fig


def _uncertainty(group: pd.DataFrame, outcome: str):
    """Half-height of a point's error bar: its discretisation estimate (``<outcome>_error``) plus 2 Monte Carlo
    SEs (``<outcome>_se``, common-noise points), the summary's rule for an effect; None without either column."""
    parts = [group[c].to_numpy(dtype=float) * k for c, k in ((f"{outcome}_error", 1.0), (f"{outcome}_se", 2.0))
             if c in group]
    return np.nansum(parts, axis=0) if parts else None


def _speed_not_resolved(group: pd.DataFrame) -> np.ndarray:
    """Points whose speed ``-ln(E[Q_T] / Q_0) / T`` is read from a mean within 2 SE of zero (common noise)."""
    from mfg_finance.mfg.common_noise_outcomes import mean_within_noise
    if "mean_inventory_terminal_se" not in group:
        return np.zeros(len(group), dtype=bool)
    return np.array([mean_within_noise(q, se) for q, se in
                     zip(group["mean_inventory_terminal"], group["mean_inventory_terminal_se"])], dtype=bool)


def _lines(table, x_name, title, others):
    """One line per combination of the other parameters, outcome against ``x_name``.

    A non-converged point is a hole in the line (its value is set to NaN, which matplotlib does not
    join across), marked by a dotted red vertical line and a red ✕ on the x axis: never interpolated.
    """
    outcomes = _outcomes(table)
    fig, axes = plt.subplots(1, len(outcomes), figsize=(5.0 * len(outcomes), 3.8), constrained_layout=True)
    levels = None if _is_numeric(table, x_name) else sorted(table[x_name].astype(str).unique())
    groups = table.groupby(others, sort=True) if others else [((), table)]
    for ax, outcome in zip(axes, outcomes):
        for key, group in groups:
            group = group.sort_values(x_name)
            failed = ~group["converged"].to_numpy(dtype=bool)
            y = np.where(failed, np.nan, group[outcome].to_numpy(dtype=float))
            label = ", ".join(f"{o.removeprefix('param_')}={_tick(v)}" for o, v in
                              zip(others, key if isinstance(key, tuple) else (key,))) or None
            xs = (group[x_name].to_numpy(dtype=float) if levels is None
                  else np.array([levels.index(str(v)) for v in group[x_name]], dtype=float))
            # weight vectors have no order between them: markers only, no line suggesting values in between
            line, = ax.plot(xs, y, marker="o", label=label, linestyle="-" if levels is None else "none")
            bar = _uncertainty(group, outcome)
            if bar is not None:
                ax.errorbar(xs, y, yerr=np.where(failed, np.nan, bar), fmt="none", ecolor=line.get_color(),
                            capsize=3, linewidth=1)
            if outcome == "liquidation_speed":
                loose = _speed_not_resolved(group) & ~failed
                if loose.any():
                    ax.scatter(xs[loose], y[loose], s=90, facecolors="white", edgecolors=line.get_color(),
                               zorder=3, label="not resolved: mean Q_T within 2 SE of 0")
                    ax.legend(fontsize=7)
            for x in xs[failed]:
                ax.axvline(x, color="red", linestyle=":", linewidth=1)
                # x in data units, y in axes units: the ✕ sits on the x axis whatever the final y limits.
                ax.plot([x], [0.0], marker="x", color="red", markersize=10, clip_on=False,
                        transform=ax.get_xaxis_transform())
        ax.set_xlabel(x_name.removeprefix("param_"))
        if levels is not None:
            ax.set_xticks(range(len(levels)), levels, rotation=30, fontsize=7)
        ax.set_ylabel(_label(outcome))
        ax.grid(alpha=0.3)
        if others:
            ax.legend(fontsize=7)
    n_failed = int((~table["converged"]).sum())
    # name only the parts the bars hold: a sweep without common noise has no Monte Carlo SE
    parts = [name for suffix, name in (("_error", "discretisation estimate"), ("_se", "2 Monte Carlo SE"))
             if any(c.endswith(suffix) and table[c].notna().any() for c in table.columns)]
    fig.suptitle(f"{title}: {len(table)} points, {n_failed} not converged (red ✕)"
                 + (f"; bars: {' + '.join(parts)}" if parts else ""))
    return fig
