"""The fan-chart bands' Monte Carlo SE (the asymptotic formula, density from the quantiles' spacings) against the
spread of the bands over many seeds."""

import numpy as np
import pytest

from mfg_finance.mfg.common_noise_paths import BAND_MIN_PATHS, band_with_se


@pytest.mark.parametrize("n", [200, 2000])
@pytest.mark.parametrize("draw", [lambda rng, n: rng.standard_normal(n), lambda rng, n: rng.exponential(size=n)],
                         ids=["normal", "skewed"])
def test_band_se_matches_the_spread_of_the_band_over_seeds(draw, n):
    # 400 seeds: the std of the 5% and 95% quantiles over seeds is known to ~4%, the stated SE's mean to ~2%;
    # measured 0.96-1.01. Fails for batch means of 20 blocks at 200 paths (10 per block: 0.67-1.41)
    bands, ses = zip(*(band_with_se(draw(np.random.default_rng(seed), n), [0.05, 0.95]) for seed in range(400)))
    ratio = np.mean(ses, axis=0) / np.std(bands, axis=0, ddof=1)
    assert np.all((ratio > 0.85) & (ratio < 1.15)), ratio


def test_band_is_the_quantile_of_all_paths_and_deterministic():
    x = np.random.default_rng(3).standard_normal(400)
    band, se = band_with_se(x, [0.05, 0.95])
    assert band == [float(v) for v in np.quantile(x, [0.05, 0.95])]
    assert (band, se) == band_with_se(x.copy(), [0.05, 0.95])
    # the 5% band's SE near the asymptotic sqrt(p (1 - p) / n) / phi(z_p) = 0.106, within the SE's own sampling
    # error (~30% at 400 paths)
    assert se[0] == pytest.approx(np.sqrt(0.05 * 0.95 / 400) / 0.10314, rel=0.5)


def test_band_se_recovers_the_asymptotic_formula_on_a_uniform_sample():
    # evenly spaced outcomes on [0, 1] (density 1): SE = sqrt(p (1 - p) / n) exactly, up to the grid's spacing
    n = 10_000
    x = (np.arange(n) + 0.5) / n
    _, se = band_with_se(x, [0.05, 0.5, 0.95])
    np.testing.assert_allclose(se, np.sqrt(np.array([0.05, 0.5, 0.95]) * [0.95, 0.5, 0.05] / n), rtol=1e-3)


def test_too_few_paths_give_no_se():
    x = np.random.default_rng(4).standard_normal(BAND_MIN_PATHS)     # the test pipeline's 20 paths
    assert all(s is not None and s > 0.0 for s in band_with_se(x, [0.05, 0.95])[1])
    assert band_with_se(x[:-1], [0.05, 0.95])[1] == [None, None]
