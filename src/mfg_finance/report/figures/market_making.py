"""Figures of the market-making stage: quotes, backtest distributions, comparison and statistics table."""

from __future__ import annotations

from typing import TYPE_CHECKING, Mapping

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

from mfg_finance.io import save_figure  # noqa: E402
from mfg_finance.market_making.avellaneda_stoikov import as_spreads  # noqa: E402
from mfg_finance.market_making.glft import InventoryHJB, asymptotic_spreads  # noqa: E402
from mfg_finance.market_making.market import MarketParameters  # noqa: E402
from mfg_finance.market_making.strategies import glft_parameters  # noqa: E402

if TYPE_CHECKING:  # the frames are the callers'; plot_quotes (a job of its own) needs no pandas
    import pandas as pd

STRATEGY_COLORS = {"hjb": "tab:blue", "avellaneda_stoikov": "tab:orange", "constant": "tab:green",
                   "inventory_aware": "tab:red"}
STRATEGY_LABELS = {"hjb": "GLFT (HJB)", "avellaneda_stoikov": "Avellaneda-Stoikov", "constant": "constant",
                   "inventory_aware": "inventory-aware"}


def _color(strategy: str, index: int) -> str:
    return STRATEGY_COLORS.get(strategy, f"C{(index + 4) % 10}")


def _label(strategy: str) -> str:
    return STRATEGY_LABELS.get(strategy, strategy)


