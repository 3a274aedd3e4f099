"""Effective spread from trades: Roll's estimator and the signed-trade (Glosten-Harris) regression.

Model: :math:`p_i = m_{t_i^-} + c\\, s_i`, :math:`m` jumping by :math:`\\lambda s_i q_i` after each
trade and diffusing in between; :math:`c` is the effective half-spread (BRL).

* Roll (1984), no signs needed: :math:`\\gamma = \\mathrm{Cov}(\\Delta p_i, \\Delta p_{i-1}) =
  -c^2 + c\\lambda E[q]`, so :math:`\\hat c_{Roll} = \\sqrt{-\\gamma}` estimates :math:`c` only
  without impact (it is biased low otherwise). :math:`\\gamma` is averaged over clock blocks
  (SE from their spread); :math:`se(c) = se(\\gamma) / (2c)`.
* Signed trades (Glosten and Harris 1988 without the adverse-selection split):
  :math:`\\Delta p_i = c\\,\\Delta s_i + \\lambda\\, s_{i-1} q_{i-1} + e_i`, by OLS with Newey-West
  errors over consecutive signed trades of each session; gives :math:`c` (BRL) and the per-trade
  permanent impact :math:`\\lambda` (BRL/share).
"""

from __future__ import annotations

import math

import numpy as np

from mfg_finance.errors import DataError
from mfg_finance.microstructure.estimate import Estimate, block_mean, ols_hac
from mfg_finance.microstructure.series import SessionSeries
from mfg_finance.microstructure.volatility import _blocks


def roll_half_spread(sessions: list[SessionSeries], *, n_blocks: int = 12) -> Estimate:
    """Roll's effective half-spread c = sqrt(-Cov(dp_i, dp_{i-1})) (BRL)."""
    gammas = []
    for s in sessions:
        for block in _blocks(s, n_blocks):
            dp = np.diff(s.price[block])
            if dp.size >= 10:
                a, b = dp[1:] - dp[1:].mean(), dp[:-1] - dp[:-1].mean()
                gammas.append(float(np.mean(a * b)))
    gamma = block_mean(np.array(gammas), unit="BRL^2", formula="first-order autocovariance of trade price "
                       "changes, mean over clock blocks", what="Roll spread")
    if gamma.value >= 0:
        raise DataError(f"Roll: autocovariance of price changes {gamma.value:.3g} >= 0, no bounce to measure")
    c = math.sqrt(-gamma.value)
    return Estimate(c, gamma.se / (2 * c), "BRL", "c = sqrt(-Cov(dp_i, dp_{i-1})) (Roll 1984); "
                    "se by the delta method", gamma.n, gamma.dof)


def signed_trade_regression(sessions: list[SessionSeries], *, lags: int = 2) -> dict[str, Estimate]:
    """``half_spread`` c (BRL) and ``impact_per_share`` lambda (BRL/share) from dp_i on (ds_i, s_{i-1} q_{i-1})."""
    ys, xs = [], []
    for s in sessions:
        ok = (s.sign[1:] != 0) & (s.sign[:-1] != 0)
        dp = np.diff(s.price)[ok]
        ds = np.diff(s.sign.astype(float))[ok]
        flow = (s.sign[:-1] * s.qty[:-1])[ok]
        ys.append(dp)
        xs.append(np.column_stack([ds, flow]))
    y, X = np.concatenate(ys), np.concatenate(xs)
    beta, se = ols_hac(X, y, lags=lags)
    source = ", ".join(sorted({s.sign_source for s in sessions}))
    formula = f"OLS of dp_i on (s_i - s_(i-1), s_(i-1) q_(i-1)), Newey-West({lags}) SE; signs: {source}"
    return {"half_spread": Estimate(float(beta[0]), float(se[0]), "BRL", formula, int(y.size)),
            "impact_per_share": Estimate(float(beta[1]), float(se[1]), "BRL/share", formula, int(y.size))}
