"""Market-making parameters per ticker.

Market making (time in seconds, price in BRL, inventory in lots)
----------------------------------------------------------------
* ``sigma`` = :math:`\\sigma_d P / \\sqrt{S}` BRL/sqrt(s), :math:`S` = :data:`SESSION_SECONDS`.
* ``k`` = :math:`1/h`, :math:`h` the observed half-spread in BRL: the GLFT/Avellaneda-Stoikov optimal
  half-spread :math:`\\frac1\\gamma\\ln(1+\\gamma/k)` tends to :math:`1/k` as :math:`\\gamma \\to 0`,
  so competitive (nearly risk-neutral) market makers quoting at :math:`h` reveal :math:`k = 1/h`.
* ``A`` = :math:`f \\lambda_h e^{k h} = e f \\lambda_h`, where :math:`\\lambda_h = N / (2S)` is the
  per-side rate of trades (1/s) and :math:`f` (``market_making.flow_share``) the share of them that
  fills *our* quote at the touch: our fill intensity at the observed quote is :math:`f \\lambda_h`.
  :math:`f = 1` (every trade in the market is ours) is only an upper bound, recorded beside ``A``
  as ``upper_bound``: it makes every backtest PnL optimistic.
* ``tick_size`` 0.01 BRL (B3 equities), ``S0`` last close, ``gamma`` and ``Q_max`` from config.

The spread :math:`s` (fraction of price) is :func:`calibration_spread`: by default the median quoted
closing spread (an observation, present for liquid names), else the Corwin-Schultz proxy; it is
floored at one tick over the price, the smallest spread B3 allows.
"""

from __future__ import annotations

import math
from typing import Any, Mapping

import pandas as pd

from mfg_finance.errors import CalibrationError
from mfg_finance.calibration.common import (MM_PARAMETERS, MM_UNITS, SESSION_SECONDS, TICK_SIZE_BRL, _asset_row,
                                           _check_overrides, _entry, _is_number, _require, _resolve, _stats_of,
                                           calibration_spread)


def calibrate_mm(asset_stats: pd.DataFrame, *, tickers, gamma: float, Q_max: float,
                 overrides: Mapping[str, Any] | None = None, spread: str = "auto",
                 flow_share: float = 1.0) -> dict[str, Any]:
    """Market-making parameters (``mm_params.yaml``) per ticker, in seconds, BRL and lots.

    Parameters
    ----------
    asset_stats
        ``StatsResult.asset_stats``.
    tickers
        Tickers to calibrate; each must be in the data and included.
    gamma
        CARA risk aversion (1/BRL), from ``market_making.gamma``.
    Q_max
        Inventory limit (lots), from ``market_making.Q_max``.
    overrides
        ``{"mm": {TICKER: {param: value}}}``.
    spread
        Which spread statistic (see :func:`calibration_spread`).

    Returns
    -------
    dict with ``units``, ``tickers`` (``{TICKER: {param: {value, unit, source, statistic, formula}}}``),
    ``statistics`` (the inputs per ticker) and ``constants``.
    """
    if not (_is_number(flow_share) and 0 < float(flow_share) <= 1):
        raise CalibrationError(f"market_making.flow_share must be in (0, 1], got {flow_share!r}")
    if isinstance(tickers, str) or not tickers:
        raise CalibrationError(f"market_making.tickers must be a non-empty list, got {tickers!r}")
    tickers = [str(t) for t in tickers]
    for name, value in (("gamma", gamma), ("Q_max", Q_max)):
        if not (_is_number(value) and value > 0):
            raise CalibrationError(f"market_making.{name} must be a finite number > 0, got {value!r}")
    ov = _check_overrides(overrides, "mm", MM_PARAMETERS, nested=True)
    unknown = sorted(set(ov) - set(tickers))
    if unknown:
        raise CalibrationError(f"calibration.overrides.mm: ticker(s) {unknown} are not in market_making.tickers "
                               f"{tickers}")
    doc_tickers, statistics = {}, {}
    for ticker in tickers:
        row = _asset_row(asset_stats, ticker, "market_making.tickers")
        stats = _stats_of(row)
        doc_tickers[ticker] = _mm_ticker(ticker, stats, ov.get(ticker, {}), gamma=gamma, Q_max=Q_max,
                                         spread_choice=spread, flow_share=float(flow_share))
        statistics[ticker] = {k: stats[k] for k in sorted(stats)}
    return {
        "units": {"time": "second", "price": "BRL", "inventory": "lot (B3 standard lot, 100 shares)",
                  "session_seconds": SESSION_SECONDS},
        "tickers": doc_tickers,
        "statistics": statistics,
        "constants": {"session_seconds": SESSION_SECONDS, "tick_size_brl": TICK_SIZE_BRL, "spread": spread,
                      "flow_share": float(flow_share)},
    }


