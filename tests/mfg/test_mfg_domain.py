"""The initial law is what the config says, the domain fits the problem, and a leak is refused."""

from __future__ import annotations

import numpy as np
import pytest

from mfg_cases import STIFF, make
from mfg_finance.errors import ConfigError, MfgDomainError
from mfg_finance.mfg import solve, validate_config
from mfg_finance.mfg.domain import LEAK_MASS
from mfg_finance.mfg.grid import auto_domain, initial_density


def _moments(q, mu):
    dx = q[1] - q[0]
    mean = mu @ q * dx
    return mu.sum() * dx, mean, np.sqrt(mu @ (q - mean) ** 2 * dx)


@pytest.mark.parametrize("mean, std", [(0.5, 0.5), (0.5123, 0.3), (0.5123, 0.0501), (0.5123, 0.05),
                                       (0.5123, 0.03), (-1.5, 1e-3), (0.5, 1e-4), (4.0, 0.1)])
def test_initial_law_keeps_mass_mean_and_variance(mean, std):
    q = np.linspace(-5.0, 5.0, 201)                  # dx = 0.05
    mu = initial_density(q, mean, std)
    mass, m, s = _moments(q, mu)
    assert mu.min() >= 0.0
    assert mass == pytest.approx(1.0, abs=1e-14)
    assert m == pytest.approx(mean, abs=1e-13)
    assert s == pytest.approx(std, rel=1e-9)
    if std < 0.05:                                   # a four-node stencil
        assert np.count_nonzero(mu) <= 4


def test_initial_law_on_graded_companion_nodes_has_the_moments_to_round_off():
    """On the companions' every-other nodes of the graded baseline mesh the maximum-entropy Newton used to stall
    (its line search cannot see a decrease below the dual's round-off): moments 1e-9 off after 100 iterations."""
    from mfg_finance.mfg.grid import cell_widths, grid_nodes

    cfg = validate_config(STIFF)
    q = grid_nodes(cfg["grid"], cfg["params"])
    for nodes in (q, q[::2], q[::4]):
        p = initial_density(nodes, 0.5, 0.5) * cell_widths(nodes)
        assert p.sum() == pytest.approx(1.0, abs=1e-14)
        assert p @ nodes == pytest.approx(0.5, abs=1e-14)
        assert p @ (nodes - 0.5) ** 2 == pytest.approx(0.25, abs=1e-14)


def test_initial_law_that_does_not_fit_is_refused_naming_the_key():
    q = np.linspace(-5.0, 5.0, 201)
    with pytest.raises(ConfigError, match=r"mfg.params.m0_std: 0.0001 is narrower .*smallest std there: 0.0215"):
        initial_density(q, 0.5123, 1e-4)             # was: "newton: NaN or inf at sweep 1"
    with pytest.raises(ConfigError, match=r"mfg.params.m0_mean, mfg.params.m0_std: .*N\(4.9, 0.5\^2\) does not fit"):
        validate_config(make(STIFF, params={"m0_mean": 4.9}))     # was: silently Q0 = 4.577
    # N(0.5123, 0.001^2) was snapped to mean 0.5: refused on the uniform mesh (no law on its nodes is that
    # narrow); the graded inventory mesh puts cells of a quarter std under the initial law and represents it
    with pytest.raises(ConfigError, match="mfg.params.m0_std"):
        validate_config(make(STIFF, params={"m0_mean": 0.5123, "m0_std": 1e-3}, grid={"inventory_mesh": "uniform"}))
    validate_config(make(STIFF, params={"m0_mean": 0.5123, "m0_std": 1e-3}))


def test_solved_mean_starts_where_the_config_says():
    s = solve(make(STIFF, params={"m0_mean": 0.5123, "m0_std": 0.03, "eta1": 0.0}))
    assert s.mean_inventory[0] == pytest.approx(0.5123, abs=1e-13)
    assert s.inventory_std[0] == pytest.approx(0.03, rel=1e-9)


