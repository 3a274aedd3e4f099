"""Every estimator recovers the parameter the synthetic sessions were generated with, and its
standard error is honest (coverage of nominal 95% intervals between 90% and 99% over many seeds)."""

from __future__ import annotations

import numpy as np
import pytest

from recovery import truths, z_scores

FAST_SEEDS = range(12)
SLOW_SEEDS = range(100, 300)


def test_estimators_recover_their_parameters_on_a_few_seeds():
    z, _ = z_scores(FAST_SEEDS)
    assert set(z) == set(truths())
    for name, values in z.items():
        n = values.size
        assert abs(values.mean()) * np.sqrt(n) < 3.0, f"{name}: mean z {values.mean():.2f} (bias)"
        assert np.mean(np.abs(values) < 2) >= 0.75, f"{name}: within 2 SE on {np.mean(np.abs(values) < 2):.0%}"
        assert np.all(np.abs(values) < 4.5), f"{name}: z = {values}"


@pytest.mark.slow
def test_standard_errors_are_honest_over_many_seeds():
    z, cover = z_scores(SLOW_SEEDS)
    for name in z:
        rate = cover[name].mean()
        assert 0.90 <= rate <= 0.99, f"{name}: coverage {rate:.3f} of nominal 95% intervals"
        assert abs(z[name].mean()) * np.sqrt(z[name].size) < 3.5, f"{name}: mean z {z[name].mean():.3f}"


def test_square_root_law_prefactor_is_recovered_with_honest_errors():
    """The sqrt-law regression on interval data generated with a known Y (the linear-impact sessions
    above have no true Y): coverage of nominal 95% intervals over 300 seeds within [90%, 99%]."""
    from mfg_finance.microstructure.impact import IntervalFlow, sqrt_law

    Y, sigma, c, vbar = 0.7, 0.003, 0.01, 5e4
    covered, z = [], []
    for seed in range(300):
        rng = np.random.default_rng(seed)
        n = 160
        tau = rng.uniform(200, 400, n)
        Q = rng.normal(0, 3e4, n)
        ds = rng.choice([-2.0, 0.0, 0.0, 2.0], n)
        noise = sigma * np.sqrt(tau) * rng.standard_normal(n) * 0.8
        dP = Y * sigma * np.sqrt(tau) * np.sign(Q) * np.sqrt(np.abs(Q) / vbar) + c * ds + noise
        e = sqrt_law(IntervalFlow(dP, Q, ds, tau, vbar), sigma)
        lo, hi = e.ci()
        covered.append(lo <= Y <= hi)
        z.append((e.value - Y) / e.se)
    assert 0.90 <= np.mean(covered) <= 0.99
    assert abs(np.mean(z)) * np.sqrt(len(z)) < 3