def _mm_ticker(ticker: str, stats: Mapping[str, float], ov: Mapping[str, Any], *, gamma, Q_max,
               spread_choice: str, flow_share: float) -> dict[str, dict]:
    who = f"ticker {ticker}"
    need = lambda name: _require(stats, name, who)  # noqa: E731

    def half_spread():
        s, source = calibration_spread(stats, spread_choice)
        s = _require({"spread": s}, "spread", who)
        return 0.5 * s * need("last_close_brl"), s, source

    def sigma():
        vol, p = need("vol_cc_daily"), need("last_close_brl")
        return _entry(vol * p / math.sqrt(SESSION_SECONDS), "BRL / sqrt(s)", "data",
                      f"vol_cc_daily={vol:.4g}, last_close_brl={p:.6g}",
                      f"sigma = vol_cc_daily * S0 / sqrt({SESSION_SECONDS})")

    def k():
        h, s, source = half_spread()
        return _entry(1.0 / h, "1/BRL", "data", f"half-spread h={h:.4g} BRL (s={s:.4g}, {source})",
                      "k = 1/h (GLFT/AS optimal half-spread (1/gamma) ln(1+gamma/k) -> 1/k as gamma -> 0)")

    def A():
        n = need("trades_per_session")
        rate = n / (2.0 * SESSION_SECONDS)
        k_value = float(ov["k"]) if "k" in ov else k()["value"]
        h = half_spread()[0]
        upper = rate * math.exp(k_value * h)
        return _entry(flow_share * upper, "1/s", "data",
                      f"trades_per_session={n:.6g} (per-side rate {rate:.4g}/s), h={h:.4g} BRL, k={k_value:.4g}, "
                      f"flow_share={flow_share:g}",
                      f"A = flow_share * trades_per_session / (2 * {SESSION_SECONDS}) * exp(k h)  (our fill "
                      "intensity at the quote = our share of the observed per-side trade rate)",
                      upper_bound=upper,
                      upper_bound_formula="flow_share = 1: every trade in the market fills us (optimistic)")

    def tick_size():
        return _entry(TICK_SIZE_BRL, "BRL", "convention", "B3 minimum price increment for equities",
                      "tick_size = 0.01")

    def S0():
        p = need("last_close_brl")
        return _entry(p, "BRL", "data", f"last_close_brl={p:.6g}", "S0 = last close")

    def gamma_():
        return _entry(gamma, "1/BRL", "config", "market_making.gamma", "CARA risk aversion, given")

    def q_max():
        entry = _entry(Q_max, "lot", "config", "market_making.Q_max", "inventory limit, given")
        entry["value"] = int(Q_max) if float(Q_max).is_integer() else float(Q_max)
        return entry

    builders = {"sigma": sigma, "A": A, "k": k, "tick_size": tick_size, "gamma": gamma_, "Q_max": q_max,
                "S0": S0}
    out = {name: _resolve(name, ov, builders[name], f"mm.{ticker}", MM_UNITS[name]) for name in MM_PARAMETERS}
    if "Q_max" in ov and float(ov["Q_max"]).is_integer():
        out["Q_max"]["value"] = int(ov["Q_max"])
    return out
