"""Heterogeneous crowds: config of the types, exact multi-type LQ reference and the PDE solver."""

from __future__ import annotations

import numpy as np
import pytest

from mfg_finance.errors import ConfigError
from mfg_finance.mfg.agent_types import validate_types
from mfg_finance.mfg.agent_types_exact import exact_types
from mfg_finance.mfg.agent_types_solver import solve_types
from mfg_finance.mfg.exact import closed_form, coupled

STIFF = dict(sigma=0.5, eta0=5.0e-4, eta1=1.0e-3, phi=0.035, gamma_T=0.57, m0_mean=0.5, m0_std=0.5)
TWO = [{"name": "urgent", "weight": 0.3, "phi": 0.35, "gamma_T": 5.7},
       {"name": "patient", "weight": 0.7, "m0_mean": 0.8, "sigma": 0.3}]


def test_types_config_defaults_and_errors():
    (one,) = validate_types(None, STIFF)
    assert one.weight == 1.0 and one.phi == STIFF["phi"] and one.sigma == STIFF["sigma"]
    urgent, patient = validate_types(TWO, STIFF)
    assert (urgent.phi, urgent.gamma_T, urgent.sigma) == (0.35, 5.7, 0.5)
    assert (patient.m0_mean, patient.sigma, patient.phi) == (0.8, 0.3, 0.035)
    bad = [
        ([{"name": "a", "weight": 0.5}], "sum to 1"),
        ([{"name": "a", "weight": 0.5, "kappa": 1.0}, {"name": "b", "weight": 0.5}], r"mfg.types\[0\]: unknown"),
        ([{"name": "a", "weight": 0.5}, {"name": "a", "weight": 0.5}], "unique"),
        ([{"name": "a"}], r"mfg.types\[0\].weight: missing"),
        ([{"name": "a", "weight": 1.0, "phi": -1.0}], r"mfg.types\[0\].phi: must be >= 0"),
        ([{"name": "a", "weight": 1.0, "m0_std": 0.0}], r"mfg.types\[0\].m0_std: must be > 0"),
        ([{"name": "a", "weight": "1"}], r"mfg.types\[0\].weight: must be a finite number"),
        ("urgent", "list of mappings"),
    ]
    for types, match in bad:
        with pytest.raises(ConfigError, match=match):
            validate_types(types, STIFF)


def test_types_relative_to_the_calibration():
    """phi_factor / gamma_T_factor are multiples of the run's (calibrated) params: urgent on any calibration."""
    rel = [{"name": "urgent", "weight": 0.3, "phi_factor": 5.0, "gamma_T_factor": 2.0}, {"name": "patient", "weight": 0.7}]
    for params in (STIFF, dict(STIFF, phi=0.0702, gamma_T=7.35)):
        urgent, patient = validate_types(rel, params)
        assert urgent.phi == pytest.approx(5.0 * params["phi"]) and urgent.gamma_T == pytest.approx(2.0 * params["gamma_T"])
        assert urgent.phi > patient.phi and urgent.gamma_T > patient.gamma_T
    bad = [
        ([{"name": "a", "weight": 1.0, "phi_factor": 0.0}], r"mfg.types\[0\].phi_factor: must be > 0"),
        ([{"name": "a", "weight": 1.0, "gamma_T_factor": "2"}], r"mfg.types\[0\].gamma_T_factor: must be a finite"),
        ([{"name": "a", "weight": 1.0, "phi": 0.3, "phi_factor": 2.0}], r"mfg.types\[0\]: give phi or phi_factor"),
        ([{"name": "a", "weight": 1.0, "sigma_factor": 2.0}], r"mfg.types\[0\]: unknown key\(s\) \['sigma_factor'\]"),
    ]
    for types, match in bad:
        with pytest.raises(ConfigError, match=match):
            validate_types(types, STIFF)


def test_exact_reference_reduces_to_the_one_type_solution():
    t = np.linspace(0.0, 0.5, 11)
    ref = coupled(t, T=0.5, **STIFF)
    for types in (None, [{"name": "a", "weight": 0.3}, {"name": "b", "weight": 0.7}]):
        ex = exact_types(t, validate_types(types, STIFF), T=0.5, eta0=STIFF["eta0"], eta1=STIFF["eta1"])
        np.testing.assert_allclose(ex.eta, ref.eta, rtol=1e-10)
        for k in range(ex.h2.shape[0]):
            np.testing.assert_allclose(ex.h2[k], ref.h2, rtol=1e-10)
            np.testing.assert_allclose(ex.mean[k], ref.mean, rtol=1e-9)
            np.testing.assert_allclose(ex.variance[k], ref.variance, rtol=1e-9)
    # without coupling every type is its own closed form
    types = validate_types(TWO, STIFF)
    ex = exact_types(t, types, T=0.5, eta0=STIFF["eta0"], eta1=0.0)
    for k, ty in enumerate(types):
        cf = closed_form(t, T=0.5, sigma=ty.sigma, eta=STIFF["eta0"], phi=ty.phi, gamma_T=ty.gamma_T,
                         m0_mean=ty.m0_mean, m0_std=ty.m0_std)
        np.testing.assert_allclose(ex.h2[k], cf.h2, rtol=1e-10)
        np.testing.assert_allclose(ex.mean[k], cf.mean, rtol=1e-9)
        np.testing.assert_allclose(ex.h0[k], cf.h0, rtol=1e-9, atol=1e-15)


