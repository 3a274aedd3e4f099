"""The fan-chart bands' Monte Carlo SE (batch means over blocks of paths) against the spread of the bands over
many seeds."""

import numpy as np
import pytest

from mfg_finance.mfg.common_noise_paths import band_with_se


@pytest.mark.parametrize("draw", [lambda rng, n: rng.standard_normal(n), lambda rng, n: rng.exponential(size=n)],
                         ids=["normal", "skewed"])
def test_band_se_matches_the_spread_of_the_band_over_seeds(draw):
    # 400 seeds of 2000 paths (the default): the std of the 5% and 95% quantiles over seeds is known to ~4%, the
    # stated SE's mean to ~1%; the batch means of 100-path blocks are within 10% of it (measured 0.93-1.05)
    bands, ses = zip(*(band_with_se(draw(np.random.default_rng(seed), 2000), [0.05, 0.95]) for seed in range(400)))
    ratio = np.mean(ses, axis=0) / np.std(bands, axis=0, ddof=1)
    assert np.all((ratio > 0.85) & (ratio < 1.15)), ratio


def test_band_is_the_quantile_of_all_paths_and_deterministic():
    x = np.random.default_rng(3).standard_normal(400)
    band, se = band_with_se(x, [0.05, 0.95])
    assert band == [float(v) for v in np.quantile(x, [0.05, 0.95])]
    assert (band, se) == band_with_se(x.copy(), [0.05, 0.95])
    # order: the 5% band's SE is near the asymptotic sqrt(p (1 - p) / n) / phi(z_p) = 0.106 within the SE's own
    # sampling error (20 blocks: ~16%, three of them allowed)
    assert se[0] == pytest.approx(np.sqrt(0.05 * 0.95 / 400) / 0.10314, rel=0.5)


def test_few_paths_make_fewer_blocks_and_too_few_no_se():
    x = np.random.default_rng(4).standard_normal(20)     # the test pipeline's 20 paths: two blocks of 10
    halves = [np.quantile(x[:10], 0.5), np.quantile(x[10:], 0.5)]
    assert band_with_se(x, [0.5])[1] == [pytest.approx(np.std(halves, ddof=1) / np.sqrt(2.0))]
    assert band_with_se(x[:19], [0.05, 0.95])[1] == [None, None]
