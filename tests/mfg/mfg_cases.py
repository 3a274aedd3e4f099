"""Shared configs of the MFG tests (a uniquely named module: several test folders have a conftest)."""

from __future__ import annotations

import copy

import numpy as np

#: The stiff calibrated baseline of issue 5 (|alpha| dt / dx in the hundreds).
STIFF = {
    "grid": {"x_min": -5.0, "x_max": 5.0, "nx": 201, "T": 0.5, "nt": 150},
    "params": {"sigma": 0.5, "eta0": 5.0e-4, "eta1": 1.0e-3, "phi": 0.035, "gamma_T": 0.57,
               "m0_mean": 0.5, "m0_std": 0.5},
    "solver": {"method": "newton", "tol": 1.0e-10, "max_iter": 50, "damping": 0.5},
}

#: A mild problem (boundary layer eta/gamma_T = 0.1 day resolved by every mesh) for clean orders.
MILD = {
    "grid": {"x_min": -4.0, "x_max": 4.0, "nx": 101, "T": 1.0, "nt": 80},
    "params": {"sigma": 0.3, "eta0": 0.1, "eta1": 0.1, "phi": 0.5, "gamma_T": 1.0,
               "m0_mean": 1.0, "m0_std": 0.4},
    "solver": {"method": "newton", "tol": 1.0e-10, "max_iter": 50, "damping": 0.5},
}


#: Real-data-like parameters (COTAHIST January 2021's calibration, rounded; sigma0 calibrated from the market-wide
#: share): the terminal layer eta0/gamma_T = 8e-4 day and the kink core eta0^2/(4 eta1 gamma_T) of section 8.
REALISTIC = dict(sigma=2.55, sigma0=1.19, eta0=5.83e-3, eta1=3.67e-4, phi=0.0702, gamma_T=7.35, m0_mean=0.5,
                 m0_std=0.5)


def make(base: dict, **sections) -> dict:
    """Deep copy of ``base`` with sections updated: ``make(STIFF, params={"eta1": 0.0})``."""
    cfg = copy.deepcopy(base)
    for name, values in sections.items():
        cfg.setdefault(name, {}).update(values)
    return cfg


#: The check set of issue 14: (eta1, m0_mean, phi, gamma_T, sigma, T), eta0 = 0.1, m0_std = 0.5, 201 x 150.
MUST_HOLD = [(0, 1, 0, 0, 0.02, 0.1), (1, 1, 5, 50, 1.5, 5), (1, -1.5, 0, 50, 0.02, 5), (0, -1.5, 5, 0, 1.5, 0.1),
             (1, 0, 5, 0, 0.02, 5), (0, 0, 0, 50, 1.5, 5), (1, 1, 0, 0, 1.5, 0.1), (0, 1, 5, 50, 0.02, 5),
             (1, -1.5, 5, 0, 0.02, 0.1), (0, -1.5, 0, 50, 1.5, 0.1), (1, 0, 0, 50, 0.02, 0.1), (0, 0, 5, 0, 1.5, 5),
             (1, 1, 5, 50, 0.02, 0.1), (1, -1.5, 5, 50, 1.5, 5)]


def must_hold_config(eta1, m0_mean, phi, gamma_T, sigma, T) -> dict:
    """One parameter set of :data:`MUST_HOLD` on the default grid (automatic inventory range)."""
    return {"grid": {"nx": 201, "nt": 150, "T": float(T)},
            "params": {"sigma": float(sigma), "eta0": 0.1, "eta1": float(eta1), "phi": float(phi),
                       "gamma_T": float(gamma_T), "m0_mean": float(m0_mean), "m0_std": 0.5},
            "solver": {"method": "newton", "tol": 1.0e-10, "max_iter": 50, "damping": 0.5}}


def assert_within_pointwise(err, est, label) -> None:
    """An error within its estimate at every time node (the estimate carries its own safety factor)."""
    over = np.flatnonzero(np.asarray(err) > np.asarray(est))
    assert over.size == 0, (label, over, (err / np.maximum(est, 1e-300))[over])
