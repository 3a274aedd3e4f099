"""Finite-N subsection sentences: the rate over every N, what is and is not resolved, epsilon-Nash."""

from __future__ import annotations

from mfg_finance.mfg.finite_n import fit_rate
from mfg_finance.report.systemic import finite_n_sentences


def _fn(gaps, ses):
    Ns = [10, 100, 1000, 10000]
    rows = [{"N": n, "cost_gap": g, "cost_gap_se": s} for n, g, s in zip(Ns, gaps, ses)]
    return {"rows": rows, "rate_fit": fit_rate(Ns, gaps, ses).as_dict(), "epsilon": [], "epsilon_complete": []}


def test_unresolved_large_N_consistent_with_the_fit():
    text = " ".join(finite_n_sentences(_fn([3.0e-2, 3.0e-3, 1.0e-4, 2.0e-5], [1e-3, 3e-4, 2e-4, 1e-5])))
    assert "resolved (above 2 SE) at N = 10, 100; not at N = 1,000" in text
    assert "consistent with the O(1/N) fit but not resolved" in text
    assert "consistent with O(1/N)." in text


def test_large_N_in_tension_with_the_fit_is_said():
    text = " ".join(finite_n_sentences(_fn([3.0e-2, 3.0e-3, -3.0e-4, 2.0e-6], [1e-3, 3e-4, 1e-4, 1e-5])))
    assert "O(1/N) is not confirmed there" in text


def test_epsilon_sentences_name_both_parts():
    fn = _fn([3.0e-2, 3.0e-3, 1.0e-4, 2.0e-6], [1e-3, 3e-4, 2e-4, 1e-5])
    fn["epsilon"] = [{"N": 10, "epsilon": 1e-6, "error_bound": 2e-6}]
    fn["epsilon_complete"] = [{"N": 10, "greedy_gain": 5e-5, "greedy_gain_se": 4e-6, "first_order": 9e-5,
                               "first_order_se": 3e-6, "simulated_gain": -6e-5, "simulated_gain_se": 4e-6}]
    text = " ".join(finite_n_sentences(fn))
    assert "environment part" in text and "N = 10: 1e-06 ± 2e-06" in text
    assert "lower bound on epsilon" in text and "5e-05 ± 4e-06" in text


def _summary(fn):
    from mfg_finance.report.systemic import systemic_summary

    fn["largest_N_check"] = {"N": 10000, "abs_difference": 1e-6, "holds": True, "allowed": 5e-5}
    return systemic_summary({"finite_n": fn})


def test_the_summary_states_the_exponent_and_what_the_fit_does_not_support():
    # a large-N point 2 SE off C/N: the summary says so, not just "falling like N^-1"
    text = _summary(_fn([3.0e-2, 3.0e-3, -3.0e-4, 2.0e-6], [1e-3, 3e-4, 1e-4, 1e-5]))
    assert "gap falling like N^-p with p = " in text and "fitted over every N" in text
    assert "p = 1.13 ± 0.05" in text and "O(1/N) expected and rejected" in text
    assert "the fit is poor (chi-square p-value 4.5e-07)" in text
    assert "at N = 10,000 the gap is more than 2 SE from C/N" in text
    # consistent but unresolved large N: said as such
    text = _summary(_fn([3.0e-2, 3.0e-3, 1.0e-4, 2.0e-5], [1e-3, 3e-4, 2e-4, 1e-5]))
    assert "N = 1,000, 10,000 do not resolve the gap on their own" in text
    assert "more than 2 SE" not in text
