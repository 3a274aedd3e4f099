"""Analytics charts of the statistics stage (``reports/analytics/``), one function per figure.

Every figure reads only the outputs of :func:`mfg_finance.stats.compute_stats` (and, for the volume
profile, the equities table), uses the Agg backend and is written atomically by
:func:`mfg_finance.io.save_figure`. Excluded assets never appear: the charts describe the
cross-section the calibration sees.
"""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
from matplotlib.colors import LogNorm  # noqa: E402
from matplotlib.lines import Line2D  # noqa: E402
from matplotlib.ticker import FuncFormatter  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402

from mfg_finance.io import save_figure  # noqa: E402

#: File names written by :func:`plot_analytics` (without ``.png``).
FIGURES = ("return_distribution", "top_volatility", "vol_estimators", "liquidity_vs_volatility",
           "volume_profile")

_STYLE = {"font.size": 10, "axes.titlesize": 11, "axes.labelsize": 10, "legend.fontsize": 8.5,
          "xtick.labelsize": 9, "ytick.labelsize": 9}
#: Plain numbers (20, 50, 100) instead of 2x10^1 on log axes; minor ticks labelled at 2 and 5 only.
_PLAIN = FuncFormatter(lambda v, _: f"{v:g}")
_PLAIN_MINOR = FuncFormatter(
    lambda v, _: f"{v:g}" if v > 0 and round(v / 10 ** np.floor(np.log10(v)), 6) in (2.0, 5.0) else "")
#: Sessions of the moving average drawn on the volume profile (about one month).
VOLUME_SMOOTHING_SESSIONS = 21
_ESTIMATORS = (("vol_cc_annual", "close-to-close"), ("vol_parkinson_annual", "Parkinson"),
               ("vol_garman_klass_annual", "Garman-Klass"))


def plot_analytics(returns: pd.DataFrame, asset_stats: pd.DataFrame, equities: pd.DataFrame, out_dir,
                   *, top_n: int = 10) -> dict[str, Path]:
    """Write the five analytics PNGs into ``out_dir``; return ``{name: path}``.

    Parameters
    ----------
    returns, asset_stats
        ``StatsResult.returns`` and ``StatsResult.asset_stats``.
    equities
        The selected equities (``date, ticker, volume``) for the volume profile.
    out_dir
        Destination folder (created).
    top_n
        Number of assets in the per-asset charts (the most liquid by median daily traded value, or
        the most volatile for ``top_volatility``).
    """
    if not (isinstance(top_n, (int, np.integer)) and top_n >= 1):
        raise ValueError(f"analytics.top_n must be an integer >= 1, got {top_n!r}")
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    included = _included(asset_stats)
    liquid = list(included.sort_values("adv_brl_median", ascending=False)["ticker"].head(top_n))
    makers = {
        "return_distribution": lambda: plot_return_distribution(returns, list(included["ticker"]), liquid),
        "top_volatility": lambda: plot_top_volatility(included, top_n),
        "vol_estimators": lambda: plot_vol_estimators(included, liquid),
        "liquidity_vs_volatility": lambda: plot_liquidity_vs_volatility(included, liquid),
        "volume_profile": lambda: plot_volume_profile(equities, included, liquid),
    }
    written = {}
    with plt.rc_context(_STYLE):
        for name in FIGURES:
            path = out / f"{name}.png"
            save_figure(makers[name](), path)
            written[name] = path
    return written


def analytics_inputs(returns_path, asset_stats_path, equities_path) -> tuple[pd.DataFrame, pd.DataFrame,
                                                                            pd.DataFrame]:
    """(returns, asset_stats, equities) as :func:`plot_analytics` uses them, read from the stage's files.

    Only what the charts use: ``ticker, log_return`` of the returns (ticker as a categorical), and
    ``date, ticker, volume`` of the included assets' equity rows, read a slice of the file at a time.
    About 12 bytes per return and 20 per included equity row, whatever else the files hold.
    """
    import pyarrow as pa
    import pyarrow.compute as pc
    import pyarrow.parquet as pq

    from mfg_finance.parquet_stream import SCAN_ROWS

    asset_stats = pd.read_parquet(asset_stats_path)
    returns = pq.read_table(returns_path, columns=["ticker", "log_return"], read_dictionary=["ticker"]).to_pandas()
    wanted = pa.array(sorted(set(_included(asset_stats)["ticker"])), type=pa.string())
    kept = []
    for batch in pq.ParquetFile(equities_path).iter_batches(batch_size=SCAN_ROWS, columns=["date", "ticker", "volume"]):
        kept.append(batch.filter(pc.is_in(batch.column("ticker").cast(pa.string()), value_set=wanted)))
    equities = pa.Table.from_batches(kept).to_pandas() if kept else \
        pd.read_parquet(equities_path, columns=["date", "ticker", "volume"])
    return returns, asset_stats, equities


