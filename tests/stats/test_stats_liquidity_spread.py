"""Amihud, trade size, ADV and the spread proxies on hand-built cases."""

import numpy as np
import pandas as pd
import pytest

from mfg_finance.stats import compute_stats
from mfg_finance.stats import liquidity, spread

from stats_synthetic import hand_frame


def test_amihud_hand_case():
    closes = [10.0, 10.1, 9.9, 9.9]
    volumes = [1e6, 2e6, 4e6, 5e5]
    frame = hand_frame("AAAA3", [(f"2023-01-0{i + 2}", c, c, c, c, v, 1000 * (i + 1), 10 * (i + 1))
                                 for i, (c, v) in enumerate(zip(closes, volumes))])
    stats = compute_stats(frame, min_sessions=2, rolling_window=2).asset_stats.iloc[0]
    expected = np.mean([abs(np.log(10.1 / 10)) / 2e6, abs(np.log(9.9 / 10.1)) / 4e6, 0.0 / 5e5])
    assert stats["amihud_per_brl"] == pytest.approx(expected)
    assert stats["avg_trade_size_shares"] == pytest.approx((1000 + 2000 + 3000 + 4000) / (10 + 20 + 30 + 40))
    assert stats["adv_brl_mean"] == pytest.approx(np.mean(volumes))
    assert stats["adv_brl_median"] == pytest.approx(np.median(volumes))
    assert stats["adv_shares_mean"] == pytest.approx(2500)
    assert stats["trades_per_session"] == pytest.approx(25)
    assert stats["last_close_brl"] == 9.9


def test_amihud_skips_zero_volume_and_nan():
    t = liquidity.amihud_terms([0.01, np.nan, 0.02], [0.0, 1e6, 1e6])
    assert np.isnan(t[:2]).all() and t[2] == pytest.approx(2e-8)
    assert np.isnan(liquidity.amihud([np.nan], [1.0]))
    assert np.isnan(liquidity.average_trade_size([0], [0]))


def test_corwin_schultz_recovers_pure_bid_ask_spread():
    # Constant mid, every day's high is the ask and low is the bid: no variance, only spread.
    mid, s = 50.0, 0.004
    ask, bid = mid * (1 + s / 2), mid * (1 - s / 2)
    high, low, close = np.full(30, ask), np.full(30, bid), np.full(30, mid)
    assert spread.corwin_schultz(high, low, close) == pytest.approx((ask - bid) / mid, rel=1e-12)


def test_corwin_schultz_overnight_adjustment():
    # Day 2 lies wholly above day 1's close (an overnight jump of ~10%): the paper shifts day 2's
    # high and low down by (low_2 - close_1) before estimating.
    h1, l1, c1 = 100.5, 99.5, 99.6
    h2, l2 = 111.0, 110.0
    adjusted = spread.corwin_schultz_pairs([h1], [l1], [c1], [h2], [l2])[0]
    shift = l2 - c1
    by_hand = spread.corwin_schultz_pairs([h1], [l1], [l2 - shift], [h2 - shift], [l2 - shift])[0]
    assert adjusted == pytest.approx(by_hand, rel=1e-12)
    assert adjusted > 0.001
    # Without the shift the jump lands in gamma and the estimate collapses to the 0 floor.
    assert spread.corwin_schultz_pairs([h1], [l1], [l2], [h2], [l2])[0] == 0.0
    # Symmetric case: day 2 wholly below the close is shifted up by (close_1 - high_2).
    down = spread.corwin_schultz_pairs([h1], [l1], [100.4], [90.0], [89.0])[0]
    assert down == pytest.approx(spread.corwin_schultz_pairs([h1], [l1], [100.4], [100.4], [99.4])[0])


def test_corwin_schultz_negative_estimates_are_zero():
    # Two ranges that add up to a much wider two-day range: alpha < 0, floored at 0.
    est = spread.corwin_schultz_pairs([101.0], [100.0], [101.0], [102.0], [100.5])
    assert est[0] == 0.0


def test_corwin_schultz_uses_consecutive_pairs_only():
    frame = hand_frame("AAAA3", [("2023-01-02", 50, 50.1, 49.9, 50, 1e6, 1e4, 10),
                                 ("2023-01-03", 50, 50.1, 49.9, 50, 1e6, 1e4, 10),
                                 ("2023-01-06", 80, 80.2, 79.8, 80, 1e6, 1e4, 10)])
    other = hand_frame("BBBB4", [(d, 10, 10, 10, 10, 1e6, 1e4, 10) for d in
                                 ["2023-01-02", "2023-01-03", "2023-01-04", "2023-01-05", "2023-01-06"]])
    stats = compute_stats(pd.concat([frame, other]), min_sessions=2, rolling_window=2).asset_stats.set_index("ticker")
    # Only the pair (01-02, 01-03) counts; the pair across the gap would mix in the 50 -> 80 move.
    assert stats.loc["AAAA3", "spread_cs"] == pytest.approx(0.2 / 50, rel=1e-9)


def test_roll_recovers_spread_of_random_bounce():
    rng = np.random.default_rng(4)
    mid, s = 20.0, 0.002
    side = rng.choice([-1.0, 1.0], size=40_000)
    r = np.diff(np.log(mid * (1 + side * s / 2)))
    assert spread.roll_spread(r) == pytest.approx(s, rel=0.03)


def test_roll_undefined_for_positive_autocovariance_and_short_series():
    trend = np.array([0.01, 0.011, 0.012, 0.013, 0.014, 0.015])
    assert np.isnan(spread.roll_spread(trend))
    assert np.isnan(spread.roll_spread([0.01, -0.01]))
    assert np.isnan(spread.roll_spread([0.01, np.nan, -0.01, np.nan, 0.02]))


def test_roll_in_compute_stats_matches_function():
    rng = np.random.default_rng(9)
    closes = 20 * (1 + rng.choice([-1, 1], 200) * 0.002) * np.exp(np.cumsum(rng.normal(0, 0.001, 200)))
    dates = pd.bdate_range("2023-01-02", periods=200)
    frame = hand_frame("AAAA3", [(d, c, c, c, c, 1e6, 1e4, 10) for d, c in zip(dates, closes)])
    stats = compute_stats(frame, min_sessions=2, rolling_window=2).asset_stats.iloc[0]
    assert stats["spread_roll"] == pytest.approx(spread.roll_spread(np.diff(np.log(closes))))


def test_quoted_spread():
    q = spread.quoted_spread([9.99, 0.0, 10.0], [10.01, 10.0, 9.0])
    assert q[0] == pytest.approx(0.02 / 10.0)
    assert np.isnan(q[1:]).all()  # missing bid, crossed quote