def plot_quotes(params: Mapping | MarketParameters, path, *, horizon_s: float | None = None) -> None:
    """GLFT (exact and asymptotic) and A&S distances to the mid, against inventory and against time.

    One row per model, each with its own scale: A&S quotes can cross the mid (negative distance) by
    much more than GLFT's whole range, and a shared axis would flatten GLFT. Negative distances
    (a bid above or an ask below the mid) are shaded. ``params`` are one ticker's calibrated
    parameters (BRL, seconds, lots); the horizon is ``horizon_s``, else ``params["T"]``, else 600 s.
    """
    market = params if isinstance(params, MarketParameters) else MarketParameters.from_mapping(params)
    if horizon_s is None:
        horizon_s = float(params.get("T", 600.0)) if isinstance(params, Mapping) else 600.0
    hjb_params = glft_parameters(market, horizon_s)
    model = InventoryHJB(hjb_params)
    Q = market.Q_max
    q = np.arange(-Q, Q + 1)
    gamma = market.effective_gamma
    times = np.linspace(0.0, horizon_s, 201)
    levels = ((-(Q // 2), "tab:purple"), (0, "black"), (Q // 2, "tab:olive"))
    fig, axes = plt.subplots(2, 3, figsize=(15, 8.2), constrained_layout=True)

    ax = axes[0, 0]
    exact_b, exact_a = model.spread_table([0.0])
    asym_b, asym_a = asymptotic_spreads(q, hjb_params)
    ax.plot(q[:-1], exact_b[0, :-1], color="tab:blue", label="bid (exact)")
    ax.plot(q[1:], exact_a[0, 1:], color="tab:red", label="ask (exact)")
    ax.plot(q, asym_b, color="tab:blue", ls="--", lw=1, label="bid (asymptotic)")
    ax.plot(q, asym_a, color="tab:red", ls="--", lw=1, label="ask (asymptotic)")
    ax.set_title("GLFT: quotes at t = 0")
    table_b, table_a = model.spread_table(times)
    for ax, side, table in ((axes[0, 1], "bid", table_b), (axes[0, 2], "ask", table_a)):
        for level, color in levels:
            ax.plot(times, table[:, level + Q], color=color, label=f"q = {level}")
        ax.set_title(f"GLFT: {side} over time")

    ax = axes[1, 0]
    as_b, as_a = as_spreads(0.0, q, gamma=gamma, sigma=market.sigma, k=market.k, T=horizon_s)
    ax.plot(q, as_b, color="tab:blue", ls=":", lw=1.8, label="bid")
    ax.plot(q, as_a, color="tab:red", ls=":", lw=1.8, label="ask")
    ax.set_title("Avellaneda-Stoikov: quotes at t = 0")
    for ax, side in ((axes[1, 1], "bid"), (axes[1, 2], "ask")):
        for level, color in levels:
            as_side = as_spreads(times, level, gamma=gamma, sigma=market.sigma, k=market.k,
                                 T=horizon_s)[0 if side == "bid" else 1]
            ax.plot(times, as_side, color=color, ls=":", lw=1.8, label=f"q = {level}")
        ax.set_title(f"Avellaneda-Stoikov: {side} over time")

    for row in axes:
        for col, ax in enumerate(row):
            ax.set_xlabel("inventory q (lots)" if col == 0 else "time t (s)")
            ax.set_ylabel("distance to mid (BRL)" if col == 0 else f"{('bid', 'ask')[col - 1]} distance to mid (BRL)")
            _shade_through_mid(ax)
            ax.legend(fontsize=7, ncol=2)
    fig.suptitle(f"Optimal quotes: sigma={market.sigma:.3g} BRL/sqrt(s), A={market.A:.3g}/s, "
                 f"k={market.k:.3g}/BRL, gamma={market.gamma:.3g}/BRL, Q_max={Q}, T={horizon_s:g} s "
                 f"(tick {market.tick_size:g} BRL); each row has its own scale", fontsize=10)
    save_figure(fig, path)


def _shade_through_mid(ax) -> None:
    """Mark the mid (distance 0) and shade the side where a quote crosses it, when the data go there."""
    low, high = ax.get_ylim()
    if low < 0:
        ax.axhline(0.0, color="0.3", lw=0.8)
        ax.axhspan(low, 0.0, color="tab:red", alpha=0.07, lw=0, label="through the mid")
        ax.set_ylim(low, high)


def _hist(ax, values_by_strategy: dict[str, np.ndarray], *, discrete: bool):
    values = [v for v in values_by_strategy.values() if v.size]
    if not values:
        return
    lo, hi = min(float(v.min()) for v in values), max(float(v.max()) for v in values)
    if discrete:
        bins = np.arange(np.floor(lo) - 0.5, np.ceil(hi) + 1.5)
    else:
        bins = np.linspace(lo, hi if hi > lo else lo + 1.0, 50)
    for i, (strategy, v) in enumerate(values_by_strategy.items()):
        ax.hist(v, bins=bins, histtype="step", lw=1.5, density=True, color=_color(strategy, i),
                label=f"{_label(strategy)} (mean {v.mean():.3g})")


def _by_ticker(results: Mapping[tuple[str, str], pd.DataFrame]) -> dict[str, dict[str, pd.DataFrame]]:
    grouped: dict[str, dict[str, pd.DataFrame]] = {}
    for (ticker, strategy), frame in sorted(results.items(), key=lambda item: (str(item[0][0]), str(item[0][1]))):
        grouped.setdefault(str(ticker), {})[str(strategy)] = frame
    return grouped


def plot_backtest_distributions(results: Mapping[tuple[str, str], pd.DataFrame], pnl_path, inventory_path) -> None:
    """Final PnL and final inventory distributions per strategy, one panel per ticker (two figures)."""
    grouped = _by_ticker(results)
    for column, path, xlabel, discrete in (("final_pnl", pnl_path, "final PnL (BRL)", False),
                                           ("final_inventory", inventory_path, "final inventory (lots)", True)):
        n = len(grouped)
        ncols = min(n, 3)
        nrows = int(np.ceil(n / ncols))
        fig, axes = plt.subplots(nrows, ncols, figsize=(5.2 * ncols, 3.8 * nrows), squeeze=False,
                                 constrained_layout=True)
        for ax, (ticker, frames) in zip(axes.flat, grouped.items()):
            _hist(ax, {s: f[column].to_numpy(dtype=float) for s, f in frames.items()}, discrete=discrete)
            ax.set_title(ticker)
            ax.set_xlabel(xlabel)
            ax.set_ylabel("density")
            ax.legend(fontsize=7)
        for ax in list(axes.flat)[n:]:
            ax.set_visible(False)
        n_paths = max(len(f) for frames in grouped.values() for f in frames.values())
        fig.suptitle(f"{xlabel.split(' (')[0]} over {n_paths} Monte Carlo paths per strategy")
        save_figure(fig, path)


def plot_backtest_comparison(results: Mapping[str, pd.DataFrame], path, *, title: str = "Backtest") -> None:
    """One ticker: PnL and final-inventory distributions, and mean PnL with 95 % Monte Carlo intervals."""
    fig, axes = plt.subplots(1, 3, figsize=(16, 4.3), constrained_layout=True)
    _hist(axes[0], {s: f["final_pnl"].to_numpy(dtype=float) for s, f in results.items()}, discrete=False)
    axes[0].set_xlabel("final PnL (BRL)")
    axes[0].set_ylabel("density")
    axes[0].set_title("final PnL")
    axes[0].legend(fontsize=7)
    _hist(axes[1], {s: f["final_inventory"].to_numpy(dtype=float) for s, f in results.items()}, discrete=True)
    axes[1].set_xlabel("final inventory (lots)")
    axes[1].set_title("final inventory")
    axes[1].legend(fontsize=7)
    names = list(results)
    means = np.array([results[s]["final_pnl"].mean() for s in names])
    ses = np.array([results[s]["final_pnl"].std(ddof=1) / np.sqrt(len(results[s])) if len(results[s]) > 1
                    else 0.0 for s in names])
    axes[2].bar(range(len(names)), means, yerr=1.96 * ses, capsize=5,
                color=[_color(s, i) for i, s in enumerate(names)])
    axes[2].set_xticks(range(len(names)), [_label(s) for s in names], rotation=20)
    axes[2].set_ylabel("mean final PnL (BRL), 95 % MC interval")
    axes[2].set_title("mean PnL")
    fig.suptitle(title)
    save_figure(fig, path)


#: columns shown by :func:`plot_statistics_table`, with their headers
TABLE_COLUMNS = {
    "strategy": "strategy",
    "n_paths": "paths",
    "pnl_mean": "mean PnL",
    "pnl_mean_se": "± se",
    "pnl_std": "std PnL",
    "pnl_p5": "p5",
    "pnl_p95": "p95",
    "pnl_cvar5": "CVaR5",
    "sharpe": "Sharpe",
    "sharpe_se": "± se",
    "trades_mean": "trades",
    "mean_abs_final_inventory": "mean |q_T|",
    "max_abs_inventory": "max |q|",
}


def plot_statistics_table(table: pd.DataFrame, path, *, title: str = "Backtest statistics (BRL)") -> None:
    """Render the statistics table of ``backtest.backtest_statistics`` as a PNG."""
    columns = [c for c in (["ticker"] if "ticker" in table and table["ticker"].nunique() > 1 else [])
               + list(TABLE_COLUMNS) if c in table]
    headers = ["ticker" if c == "ticker" else TABLE_COLUMNS[c] for c in columns]

    def fmt(value):
        if isinstance(value, (float, np.floating)):
            return "nan" if not np.isfinite(value) else f"{value:.4g}"
        return _label(str(value)) if isinstance(value, str) else str(value)

    cells = [[fmt(row[c]) for c in columns] for _, row in table.iterrows()]
    fig, ax = plt.subplots(figsize=(1.05 * len(columns) + 1.0, 0.45 * len(cells) + 1.0))
    ax.axis("off")
    widget = ax.table(cellText=cells, colLabels=headers, loc="center", cellLoc="right")
    widget.auto_set_font_size(False)
    widget.set_fontsize(8)
    widget.scale(1.0, 1.3)
    ax.set_title(title, fontsize=10)
    save_figure(fig, path)


def plot_replay_comparison(table: pd.DataFrame, path) -> None:
    """Per ticker: simulated vs replayed PnL per hour (95 % intervals), and fills per second per side
    (model at the replayed quotes, simulated, replayed); ``table`` from ``replay.compare.replay_comparison``."""
    tickers = sorted(table["ticker"].unique())
    fig, axes = plt.subplots(2, len(tickers), figsize=(5.6 * len(tickers), 7.0), squeeze=False,
                             constrained_layout=True)
    width = 0.38
    for col, ticker in enumerate(tickers):
        rows = table[table["ticker"] == ticker].reset_index(drop=True)
        x = np.arange(len(rows))
        ax = axes[0, col]
        for offset, (column, label, hatch) in zip((-width / 2, width / 2),
                                                  (("sim_pnl_per_hour", "simulated", ""),
                                                   ("replay_pnl_per_hour", "replayed", "//"))):
            err = 1.96 * rows[f"{column}_se"].fillna(0.0).to_numpy()
            ax.bar(x + offset, rows[column], width, yerr=err, capsize=4, hatch=hatch, label=label,
                   color=[_color(s, i) for i, s in enumerate(rows["strategy"])], edgecolor="black")
        ax.axhline(0.0, color="black", lw=0.6)
        ax.set_xticks(x, [_label(s) for s in rows["strategy"]], rotation=20)
        ax.set_ylabel("mean PnL (BRL per hour), 95 % interval")
        ax.set_title(f"{ticker}: simulated vs replayed PnL")
        ax.legend(fontsize=7)
        ax = axes[1, col]
        third = width * 2 / 3
        for offset, (column, label) in zip((-third, 0.0, third),
                                           (("model_fill_rate_per_s", "model at replayed quotes"),
                                            ("sim_fill_rate_per_s", "simulated"),
                                            ("replay_fill_rate_per_s", "replayed"))):
            se = rows.get(f"{column}_se")
            ax.bar(x + offset, rows[column], third, label=label,
                   yerr=None if se is None else 1.96 * se.fillna(0.0).to_numpy(), capsize=3)
        ax.set_xticks(x, [_label(s) for s in rows["strategy"]], rotation=20)
        ax.set_ylabel("fills per second per side (1/s)")
        ax.set_title(f"{ticker}: fill rates (calibrated A = {rows['A'].iloc[0]:.3g} /s)")
        ax.legend(fontsize=7)
    fig.suptitle("Backtests against the tape: replayed sessions vs Monte Carlo")
    save_figure(fig, path)