# ----------------------------------------------------------------------------- helpers

def _included(asset_stats: pd.DataFrame) -> pd.DataFrame:
    frame = asset_stats.copy()
    frame["ticker"] = frame["ticker"].astype(str)
    if "included" in frame.columns:
        frame = frame[frame["included"].astype(bool).to_numpy()]
    return frame.reset_index(drop=True)


def _empty(ax, message: str = "no included asset") -> None:
    ax.text(0.5, 0.5, message, ha="center", va="center", transform=ax.transAxes, fontsize=12, color="0.4")
    ax.set_xticks([])
    ax.set_yticks([])


def _normal_overlay(ax, r: np.ndarray, label: bool = True) -> None:
    """Histogram of ``r`` (in %) as a density with the normal of the same mean and std."""
    ax.hist(r, bins=min(60, max(10, int(np.sqrt(r.size)))), density=True, color="#4C72B0", alpha=0.75,
            label="observed" if label else None)
    mu, sd = r.mean(), r.std(ddof=1)
    if sd > 0:
        x = np.linspace(r.min(), r.max(), 300)
        ax.plot(x, np.exp(-0.5 * ((x - mu) / sd) ** 2) / (sd * np.sqrt(2 * np.pi)), color="#C44E52", lw=1.6,
                label=f"normal (mean {mu:.2f}%, std {sd:.2f}%)" if label else None)


# ----------------------------------------------------------------------------- figures

