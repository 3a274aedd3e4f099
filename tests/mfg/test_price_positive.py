"""Issue 21: a supply slope too small for the crowd's flow is refused, not turned into prices <= 0."""

import numpy as np
import pytest

from mfg_cases import MILD, make
from mfg_finance.errors import ConfigError
from mfg_finance.mfg import solve
from mfg_finance.mfg.price import clearing_price


def test_clearing_price_refuses_a_price_at_or_below_zero_with_the_bound():
    flow = np.array([-1.0, 0.0, 2.0])
    assert np.all(clearing_price(flow, 0.0, kappa=-1.0, p_ref=10.0) > 0)
    with pytest.raises(ConfigError, match=r"mfg.price.kappa: .* falls to -1e\+12 BRL .* needs \|kappa\| > 0.2"):
        clearing_price(flow, 0.0, kappa=-1e-12, p_ref=10.0)
    with pytest.raises(ConfigError, match="<= 0"):
        clearing_price(np.array([np.nan]), 0.0, kappa=-1.0, p_ref=10.0)


def test_solve_with_a_tiny_kappa_fails_naming_the_key():
    with pytest.raises(ConfigError, match=r"^mfg.price.kappa: the clearing price"):
        solve(make(MILD, grid={"nx": 41, "nt": 20}, price={"enabled": True, "kappa": -1e-9, "p_ref": 10.0}))
