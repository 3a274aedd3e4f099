"""Corporate events a batch of tickers at a time: the one-frame rule's events, disagreements and notes."""

from __future__ import annotations

import io

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from mfg_finance.corporate import EQUITY_COLUMNS, infer_events, merge_events, read_event_files
from mfg_finance.corporate.batched import events_from_parquet
from mfg_finance.cotahist import read_cotahist, select_equities
from mfg_finance.cotahist.sample import write_sample_cotahist
from mfg_finance.io import read_parquet, write_parquet


def _bytes(frame: pd.DataFrame) -> bytes:
    buf = io.BytesIO()
    pq.write_table(pa.Table.from_pandas(frame, preserve_index=False), buf)
    return buf.getvalue()


@pytest.fixture(scope="module")
def sample(tmp_path_factory):
    folder = tmp_path_factory.mktemp("corporate_batched")
    write_sample_cotahist(folder / "S.TXT", truth_path=folder / "truth.csv", seed=11, n_tickers=12, n_sessions=90)
    write_parquet(folder / "equities.parquet", select_equities(read_cotahist([folder / "S.TXT"]), classes=["stock"]))
    truth = pd.read_csv(folder / "truth.csv")
    edited = truth.iloc[::2].copy()                    # half the events, one with another factor: a disagreement
    edited.loc[edited.index[0], "factor"] = 7.0
    edited.to_csv(folder / "events.csv", index=False)
    return folder


@pytest.mark.parametrize("batch_rows, shuffled", [(1, False), (500, False), (10 ** 9, False), (700, True)])
def test_batches_give_the_one_frame_events(sample, tmp_path, batch_rows, shuffled):
    path = sample / "equities.parquet"
    if shuffled:            # not sorted by ticker: the reader's fallback (one filtered scan per batch)
        frame = read_parquet(path)
        write_parquet(tmp_path / "shuffled.parquet", frame.sample(frac=1.0, random_state=3))
        path = tmp_path / "shuffled.parquet"
    files = [str(sample / "events.csv")]
    equities = read_parquet(path, columns=EQUITY_COLUMNS)
    from_files, notes = read_event_files(files, equities)
    events, disagreements = merge_events(infer_events(equities), from_files)
    got_events, got_disagreements, got_notes = events_from_parquet(path, columns=EQUITY_COLUMNS, files=files,
                                                                   batch_rows=batch_rows)
    assert len(events) >= 5 and len(disagreements) >= 1 and (events["source"] == "inferred").any()
    assert _bytes(got_events) == _bytes(events)
    assert _bytes(got_disagreements) == _bytes(disagreements)
    assert got_notes == notes
