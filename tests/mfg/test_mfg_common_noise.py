"""The common-noise (t, Q) system against its exact limits, its error estimate and its paths."""

from __future__ import annotations

import math

import numpy as np
import pytest

from mfg_finance.errors import ConfigError
from mfg_finance.mfg.common_noise import (SAFETY, combined_estimate, core_width, extrapolated_cost, field_estimate,
                                          hybrid_rates, default_halfwidth, q_nodes, solve_system, solve_with_estimate)
from mfg_finance.mfg.hjb import hybrid_offdiagonals
from mfg_finance.mfg.common_noise_paths import simulate_paths
from mfg_finance.mfg.exact import closed_form, coupled
from mfg_cases import REALISTIC, assert_within_pointwise

STIFF = dict(sigma=0.5, eta0=5.0e-4, eta1=1.0e-3, phi=0.035, gamma_T=0.57, m0_mean=0.5, m0_std=0.5)
MILD = dict(sigma=0.3, eta0=0.1, eta1=0.1, phi=0.5, gamma_T=1.0, m0_mean=1.0, m0_std=0.4)
CASES = {"stiff": (STIFF, 0.5), "mild": (MILD, 1.0)}
#: Grids of the exact checks: the stiff terminal layer (eta0/gamma_T ~ 1e-3 day) is pre-asymptotic
#: below nt ~ 300 (observed order > 1 on the coarsest pair, ~0.8 on the next).
GRIDS = {"stiff": (320, 401), "mild": (160, 201)}


def _solve(params, T, nt=160, nQ=201, **kw):
    return solve_with_estimate(params, T=T, nt=nt, nQ=nQ, halfwidth=default_halfwidth(params, T), **kw)


def _weights(t):
    dt = np.diff(t)
    return np.append(dt, dt[-1])


def _along(sol, name, Q_path, every=1):
    """``sol.<name>(t_n, Q_path[n * every])`` for each time node of ``sol``."""
    f = getattr(sol, name)
    return np.array([np.interp(Q_path[n * every], sol.Q, f[n]) for n in range(sol.t.size)])


@pytest.mark.parametrize("case", sorted(CASES))
def test_eta1_zero_gives_the_riccati_solution_for_every_Q(case):
    base, T = CASES[case]
    sigma0 = 0.3
    params = dict(base, eta1=0.0, sigma0=sigma0)
    s = _solve(params, T)
    f = s.fine
    # a does not depend on Q and b vanishes: exactly, up to round-off
    assert np.max(np.ptp(f.a, axis=1)) <= 1e-13 * params["gamma_T"]
    assert np.max(np.abs(f.b)) <= 1e-14
    # a = h2 and c = h0 with the noise sigma^2 + sigma0^2, to the solver's own estimate
    ex = closed_form(f.t[::2], T=T, sigma=math.hypot(base["sigma"], sigma0), eta=base["eta0"],
                     phi=base["phi"], gamma_T=base["gamma_T"], m0_mean=1.0, m0_std=1.0)
    w = _weights(f.t[::2])
    for name, exact in (("a", ex.h2), ("c", ex.h0)):
        err = np.max(np.abs(getattr(f, name)[::2, ::2] - exact[:, None]), axis=1)
        est = np.max(s.estimate(name), axis=1)
        # at every time node (c's first-order difference crosses zero mid-horizon, where without the next-order
        # term the estimate fell to a tenth of the error at 6 of 81 nodes)
        assert_within_pointwise(err, est, name)
        assert w @ est <= 3.0 * (w @ err), (name, w @ est / (w @ err))     # and not loose: 1.3-2.1 measured
        assert w @ err <= 0.05 * (w @ np.abs(exact))
    # c gains sigma0^2 a: against the sigma0 = 0 solve, the difference is sigma0^2 int_t^T a
    g = solve_system(dict(params, sigma0=0.0), T=T, nt=160, nQ=201, halfwidth=default_halfwidth(params, T))
    gained = sigma0 ** 2 * np.append(np.cumsum((f.dts * f.a[:-1, 0])[::-1])[::-1], 0.0)
    np.testing.assert_allclose(f.c[:, 0] - g.c[:, 0], gained, rtol=1e-12, atol=1e-18)


