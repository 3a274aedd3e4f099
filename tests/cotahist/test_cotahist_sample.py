"""The synthetic sample: exact layout, determinism, and market-like content for every stage."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from mfg_finance.cotahist import ingest, select_equities, write_sample_cotahist
from mfg_finance.cotahist.sample import equity_tickers, isin_code, sample_cotahist_bytes, third_fridays
from mfg_finance.errors import ConfigError

DEFAULT = dict(seed=20230102, n_tickers=40, n_sessions=250, start_date="2023-01-02")


@pytest.fixture(scope="module")
def sample(tmp_path_factory):
    path = tmp_path_factory.mktemp("sample") / "COTAHIST_SAMPLE.TXT"
    write_sample_cotahist(path, **DEFAULT)
    result = ingest(path)
    return path, result, select_equities(result.quotes, classes=["stock"], market_types=[10])


def test_exact_layout(sample):
    path, result, _ = sample
    data = path.read_bytes()
    lines = data.split(b"\r\n")
    assert lines[-1] == b"" and all(len(line) == 245 for line in lines[:-1])
    assert max(data) < 0x80  # ASCII
    assert lines[0][:2] == b"00" and lines[-2][:2] == b"99" and {line[:2] for line in lines[1:-2]} == {b"01"}
    assert int(lines[-2][31:42]) == len(lines) - 1
    f = result.summary["files"][0]
    assert f["trailer_count"] == f["lines"] and f["rejected"] == 0
    assert lines[0][15:23] == b"SYNTHETC"


def test_same_seed_same_bytes_other_seed_other_bytes():
    small = dict(n_tickers=6, n_sessions=30)
    assert sample_cotahist_bytes(seed=1, **small) == sample_cotahist_bytes(seed=1, **small)
    assert sample_cotahist_bytes(seed=1, **small) != sample_cotahist_bytes(seed=2, **small)


def test_tickers_and_liquidity(sample):
    _, _, eq = sample
    tickers = equity_tickers(40)
    assert tickers[:4] == ["SYNA3", "SYNB4", "SYNC3", "SYND4"] and len(set(tickers)) == 40
    assert set(eq["ticker"].unique()) == set(tickers)
    adv = eq.groupby("ticker", observed=True)["volume"].median().sort_values(ascending=False)
    assert set(adv.index[:2]) == {"SYNA3", "SYNB4"}
    assert 1e5 < adv.min() and adv.max() < 2e9 and adv.max() / adv.min() > 100  # R$ 1M..1B a day


def test_sessions_are_business_days(sample):
    _, result, eq = sample
    dates = pd.DatetimeIndex(np.sort(eq["date"].unique()))
    assert len(dates) == 250 and dates[0] == pd.Timestamp("2023-01-02")
    assert (dates.day_of_week < 5).all()
    assert result.summary["date_min"] == "2023-01-02"


def test_bars_are_consistent_and_on_the_tick(sample):
    _, result, _ = sample
    q = result.quotes
    prices = q[["open", "high", "low", "avg", "close", "best_bid", "best_ask"]].to_numpy()
    assert np.allclose(prices * 100, np.round(prices * 100), atol=1e-6, rtol=0)  # 0.01 BRL tick
    assert (prices > 0).all()
    assert (q["low"] <= q[["open", "close", "avg"]].min(axis=1)).all()
    assert (q["high"] >= q[["open", "close", "avg"]].max(axis=1)).all()
    assert (q["best_bid"] < q["best_ask"]).all()
    per_share_avg = q["volume"] / q["quantity"] * q["quote_factor"]
    assert np.allclose(per_share_avg, q["avg"], atol=0.006, rtol=0)  # avg = volume / quantity
    assert ((q["n_trades"] >= 1) & (q["n_trades"] <= 99_999)).all()


def test_round_lots_and_odd_lots(sample):
    _, result, _ = sample
    q = result.quotes
    lots = q[q["market_type"] == 10]
    assert (lots["quantity"] % 100 == 0).all() and (lots["n_trades"] <= lots["quantity"] // 100).all()
    odd = q[q["codbdi"] == 96]
    assert len(odd) and (odd["market_type"] == 20).all() and odd["ticker"].str.endswith("F").all()


def test_heterogeneous_volatilities(sample):
    _, _, eq = sample
    full = eq.groupby("ticker", observed=True).filter(lambda g: len(g) == 250)
    # Raw closes jump at the sample's splits and bonus: those are checked in tests/corporate.
    full = full[~full["ticker"].isin(["SYND4", "SYNE3", "SYNF4"])]
    logret = np.log(full["close"]).groupby(full["ticker"], observed=True).diff()
    vol = logret.groupby(full["ticker"], observed=True).std() * np.sqrt(252)
    assert 0.08 < vol.min() and vol.max() < 1.1 and vol.max() / vol.min() > 2.5


def test_filters_have_something_to_filter(sample):
    _, result, _ = sample
    q = result.quotes
    assert {2, 12, 14, 34, 78, 82, 96} <= set(q["codbdi"].unique())
    options = q[q["codbdi"].isin([78, 82])]
    assert set(options["market_type"]) == {70, 80}
    assert (options["strike"] > 0).all() and options["expiry"].notna().all()
    assert (options["expiry"].dt.day_of_week == 4).all() and (options["expiry"] >= options["date"]).all()
    calls = options[options["codbdi"] == 78]
    assert (calls["market_type"] == 70).all()
    assert q.loc[q["codbdi"] == 14, "ticker"].iloc[0] == "SYNI11"


def test_short_and_gappy_histories(sample):
    _, _, eq = sample
    sessions = eq.groupby("ticker", observed=True).size()
    assert sessions.min() == 40                        # the late listing
    gappy = sessions[(sessions > 40) & (sessions < 250)]
    assert len(gappy) == 1 and 80 < gappy.iloc[0] < 180  # illiquid, trades on about half the sessions
    assert (sessions == 250).sum() == 38


def test_quote_factor_1000_is_priced_per_share_after_selection(sample):
    _, result, eq = sample
    per_lot = result.quotes[(result.quotes["quote_factor"] == 1000) & (result.quotes["codbdi"] == 2)]
    assert len(per_lot)
    ticker = per_lot["ticker"].iloc[0]
    per_share = eq[eq["ticker"] == ticker]
    assert np.allclose(per_share["close"].to_numpy() * 1000, per_lot["close"].to_numpy())
    assert np.allclose(per_share["volume"] / per_share["quantity"], per_share["avg"], rtol=1e-3)


@pytest.mark.parametrize("n_tickers, n_sessions", [(1, 2), (2, 10), (12, 90), (60, 30)])
def test_other_sizes(tmp_path, n_tickers, n_sessions):
    path = tmp_path / "S.TXT"
    write_sample_cotahist(path, seed=11, n_tickers=n_tickers, n_sessions=n_sessions, start_date="2023-01-07")
    eq = select_equities(ingest(path).quotes, classes=["stock"], market_types=[10])
    assert eq["ticker"].nunique() == n_tickers
    assert eq["date"].min() == pd.Timestamp("2023-01-09")  # a Saturday rolls to Monday


def test_bad_arguments():
    with pytest.raises(ConfigError, match="n_tickers"):
        sample_cotahist_bytes(seed=1, n_tickers=0)
    with pytest.raises(ConfigError, match="n_sessions"):
        sample_cotahist_bytes(seed=1, n_sessions=1)
    with pytest.raises(ConfigError, match="start_date"):
        sample_cotahist_bytes(seed=1, start_date="2023-13-45")


def test_helpers():
    assert isin_code("PETR", "ACN", "PR") == "BRPETRACNPR6"  # B3's real ISIN of PETR4
    assert isin_code("VALE", "ACN", "OR") == "BRVALEACNOR0"
    fridays = third_fridays(np.datetime64("2023-01-02"), 3)
    assert [str(d) for d in fridays] == ["2023-01-20", "2023-02-17", "2023-03-17"]
