"""Names of multi-asset portfolios, in a module of their own: the workflow imports them when it plans the
jobs, which must not load pandas and scipy (:mod:`.multi_backtest` does)."""

from __future__ import annotations

from typing import Sequence


def portfolio_name(tickers: Sequence[str]) -> str:
    """File-name-safe portfolio id: the tickers joined by ``-`` (e.g. ``SYNA3-SYNB4``)."""
    return "-".join(str(t) for t in tickers)