def plot_return_distribution(returns: pd.DataFrame, pooled_tickers: list[str], tickers: list[str]):
    """Daily log returns pooled over ``pooled_tickers``, and of each of ``tickers``, vs a normal.

    Returns in % per session; the title reports the excess kurtosis (0 for a normal). Pooling mixes
    assets of different volatility, which by itself fattens the tails.
    """
    ticker_of_row = returns["ticker"]      # text or categorical: compared by value, no text per row
    log_return = returns["log_return"]
    n_small = len(tickers)
    ncols = min(5, max(1, n_small))
    nrows_small = int(np.ceil(n_small / ncols)) if n_small else 0
    fig = plt.figure(figsize=(13, 3.6 + 2.4 * nrows_small), constrained_layout=True)
    grid = fig.add_gridspec(1 + nrows_small, ncols, height_ratios=[1.6] + [1.0] * nrows_small)
    ax = fig.add_subplot(grid[0, :])
    pooled = 100 * log_return[ticker_of_row.isin(set(pooled_tickers)).to_numpy()].to_numpy(dtype=float)
    pooled = pooled[np.isfinite(pooled)]
    if pooled.size < 2:
        _empty(ax, "fewer than 2 valid returns")
    else:
        z = (pooled - pooled.mean()) / pooled.std(ddof=1) if pooled.std(ddof=1) > 0 else pooled * 0
        kurtosis = np.mean(z ** 4) - 3
        # Unadjusted COTAHIST prices keep splits and other events as huge one-day moves: show the
        # central 99.8% so the bulk is readable, and say how many lie outside.
        lo, hi = np.quantile(pooled, [0.001, 0.999])
        shown = pooled[(pooled >= lo) & (pooled <= hi)]
        _normal_overlay(ax, shown)
        ax.set_title(f"Daily log returns pooled over {len(pooled_tickers)} included assets: {pooled.size} returns, "
                     f"excess kurtosis {kurtosis:.1f} (all)\n{pooled.size - shown.size} beyond "
                     f"[{lo:.1f}%, {hi:.1f}%] not shown. Below: top {n_small} by traded value")
        ax.set_xlabel("log return (% per session)")
        ax.set_ylabel("density (1/%)")
        ax.legend(loc="upper right")
    for i, ticker in enumerate(tickers):
        sub = fig.add_subplot(grid[1 + i // ncols, i % ncols])
        r = 100 * log_return[(ticker_of_row == ticker).to_numpy()].to_numpy(dtype=float)
        r = r[np.isfinite(r)]
        if r.size < 2:
            _empty(sub, f"{ticker}: too few returns")
            continue
        _normal_overlay(sub, r, label=False)
        sub.set_title(f"{ticker} (n={r.size}, std {r.std(ddof=1):.2f}%)", fontsize=9.5)
        sub.set_xlabel("log return (%)", fontsize=8.5)
        if i % ncols == 0:
            sub.set_ylabel("density (1/%)", fontsize=8.5)
    return fig


def plot_top_volatility(included: pd.DataFrame, top_n: int):
    """Horizontal bars: the ``top_n`` included assets by annualised close-to-close volatility (%)."""
    top = included.dropna(subset=["vol_cc_annual"]).nlargest(top_n, "vol_cc_annual")
    fig, ax = plt.subplots(figsize=(9, 0.9 + 0.42 * max(len(top), 3)), constrained_layout=True)
    if top.empty:
        _empty(ax)
        return fig
    y = np.arange(len(top))[::-1]
    vols = 100 * top["vol_cc_annual"].to_numpy(dtype=float)
    ax.barh(y, vols, color="#DD8452")
    ax.set_yticks(y, top["ticker"])
    for yi, v in zip(y, vols):
        ax.text(v, yi, f" {v:.0f}%", va="center", fontsize=8.5)
    median = 100 * float(included["vol_cc_annual"].median())
    ax.axvline(median, color="0.3", ls="--", lw=1, label=f"median of {len(included)} assets: {median:.0f}%")
    ax.set_xlabel("annualised volatility, close-to-close (% per year^1/2)")
    ax.set_title(f"Top {len(top)} assets by volatility")
    ax.set_xlim(0, vols.max() * 1.15)
    ax.legend(loc="lower right")
    return fig


def plot_vol_estimators(included: pd.DataFrame, tickers: list[str]):
    """Close-to-close vs Parkinson vs Garman-Klass: bars for the top assets, scatter for all."""
    fig, (ax_bar, ax_sc) = plt.subplots(1, 2, figsize=(13, 4.8), constrained_layout=True,
                                        gridspec_kw={"width_ratios": [1.6, 1.0]})
    if included.empty:
        _empty(ax_bar)
        _empty(ax_sc)
        return fig
    sel = included.set_index("ticker").loc[tickers]
    x = np.arange(len(sel))
    width = 0.27
    colors = ("#4C72B0", "#55A868", "#C44E52")
    for j, ((col, label), color) in enumerate(zip(_ESTIMATORS, colors)):
        ax_bar.bar(x + (j - 1) * width, 100 * sel[col].to_numpy(dtype=float), width, label=label, color=color)
    ax_bar.set_xticks(x, sel.index, rotation=45, ha="right")
    ax_bar.set_ylabel("annualised volatility (%)")
    ax_bar.set_title(f"Volatility estimators, top {len(sel)} assets by traded value")
    ax_bar.legend()

    cc = 100 * included["vol_cc_annual"].to_numpy(dtype=float)
    for (col, label), color in zip(_ESTIMATORS[1:], colors[1:]):
        ax_sc.scatter(cc, 100 * included[col].to_numpy(dtype=float), s=14, alpha=0.7, color=color, label=label)
    values = np.r_[cc, 100 * included["vol_parkinson_annual"].to_numpy(dtype=float),
                   100 * included["vol_garman_klass_annual"].to_numpy(dtype=float)]
    values = values[np.isfinite(values) & (values > 0)]
    if values.size:
        lim = [values.min() / 1.2, values.max() * 1.2]
        ax_sc.plot(lim, lim, color="0.3", lw=1, ls="--", label="equal")
        ax_sc.set_xscale("log")
        ax_sc.set_yscale("log")
        ax_sc.set_xlim(lim)
        ax_sc.set_ylim(lim)
        ax_sc.grid(True, which="major", alpha=0.25)
        for axis in (ax_sc.xaxis, ax_sc.yaxis):
            axis.set_major_formatter(_PLAIN)
            axis.set_minor_formatter(_PLAIN_MINOR)
    ax_sc.set_xlabel("close-to-close volatility (% per year^1/2, log scale)")
    ax_sc.set_ylabel("range-based volatility (% per year^1/2, log scale)")
    ax_sc.set_title(f"All {len(included)} included assets\n(range-based: open-to-close only, no overnight)")
    ax_sc.legend(loc="upper left")
    return fig


def plot_liquidity_vs_volatility(included: pd.DataFrame, tickers: list[str]):
    """Median daily traded value vs volatility (log-log), coloured by the Corwin-Schultz spread."""
    fig, ax = plt.subplots(figsize=(9.5, 6), constrained_layout=True)
    data = included[(included["adv_brl_median"] > 0) & (included["vol_cc_annual"] > 0)]
    if data.empty:
        _empty(ax)
        return fig
    # Spreads below 1 bp (Corwin-Schultz estimates floored at 0) are drawn at 1 bp.
    spread_bp = np.clip(np.nan_to_num(1e4 * data["spread_cs"].to_numpy(dtype=float), nan=1.0), 1.0, None)
    trades = data["trades_per_session"].to_numpy(dtype=float)
    sizes = 12 + 60 * np.sqrt(np.nan_to_num(trades) / max(np.nanmax(trades), 1.0))
    norm = LogNorm(vmin=spread_bp.min(), vmax=max(spread_bp.max(), spread_bp.min() * 10))
    sc = ax.scatter(data["adv_brl_median"], 100 * data["vol_cc_annual"], c=spread_bp, norm=norm, s=sizes,
                    cmap="viridis", alpha=0.8, edgecolors="none")
    bar = fig.colorbar(sc, ax=ax)
    bar.set_label("Corwin-Schultz spread (bp of price, log scale)")
    ax.set_xscale("log")
    ax.set_yscale("log")
    for axis in (bar.ax.yaxis, ax.yaxis):  # after set_yscale, which resets the formatters
        axis.set_major_formatter(_PLAIN)
        axis.set_minor_formatter(_PLAIN_MINOR)
    labelled = data[data["ticker"].isin(tickers)]
    for _, row in labelled.iterrows():
        ax.annotate(row["ticker"], (row["adv_brl_median"], 100 * row["vol_cc_annual"]), fontsize=7.5,
                    xytext=(3, 3), textcoords="offset points")
    ax.set_xlabel("median daily traded value (BRL per session, log scale)")
    ax.set_ylabel("annualised volatility, close-to-close (%, log scale)")
    ax.set_title(f"Liquidity vs volatility, {len(data)} assets (marker size: trades per session)")
    ax.grid(True, which="both", alpha=0.25)
    return fig


def plot_volume_profile(equities: pd.DataFrame, included: pd.DataFrame, tickers: list[str]):
    """Traded value per session over time: the top assets stacked, the other included assets as one band."""
    fig, ax = plt.subplots(figsize=(12, 5), constrained_layout=True)
    frame = equities.loc[equities["ticker"].isin(set(included["ticker"])).to_numpy(), ["date", "ticker", "volume"]]
    if frame.empty:
        _empty(ax)
        return fig
    # The group of each row through the ticker's category (a label per ticker, not a string per row).
    ticker = frame["ticker"].astype("category").cat.remove_unused_categories()
    names = ticker.cat.categories.astype(str)
    labels = np.where(names.isin(tickers), names, "other included")
    groups, label_codes = np.unique(labels, return_inverse=True)
    group = pd.Categorical.from_codes(label_codes[ticker.cat.codes.to_numpy()], categories=groups)
    table = (frame.loc[:, ["date", "volume"]].assign(group=group)
             .pivot_table(index="date", columns="group", values="volume", aggfunc="sum", fill_value=0.0,
                          observed=True)
             .sort_index())
    order = [t for t in tickers if t in table.columns] + (["other included"] if "other included" in table else [])
    table = table[order] / 1e6
    dates = pd.to_datetime(table.index)
    cmap = plt.get_cmap("tab20")
    colors = [cmap(i % 20) for i in range(len(order))]
    if "other included" in order:
        colors[-1] = "0.75"
    # One bar per session of the calendar (x = session number, so weekends and holidays, which are
    # not sessions, leave no holes); a missing session of one asset is a missing slice.
    # Each group is one filled step outline over the sessions (bars of width 1 drawn as one patch, not one
    # Rectangle per session: the same picture, ~30x fewer artists to lay out and draw).
    x = np.arange(len(table))
    edges = np.arange(len(table) + 1) - 0.5
    bottom = np.zeros(len(table))
    for col, color in zip(order, colors):
        heights = table[col].to_numpy(dtype=float)
        ax.stairs(bottom + heights, edges, baseline=bottom, fill=True, color=color, label=col, linewidth=0)
        bottom = bottom + heights
    if len(table) >= 2 * VOLUME_SMOOTHING_SESSIONS:
        smooth = pd.Series(bottom).rolling(VOLUME_SMOOTHING_SESSIONS, center=True).mean()
        ax.plot(x, smooth, color="black", lw=1.4, label=f"total, {VOLUME_SMOOTHING_SESSIONS}-session mean")
    ticks = np.unique(np.linspace(0, len(table) - 1, min(len(table), 8)).round().astype(int))
    ax.set_xticks(ticks, [f"{d:%Y-%m-%d}" for d in dates[ticks]], rotation=30, ha="right")
    ax.set_xlim(-0.5, len(table) - 0.5)
    ax.set_xlabel(f"session ({len(table)} sessions)")
    ax.set_ylabel("traded value (million BRL per session)")
    ax.set_title(f"Volume profile: {len(included)} included assets, top {len(order) - ('other included' in order)} "
                 "by median traded value stacked")
    handles, labels = ax.get_legend_handles_labels()
    first = [i for i, h in enumerate(handles) if isinstance(h, Line2D)]  # the smoothed total above the groups
    legend_order = first + [i for i in range(len(handles)) if i not in first]
    ax.legend([handles[i] for i in legend_order], [labels[i] for i in legend_order], loc="upper left",
              bbox_to_anchor=(1.01, 1.0), frameon=False)
    return fig
