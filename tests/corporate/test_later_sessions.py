"""The later-sessions rule (8): an undetermined share factor decided by the closes after the ex-date."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from corporate_testing import cotahist_file, inject, series
from mfg_finance.corporate import EQUITY_COLUMNS, infer_events
from mfg_finance.corporate.batched import events_from_parquet
from mfg_finance.corporate.events import BREAK
from mfg_finance.corporate.later import MIN_RETURNS, LaterScores, judge_by_later_sessions, later_scores
from mfg_finance.cotahist import read_cotahist, select_equities
from mfg_finance.io import write_parquet
from mfg_finance.stats import compute_stats

#: Rule 8 on (its default is off: corporate_actions.later_sessions = 0), as a user turns it on.
ON = dict(later_sessions=5)


def test_scores_are_the_hand_computation_with_weekday_gaps_and_events_left_out():
    # 16 sessions from Monday 2023-01-02, 2023-01-11 missing (a holiday: the return into 01-12 spans 2
    # weekdays); event at session 12 (2023-01-19). Before it, returns of +-a sqrt(d) (so sigma = a exactly),
    # but for one other candidate ex-session whose 40% jump must be left out.
    dates = pd.bdate_range("2023-01-02", periods=17).delete(7).to_numpy()
    d = np.busday_count(dates[:-1].astype("datetime64[D]"), dates[1:].astype("datetime64[D]"))
    assert d.tolist().count(2) == 1
    a, at = 0.01, 12
    r = a * np.sqrt(d[:at - 1]) * np.where(np.arange(at - 1) % 2 == 0, 1.0, -1.0)
    r[4] = math.log(1.4)
    events = np.zeros(len(dates), dtype=bool)
    events[[5, at]] = True                           # the return into session 5 is the other event's
    before = 100.0 * math.exp(r.sum())
    after = np.array([10.3, 10.1, 10.2, 9.9])        # a 10-for-1 split, then moves
    close = np.r_[100.0 * np.exp(np.r_[0.0, np.cumsum(r)]), after]
    scores = later_scores(close, dates, events, at)
    assert isinstance(scores, LaterScores)
    assert scores.n_closes == 4 and scores.n_returns == at - 2 >= MIN_RETURNS
    assert scores.sigma == pytest.approx(a, rel=1e-12)
    days = np.arange(1, 5, dtype=float)             # Thursday 01-19 .. Tuesday 01-24, one weekday each
    expected_scale = a * math.sqrt(np.minimum.outer(days, days).sum()) / 4
    assert scores.scale == pytest.approx(expected_scale, rel=1e-12)
    assert scores.z(10.0) == pytest.approx(np.mean(np.log(10 * after / before)) / expected_scale, rel=1e-12)
    assert later_scores(close, dates, events, at, sessions=1) == ("1 session(s) from the ex-date with positive "
                                                                  "closes, fewer than 2: no verdict")


def test_z_of_the_true_factor_is_standard_normal_under_the_random_walk():
    # Monte Carlo: 2000 Gaussian random walks (sigma 1% per weekday, a holiday among the sessions after the
    # event), each with a 1-for-4 reverse split; z of the true factor has mean 0 and sd 1 within 4 SE.
    rng = np.random.default_rng(7)
    n, at, m = 240, 200, 5
    dates = pd.bdate_range("2022-01-03", periods=n + 1).delete(at + 2).to_numpy()
    d = np.busday_count(dates[:-1].astype("datetime64[D]"), dates[1:].astype("datetime64[D]"))
    events = np.zeros(n, dtype=bool)
    events[at] = True
    z = np.empty(2000)
    for k in range(z.size):
        log_close = np.r_[0.0, np.cumsum(rng.normal(0.0, 0.01, n - 1) * np.sqrt(d))]
        log_close[at:] += math.log(4.0)
        z[k] = later_scores(np.exp(log_close), dates, events, at, sessions=m).z(0.25)
    se = 1 / math.sqrt(z.size)
    assert abs(z.mean()) < 4 * se and abs(z.std() - 1.0) < 4 * se / math.sqrt(2)


def _fund(tmp_path, *, vol: float, at: int = 16, n: int = 21, ticker: str = "SYNF11", seed: int = 31,
          jump: float = 1.0) -> pd.DataFrame:
    """A fund (ESPECI ``CI``) at about 1270 BRL with a 10-for-1 split on session ``at`` (``EB``) whose
    ex-session range admits 9- and 10-for-1 (the pattern of ARCT11 on 2021-01-27: 1270.20, then an
    ex-session 122.05-142.80 opening at its high), as a COTAHIST file read back. Prices from two sessions
    after the ex-date on are multiplied by ``jump`` (news)."""
    frame = inject(series(ticker, n, seed=seed, vol=vol, price=1270.0, spec="CI", distribution=107), at,
                   factor=10.0, marker="EB")
    before = frame["close"].iat[at - 1]
    frame.loc[frame.index[at], ["low", "high"]] = before / 10.4, before / 8.9
    frame.loc[frame.index[at], ["open", "avg"]] = before / 8.9, before / 9.8
    frame.loc[frame.index[at + 2:], ["open", "high", "low", "avg", "close"]] *= jump
    path = tmp_path / f"COTAHIST_{ticker}.TXT"
    path.write_bytes(cotahist_file([frame]))
    return select_equities(read_cotahist([path]), classes=["fund"])


def test_a_low_volatility_fund_is_decided_by_its_later_sessions_and_adjusted(tmp_path):
    fund = _fund(tmp_path, vol=0.004)
    events = infer_events(fund, **ON)
    assert (events["kind"].tolist(), events["factor"].tolist()) == (["split"], [10.0])
    evidence = events["evidence"].iat[0]
    assert "ambiguous: 9-for-1, 10-for-1 all fit" in evidence
    assert ("SYNF11 is not a share class (issuer code then 3-8): the issuer rule does not lend it another "
            "ticker's factor; later sessions: ") in evidence
    assert evidence.endswith("only 10-for-1 within 3 sd, every other beyond: resolved by the later sessions")
    closes = fund.set_index("date")["close"]
    ex_date = events["ex_date"].iat[0]
    result = compute_stats(fund, events=events, trading_days_per_year=252, rolling_window=5, min_sessions=10)
    returns = result.returns.set_index("date")
    assert returns.loc[ex_date, "return_status"] != "event"
    previous = closes.index[closes.index.get_loc(ex_date) - 1]
    assert returns.loc[ex_date, "log_return"] == pytest.approx(math.log(10 * closes[ex_date] / closes[previous]),
                                                               abs=1e-12)


def test_a_high_volatility_asset_stays_a_break_naming_the_factors_left(tmp_path):
    events = infer_events(_fund(tmp_path, vol=0.06), **ON)
    assert events["kind"].tolist() == ["unexplained"]
    evidence = events["evidence"].iat[0]
    assert "; 9-for-1, 10-for-1 all within 3 sd: no verdict; " + BREAK in evidence and evidence.endswith(BREAK)


def test_news_among_the_later_sessions_leaves_no_verdict(tmp_path):
    # The same low-volatility fund, 6% up two sessions after the ex-date: about 15 of its sd in one session.
    events = infer_events(_fund(tmp_path, vol=0.004, jump=1.06), **ON)
    assert events["kind"].tolist() == ["unexplained"]
    assert "; but a session among them moves 1" in events["evidence"].iat[0]
    assert "sd (> 3): not the random walk the test assumes (news after the event), no verdict; " + BREAK in \
        events["evidence"].iat[0]


def test_no_verdict_without_sessions_after_or_without_history():
    fits = (9.0, 10.0)
    frame = inject(series(n=30, seed=5, vol=0.004), 29, factor=10.0)
    close, dates = frame["close"].to_numpy(), frame["date"].to_numpy()
    events = np.zeros(len(close), dtype=bool)
    factor, text = judge_by_later_sessions(fits, close, dates, events, 29)
    assert math.isnan(factor) and text == ("later sessions: 1 session(s) from the ex-date with positive closes, "
                                           "fewer than 2: no verdict")
    factor, text = judge_by_later_sessions(fits, close[20:], dates[20:], events[20:], 5)
    assert math.isnan(factor) and "(4 returns away from events, fewer than 10)" in text
    flat = np.r_[np.full(20, 50.0), 5.0, 5.1, 5.0]
    factor, text = judge_by_later_sessions(fits, flat, dates[:23], events[:23], 20)
    assert math.isnan(factor) and "the close never moves away from events" in text


def test_a_batch_boundary_right_after_the_ex_date_gives_the_one_frame_answer(tmp_path):
    # SYNF11's ex-date is its third-last session; SYNG11's is its last (no session after it: no verdict).
    # Batches of whole tickers: one row (each ticker alone), SYNF11's rows (the boundary right after its
    # last session), everything.
    first = _fund(tmp_path, vol=0.004, at=18)
    second = _fund(tmp_path, vol=0.004, at=20, ticker="SYNG11", seed=32)
    equities = pd.concat([first, second], ignore_index=True).sort_values(["ticker", "date"], kind="stable")
    write_parquet(tmp_path / "equities.parquet", equities)
    expected = infer_events(equities[list(EQUITY_COLUMNS)], **ON)
    assert expected.set_index("ticker")["kind"].to_dict() == {"SYNF11": "split", "SYNG11": "unexplained"}
    assert "1 session(s) from the ex-date" in expected["evidence"].iat[1]
    for batch_rows in (1, len(first), 10 ** 6):
        events, _, _ = events_from_parquet(tmp_path / "equities.parquet", columns=EQUITY_COLUMNS,
                                           batch_rows=batch_rows, **ON)
        pd.testing.assert_frame_equal(events, expected)


def test_later_sessions_and_sigmas_are_settings_passed_through_every_path(tmp_path):
    # The fund 10-for-1 that rule 8 decides when on: off (0 closes, the default) it stays a break saying why;
    # with a tolerance of 50 sd both fits are consistent (no verdict); the batched path takes the same settings.
    fund = _fund(tmp_path, vol=0.004)
    off = infer_events(fund)
    pd.testing.assert_frame_equal(off, infer_events(fund, later_sessions=0))
    assert off["kind"].tolist() == ["unexplained"]
    assert off["evidence"].iat[0].endswith("later sessions not read (corporate_actions.later_sessions = 0); " + BREAK)
    wide = infer_events(fund, later_sigmas=50.0, **ON)
    assert wide["kind"].tolist() == ["unexplained"]
    assert "9-for-1, 10-for-1 all within 50 sd: no verdict" in wide["evidence"].iat[0]
    two = infer_events(fund, later_sessions=2)
    assert two["kind"].tolist() == ["split"] and "mean implied log return of 2 closes" in two["evidence"].iat[0]
    write_parquet(tmp_path / "equities.parquet", fund)
    for settings, expected in ((dict(later_sessions=0), off), (dict(later_sigmas=50.0, **ON), wide)):
        events, _, _ = events_from_parquet(tmp_path / "equities.parquet", columns=EQUITY_COLUMNS, **settings)
        pd.testing.assert_frame_equal(events, expected)


@pytest.mark.parametrize("settings, message", [
    (dict(later_sessions=1), r"corporate_actions.later_sessions = 1: expected 0 \(rule 8 off\) or an integer >= 2"),
    (dict(later_sessions=2.0), r"corporate_actions.later_sessions = 2.0: expected 0"),
    (dict(later_sessions=True), r"corporate_actions.later_sessions = True: expected 0"),
    (dict(later_sigmas=0), r"corporate_actions.later_sigmas = 0: expected a finite number > 0"),
    (dict(later_sigmas=math.inf), r"corporate_actions.later_sigmas = inf: expected a finite number > 0"),
    (dict(later_sigmas="3"), r"corporate_actions.later_sigmas = '3': expected a finite number > 0"),
])
def test_bad_later_settings_are_named(tmp_path, settings, message):
    from mfg_finance.errors import DataError

    with pytest.raises(DataError, match=message):
        infer_events(_fund(tmp_path, vol=0.004), **settings)


def test_schema_defaults_and_refusals_of_the_later_settings(repo_root):
    import yaml
    from snakemake.utils import validate

    from mfg_finance.config import schema_errors
    from mfg_finance.corporate.later import DEFAULT_LATER_SESSIONS, DEFAULT_SIGMAS

    schema_path = repo_root / "workflow" / "schemas" / "config.schema.yaml"
    cfg: dict = {}
    validate(cfg, str(schema_path))
    assert (cfg["corporate_actions"]["later_sessions"], cfg["corporate_actions"]["later_sigmas"]) == \
        (DEFAULT_LATER_SESSIONS, DEFAULT_SIGMAS)
    shipped = yaml.safe_load((repo_root / "config" / "config.yaml").read_text())["corporate_actions"]
    assert (shipped["later_sessions"], shipped["later_sigmas"]) == (DEFAULT_LATER_SESSIONS, DEFAULT_SIGMAS)
    schema = yaml.safe_load(schema_path.read_text())
    for key, value in (("later_sessions", 1), ("later_sessions", -1), ("later_sigmas", 0)):
        errors = schema_errors({"corporate_actions": {key: value}}, schema)
        assert any(line.startswith(f"corporate_actions.{key}: {value}") for line in errors), errors
    assert schema_errors({"corporate_actions": {"later_sessions": 0, "later_sigmas": 4.5}}, schema) == []
