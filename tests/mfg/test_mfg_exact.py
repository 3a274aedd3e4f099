"""The exact LQ reference: closed form, shooting, and the ODEs they must satisfy."""

from __future__ import annotations

import numpy as np
import pytest

from mfg_finance.mfg.exact import closed_form, coupled

P = dict(T=0.5, sigma=0.5, phi=0.035, gamma_T=0.57, m0_mean=0.5, m0_std=0.5)
T_FINE = np.linspace(0.0, 0.5, 20001)


def ode_residuals(ref, eta, phi, sigma):
    """Centred-difference residuals of the Riccati, mean, variance and h0 ODEs (interior nodes)."""
    t = ref.t
    d = lambda y: (y[2:] - y[:-2]) / (t[2:] - t[:-2])
    mid = slice(1, -1)
    h2, Q, V, h0, e = ref.h2[mid], ref.mean[mid], ref.variance[mid], ref.h0[mid], eta[mid]
    return {
        "h2": d(ref.h2) - (h2 ** 2 / e - phi),
        "mean": d(ref.mean) + h2 * Q / e,
        "variance": d(ref.variance) - (-2 * h2 * V / e + sigma ** 2),
        "h0": d(ref.h0) + sigma ** 2 * h2,
    }


@pytest.mark.parametrize("params", [dict(eta=0.1, phi=0.5, gamma_T=1.0), dict(eta=5e-4, phi=0.035, gamma_T=0.57),
                                    dict(eta=0.05, phi=0.0, gamma_T=1.0), dict(eta=0.05, phi=0.2, gamma_T=0.0)])
def test_closed_form_solves_the_odes(params):
    ref = closed_form(T_FINE, T=0.5, sigma=0.3, m0_mean=0.7, m0_std=0.4, **params)
    assert ref.h2[-1] == pytest.approx(params["gamma_T"], abs=1e-14)
    assert ref.h0[-1] == pytest.approx(0.0, abs=1e-14)
    assert ref.mean[0] == pytest.approx(0.7) and ref.variance[0] == pytest.approx(0.16)
    res = ode_residuals(ref, ref.eta, params["phi"], 0.3)
    # centred differences on a stiff layer: compare with the size of each derivative term
    for name, r in res.items():
        scale = np.max(np.abs(np.gradient(getattr(ref, {"mean": "mean", "variance": "variance"}.get(name, name)), T_FINE)))
        assert np.max(np.abs(r)) <= 2e-3 * max(scale, 1e-12), name


def test_closed_form_phi_zero_is_the_limit():
    a = closed_form(T_FINE, eta=0.05, **{**P, "phi": 1e-12})
    b = closed_form(T_FINE, eta=0.05, **{**P, "phi": 0.0})
    for name in ("h2", "h0", "mean", "variance"):
        assert np.allclose(getattr(a, name), getattr(b, name), rtol=1e-7, atol=1e-12), name


def test_shooting_matches_the_closed_form_when_coupling_vanishes():
    t = np.linspace(0.0, 0.5, 151)
    a = closed_form(t, eta=5e-4, **P)
    b = coupled(t, eta0=5e-4, eta1=1e-15, **P)
    for name in ("h2", "h0", "mean", "variance"):
        assert np.allclose(getattr(b, name), getattr(a, name), rtol=1e-9, atol=1e-14), name


@pytest.mark.parametrize("m0_mean", [0.5, -0.8])
def test_coupled_reference_is_a_fixed_point(m0_mean):
    ref = coupled(T_FINE, eta0=5e-4, eta1=1e-3, **{**P, "m0_mean": m0_mean})
    assert np.allclose(ref.eta, 5e-4 + 1e-3 * np.abs(ref.mean_flow), rtol=1e-12)
    assert ref.mean[0] == pytest.approx(m0_mean, rel=1e-12)
    assert ref.h2[-1] == pytest.approx(0.57, rel=1e-12)
    assert np.sign(ref.mean[-1]) == np.sign(m0_mean)
    res = ode_residuals(ref, ref.eta, 0.035, 0.5)
    for name, r in res.items():
        scale = np.max(np.abs(np.gradient(getattr(ref, name), T_FINE)))
        assert np.max(np.abs(r)) <= 2e-3 * scale, name


def test_symmetric_initial_law_switches_coupling_off():
    ref = coupled(T_FINE[:11], eta0=5e-4, eta1=1e-3, **{**P, "m0_mean": 0.0})
    assert np.all(ref.eta == 5e-4) and np.all(ref.mean == 0.0)


@pytest.mark.parametrize("gamma_T", [1e10, 1e12])
def test_coupled_reference_holds_on_the_stiffest_rungs(gamma_T):
    # the variance was integrated forward in t: "required step size is less than spacing between numbers" at 1e10
    # and unsorted t_eval at 1e12 (the graded mesh's last times round onto T); now in the distance to T
    from mfg_finance.mfg.config import validate_config
    from mfg_finance.mfg.exact import exact_outcomes

    cfg = {"grid": {"x_min": -5.0, "x_max": 5.0, "nx": 201, "T": 0.5, "nt": 150},
           "params": {"sigma": 0.5, "eta0": 5e-4, "eta1": 1e-3, "phi": 0.035, "gamma_T": gamma_T,
                      "m0_mean": 0.5, "m0_std": 0.5}}
    coupled_out = exact_outcomes(validate_config(cfg))
    # in the layer the law is held at sigma^2 eta(T) / gamma_T (phi's share is O(tau / T))
    assert coupled_out["terminal_dispersion"] == pytest.approx(
        0.5 * (coupled_out["eta_min"] / gamma_T) ** 0.5, rel=1e-6)
    # vanishing coupling: the shooting's variance, mean and cost meet the closed form
    weak = exact_outcomes(validate_config({**cfg, "params": {**cfg["params"], "eta1": 1e-12}}))
    none = exact_outcomes(validate_config({**cfg, "params": {**cfg["params"], "eta1": 0.0}}))
    for key in ("terminal_dispersion", "total_cost", "mean_inventory_terminal", "liquidation_half_life"):
        assert weak[key] == pytest.approx(none[key], rel=1e-8), key


def test_coupled_variance_matches_the_closed_form_on_a_fine_path():
    # the variance from the propagator (Q_t / Q_0)^2 m0_std^2 plus the noise's part integrated in T - t
    t = np.concatenate([np.linspace(0.0, 0.5, 201), 0.5 - np.geomspace(1e-3, 1e-12, 40), [0.5]])
    t = np.unique(t)
    a = closed_form(t, eta=5e-4, **{**P, "gamma_T": 1e6})
    b = coupled(t, eta0=5e-4, eta1=1e-15, **{**P, "gamma_T": 1e6})
    assert np.allclose(b.variance, a.variance, rtol=1e-9, atol=0.0)