def test_exact_reference_satisfies_the_coupling_and_the_riccati_equations():
    t = np.linspace(0.0, 0.5, 2001)
    types = validate_types(TWO, STIFF)
    ex = exact_types(t, types, T=0.5, eta0=STIFF["eta0"], eta1=STIFF["eta1"])
    np.testing.assert_allclose(ex.eta, STIFF["eta0"] + STIFF["eta1"] * np.abs(ex.mean_flow), rtol=1e-12)
    np.testing.assert_allclose(ex.mean[:, 0], [ty.m0_mean for ty in types], rtol=1e-9)
    np.testing.assert_allclose(ex.h2[:, -1], [ty.gamma_T for ty in types], rtol=1e-12)
    # the urgent type liquidates faster
    assert ex.mean[0, 1000] / ex.mean[0, 0] < ex.mean[1, 1000] / ex.mean[1, 0]


def test_one_type_reproduces_the_deterministic_solver():
    from mfg_finance.mfg import solve

    # the multi-type solver's grid is uniform in q
    cfg = {"grid": {"x_min": -5.0, "x_max": 5.0, "nx": 101, "nt": 80, "T": 0.5, "inventory_mesh": "uniform"},
           "params": dict(STIFF)}
    single = solve(cfg)
    multi = solve_types(cfg, None)
    np.testing.assert_allclose(multi.eta, single.eta, rtol=1e-8)
    np.testing.assert_allclose(multi.u[0], single.u, rtol=1e-7, atol=1e-12)
    assert multi.total_cost(0) == pytest.approx(single.total_cost, rel=1e-7)


def test_multi_type_pde_converges_to_the_exact_reference():
    errors = []
    solutions = [solve_types({"grid": {"x_min": -5.0, "x_max": 5.0, "nx": nx, "nt": nt, "T": 0.5}, "params": dict(STIFF)}, TWO,
                             estimate_errors=False) for nx, nt in ((101, 80), (201, 160), (401, 320))]
    # one shooting for the three meshes
    t_all = np.concatenate([s.grid.t for s in solutions])
    ex_all = exact_types(t_all, solutions[0].types, T=0.5, eta0=STIFF["eta0"], eta1=STIFF["eta1"])
    start = 0
    for s in solutions:
        assert s.residuals[-1] <= 1e-10
        sl = slice(start, start + s.grid.t.size)
        start += s.grid.t.size
        ex = type(ex_all)(t=ex_all.t[sl], h2=ex_all.h2[:, sl], h0=ex_all.h0[:, sl], mean=ex_all.mean[:, sl],
                          variance=ex_all.variance[:, sl], eta=ex_all.eta[sl], weights=ex_all.weights)
        w = np.append(s.grid.dts, s.grid.dts[-1])
        q = s.grid.q
        centre = np.abs(q) < 2.5
        err = {"eta": (w @ np.abs(s.eta - ex.eta)) / (w @ ex.eta)}
        for k in range(2):
            err[f"mean{k}"] = (w @ np.abs(s.mean_inventory[k] - ex.mean[k])) / (w @ np.abs(ex.mean[k]))
            fb = ex.feedback(k, q[centre])
            err[f"feedback{k}"] = ((w @ np.max(np.abs(s.alpha[k][:, centre] - fb), axis=1))
                                   / (w @ np.max(np.abs(fb), axis=1)))
        errors.append(err)
    for level, (coarse, fine) in enumerate(zip(errors[:-1], errors[1:])):
        for name in coarse:
            # the patient mean's error is small (0.17, 0.18, 0.03 % on the graded nodes, with the exact last
            # interval): it converges from 201 x 160
            factor = 0.9 if (name, level) == ("mean1", 0) else 1.6
            assert fine[name] < coarse[name] / factor, (name, coarse[name], fine[name])
    finest = errors[-1]
    assert finest["eta"] < 0.015 and finest["feedback0"] < 0.06 and finest["feedback1"] < 0.06
    assert finest["mean0"] < 0.04 and finest["mean1"] < 0.01


def test_auto_range_holds_every_type_and_a_leak_names_the_type():
    from mfg_finance.errors import MfgDomainError
    from mfg_finance.mfg.grid import auto_domain

    # a noisy type far from the base parameters: the automatic range is sized for it too
    wide = [{"name": "calm", "weight": 0.5}, {"name": "noisy", "weight": 0.5, "m0_mean": 2.0, "sigma": 2.0}]
    s = solve_types({"grid": {"nx": 101, "nt": 40, "T": 0.5}, "params": dict(STIFF)}, wide)
    base = auto_domain(m0_mean=0.5, m0_std=0.5, sigma=0.5, T=0.5, eta0=STIFF["eta0"], eta1=STIFF["eta1"],
                       phi=STIFF["phi"], gamma_T=STIFF["gamma_T"])
    assert s.grid.q[-1] > base[1] + 2.0 and np.any(s.grid.q == 0.0)
    assert np.all(s.density[:, :, [0, -1]] * s.grid.dx < 1e-8)
    # a fixed range that holds the noisy type's initial law but not its spread: refused, naming it and a
    # range that fits; one that cannot even hold its initial law: refused before solving, naming it
    with pytest.raises(MfgDomainError, match=r"mfg.types\[1\] \(noisy\).*A range that holds this law"):
        solve_types({"grid": {"nx": 101, "nt": 40, "T": 0.5, "x_min": -2.6, "x_max": 5.2}, "params": dict(STIFF)},
                    wide, estimate_errors=False)
    with pytest.raises(ConfigError, match=r"mfg.types\[1\] \(noisy\).*does not fit in the domain"):
        solve_types({"grid": {"nx": 101, "nt": 40, "T": 0.5, "x_min": -4.0, "x_max": 4.0}, "params": dict(STIFF)},
                    wide, estimate_errors=False)