@pytest.mark.parametrize("case", sorted(CASES))
def test_sigma0_to_zero_recovers_the_deterministic_equilibrium_along_its_path(case):
    base, T = CASES[case]
    params = dict(base, sigma0=0.0)
    nt, nQ = GRIDS[case]
    s = _solve(params, T, nt, nQ)
    f, c = s.fine, s.coarse
    ex = coupled(f.t, T=T, **base)
    w = _weights(c.t)
    for name, exact in (("a", ex.h2), ("eta", ex.eta)):
        fine_path, bound_path = s.along_path(name, ex.mean)
        err = np.abs(fine_path - exact[::2])
        assert_within_pointwise(err, bound_path, name)
        assert w @ bound_path <= 3.0 * (w @ err), (name, w @ bound_path / (w @ err))     # measured 1.6-1.7
        assert w @ err <= 0.1 * (w @ exact[::2])
    # b vanishes without common noise, and the limit is continuous in sigma0
    assert np.max(np.abs(f.b)) == 0.0
    # (the change is largest at the kink Q = 0, where the graded nodes resolve even a tiny diffusion: it
    # falls like sigma0^2)
    change = [np.max(np.abs(solve_system(dict(base, sigma0=s0), T=T, nt=nt, nQ=nQ, halfwidth=f.Q[-1]).a - f.a))
              for s0 in (1e-4, 1e-5)]
    assert 50.0 < change[0] / change[1] < 200.0
    assert change[1] <= 1e-3 * np.max(s.estimate("a"))


def test_solution_is_symmetric_in_Q_and_a_is_positive():
    s = solve_system(dict(STIFF, sigma0=0.2), T=0.5, nt=80, nQ=101, halfwidth=1.5)
    np.testing.assert_allclose(s.a, s.a[:, ::-1], rtol=1e-12)
    np.testing.assert_allclose(s.b, -s.b[:, ::-1], atol=1e-14 * np.max(np.abs(s.b)) + 1e-300)
    np.testing.assert_allclose(s.c, s.c[:, ::-1], rtol=1e-10)
    assert np.all(s.a > 0.0) and np.all(s.eta >= STIFF["eta0"])
    # the common noise makes b nonzero (source 2 sigma0^2 a_Q) and m pulls Q towards 0
    assert np.max(np.abs(s.b)) > 0.0
    m = s.mean_flow
    assert np.all(m[:, s.Q > 0.05] < 0.0) and np.all(m[:, s.Q < -0.05] > 0.0)


def test_common_noise_refines_at_first_order():
    s = _solve(dict(MILD, sigma0=0.3), 1.0, nt=160, nQ=201)
    for name in ("a", "b", "c", "eta"):
        assert 0.7 <= s.order(name) <= 1.0, (name, s.order(name))
    assert 0.0 < s.cost_error < 0.01 * s.fine.expected_cost


def test_field_estimate_holds_where_the_first_order_difference_changes_sign():
    """Grids h, 2h, 4h of f = sin(pi t) with the error C(t) h + D h^2, C changing sign at t = 1/2: the first-order
    term alone vanishes there while the error is D h^2; the next-order term restores the bound at every node, and
    stays small (within twice the error, safety factor included) where C dominates."""
    h, D = 0.01, 3.0
    t = np.linspace(0.0, 1.0, 161)
    exact = np.sin(np.pi * t)[:, None] * np.ones(5)

    def grid(step, scale):
        return (exact + (0.5 - t)[:, None] * scale + D * scale ** 2)[::step]

    fine, coarse, coarser = grid(1, h), grid(2, 2 * h), grid(4, 4 * h)
    est = field_estimate(fine, coarse, coarser, fine[:, ::2], fine[:, ::4], 1.0, 1.0)
    err = np.abs(fine - exact)[::2, ::2]
    first_order = SAFETY * np.abs(fine[::2, ::2] - coarse[:, ::2])
    assert np.any(err > first_order)
    assert np.all(err <= est)
    far = np.abs(t[::2] - 0.5) >= 0.25
    assert np.all(est[far] <= 2.0 * err[far])


