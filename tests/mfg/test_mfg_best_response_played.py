"""The grid best response (mfg.best_response) played in the simulated game (mfg.deviation_game)."""

from __future__ import annotations

import pytest

from mfg_finance.mfg.best_response import best_response
from mfg_finance.mfg.common_noise import default_halfwidth, solve_with_estimate
from mfg_finance.mfg.deviation_game import extrapolate, play_deviation

#: The stiff calibration of tests/mfg/test_mfg_epsilon_complete.py.
PARAMS = dict(sigma=0.5, sigma0=0.2, eta0=5.0e-4, eta1=1.0e-3, phi=0.035, gamma_T=0.57, m0_mean=0.5,
              m0_std=0.5)
T = 0.5


@pytest.mark.slow
def test_played_best_response_gains_the_grid_epsilon():
    """Stiff calibration, 160 steps, N = 10, 1000 games at 2, 4, 8 sub-steps (seed 1): the grid BR (the
    BestResponse as the deviation rule) played against the 9 others gains its grid epsilon within 3 SE + time error
    + the grid's error estimate (measured: 2.02e-4 +- 0.11e-4 +- 0.10e-4 against 1.94e-4 +- 0.12e-4); paired with
    the greedy deviation on the same noises it gains more, resolved, by the grid's BR - greedy difference within the
    same allowance (6.0e-5 +- 0.7e-5 +- 0.1e-5 against 5.8e-5 +- 1.7e-5). A played deviation's gain is a lower
    bound on epsilon_N, so this is the best response's figure confirmed without the grid."""
    sol = solve_with_estimate(PARAMS, T=T, nt=160, nQ=201, halfwidth=default_halfwidth(PARAMS, T)).fine
    br = best_response(sol, 10)
    levels = (2, 4, 8)
    played = play_deviation(sol, br.value, M=1000, seed=1, levels=levels, deviation=br)
    greedy = play_deviation(sol, br.value, M=1000, seed=1, levels=levels)
    gain = played.simulated
    assert abs(gain.value - br.epsilon) <= 3.0 * gain.se + gain.time_error + br.epsilon_error
    extra = extrapolate({s: played.levels[s].gain - greedy.levels[s].gain for s in levels})
    assert extra.value > 3.0 * extra.se + extra.time_error
    assert abs(extra.value - br.difference) <= 3.0 * extra.se + extra.time_error + br.difference_error
    # the identity along the BR's own paths: played and predicted agree
    diff = played.difference
    assert abs(diff.value) <= 3.0 * diff.se + diff.time_error
