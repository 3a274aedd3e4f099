"""Avellaneda-Stoikov (2008) formulas."""

import numpy as np
import pytest

from mfg_finance.market_making.avellaneda_stoikov import (as_quotes, as_spreads, optimal_spread,
                                                           reservation_price)

PAPER = dict(gamma=0.1, sigma=2.0, k=1.5, T=1.0)


def test_reservation_price_and_spread_match_the_paper_formulas():
    s, q, t = 100.0, 3, 0.25
    g, sig, k, T = PAPER["gamma"], PAPER["sigma"], PAPER["k"], PAPER["T"]
    assert reservation_price(s, q, t, gamma=g, sigma=sig, T=T) == pytest.approx(s - q * g * sig**2 * (T - t))
    assert optimal_spread(t, gamma=g, sigma=sig, k=k, T=T) == pytest.approx(
        g * sig**2 * (T - t) + 2 / g * np.log(1 + g / k))


def test_quotes_are_reservation_price_plus_minus_half_spread():
    t = np.linspace(0.0, 1.0, 11)[:, None]
    q = np.arange(-5, 6)[None, :]
    bid, ask = as_quotes(t, q, 100.0, **PAPER)
    r = reservation_price(100.0, q, t, gamma=0.1, sigma=2.0, T=1.0)
    spread = optimal_spread(t, **PAPER)
    np.testing.assert_allclose(bid, r - spread / 2)
    np.testing.assert_allclose(ask, r + spread / 2)
    delta_b, delta_a = as_spreads(t, q, **PAPER)
    np.testing.assert_allclose(delta_b + delta_a, np.broadcast_to(spread, delta_b.shape))
    np.testing.assert_allclose(delta_b, delta_a[:, ::-1])          # symmetry q <-> -q


def test_at_the_horizon_only_the_intensity_term_remains():
    delta_b, delta_a = as_spreads(1.0, 7, **PAPER)
    assert delta_b == pytest.approx(np.log(1 + 0.1 / 1.5) / 0.1)
    assert delta_a == pytest.approx(delta_b)
    # the paper's Table 1 average spread: (2/gamma) ln(1 + gamma/k) = 1.29
    assert optimal_spread(1.0, **PAPER) == pytest.approx(1.29, abs=5e-3)
