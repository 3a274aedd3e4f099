"""Noise-robust intraday volatility, the signature plot and the intraday volatility profile.

Trade prices are the efficient price plus microstructure noise (bid-ask bounce, tick rounding):
:math:`p_i = m_{t_i} + \\varepsilon_i`. Realized variance on every trade,
:math:`RV = \\sum (p_{i+1} - p_i)^2`, then estimates :math:`2 n E[\\varepsilon^2]` rather than the
integrated variance. The two-scale estimator (Zhang, Mykland and Aït-Sahalia 2005) removes it:

.. math:: \\mathrm{TSRV} = \\Big(1 - \\frac1K\\Big)^{-1}
          \\Big(\\frac{n}{(n - K + 1) K} \\sum_{i=0}^{n-K} (p_{i+K} - p_i)^2 - \\frac1K RV\\Big),
          \\quad K = \\lceil n^{2/3} \\rceil,

with :math:`n` returns. The subsampled sum misses the first and last :math:`K-1` returns, hence
its factor :math:`n/(n-K+1)` (without it the estimate is low by about :math:`K/n`, 10% for a
block of 800 trades); with iid noise both terms then carry :math:`2 n E[\\varepsilon^2]/K` and the
difference is unbiased for the integrated variance :math:`\\int \\sigma_t^2 dt` over the block
(BRL^2). The session is cut into ``n_blocks`` blocks of equal clock time; each gives
:math:`\\hat\\sigma^2 = \\mathrm{TSRV} / (t_{last} - t_{first})` (BRL^2/s), and the estimate is the mean over blocks (all sessions), its
standard error the blocks' sample standard deviation over :math:`\\sqrt B`.

A drift :math:`\\mu` (BRL/s) adds about :math:`\\mu^2 T_b^2 K / n` to a block's TSRV
(:math:`T_b` its duration): negligible when the drift over a block is small against
:math:`\\sigma\\sqrt{T_b}`, as in real sessions, but not in a synthetic one with a persistent
one-sided flow and strong impact.
"""

from __future__ import annotations

import math

import numpy as np

from mfg_finance.errors import DataError
from mfg_finance.microstructure.estimate import Estimate, block_mean
from mfg_finance.microstructure.series import SessionSeries

MIN_TRADES_PER_BLOCK = 20


def tsrv(price: np.ndarray, K: int | None = None) -> float:
    """Two-scale realized variance of one block of trade prices (BRL^2, see module docstring)."""
    price = np.asarray(price, dtype=float)
    n = price.size - 1
    if n < 4:
        raise DataError(f"TSRV needs at least 5 prices, got {price.size}")
    K = int(K) if K is not None else max(2, math.ceil(n ** (2.0 / 3.0)))
    if not 2 <= K <= n // 2:
        raise DataError(f"TSRV subsampling scale K={K} outside [2, n/2] for n={n} returns")
    rv_all = float(np.sum(np.diff(price) ** 2))
    rv_slow = float(np.sum((price[K:] - price[:-K]) ** 2)) * n / ((n - K + 1) * K)
    return (rv_slow - rv_all / K) / (1.0 - 1.0 / K)


def _blocks(s: SessionSeries, n_blocks: int) -> list[np.ndarray]:
    edges = np.linspace(s.open_s, s.close_s, n_blocks + 1)
    idx = np.searchsorted(s.t, edges)
    return [np.arange(a, b) for a, b in zip(idx[:-1], idx[1:])]


def variance_per_second(sessions: list[SessionSeries], *, n_blocks: int = 12) -> Estimate:
    """Integrated variance of the efficient price per second (BRL^2/s), TSRV over clock blocks."""
    values = []
    for s in sessions:
        for block in _blocks(s, n_blocks):
            if block.size < MIN_TRADES_PER_BLOCK:
                continue
            span = s.t[block[-1]] - s.t[block[0]]
            if span > 0:
                values.append(tsrv(s.price[block]) / span)
    return block_mean(np.array(values), unit="BRL^2/s",
                      formula=f"mean over clock blocks ({n_blocks} per session, >= {MIN_TRADES_PER_BLOCK} trades) "
                              "of TSRV / block duration; SE = sd / sqrt(blocks)",
                      what="intraday volatility")


def volatility_per_sqrt_second(variance: Estimate) -> Estimate:
    """sigma = sqrt(variance) (BRL/sqrt(s)); SE by the delta method, se(sigma) = se(var) / (2 sigma)."""
    if variance.value <= 0:
        raise DataError(f"estimated variance per second {variance.value:.3g} <= 0: noise dominates the data")
    sigma = math.sqrt(variance.value)
    return Estimate(sigma, variance.se / (2 * sigma), "BRL/sqrt(s)", "sqrt(TSRV variance per second)",
                    variance.n, variance.dof)


def signature_plot(sessions: list[SessionSeries], intervals_s) -> dict[str, list[float]]:
    """Realized variance per second against the sampling interval (calendar time, previous tick).

    For each interval h (s) the last trade price at every multiple of h inside the session gives
    an RV; the mean over sessions of RV / (session span) is returned (BRL^2/s). Noise makes it rise
    as h shrinks; where it flattens the noise no longer matters.
    """
    out = {"interval_s": [], "rv_per_second": []}
    for h in intervals_s:
        values = []
        for s in sessions:
            grid = np.arange(s.open_s + h, s.close_s + 1e-9, h)
            idx = np.searchsorted(s.t, grid, side="right") - 1
            idx = idx[idx >= 0]
            if idx.size > 2:
                values.append(np.sum(np.diff(s.price[idx]) ** 2) / (h * (idx.size - 1)))
        if values:
            out["interval_s"].append(float(h))
            out["rv_per_second"].append(float(np.mean(values)))
    return out
