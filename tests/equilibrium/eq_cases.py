"""Shared cases of the equilibrium tests (a uniquely named module: several test folders have a conftest)."""

from __future__ import annotations

import copy

from mfg_finance.equilibrium import Coupling, MarketMakerParams, Units

#: The crowd: the stiff baseline of docs/mfg.md on a small grid (tests run it many times).
CROWD = {
    "grid": {"x_min": -5.0, "x_max": 5.0, "nx": 81, "T": 0.5, "nt": 48},
    "params": {"sigma": 0.5, "eta0": 5.0e-4, "eta1": 1.0e-3, "phi": 0.035, "gamma_T": 0.57,
               "m0_mean": 0.5, "m0_std": 0.5},
    "solver": {"method": "newton", "tol": 1.0e-11, "max_iter": 50, "damping": 0.5},
}

#: A market maker in BRL and seconds (the CLI's default market, calibrated-like scales).
MM = MarketMakerParams(sigma=0.003, A=0.9, k=30.0, gamma=0.1, Q_max=10)

#: 100 agents of 1e4 shares each, lots of 100 shares, a 7-hour session.
UNITS = Units(seconds_per_day=25200.0, inventory_unit_shares=1.0e4, lot_shares=100.0, crowd_size=100.0)

#: The reference spread of MM (BRL), for theta_share -> theta.
SPREAD_REF = 0.06725948296413066


def crowd(**params) -> dict:
    cfg = copy.deepcopy(CROWD)
    cfg["params"].update(params)
    return cfg


def coupling(*, theta_share: float = 0.5, beta: float = 1.0, substep_s: float = 10.0, units: Units = UNITS,
             max_limit_mass: float = 0.1) -> Coupling:
    theta = theta_share * CROWD["params"]["eta0"] / SPREAD_REF
    return Coupling(theta=theta, beta=beta, units=units, substep_s=substep_s, max_limit_mass=max_limit_mass)


#: A mild crowd (terminal layer 0.1 day, resolved by every mesh): its two-grid error estimates are
#: asymptotic, which the agent-based check relies on.
MILD = {
    "grid": {"x_min": -4.0, "x_max": 4.0, "nx": 61, "T": 1.0, "nt": 40},
    "params": {"sigma": 0.3, "eta0": 0.1, "eta1": 0.1, "phi": 0.5, "gamma_T": 1.0, "m0_mean": 1.0, "m0_std": 0.4},
    "solver": {"method": "newton", "tol": 1.0e-11, "max_iter": 50, "damping": 0.5},
}


def mild(nx: int = 61, nt: int = 40) -> dict:
    cfg = copy.deepcopy(MILD)
    cfg["grid"].update(nx=nx, nt=nt)
    return cfg