@pytest.mark.parametrize("p", [0.5, 0.75, 1.0])
def test_field_estimate_bounds_a_first_and_second_order_error_at_any_clipped_order(p):
    """f_h = f + C h + D h^2 in time and in space, C and D varying in sign along t and Q: at an order p in the
    clipped range [0.5, 1] the first-order term |C h + 3 D h^2| / (2^p - 1) plus the next-order term 2 |D| h^2
    bounds the error at every node (docs/mfg.md section 8), without the safety factor."""
    t = np.linspace(0.0, 1.0, 161)[:, None]
    Q = np.linspace(-1.0, 1.0, 33)[None, :]
    exact = np.cos(2.0 * t) * np.exp(Q)
    C_t, D_t = np.sin(7.0 * t) * (1.0 + Q), 2.0 * np.cos(5.0 * t + Q)
    C_x, D_x = np.cos(3.0 * Q + t), -3.0 + Q * Q

    def grid(ht, hx):
        return exact + C_t * ht + D_t * ht ** 2 + C_x * hx + D_x * hx ** 2

    ht, hx = 0.01, 0.02
    fine, coarse, coarser = grid(ht, hx), grid(2 * ht, hx)[::2], grid(4 * ht, hx)[::4]
    space, spacer = grid(ht, 2 * hx)[:, ::2], grid(ht, 4 * hx)[:, ::4]
    est = field_estimate(fine, coarse, coarser, space, spacer, p, p) / SAFETY
    err = np.abs(fine - exact)[::2, ::2]
    assert np.all(err <= est * (1.0 + 1e-9)), np.max(err / est)


def test_error_estimate_needs_nested_grids():
    with pytest.raises(ConfigError, match="multiple of 4"):
        _solve(dict(MILD, sigma0=0.3), 1.0, nt=150, nQ=201)
    with pytest.raises(ConfigError, match="Q_halfwidth"):
        solve_system(dict(MILD, sigma0=0.3), T=1.0, nt=10, nQ=11, halfwidth=0.5)


def test_paths_with_eta1_zero_have_the_exact_gaussian_law():
    """With a constant cost Q is an Ornstein-Uhlenbeck-type process: dQ = -(h2/eta) Q dt + sigma0 dW0,
    mean = the deterministic path, variance V' = -2 (h2/eta) V + sigma0^2, V(0) = 0."""
    sigma0 = 0.3
    params = dict(MILD, eta1=0.0, sigma0=sigma0)
    s = _solve(params, 1.0)
    n_paths = 4000
    paths = simulate_paths(s.fine, n_paths=n_paths, seed=3)
    ex = closed_form(s.fine.t, T=1.0, sigma=sigma0, eta=MILD["eta0"], phi=MILD["phi"],
                     gamma_T=MILD["gamma_T"], m0_mean=MILD["m0_mean"], m0_std=0.0)
    mean, var = paths.Q.mean(axis=0), paths.Q.var(axis=0, ddof=1)
    se_mean = np.sqrt(ex.variance / n_paths)
    se_var = ex.variance * math.sqrt(2.0 / (n_paths - 1))
    disc = 0.02   # first-order time error of the scheme (a relative error estimate of 1.8% on this grid)
    assert np.all(np.abs(mean - ex.mean) <= 4.0 * se_mean + disc * np.abs(ex.mean))
    assert np.all(np.abs(var - ex.variance) <= 4.0 * se_var + disc * ex.variance)
    np.testing.assert_allclose(paths.eta, MILD["eta0"])


def test_paths_are_seeded_and_carry_the_price():
    s = solve_system(dict(STIFF, sigma0=0.2), T=0.5, nt=40, nQ=41, halfwidth=1.5)
    price = {"kappa": -50.0, "p_ref": 20.0, "supply": 0.0}
    one = simulate_paths(s, n_paths=50, seed=11, price=price)
    two = simulate_paths(s, n_paths=50, seed=11, price=price)
    other = simulate_paths(s, n_paths=50, seed=12, price=price)
    for name in ("Q", "m", "eta", "price"):
        assert getattr(one, name).tobytes() == getattr(two, name).tobytes()
    assert not np.array_equal(one.Q, other.Q)
    np.testing.assert_allclose(one.m + 0.0 + (-50.0) * (one.price - 20.0), 0.0, atol=1e-12)
    np.testing.assert_allclose(one.eta, STIFF["eta0"] + STIFF["eta1"] * np.abs(one.m), rtol=1e-12)
    bands = one.quantiles([0.05, 0.5, 0.95])
    assert bands["Q"].shape == (3, s.t.size) and np.all(np.diff(bands["price"], axis=0) >= 0.0)
    assert simulate_paths(s, n_paths=5, seed=1).price is None


