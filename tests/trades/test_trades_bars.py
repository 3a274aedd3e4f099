"""1-minute bars against a plain pandas groupby, and the Parquet files of a session."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from mfg_finance.errors import DataError
from mfg_finance.trades.bars import BAR_COLUMNS, NS_PER_MINUTE, time_bars, write_session
from trades_testing import small_session


def test_bars_equal_a_groupby_of_the_standing_trades():
    trades = small_session()
    bars = time_bars(trades)
    live = trades[~trades["cancelled"]].copy()
    live["start"] = live["time"] // NS_PER_MINUTE * NS_PER_MINUTE
    live["notional"] = live["price"] * live["quantity"]
    live["signed"] = live["side"].astype(np.int64) * live["quantity"]
    ref = live.groupby(["ticker", "start"], observed=True, sort=True).agg(
        open=("price", "first"), high=("price", "max"), low=("price", "min"), close=("price", "last"),
        n_trades=("price", "size"), quantity=("quantity", "sum"), volume=("notional", "sum"),
        signed_quantity=("signed", "sum")).reset_index()
    assert list(bars.columns) == list(BAR_COLUMNS)
    assert len(bars) == len(ref)
    for col in ("start", "open", "high", "low", "close", "n_trades", "quantity", "signed_quantity"):
        np.testing.assert_array_equal(bars[col].to_numpy(), ref[col].to_numpy(), err_msg=col)
    np.testing.assert_allclose(bars["volume"], ref["volume"], rtol=1e-12)
    np.testing.assert_allclose(bars["vwap"], ref["volume"] / ref["quantity"], rtol=1e-12)
    assert bars["n_trades"].sum() == int((~trades["cancelled"]).sum())


def test_bars_refuse_unsorted_trades_and_bad_width():
    trades = small_session()
    with pytest.raises(DataError, match="sorted"):
        time_bars(trades.iloc[::-1])
    with pytest.raises(DataError, match="positive integer"):
        time_bars(trades, width_ns=0)


def test_write_session_is_typed_and_deterministic(tmp_path):
    trades = small_session()
    write_session(trades, tmp_path / "a.parquet", tmp_path / "a_bars.parquet")
    write_session(trades, tmp_path / "b.parquet", tmp_path / "b_bars.parquet")
    assert (tmp_path / "a.parquet").read_bytes() == (tmp_path / "b.parquet").read_bytes()
    assert (tmp_path / "a_bars.parquet").read_bytes() == (tmp_path / "b_bars.parquet").read_bytes()
    back = pd.read_parquet(tmp_path / "a.parquet")
    pd.testing.assert_frame_equal(back, trades)
