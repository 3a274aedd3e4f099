"""Figures of the market maker / crowd equilibrium (docs/equilibrium.md).

Units: time in trading days (crowd) and seconds (market maker), flow in lots per second, spread in BRL,
inventory in lots, costs in the crowd's cost units.
"""

from __future__ import annotations

from typing import Mapping, Sequence

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

from mfg_finance.io import save_figure

T_LABEL = "time t (trading days)"


def plot_paths(arrays: Mapping[str, np.ndarray], path, *, title: str = "Equilibrium paths") -> None:
    """The crowd's flow (lots/s), the market maker's expected spread (BRL) and the crowd's cost ``eta_t``
    (cost x day / inv.^2) against time, and the market maker's inventory law (mean +- 1 std, lots)."""
    t = arrays["t"]
    fig, axes = plt.subplots(1, 4, figsize=(16, 3.6))
    axes[0].plot(t, arrays["crowd_flow"], color="tab:blue")
    axes[0].set_title("crowd's flow F_t (lots / s, < 0 sells)", fontsize=9)
    axes[1].step(t, arrays["spread"], where="post", color="tab:red", label="paid by the crowd")
    axes[1].step(t, arrays["quoted_spread"], where="post", color="grey", ls="--", label="quoted (bid + ask)")
    axes[1].set_title("expected spread (BRL)", fontsize=9)
    axes[1].legend(fontsize=7)
    axes[2].plot(t, arrays["eta"], color="tab:green")
    axes[2].set_title("crowd's cost eta_t = eta0 + eta1|m| + theta S", fontsize=9)
    mean, std = arrays["mm_mean_inventory"], arrays["mm_inventory_std"]
    axes[3].plot(t, mean, color="tab:purple", label="mean")
    axes[3].fill_between(t, mean - std, mean + std, color="tab:purple", alpha=0.2, label="+- 1 std")
    axes[3].set_title("market maker's inventory (lots)", fontsize=9)
    axes[3].legend(fontsize=7)
    for ax in axes:
        ax.set_xlabel(T_LABEL)
    fig.suptitle(title)
    fig.tight_layout()
    save_figure(fig, path)
    plt.close(fig)


def plot_convergence(residuals: Sequence[float], path, *, tol: float, method: str) -> None:
    """Residual of the fixed point on the spread path after each round (log scale)."""
    fig, ax = plt.subplots(figsize=(5, 3.4))
    ax.semilogy(np.arange(1, len(residuals) + 1), np.maximum(residuals, 1e-300), "o-")
    ax.axhline(tol, color="grey", ls="--", label=f"tol = {tol:g}")
    ax.set_xlabel("round (crowd solve + market-maker solve)")
    ax.set_ylabel("max |S' - S| / max S")
    ax.set_title(f"Equilibrium fixed point ({method})")
    ax.legend(fontsize=8)
    fig.tight_layout()
    save_figure(fig, path)
    plt.close(fig)


def plot_regimes(table: pd.DataFrame, path, *, metrics: Sequence[tuple[str, str]]) -> None:
    """Heatmaps of the regimes sweep: rows = market maker (gamma, Q_max), columns = crowd (size, position);
    one panel per metric ``(column, label)``."""
    frame = table.copy()
    # rows and columns in the grid's own order (not alphabetical); non-converged cells stay blank
    frame["mm"] = [f"gamma={g:g}, Q={q:d}" for g, q in zip(frame["gamma"], frame["Q_max"])]
    frame["crowd"] = [f"size={s:g}, m0={m:g}" for s, m in zip(frame["crowd_size"], frame["m0_mean"])]
    rows, columns = list(dict.fromkeys(frame["mm"])), list(dict.fromkeys(frame["crowd"]))
    frame.loc[~frame["converged"].astype(bool), [c for c, _ in metrics]] = np.nan
    ncols = min(3, len(metrics))
    nrows = -(-len(metrics) // ncols)
    fig, axes = plt.subplots(nrows, ncols, figsize=(5.2 * ncols, 4.0 * nrows), squeeze=False)
    for ax in axes.flat[len(metrics):]:
        ax.set_visible(False)
    for ax, (column, label) in zip(axes.flat, metrics):
        grid = frame.pivot(index="mm", columns="crowd", values=column).reindex(index=rows, columns=columns)
        values = grid.to_numpy(dtype=float)
        image = ax.imshow(values, aspect="auto", cmap="viridis")
        ax.set_xticks(range(grid.shape[1]), grid.columns, rotation=35, ha="right", fontsize=7)
        ax.set_yticks(range(grid.shape[0]), grid.index, fontsize=7)
        for (i, j), v in np.ndenumerate(values):
            if np.isfinite(v):
                ax.text(j, i, f"{v:.4g}", ha="center", va="center", fontsize=7, color="white")
        ax.set_title(label, fontsize=9)
        fig.colorbar(image, ax=ax, shrink=0.8)
    fig.suptitle("Liquidity regimes: market maker (rows) against crowd (columns)")
    fig.tight_layout()
    save_figure(fig, path)
    plt.close(fig)


#: the heatmap panels of the regimes figure: (table column, title with unit)
REGIME_PANELS = (("mm_mean_spread_brl", "average quoted spread (BRL)"),
                 ("crowd_paid_spread_brl", "spread the crowd pays (BRL)"),
                 ("crowd_liquidation_speed", "crowd's liquidation speed (1/day)"),
                 ("crowd_cost", "crowd's cost (cost units)"),
                 ("mm_pnl_brl", "market maker's PnL (BRL)"),
                 ("mm_inventory_risk_brl", "market maker's inventory risk (BRL)"))