def test_Q_nodes_are_graded_symmetric_and_nested():
    Q = q_nodes(5.0, 201, 0.003)
    np.testing.assert_array_equal(Q, -Q[::-1])
    assert Q[100] == 0.0 and Q[0] == -5.0 and Q[-1] == 5.0
    h = np.diff(Q)
    assert h[100] < 0.003 and h[-1] > 50.0 * h[100]          # fine at 0, coarse at the ends
    np.testing.assert_allclose(q_nodes(5.0, 101, 0.003), Q[::2], rtol=1e-14, atol=1e-15)
    np.testing.assert_allclose(q_nodes(5.0, 201, 5.0), np.linspace(-5, 5, 201), atol=0.3)   # delta = L: nearly uniform
    # the core is the eta kink's width at T; no kink (eta1 = 0): nearly uniform nodes
    assert core_width(REALISTIC, 5.0, 401) == pytest.approx(5.83e-3 ** 2 / (4 * 3.67e-4 * 7.35))
    assert core_width(dict(REALISTIC, eta1=0.0), 5.0, 401) == 5.0
    # few nodes: the core widens so that the outer spacing stays 8% of |Q|
    assert core_width(REALISTIC, 5.0, 41) == pytest.approx(5.0 / math.sinh(0.04 * 40))
    with pytest.raises(ConfigError, match="odd"):
        q_nodes(5.0, 200, 0.003)
    # the march's rates are the deterministic solver's hybrid generator on these nodes
    m = -40.0 * Q + 0.3
    up, down = hybrid_rates(m, Q, 1.19)
    ref_up, ref_down = hybrid_offdiagonals(m, Q, 1.19)
    np.testing.assert_allclose(up, ref_up, rtol=1e-12)
    np.testing.assert_allclose(down, ref_down, rtol=1e-12)


def test_cost_and_its_bound_on_a_stiff_coupled_calibration():
    """Against a reference 4x finer in time and 2x in Q (its own bound 6e-5): the default grid's
    expected cost is within its bound, and both directions of the bound are needed."""
    T = 0.5
    L = default_halfwidth(REALISTIC, T)
    est = solve_with_estimate(REALISTIC, T=T, nt=320, nQ=201, halfwidth=L)
    ref = solve_with_estimate(REALISTIC, T=T, nt=1280, nQ=401, halfwidth=L)
    assert ref.cost_detail["extrapolated"] and ref.cost_error < 0.1 * est.cost_error
    err = abs(est.expected_cost - ref.expected_cost)
    assert err + ref.cost_error <= est.cost_error
    assert est.cost_error < 0.003 * ref.expected_cost             # and accurate: 0.2%
    # the estimate (the parts with their signs): within a factor 3 of the error (0.16%, below the 0.2% level)
    assert not est.cost_detail["unresolved"] and err / 3.0 <= est.cost_estimate <= 3.0 * err
    assert abs(est.fine.expected_cost - ref.expected_cost) > 0.01 * ref.expected_cost   # the grid alone: 1.1% off
    # exact limit eta1 = 0 (closed form with the total noise) on the same grid
    exact0 = dict(REALISTIC, eta1=0.0)
    e0 = solve_with_estimate(exact0, T=T, nt=320, nQ=201, halfwidth=L)
    ex = closed_form(np.array([0.0]), T=T, sigma=math.hypot(REALISTIC["sigma"], REALISTIC["sigma0"]),
                     eta=REALISTIC["eta0"], phi=REALISTIC["phi"], gamma_T=REALISTIC["gamma_T"], m0_mean=1.0, m0_std=1.0)
    exact_cost = ex.h2[0] * 0.5 + ex.h0[0]
    assert abs(e0.expected_cost - exact_cost) <= e0.cost_error < 0.003 * exact_cost
    # uniform nodes with upwind rates (the former scheme) leave a space error the graded nodes remove; the
    # separate time and space companions see it (refining both at once, the errors cancelled)
    uniform = solve_with_estimate(REALISTIC, T=T, nt=320, nQ=201, halfwidth=L, nodes="uniform")
    assert abs(uniform.expected_cost - ref.expected_cost) > 5.0 * err
    assert abs(uniform.expected_cost - ref.expected_cost) <= uniform.cost_error