def test_auto_domain_follows_m0_and_the_noise_over_the_horizon():
    # without the cost parameters: the envelope of not trading
    assert auto_domain(m0_mean=0.5, m0_std=0.5, sigma=0.0, T=1.0) == pytest.approx((-3.0, 3.5))
    # with them: 6 std around the exact law; a strong running penalty keeps it narrow
    from mfg_finance.mfg.exact import coupled
    kw = dict(m0_mean=1.0, m0_std=0.5, sigma=1.5, T=5.0)
    cost = dict(eta0=0.1, eta1=1.0, phi=5.0, gamma_T=50.0)
    low, high = auto_domain(**kw, **cost)
    t = np.linspace(0.0, 5.0, 2001)
    ref = coupled(t, **kw, **cost)
    std = np.sqrt(ref.variance)
    assert low <= (ref.mean - 6 * std).min() + 1e-9 and high >= (ref.mean + 6 * std).max() - 1e-9
    assert high - low < 0.5 * (auto_domain(**kw)[1] - auto_domain(**kw)[0])
    low, high = auto_domain(m0_mean=-1.5, m0_std=0.1, sigma=1.5, T=5.0)
    spread = 6.0 * np.sqrt(0.01 + 1.5 ** 2 * 5.0)
    assert (low, high) == pytest.approx((-1.5 - spread, spread))
    cfg = validate_config({"grid": {"x_max": 4.0}, "params": dict(STIFF["params"])})
    assert cfg["grid"]["x_max"] == 4.0 and cfg["grid"]["x_min"] <= 0.5 - 3.0      # one end fixed, one sized


def test_a_law_that_reaches_the_boundary_is_refused_with_a_range_that_fits():
    # the PETR4 situation: the noise over the horizon (here 2.8 units) is large for a [-2, 2] range
    cfg = make(STIFF, params={"sigma": 4.0, "eta1": 0.0, "m0_std": 0.2},
               grid={"x_min": -2.0, "x_max": 2.0, "nx": 161, "nt": 40})
    with pytest.raises(MfgDomainError, match=r"reaches the ends of \[-2, 2\].*A range that holds this law is "
                                              r"\[-\d+\.\d+, \d+\.\d+\].*'auto'") as info:
        solve(cfg)
    assert info.value.diagnostics["boundary_mass"] > LEAK_MASS
    # sized from the problem, the same solve holds the law
    cfg["grid"].update(x_min="auto", x_max="auto")
    s = solve(cfg)
    assert s.domain["sized"] == "auto" and s.domain["boundary_mass"] < 1e-8


def test_boundary_mean_change_is_what_the_flow_does_not_explain():
    from mfg_finance.mfg.domain import domain_diagnostics
    from mfg_finance.mfg.solver import Problem, sweep
    cfg = validate_config(make(STIFF, params={"sigma": 1.2, "eta1": 0.0, "m0_std": 0.3, "phi": 0.0, "gamma_T": 0.0},
                               grid={"x_min": -2.5, "x_max": 2.5, "nx": 101, "nt": 60}))
    problem = Problem.from_config(cfg)
    sw = sweep(problem, np.full(problem.grid.nt + 1, problem.eta0))
    grid = problem.grid
    mean = (sw.density * grid.weights) @ grid.q
    explained = float(grid.dts @ sw.mean_flow[:-1])
    # the reflection over the implicit steps, and what the ends cut off the exact last interval's kernel
    diag = domain_diagnostics(grid.q, grid.dts[:-1], sw.density, problem.sigma,
                              last_interval=(float(grid.dts[-1]), float(sw.mean_flow[-2])))
    assert diag["boundary_mean_change"] == pytest.approx(mean[-1] - mean[0] - explained, rel=1e-9, abs=1e-13)
    assert abs(diag["boundary_mean_change"]) > 1e-3
