"""Endogenous price: the clearing condition m_t + s_t + kappa (p_t - p_ref) = 0 holds."""

from __future__ import annotations

import numpy as np
import pytest

from mfg_cases import STIFF, make
from mfg_finance.mfg import solve
from mfg_finance.mfg.price import clearing_price, clearing_residual

PRICE = {"enabled": True, "kappa": -40.0, "p_ref": 25.0, "supply": 0.3}


def test_price_clears_the_market():
    s = solve(make(STIFF, price=PRICE))
    assert s.price.shape == s.t.shape
    res = clearing_residual(s.price, s.mean_flow, 0.3, kappa=-40.0, p_ref=25.0)
    assert np.max(np.abs(res)) <= 1e-12 * (1 + np.abs(s.mean_flow).max())
    assert s.price_impact == pytest.approx(s.price[-1] - s.price[0])
    # selling crowd and kappa < 0: price below p_ref - s/kappa, recovering as the flow fades
    assert np.all(s.price < 25.0 + 0.3 / 40.0)
    assert s.price_impact > 0.0


def test_price_does_not_feed_back_into_the_equilibrium():
    a = solve(STIFF)
    b = solve(make(STIFF, price=PRICE))
    assert np.array_equal(a.eta, b.eta) and np.array_equal(a.density, b.density)


def test_supply_path():
    supply = list(np.linspace(-0.5, 0.5, 151))
    s = solve(make(STIFF, price={**PRICE, "supply": supply}))
    res = clearing_residual(s.price, s.mean_flow, np.array(supply), kappa=-40.0, p_ref=25.0)
    assert np.max(np.abs(res)) <= 1e-12 * 10


def test_clearing_price_formula():
    p = clearing_price(np.array([-1.0, 0.0, 2.0]), 0.5, kappa=2.0, p_ref=10.0)
    assert np.allclose(p, [10.25, 9.75, 8.75])
