"""The summary's market-making sentence states every mean and Sharpe ratio with its Monte Carlo error."""
from __future__ import annotations

import pandas as pd

from mfg_finance.report.summary import _market_making_paragraph


def test_every_market_making_figure_carries_its_standard_error():
    backtests = pd.DataFrame({
        "ticker": ["PETR4"] * 3,
        "strategy": ["glft", "avellaneda_stoikov", "constant"],
        "pnl_mean": [4.1234, 3.748, 3.163], "pnl_mean_se": [0.21, 0.18, 0.033],
        "sharpe": [2.91, 10.4, 2.15], "sharpe_se": [0.071, 0.26, 0.048],
        "n_paths": [2000] * 3,
    })
    text = _market_making_paragraph({"horizon_s": 3600.0}, backtests)
    assert "4.12 ± 0.21 BRL per run (Sharpe 2.910 ± 0.071)" in text
    assert "best Sharpe ratio, 10.40 ± 0.26 (mean 3.75 ± 0.18 BRL)" in text
    assert "constant spread makes 3.163 ± 0.033 BRL (Sharpe 2.150 ± 0.048)" in text
