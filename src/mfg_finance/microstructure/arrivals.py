"""Arrival rates of buyer- and seller-initiated trades, their intraday profile, and trade sizes.

Rates: trades of each sign are counted over the session window; as Poisson counts,
:math:`\\hat\\lambda = N / S` (1/s) with :math:`se = \\sqrt N / S`.

Profile: the intensity is :math:`\\lambda g(u)`, :math:`u \\in [0,1]` the fraction of the session,
with the U shape :math:`g(u) = 1 + a (3(2u-1)^2 - 1)` (mean 1). Since
:math:`\\int h\\,g = a \\int h^2 = 4a/5` for :math:`h(u) = 3(2u-1)^2 - 1`, the moment estimator is
:math:`\\hat a = \\tfrac54 \\overline{h(u_i)}` with :math:`se = \\tfrac54\\, sd(h)/\\sqrt N`.
:func:`binned_profile` gives the nonparametric version (counts, volume and realized variance per
clock bin, relative to their session mean).

Sizes: mean size (shares) with its standard error, quantiles, and the geometric fit of the size in
lots, :math:`P(K = k) = p(1-p)^{k-1}`: :math:`\\hat p = 1/\\bar K`, :math:`se = \\hat p
\\sqrt{(1-\\hat p)/N}`.
"""

from __future__ import annotations

import math

import numpy as np

from mfg_finance.errors import DataError
from mfg_finance.microstructure.estimate import Estimate
from mfg_finance.microstructure.series import SessionSeries


def arrival_rates(sessions: list[SessionSeries]) -> dict[str, Estimate]:
    """``buy``, ``sell`` and ``total`` rates of standing trades (1/s), Poisson SE."""
    seconds = sum(s.seconds for s in sessions)
    counts = {"buy": sum(int((s.sign > 0).sum()) for s in sessions),
              "sell": sum(int((s.sign < 0).sum()) for s in sessions),
              "total": sum(int(s.t.size) for s in sessions)}
    return {k: Estimate(n / seconds, math.sqrt(n) / seconds, "1/s",
                        f"N / S: {k} trades over {len(sessions)} session(s) of {seconds / len(sessions):g} s; "
                        "Poisson SE sqrt(N)/S", n) for k, n in counts.items()}


def profile_shape(sessions: list[SessionSeries]) -> Estimate:
    """U-shape strength a of the arrival intensity (dimensionless, 0 = flat)."""
    u = np.concatenate([(s.t - s.open_s) / s.seconds for s in sessions])
    if u.size < 10:
        raise DataError(f"intraday profile: {u.size} trades, at least 10 needed")
    h = 3.0 * (2.0 * u - 1.0) ** 2 - 1.0
    return Estimate(1.25 * float(h.mean()), 1.25 * float(h.std(ddof=1)) / math.sqrt(u.size), "1",
                    "a = (5/4) mean(3(2u-1)^2 - 1), u = fraction of the session at each trade", int(u.size))


def binned_profile(sessions: list[SessionSeries], *, bin_s: float = 1800.0) -> dict[str, list[float]]:
    """Per clock bin: trade count, volume and realized variance, each relative to its bin mean."""
    s0 = sessions[0]
    edges = np.arange(s0.open_s, s0.close_s + 1e-9, bin_s)
    if edges.size < 2:
        raise DataError(f"bin of {bin_s} s longer than the session")
    counts = np.zeros(edges.size - 1)
    volume = np.zeros(edges.size - 1)
    rv = np.zeros(edges.size - 1)
    for s in sessions:
        b = np.clip(np.searchsorted(edges, s.t, side="right") - 1, 0, edges.size - 2)
        counts += np.bincount(b, minlength=edges.size - 1)
        volume += np.bincount(b, weights=s.qty, minlength=edges.size - 1)
        same = b[1:] == b[:-1]
        rv += np.bincount(b[1:][same], weights=np.diff(s.price)[same] ** 2, minlength=edges.size - 1)
    rel = lambda x: (x / x.mean()).tolist() if x.mean() > 0 else [float("nan")] * x.size  # noqa: E731
    return {"bin_start_s": edges[:-1].tolist(), "trades": rel(counts), "volume": rel(volume), "rv": rel(rv)}


def trade_sizes(sessions: list[SessionSeries], *, lot: int = 100) -> dict[str, object]:
    """Size distribution: ``mean`` (Estimate, shares), ``mean_square`` (Estimate, shares^2),
    ``quantiles`` (shares at 10/25/50/75/90/99%), and ``geometric_p`` (Estimate) when every size is
    a whole number of ``lot`` shares (else None)."""
    q = np.concatenate([s.qty for s in sessions])
    if q.size < 2:
        raise DataError(f"trade sizes: {q.size} trades, at least 2 needed")
    n = q.size
    out: dict[str, object] = {
        "mean": Estimate(float(q.mean()), float(q.std(ddof=1)) / math.sqrt(n), "shares", "sample mean", n),
        "mean_square": Estimate(float((q ** 2).mean()), float((q ** 2).std(ddof=1)) / math.sqrt(n), "shares^2",
                                "sample mean of q^2", n),
        "quantiles": {f"{p:g}%": float(v) for p, v in zip((10, 25, 50, 75, 90, 99),
                                                          np.percentile(q, [10, 25, 50, 75, 90, 99]))},
        "geometric_p": None,
    }
    if lot > 0 and np.all(q % lot == 0):
        p = lot / float(q.mean())
        out["geometric_p"] = Estimate(p, p * math.sqrt(max(1 - p, 0.0) / n), "1",
                                      f"p = 1 / mean(size / {lot}) (geometric number of lots)", n)
    return out
