"""Reading whole tickers a batch at a time, and appending with the bytes of a one-shot write."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from mfg_finance.io import write_parquet
from mfg_finance.parquet_stream import FrameAppender, group_counts, iter_ticker_frames


def _frame(n_tickers=30, seed=0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    sizes = rng.integers(1, 400, size=n_tickers)
    tickers = np.repeat([f"T{i:03d}" for i in range(n_tickers)], sizes)
    return pd.DataFrame({"ticker": pd.Categorical(tickers), "date": np.arange(tickers.size).astype("datetime64[D]").astype("datetime64[ns]"),
                         "x": rng.normal(size=tickers.size), "spec": pd.Categorical(rng.choice(["ON", "PN"], tickers.size)),
                         "n": pd.array(rng.integers(0, 9, tickers.size), dtype="Int16")})


def test_group_counts():
    assert group_counts([3, 3, 3, 10, 1], 6) == [(0, 2), (2, 3), (3, 4), (4, 5)]
    assert group_counts([], 5) == []
    assert group_counts([1, 1], 10 ** 9) == [(0, 2)]


@pytest.mark.parametrize("order", ["sorted", "shuffled", "grouped_unsorted"])
def test_whole_tickers_in_text_order_whatever_the_file_order(tmp_path, order):
    frame = _frame()
    if order == "shuffled":
        frame = frame.sample(frac=1.0, random_state=1)
    elif order == "grouped_unsorted":
        frame = frame.sort_values("ticker", ascending=False, kind="stable")
    write_parquet(tmp_path / "f.parquet", frame)
    batches = list(iter_ticker_frames(tmp_path / "f.parquet", ["ticker", "date", "x", "spec", "n"], 1_000))
    seen = [t for b in batches for t in sorted(set(b["ticker"].astype(str)))]
    assert seen == sorted(set(frame["ticker"].astype(str)))   # each ticker in one batch, batches in text order
    assert all(len(b) <= 1_000 or b["ticker"].nunique() == 1 for b in batches) and len(batches) > 3
    got = pd.concat(batches, ignore_index=True)       # a ticker's rows in file order
    got = got.assign(t=got["ticker"].astype(str)).sort_values("t", kind="stable").drop(columns="t")
    expected = frame.assign(t=frame["ticker"].astype(str)).sort_values("t", kind="stable").drop(columns="t")
    pd.testing.assert_frame_equal(got.assign(ticker=got["ticker"].astype(str),
                                             spec=got["spec"].astype(str)).reset_index(drop=True),
                                  expected.assign(ticker=expected["ticker"].astype(str),
                                                  spec=expected["spec"].astype(str)).reset_index(drop=True))


def test_appended_pieces_are_the_one_shot_file(tmp_path):
    frame = _frame(seed=5)
    pq.write_table(pa.Table.from_pandas(frame, preserve_index=False), tmp_path / "one.parquet",
                   compression="zstd", write_statistics=True, row_group_size=1_000)
    writer = FrameAppender(tmp_path / "two.parquet", row_group_rows=1_000)
    for start in range(0, len(frame), 777):
        writer.add(frame.iloc[start:start + 777])
    writer.close()
    assert pq.ParquetFile(tmp_path / "two.parquet").num_row_groups == -(-len(frame) // 1_000) > 2
    assert (tmp_path / "one.parquet").read_bytes() == (tmp_path / "two.parquet").read_bytes()
