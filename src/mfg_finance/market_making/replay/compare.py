r"""What the tape says about the simulated backtests: replayed vs simulated PnL, fill rates, and the
cost of queue position and latency.

Every (session, ticker, strategy) is replayed three times (:func:`replay_variants`):

``ideal``       front of the queue, no latency (the simulator's optimism);
``queue``       the configured queue model, no latency;
``configured``  the configured queue and latency (the replay the report calls "replayed").

:func:`replay_comparison` summarises them per (ticker, strategy), with standard errors across
sessions (sessions treated as independent; NaN with one session). Simulated backtests run over
``horizon_s`` and a session lasts a trading day, so PnL is compared **per hour**:
``PnL / horizon_s * 3600`` (BRL/h). Columns (rates in 1/s, money in BRL/h):

* ``sim_pnl_per_hour`` (``_se``): the Monte Carlo backtest's mean PnL per hour;
* ``replay_pnl_per_hour`` (``_se``): mean over sessions of the configured replay's PnL marked to the
  reference; ``replay_liquidation_pnl_per_hour``: the same after closing at the last print;
* ``A``: the calibrated fill intensity at the mid; ``model_fill_rate_per_s``: the model's fills per second
  of a quote re-posted every ``dt`` at the mean replayed half-spread ``delta`` (at most one fill per
  step, as in the simulator): ``(1 - exp(-A exp(-k delta) dt)) / dt``; ``sim_fill_rate_per_s``:
  the simulated backtest's fills per side per second; ``replay_fill_rate_per_s`` (``_se``): the
  configured replay's lots filled per side per second (a partial fill counts for its share of a lot);
* ``queue_cost_per_hour`` (``_se``): ``ideal - queue`` PnL per hour, paired by session;
  ``latency_cost_per_hour`` (``_se``): ``queue - configured``, paired by session.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Callable, Mapping

import numpy as np
import pandas as pd

from mfg_finance.errors import DataError
from mfg_finance.market_making.market import MarketParameters
from mfg_finance.market_making.replay.engine import (SUMMARY_COLUMNS, replay_session, session_quote_table,
                                                     session_window)
from mfg_finance.market_making.replay.settings import ReplaySettings
from mfg_finance.market_making.replay.tape import Tape

VARIANTS = ("ideal", "queue", "configured")
SECONDS_PER_HOUR = 3600.0


def variant_settings(settings: ReplaySettings) -> dict[str, ReplaySettings]:
    """The three variants of :data:`VARIANTS` derived from the configured settings."""
    return {"ideal": replace(settings, queue="front", queue_ahead=0.0, latency_s=0.0),
            "queue": replace(settings, latency_s=0.0),
            "configured": settings}


def replay_variants(tape: Tape, strategy: str | Callable, market: MarketParameters, settings: ReplaySettings, *,
                    session: str = "", **session_kw) -> pd.DataFrame:
    """One summary row per variant (column ``variant`` first, then :data:`SUMMARY_COLUMNS`); ``session_kw``
    (``reference``, ``session_start_s``, ``session_end_s``) go to :func:`replay_session`."""
    if isinstance(strategy, str):            # one quote table for the three variants (same decisions)
        _, _, times = session_window(tape, settings, session_kw.get("session_start_s"),
                                     session_kw.get("session_end_s"), session=session)
        strategy = session_quote_table(strategy, market, times, settings)
    rows = [{"variant": name, **replay_session(tape, strategy, market, cfg, session=session, **session_kw).summary}
            for name, cfg in variant_settings(settings).items()]
    return pd.DataFrame(rows, columns=["variant", *SUMMARY_COLUMNS])


def empty_variants_frame() -> pd.DataFrame:
    """The columns of :func:`replay_variants` with no row (a ticker that did not trade that session)."""
    return pd.DataFrame(columns=["variant", *SUMMARY_COLUMNS])


def _mean_se(x: np.ndarray) -> tuple[float, float]:
    x = np.asarray(x, dtype=float)
    return float(x.mean()), (float(x.std(ddof=1) / np.sqrt(x.size)) if x.size > 1 else float("nan"))


def replay_comparison(replays: pd.DataFrame, simulated: pd.DataFrame,
                      markets: Mapping[str, MarketParameters]) -> pd.DataFrame:
    """Per (ticker, strategy): simulated vs replayed PnL, fill rates vs ``A``, queue and latency costs.

    Parameters
    ----------
    replays : rows of :func:`replay_variants` with ``ticker`` and ``strategy`` columns.
    simulated : the simulated backtests' statistics table (``backtest_statistics``).
    markets : calibrated parameters per ticker.
    """
    missing = [c for c in ("ticker", "strategy", "variant", "session", "final_pnl", "horizon_s") if c not in replays]
    if missing or replays.empty:
        raise DataError(f"replay rows are empty or lack columns {missing}")
    sim = simulated.set_index(["ticker", "strategy"])
    rows = []
    for (ticker, strategy), group in replays.groupby(["ticker", "strategy"], sort=True):
        by_variant = {v: g.set_index("session").sort_index() for v, g in group.groupby("variant")}
        if set(by_variant) != set(VARIANTS):
            raise DataError(f"replays of ({ticker}, {strategy}) have variants {sorted(by_variant)}; expected "
                            f"{list(VARIANTS)}")
        conf = by_variant["configured"]
        hours = conf["horizon_s"].to_numpy(float) / SECONDS_PER_HOUR
        per_hour = {v: f["final_pnl"].to_numpy(float) / (f["horizon_s"].to_numpy(float) / SECONDS_PER_HOUR)
                    for v, f in by_variant.items()}
        if ticker not in markets:
            raise DataError(f"no calibrated parameters for ticker {ticker!r}")
        market = markets[ticker]
        half_spread = float(np.nanmean(conf["mean_spread"].to_numpy(float))) / 2.0
        row = {"ticker": ticker, "strategy": strategy, "n_sessions": int(len(conf)),
               "session_hours_mean": float(hours.mean())}
        if (ticker, strategy) in sim.index:
            s = sim.loc[(ticker, strategy)]
            scale = SECONDS_PER_HOUR / float(s["horizon_s"])
            row.update(sim_pnl_per_hour=float(s["pnl_mean"]) * scale,
                       sim_pnl_per_hour_se=float(s["pnl_mean_se"]) * scale,
                       sim_fill_rate_per_s=0.5 * (float(s["bid_fill_rate_per_s"]) + float(s["ask_fill_rate_per_s"])))
        else:
            row.update(sim_pnl_per_hour=np.nan, sim_pnl_per_hour_se=np.nan, sim_fill_rate_per_s=np.nan)
        row["replay_pnl_per_hour"], row["replay_pnl_per_hour_se"] = _mean_se(per_hour["configured"])
        liquidation = conf["liquidation_pnl"].to_numpy(float) / hours
        row["replay_liquidation_pnl_per_hour"], row["replay_liquidation_pnl_per_hour_se"] = _mean_se(liquidation)
        row["A"] = market.A
        dt = float(conf["horizon_s"].iloc[0]) / float(conf["n_decisions"].iloc[0])
        intensity = market.A * np.exp(-market.k * half_spread) if np.isfinite(half_spread) else float("nan")
        row["model_fill_rate_per_s"] = -np.expm1(-intensity * dt) / dt
        # lots filled per side (partial fills count for their share of a lot)
        fills = 0.5 * (conf["bought_shares"].to_numpy(float) + conf["sold_shares"].to_numpy(float)) / market.order_size
        row["replay_fill_rate_per_s"], row["replay_fill_rate_per_s_se"] = _mean_se(
            fills / conf["horizon_s"].to_numpy(float))
        row["replay_half_spread"] = half_spread
        row["queue_cost_per_hour"], row["queue_cost_per_hour_se"] = _mean_se(per_hour["ideal"] - per_hour["queue"])
        row["latency_cost_per_hour"], row["latency_cost_per_hour_se"] = _mean_se(
            per_hour["queue"] - per_hour["configured"])
        rows.append(row)
    return pd.DataFrame(rows)
