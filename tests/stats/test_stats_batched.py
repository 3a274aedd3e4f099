"""The statistics a batch of tickers at a time give the one-frame outputs byte for byte."""

from __future__ import annotations

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from mfg_finance.cotahist import read_cotahist, select_equities
from mfg_finance.cotahist.sample import write_sample_cotahist
from mfg_finance.corporate import EQUITY_COLUMNS as EVENT_COLUMNS, infer_events
from mfg_finance.errors import DataError
from mfg_finance.io import read_parquet, write_json, write_parquet
from mfg_finance.parquet_stream import iter_ticker_frames
from mfg_finance.stats import EQUITY_COLUMNS, compute_stats
from mfg_finance.stats import batched

SETTINGS = dict(trading_days_per_year=252, rolling_window=21, min_sessions=60, adjust="splits")


@pytest.fixture(scope="module")
def sample(tmp_path_factory):
    folder = tmp_path_factory.mktemp("batched")
    write_sample_cotahist(folder / "S.TXT", seed=20230102)
    equities = select_equities(read_cotahist(folder / "S.TXT"), classes=["stock"])
    write_parquet(folder / "equities.parquet", equities)
    events = infer_events(equities[[c for c in EVENT_COLUMNS if c in equities.columns]])
    return folder / "equities.parquet", events


def _one_shot(path, events, folder, **settings):
    result = compute_stats(read_parquet(path, columns=EQUITY_COLUMNS), events=events, **settings)
    write_parquet(folder / "asset_stats_1.parquet", result.asset_stats)
    write_json(folder / "summary_1.json", result.summary)
    return result


@pytest.mark.parametrize("adjust, batch_rows", [("splits", 1), ("total_return", 2_000), ("splits", 10 ** 9)])
def test_batches_give_the_same_bytes(sample, tmp_path, batch_rows, adjust):
    path, events = sample
    settings = {**SETTINGS, "adjust": adjust}
    one = _one_shot(path, events, tmp_path, **settings)
    write_parquet(tmp_path / "returns_1.parquet", one.returns)
    got = batched.compute_stats_from_parquet(path, tmp_path / "returns_2.parquet", columns=EQUITY_COLUMNS,
                                             events=events, batch_rows=batch_rows, **settings)
    write_parquet(tmp_path / "asset_stats_2.parquet", got.asset_stats)
    write_json(tmp_path / "summary_2.json", got.summary)
    for name in ("returns", "asset_stats"):
        assert (tmp_path / f"{name}_1.parquet").read_bytes() == (tmp_path / f"{name}_2.parquet").read_bytes(), name
    assert (tmp_path / "summary_1.json").read_bytes() == (tmp_path / "summary_2.json").read_bytes()
    n_batches = sum(1 for _ in iter_ticker_frames(path, ["ticker"], batch_rows))
    assert n_batches > (1 if batch_rows < 10 ** 9 else 0)


def test_returns_row_groups_are_those_of_a_one_shot_write(sample, tmp_path, monkeypatch):
    path, events = sample
    monkeypatch.setattr(batched, "RETURNS_ROW_GROUP_ROWS", 1_000)
    one = compute_stats(read_parquet(path, columns=EQUITY_COLUMNS), events=events, **SETTINGS)
    pq.write_table(pa.Table.from_pandas(one.returns, preserve_index=False), tmp_path / "one.parquet",
                   compression="zstd", write_statistics=True, row_group_size=1_000)
    batched.compute_stats_from_parquet(path, tmp_path / "two.parquet", columns=EQUITY_COLUMNS, events=events,
                                       batch_rows=2_500, **SETTINGS)
    assert pq.ParquetFile(tmp_path / "two.parquet").num_row_groups == -(-len(one.returns) // 1_000)
    assert (tmp_path / "one.parquet").read_bytes() == (tmp_path / "two.parquet").read_bytes()


def test_errors_are_those_of_the_one_frame_statistics_and_leave_no_returns(sample, tmp_path):
    path, events = sample
    equities = read_parquet(path)
    twice = equities.iloc[list(range(len(equities))) + [5]]   # one (ticker, date) twice, not adjacent
    write_parquet(tmp_path / "dup.parquet", twice)
    for source, settings in ((tmp_path / "dup.parquet", SETTINGS), (path, {**SETTINGS, "rolling_window": 400})):
        with pytest.raises(DataError) as expected:
            compute_stats(read_parquet(source, columns=EQUITY_COLUMNS), events=events, **settings)
        with pytest.raises(DataError) as got:
            batched.compute_stats_from_parquet(source, tmp_path / "r.parquet", columns=EQUITY_COLUMNS,
                                               events=events, batch_rows=3_000, **settings)
        assert str(got.value) == str(expected.value)
        assert not (tmp_path / "r.parquet").exists()
