"""The finite-N rate fit: gap = C N^-p over every N with the Monte Carlo errors as weights."""

from __future__ import annotations

import numpy as np
import pytest

from mfg_finance.mfg.finite_n import fit_rate

NS = np.array([10.0, 100.0, 1000.0, 10000.0])


def _data(C, p, rel_se, seed):
    rng = np.random.default_rng(seed)
    truth = C * NS ** -p
    se = rel_se * truth[0] * (NS / NS[0]) ** -0.5      # SEs fall slower than the gap, as in the study
    return truth + se * rng.standard_normal(NS.size), se


def test_recovers_known_exponent_with_honest_errors():
    hits, pulls = 0, []
    for seed in range(200):
        gap, se = _data(0.3, 1.0, 0.03, seed)
        fit = fit_rate(NS, gap, se)
        pulls.append((fit.exponent - 1.0) / fit.exponent_se)
        lo, hi = fit.exponent_interval
        hits += (lo is None or lo <= 1.0) and (hi is None or 1.0 <= hi)
    pulls = np.array(pulls)
    assert abs(np.median(pulls)) < 0.3
    assert 0.6 < np.std(pulls) < 1.5                  # the SE is the spread of the estimate
    assert 0.55 < hits / 200 < 0.8                    # a 68% interval


def test_likelihood_ratio_test_of_one_over_N():
    gap, se = _data(0.3, 2.0, 0.03, 1)                # an O(1/N^2) gap
    assert fit_rate(NS, gap, se).p_value_one_over_N < 1e-6
    gap, se = _data(0.3, 1.0, 0.03, 1)
    fit = fit_rate(NS, gap, se)
    assert fit.p_value_one_over_N > 0.05 and fit.chi2 >= 0.0 and fit.dof == 2


def test_every_point_enters_including_unresolved_and_negative_gaps():
    gap = np.array([3.0e-2, 3.0e-3, -1.0e-4, 2.0e-6])
    se = np.array([1.0e-3, 3.0e-4, 1.5e-4, 1.0e-5])
    fit = fit_rate(NS, gap, se)
    assert fit.resolved == (10, 100)
    dropped = fit_rate(NS[:3], gap[:3], se[:3])
    assert fit.exponent != dropped.exponent           # the N = 10,000 point moves the fit


def test_bad_input_is_refused():
    with pytest.raises(ValueError, match="SE > 0"):
        fit_rate(NS, [1.0, 0.1, 0.01, 0.001], [1.0, 0.1, 0.0, 0.001])
    with pytest.raises(ValueError, match=">= 3 points"):
        fit_rate(NS[:2], [1.0, 0.1], [0.1, 0.01])


def _expansion_data(C, D, rel_se, seed):
    rng = np.random.default_rng(seed)
    truth = C / NS + D / NS ** 2
    se = rel_se * truth                                 # every gap resolved to the same relative SE
    return truth + se * rng.standard_normal(NS.size), se


def test_expansion_recovers_the_next_order_term_a_power_law_mistakes_for_an_exponent():
    """gap = C/N + D/N^2 with D/C = -0.5 (a 5% correction at N = 10, as measured): the power law's LR test rejects
    p = 1, the expansion recovers C and D within their SEs and its chi-square is that of a correct model."""
    pulls_C, pulls_D, chi2 = [], [], []
    rejected = 0
    for seed in range(120):
        gap, se = _expansion_data(0.3, -0.15, 0.01, seed)
        fit = fit_rate(NS, gap, se)
        e = fit.expansion
        pulls_C.append((e["constant"] - 0.3) / e["constant_se"])
        pulls_D.append((e["next_order"] + 0.15) / e["next_order_se"])
        chi2.append(e["chi2"])
        rejected += fit.p_value_one_over_N < 0.05
        assert e["dof"] == 2
    assert rejected > 90
    for pulls in (np.array(pulls_C), np.array(pulls_D)):
        assert abs(np.mean(pulls)) < 0.3 and 0.75 < np.std(pulls) < 1.25
    assert 1.5 < np.mean(chi2) < 2.5                    # chi-square on 2 degrees of freedom
    exact = fit_rate(NS, 0.3 / NS - 0.15 / NS ** 2, 0.01 * (0.3 / NS))
    assert exact.expansion["chi2"] < 1e-20
    assert exact.expansion["constant"] == pytest.approx(0.3, rel=1e-10)


def test_local_exponents_between_resolved_neighbours():
    gap = np.array([3.0e-2, 3.0e-3, 1.0e-4, 2.0e-6])
    se = np.array([1.0e-3, 3.0e-4, 2.0e-4, 1.0e-5])
    local = fit_rate(NS, gap, se).local_exponents
    assert [e["N"] for e in local] == [[10, 100]]       # 1000 is not resolved: no exponent across it
    assert local[0]["exponent"] == pytest.approx(1.0)
    assert local[0]["exponent_se"] == pytest.approx(np.hypot(1.0 / 30.0, 0.1) / np.log(10.0))


def test_one_over_N_constant_se_is_the_spread_over_seeds():
    """The ``p = 1`` fit's C (quoted as C/N beside unresolved gaps) and its SE: over 300 seeds of an O(1/N) gap the
    estimates spread by the stated SE (known to ~4%) and centre on the truth."""
    data = [_data(0.3, 1.0, 0.03, seed) for seed in range(300)]
    fits = [fit_rate(NS, *d) for d in data]
    constants = np.array([f.constant_one_over_N for f in fits])
    gaps, ses = data[0]
    statistical = 1.0 / np.sqrt(np.sum(np.asarray(NS, dtype=float) ** -2 / np.asarray(ses) ** 2))
    assert 0.85 < np.std(constants, ddof=1) / statistical < 1.15
    assert abs(np.mean(constants) - 0.3) < 3.0 * statistical / np.sqrt(300)
    # the stated SE is that, scaled up by the Birge ratio sqrt(chi2 / dof) only where the points scatter more
    stated = np.array([f.constant_one_over_N_se for f in fits])
    birge = np.sqrt(np.maximum(1.0, np.array([f.chi2_one_over_N for f in fits]) / (len(NS) - 1)))
    assert np.allclose(stated, statistical * birge, rtol=1e-12) and (birge > 1.0).any() and (birge == 1.0).any()


def test_one_over_N_constant_se_grows_where_the_points_scatter_beyond_their_ses():
    """A gap O(1/N) at the large N but twice C/N at N = 10 (a next-order term the p = 1 fit cannot follow): C's
    SE is scaled by the Birge ratio, so C/N quoted beside an unresolved gap is not overconfident."""
    Ns = np.asarray(NS, dtype=float)
    gaps, ses = 0.3 / Ns * np.where(Ns == 10, 2.0, 1.0), 0.01 * 0.3 / Ns
    fit = fit_rate(NS, gaps, ses)
    statistical = 1.0 / np.sqrt(np.sum(Ns ** -2 / ses ** 2))
    assert fit.chi2_one_over_N / (len(NS) - 1) > 100.0
    assert fit.constant_one_over_N_se == pytest.approx(statistical * np.sqrt(fit.chi2_one_over_N / (len(NS) - 1)))