#: Relative error of the expected cost above which its estimate is held to a factor 3 of the true error (issue 14's
#: standard for the deterministic solver's outcomes, docs/mfg.md sections 8 and 11).
RESOLVABLE = 0.002


def _check_cost_estimate(detail, exact, uncertainty=0.0):
    """The reported cost's error against ``exact`` (known to ``uncertainty``): within the bound; and, where the
    estimate is held (not unresolved) and the error exceeds 0.2% of the cost, the estimate within a factor 3 of it.
    Returns the error and the estimate over it."""
    err = abs(detail["value"] - exact)
    assert err + uncertainty <= detail["error_bound"], (err, uncertainty, detail)
    assert detail["error"] <= detail["error_bound"]
    if not detail["unresolved"] and err > RESOLVABLE * abs(exact):
        assert (err - uncertainty) / 3.0 <= detail["error"] <= 3.0 * (err + uncertainty), (err, detail)
    return err, detail["error"] / err


def test_cost_estimate_is_the_signed_sum_of_its_parts():
    """A synthetic five-grid sequence with known errors: time error A h + B h^2 (Richardson leaves -2 B h^2, which
    the estimate recovers exactly), space error C k (first order): the estimate is the error, with its sign."""
    weights = {"a": 0.5, "b": 0.5, "c": 1.0}
    J = {"a": 1.0, "b": -0.3, "c": 0.2}
    A, B, C = {"a": 0.1, "b": 0.05, "c": -0.2}, {"a": 0.4, "b": 0.0, "c": 0.3}, {"a": -0.02, "b": 0.01, "c": 0.05}
    h, k = 0.01, 0.02

    def grid(ht, kx):
        return {n: J[n] + A[n] * ht + B[n] * ht * ht + C[n] * kx for n in J}

    coeffs = [grid(h, k), grid(2 * h, k), grid(4 * h, k), grid(h, 2 * k), grid(h, 4 * k)]
    d = extrapolated_cost(coeffs, weights)
    exact = sum(w * J[n] for n, w in weights.items())
    time_err = sum(w * -2.0 * B[n] * h * h for n, w in weights.items())
    space_err = sum(w * C[n] * k for n, w in weights.items())
    assert d["extrapolated"] and not d["unresolved"]
    assert d["time_error"] == pytest.approx(time_err, rel=1e-9)
    assert d["space_error"] == pytest.approx(space_err, rel=1e-9)
    assert d["value"] - exact == pytest.approx(time_err + space_err, rel=1e-9)
    assert d["error"] == pytest.approx(abs(time_err + space_err), rel=1e-9)
    # the bound adds absolute parts per coefficient (and a safety factor): never below the estimate
    assert d["error_bound"] > d["error"]
    # parts that cancel: the estimate keeps a third of their sizes (each is good to tens of percent only)
    assert combined_estimate(1.0, -0.9) == pytest.approx(1.9 / 3.0)
    assert combined_estimate(-1.0, -0.5) == 1.5
    # a time sequence that is not asymptotic (the coarse companions on the wrong side): unresolved, bound kept
    wild = [grid(h, k), grid(2 * h, k), {n: v + 5.0 for n, v in grid(4 * h, k).items()}, grid(h, 2 * k), grid(h, 4 * k)]
    d = extrapolated_cost(wild, weights)
    assert not d["extrapolated"] and d["unresolved"] and d["error_bound"] > 0.0


