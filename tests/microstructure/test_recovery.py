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
