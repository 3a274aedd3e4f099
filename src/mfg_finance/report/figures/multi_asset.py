"""Figures of the multi-asset, stochastic-volatility and risk-limit studies (issue 18)."""

from __future__ import annotations

from typing import TYPE_CHECKING

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

from mfg_finance.io import save_figure  # noqa: E402

if TYPE_CHECKING:  # the frontier is the caller's frame; the quote surface's job needs no pandas
    import pandas as pd


def plot_quote_surface(surface: dict, tickers, tick_size: float, path) -> None:
    """Bid distance of the first ticker over its and the second ticker's inventory, at ``t = 0``, in ticks:
    exact, closed-form approximation and their difference (when the exact solution exists)."""
    panels = [("closed-form approximation", surface["approx_bid"])]
    if surface["exact_bid"] is not None:
        panels.insert(0, ("exact (lattice)", surface["exact_bid"]))
        both = np.isfinite(surface["approx_bid"]) & np.isfinite(surface["exact_bid"])
        gap = np.full(both.shape, np.nan)
        gap[both] = surface["approx_bid"][both] - surface["exact_bid"][both]
        panels.append(("approximation - exact", gap))
    fig, axes = plt.subplots(1, len(panels), figsize=(4.6 * len(panels), 3.9), squeeze=False)
    extent = [surface["q1"][0] - 0.5, surface["q1"][-1] + 0.5, surface["q0"][0] - 0.5, surface["q0"][-1] + 0.5]
    for ax, (title, values) in zip(axes[0], panels):
        shown = np.where(np.isfinite(values), values / tick_size, np.nan)
        cmap = "RdBu_r" if title.startswith("approximation -") else "viridis"
        if cmap == "RdBu_r":
            bound = np.nanmax(np.abs(shown)) or 1.0
            image = ax.imshow(shown, origin="lower", extent=extent, cmap=cmap, vmin=-bound, vmax=bound, aspect="auto")
        else:
            image = ax.imshow(shown, origin="lower", extent=extent, cmap=cmap, aspect="auto")
        fig.colorbar(image, ax=ax, label="ticks")
        ax.set_title(title, fontsize=10)
        ax.set_xlabel(f"inventory of {tickers[1]} (lots)")
        ax.set_ylabel(f"inventory of {tickers[0]} (lots)")
    fig.suptitle(f"Bid distance of {tickers[0]} at t = 0 (white: no bid at the limit)", fontsize=11)
    fig.tight_layout()
    save_figure(fig, path)
    plt.close(fig)


def plot_frontier(frontier: pd.DataFrame, choice: dict, path, *, title: str) -> None:
    """Mean PnL against CVaR loss across gamma, with standard-error bars, the limit and the chosen point."""
    fig, ax = plt.subplots(figsize=(6.4, 4.2))
    f = frontier.sort_values("gamma")
    colors = np.where(f["admissible"], "tab:blue", "tab:gray")
    ax.errorbar(f["loss"], f["pnl_mean"], xerr=f["loss_se"], yerr=f["pnl_mean_se"], fmt="none",
                ecolor="0.6", lw=0.8)
    ax.scatter(f["loss"], f["pnl_mean"], c=colors, s=22, zorder=3)
    for row in f.itertuples():
        ax.annotate(f"{row.gamma:.3g}", (row.loss, row.pnl_mean), fontsize=7, xytext=(3, 3),
                    textcoords="offset points")
    ax.axvline(choice["max_loss"], color="tab:red", ls="--", lw=1, label=f"max_loss = {choice['max_loss']:g} BRL")
    if choice.get("gamma") is not None:
        ax.scatter([choice["loss"]], [choice["pnl_mean"]], marker="*", s=160, color="tab:red", zorder=4,
                   label=f"chosen gamma = {choice['gamma']:.3g} 1/BRL")
    ax.set_xlabel(f"CVaR{100 * choice['cvar_level']:g}% loss = -(mean PnL of the worst paths) (BRL)")
    ax.set_ylabel("mean PnL (BRL)")
    ax.set_title(title + " (labels: gamma, 1/BRL; grey: inadmissible)", fontsize=10)
    ax.legend(fontsize=8)
    fig.tight_layout()
    save_figure(fig, path)
    plt.close(fig)
