"""Regression: the parameters the intraday median calibration gives on the sample (sigma ~ 1) solve on every grid
of the verification and the sweeps (issue 14: ``verify_mfg`` once stagnated there with ``phi`` edited to 0.05)."""

from __future__ import annotations

import pytest

from mfg_finance.mfg import solve

#: ``results/calibration/mfg_params.yaml`` of the sample run with ``calibration.intraday_median: true``
#: (tests/configs/small.yaml's calibration; sigma from the two tickers' intraday median), ``phi`` edited to 0.05.
INTRADAY_SAMPLE = {"sigma": 1.011693332327379, "eta0": 0.0021689610781580357, "eta1": 0.004109901780955833,
                   "phi": 0.05, "gamma_T": 2.7328909584791248, "m0_mean": 0.5, "m0_std": 0.5}
#: the same with config/config.yaml's sample (40 tickers; sigma 0.992 units / sqrt(day)), phi edited to 0.05
INTRADAY_DEFAULT = {"sigma": 0.9919368680733213, "eta0": 0.0009332711152589628, "eta1": 0.00021255237213816086,
                    "phi": 0.05, "gamma_T": 1.175921605226293, "m0_mean": 0.5, "m0_std": 0.5}


@pytest.mark.parametrize("base, nx, nt, phi, gamma_T", [
    (INTRADAY_SAMPLE, 41, 20, 0.05, None), (INTRADAY_SAMPLE, 81, 40, 0.05, None),   # the small config's
    (INTRADAY_SAMPLE, 161, 80, 0.05, None),                                          # refinements,
    (INTRADAY_SAMPLE, 61, 40, 0.05, None),                                           # its scenario grid ...
    (INTRADAY_SAMPLE, 61, 40, 0.01, 0.1), (INTRADAY_SAMPLE, 61, 40, 0.2, 2.0),       # ... and sweep corners
    (INTRADAY_DEFAULT, 51, 40, 0.05, None), (INTRADAY_DEFAULT, 101, 80, 0.05, None),  # the default config's
])
def test_intraday_sample_parameters_solve_on_every_grid(base, nx, nt, phi, gamma_T):
    params = dict(base, phi=phi)
    if gamma_T is not None:
        params["gamma_T"] = gamma_T
    s = solve({"grid": {"nx": nx, "nt": nt, "T": 0.5}, "params": params,
               "solver": {"method": "newton", "tol": 1.0e-9, "max_iter": 50, "damping": 0.5}})
    assert s.converged and s.residuals[-1] <= 1e-9 and s.iterations <= 20
    assert s.accuracy["error"] is None            # the companions of the error estimate converge too


@pytest.mark.parametrize("inventory_mesh", ["graded", "uniform"])
def test_the_verification_solve_that_stagnated(inventory_mesh):
    """The solve ``verify_mfg`` stopped at (main at 6630b21): 41 x 20 on the range the calibration sized for the
    61-node scenario grid, ``[-2.56, 3.584]``, where 41 uniform nodes put ``q = 0`` between two nodes
    (-0.1024, 0.0512). The crowd's law ends around 0; a policy pinned at the central/upwind switch took different
    values at the two lopsided neighbours and made a spurious terminal flow, a kink in the coupling map on
    which Newton (Anderson) stagnated at residual 1.26e-2 (Picard: 37 sweeps). The graded nodes (the default since)
    put 0 on a node with a mirror-symmetric core; on uniform nodes Newton still took 32 sweeps and Picard failed
    until the terminal flow became the exact feedback's, smooth in the cost path (mfg.terminal_interval). Now:
    8 and 14 sweeps."""
    s = solve({"grid": {"nx": 41, "nt": 20, "T": 0.5, "x_min": -2.56, "x_max": 3.584, "inventory_mesh": inventory_mesh},
               "params": dict(INTRADAY_SAMPLE),
               "solver": {"method": "newton", "tol": 1.0e-9, "max_iter": 50, "damping": 0.5}}, estimate_errors=False)
    assert s.residuals[-1] <= 1e-9 and s.iterations <= 20