def _exact_cost(params, T, sigma0_limit):
    """The exact expected cost: closed form with the total noise (``eta1 = 0``) or the deterministic coupled
    equilibrium (``sigma0 -> 0``; ``h2 (m0^2 + s0^2) + h0`` at ``t = 0``)."""
    p = dict(params)
    if sigma0_limit:
        ex = coupled(np.array([0.0, T]), T=T, **{k: v for k, v in p.items() if k != "sigma0"})
    else:
        ex = closed_form(np.array([0.0]), T=T, sigma=math.hypot(p["sigma"], p["sigma0"]), eta=p["eta0"],
                         phi=p["phi"], gamma_T=p["gamma_T"], m0_mean=1.0, m0_std=1.0)
    return float(ex.h2[0] * (p["m0_mean"] ** 2 + p["m0_std"] ** 2) + ex.h0[0])


#: (case, limit, grid, resolved, error above 0.2%): the exact limits on the default grid (320, 201) and on grids
#: where the error exceeds 0.2% (so that the factor 3 is tested); measured in docs/mfg.md section 8.
EXACT_COST_CASES = [
    ("stiff", "sigma0=0", (320, 201), True, True),
    ("stiff", "sigma0=1e-3", (320, 201), True, True),
    ("stiff", "eta1=0", (320, 201), True, False),
    ("stiff", "eta1=0", (160, 201), False, True),
    ("mild", "sigma0=0", (320, 201), True, False),
    ("realistic", "sigma0=0", (160, 201), True, True),
    ("realistic", "eta1=0", (160, 201), True, True),
    ("realistic", "eta1=0", (320, 201), True, False),
]


@pytest.mark.parametrize("case,limit,grid,resolved,large", EXACT_COST_CASES)
def test_expected_cost_estimate_against_the_exact_limits(case, limit, grid, resolved, large):
    """The expected cost's error estimate within a factor 3 of its true error against the exact limits (eta1 = 0:
    closed form with the total noise; sigma0 = 0 and 1e-3: the deterministic coupled equilibrium, whose sigma0^2
    correction at 1e-3 is below 1e-4 of the cost), and the error within the bound; where the time sequence is not
    asymptotic the estimate is flagged unresolved."""
    base, T = {"stiff": (STIFF, 0.5), "mild": (MILD, 1.0), "realistic": (REALISTIC, 0.5)}[case]
    if limit == "eta1=0":
        params = dict(base, eta1=0.0, sigma0=base.get("sigma0", 0.3))
    else:
        params = dict(base, sigma0=0.0 if limit == "sigma0=0" else 1e-3)
    exact = _exact_cost(params, T, sigma0_limit=limit != "eta1=0")
    detail = _solve(params, T, *grid).cost_detail
    assert detail["unresolved"] is not resolved
    err, ratio = _check_cost_estimate(detail, exact)
    assert (err > RESOLVABLE * exact) is large, (err / exact, ratio)


#: Grids of the refined-reference check: the default (320, 201) and coarser ones whose error exceeds 0.2%.
REFINED_GRIDS = [(80, 41), (80, 81), (160, 81), (160, 201), (320, 201), (320, 401)]


@pytest.mark.slow
@pytest.mark.parametrize("case", ["stiff_sigma0_0.2", "realistic"])
def test_expected_cost_estimate_against_a_much_finer_reference(case):
    """The stiff baseline with sigma0 = 0.2 and the real-data-like calibration: each grid's cost against a reference
    8x finer in time and 4x in Q ((2560, 801), time-extrapolated; its own bound, 6e-5 and 3e-5 of the cost, added to
    the error): within the bound, and the estimate within a factor 3 of the error wherever that exceeds 0.2% and the
    time sequence is asymptotic (the others flagged unresolved)."""
    params = dict(STIFF, sigma0=0.2) if case.startswith("stiff") else REALISTIC
    T = 0.5
    ref = _solve(params, T, 2560, 801)
    assert ref.cost_detail["extrapolated"] and not ref.cost_detail["unresolved"]
    value, uncertainty = ref.expected_cost, ref.cost_error
    assert uncertainty < 1e-4 * value
    compared = 0
    for nt, nQ in REFINED_GRIDS:
        detail = _solve(params, T, nt, nQ).cost_detail
        err, _ = _check_cost_estimate(detail, value, uncertainty)
        compared += (not detail["unresolved"]) and err > RESOLVABLE * value
        if (nt, nQ) == (320, 201):             # the default grid: resolved, and accurate
            assert not detail["unresolved"] and err < RESOLVABLE * value
    assert compared >= 2
