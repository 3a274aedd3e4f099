"""Finite-N subsection sentences: the rate over every N, what is and is not resolved, epsilon-Nash."""

from __future__ import annotations

import math

from mfg_finance.mfg.finite_n import fit_rate
from mfg_finance.report.systemic import _law_summary, finite_n_sentences


def _fn(gaps, ses):
    Ns = [10, 100, 1000, 10000]
    rows = [{"N": n, "cost_gap": g, "cost_gap_se": s} for n, g, s in zip(Ns, gaps, ses)]
    return {"rows": rows, "rate_fit": fit_rate(Ns, gaps, ses).as_dict(), "epsilon": [], "epsilon_complete": []}


def test_unresolved_large_N_consistent_with_the_fit():
    text = " ".join(finite_n_sentences(_fn([3.0e-2, 3.0e-3, 1.0e-4, 2.0e-5], [1e-3, 3e-4, 2e-4, 1e-5])))
    assert "resolved (above 2 SE) at N = 10, 100 (N x gap, flat for an exact 1/N: 0.300 ± 0.010, 0.300 ± 0.030)" in text
    assert "the exponent between consecutive N: 1.000 ± 0.046 (10 to 100); not at N = 1,000" in text
    assert "consistent with the O(1/N) fit but not resolved" in text
    assert "consistent with O(1/N)." in text
    # rev16br: C/N carries the p = 1 fit's SE (was "C/N = 0.0003", no uncertainty)
    assert "N = 1,000: 0.00010 ± 0.00020 against C/N = 0.0002987 ± 0.0000094 (-0.99 SE)" in text


def test_large_N_in_tension_with_the_fit_is_said():
    text = " ".join(finite_n_sentences(_fn([3.0e-2, 3.0e-3, -3.0e-4, 2.0e-6], [1e-3, 3e-4, 1e-4, 1e-5])))
    assert "O(1/N) is not confirmed there" in text


def test_epsilon_sentences_name_both_parts():
    fn = _fn([3.0e-2, 3.0e-3, 1.0e-4, 2.0e-6], [1e-3, 3e-4, 2e-4, 1e-5])
    fn["epsilon"] = [{"N": 10, "epsilon": 1e-6, "error_bound": 2e-6}]
    row = {"N": 10, "epsilon": 5e-5, "epsilon_se": 4e-6, "epsilon_time_error": 3e-6, "predicted": 5.5e-5,
           "predicted_se": 4e-6, "predicted_time_error": 2e-6, "difference": -5e-6, "difference_se": 2e-6,
           "difference_time_error": 1e-6, "confirmed": True}
    apart = dict(row, N=100, difference=-3e-5, confirmed=False)
    fn["epsilon_complete"] = [row, apart]
    text = " ".join(finite_n_sentences(fn))
    # every value rounded to its uncertainty's second digit (was "5e-05 ± 4e-06 ± 3e-06")
    assert "environment part" in text and "N = 10: 0.0000010 ± 0.0000020" in text
    assert "lower bound on epsilon" in text and "N = 10: 0.0000500 ± 0.0000040 ± 0.0000030" in text
    assert "agrees within 3 SE plus the time errors at N = 10" in text
    assert "differs at N = 100 by -0.0000300 ± 0.0000020 ± 0.0000010" in text
    assert "best response" not in text.split("(docs/mfg.md section 10).")[-1]     # no grid blocks: no sentence


def test_best_response_sentence_brackets_epsilon():
    fn = _fn([3.0e-2, 3.0e-3, 1.0e-4, 2.0e-6], [1e-3, 3e-4, 2e-4, 1e-5])
    row = {"N": 10, "epsilon": 1.35e-4, "epsilon_se": 7e-6, "epsilon_time_error": 5e-6, "predicted": 1.3e-4,
           "predicted_se": 7e-6, "predicted_time_error": 5e-6, "difference": 5e-6, "difference_se": 3e-6,
           "difference_time_error": 1e-5, "confirmed": True,
           "best_response": {"epsilon": 1.87e-4, "epsilon_error": 1.0e-5, "greedy": 1.27e-4, "greedy_error": 1.3e-5,
                             "difference": 6.0e-5, "difference_error": 3.5e-6}}
    below = dict(row, N=100, best_response=dict(row["best_response"], epsilon=1e-5, epsilon_error=1e-6))
    fn["epsilon_complete"] = [row, below]
    text = " ".join(finite_n_sentences(fn))
    assert ("N = 10: 0.000187 ± 0.000010 against 0.000127 ± 0.000013 for the greedy deviation on the same grid "
            "(difference 0.0000600 ± 0.0000035, 47.2 ± 7.6% more)") in text
    assert ("So epsilon lies between 0.0001350 ± 0.0000070 ± 0.0000050 (greedy, played) and 0.000187 ± 0.000010 "
            "(best response) at N = 10; "
            "is not bracketed at N = 100 (the played greedy gain 0.0001350 ± 0.0000070 ± 0.0000050 exceeds the "
            "best response's 0.0000100 ± 0.0000010 by 0.000125 ± 0.000027, the ± 3 SE plus the time and grid "
            "errors)") in text
    # the same greedy deviation on the grid and played in the game is a check of both: said either way
    assert ("The greedy deviation's gain on the grid and its played value agree at N = 10, N = 100 (within 3 SE plus "
            "the time and grid errors).") in text
    fn["epsilon_complete"] = [dict(row, epsilon=2.5e-4), below]
    text = " ".join(finite_n_sentences(fn))
    assert ("agree at N = 100 (within 3 SE plus the time and grid errors); at N = 10 they differ by -0.000123 ± "
            "0.000039 (the ± 3 SE plus the time and grid errors).") in text


def test_resolved_gaps_state_n_times_the_gap_and_the_local_exponents():
    # each value rounded to its error's two digits, as everywhere in the report (was "1 ± 0.01": p looked exact)
    text = " ".join(finite_n_sentences(_fn([2.97e-2, 2.96e-3, 3.16e-4, 3.03e-5], [4.6e-4, 5.4e-5, 8.0e-6, 1.3e-6])))
    assert ("resolved (above 2 SE) at N = 10, 100, 1,000, 10,000 (N x gap, flat for an exact 1/N: 0.2970 ± 0.0046"
            in text)
    assert "the exponent between consecutive N: 1.001 ± 0.010 (10 to 100)" in text
    assert "(1,000 to 10,000)" in text and "not at" not in text


def test_next_order_term_is_stated_where_a_pure_power_is_rejected():
    Ns = [10, 100, 1000, 10000]
    gaps = [0.3 / n - 0.15 / n ** 2 for n in Ns]
    ses = [0.01 * 0.3 / n for n in Ns]
    text = " ".join(finite_n_sentences(_fn(gaps, ses)))
    assert "rejects a pure power N^-1 over these N." in text
    assert "gap = C/N + D/N^2 (weighted, every N): C = 0.3000 ± 0.0018" in text and "D = -0.150 ± 0.036" in text
    assert "O(1/N) with its next-order term fits the data" in text


def _with_law(var_gaps, var_ses, C=0.0156, C_se=5e-5):
    """The audit's real-data-like law of Q_T (N x var gap 0.016, 0.017, 0.012, 0.022)."""
    fn = _fn([3.0e-2, 3.0e-3, 1.0e-4, 2.0e-5], [1e-3, 3e-4, 2e-4, 1e-5])
    for r, g, s in zip(fn["rows"], var_gaps, var_ses):
        r.update(Q_T_var_gap=g, Q_T_var_gap_se=s, Q_T_mean_gap=1e-4, Q_T_mean_gap_se=2e-4)
    pulls = {str(r["N"]): (r["Q_T_var_gap"] - C / r["N"]) / math.hypot(r["Q_T_var_gap_se"], C_se / r["N"])
             for r in fn["rows"]}
    Ns = [r["N"] for r in fn["rows"]]
    fn["law"] = {"prediction": {"var_coefficient": C, "var_coefficient_se": C_se, "idiosyncratic": 0.009253,
                                "idiosyncratic_se": 6.1e-5, "mean_coefficient": 0.002, "mean_coefficient_se": 4e-4, "paths": 1000},
                 "rate_fit": fit_rate(Ns, var_gaps, var_ses).as_dict(), "var_gap_pulls": pulls}
    return fn


def test_law_of_Q_T_sentence_says_where_resolved_and_whether_O_one_over_N():
    fn = _with_law([1.64e-3, 1.67e-4, 1.16e-5, 2.2e-6], [7.5e-5, 2.3e-5, 3.5e-6, 0.8e-6])
    text = " ".join(finite_n_sentences(fn))
    assert "N x (var Qbar_T - var Q_T) is N = 10: 0.01640 ± 0.00075" in text
    assert "resolved (> 2 SE) at N = 10, 100, 1,000, 10,000 and converges at O(1/N) as predicted" in text
    assert "the mean of Q_T agrees with the MFG's within 2 SE of the pairs at every N" in text
    # audit s30: E[V_T] was "0.00925", no uncertainty; its SE is the limit paths'
    assert "(E[V_T] = 0.009253 ± 0.000061 (SE) from the idiosyncratic noise alone" in text
    assert "within 3 SE of the predicted C/N at every N (resolved at N = 10, 100, 1,000, 10,000)" in _law_summary(fn)
    off = _with_law([3.0e-3, 1.67e-4, 1.16e-5, 2.2e-6], [7.5e-5, 2.3e-5, 3.5e-6, 3.0e-6])
    text = " ".join(finite_n_sentences(off))
    assert "with the predicted constant; at N = 10 the gap is more than 3 SE from C/N, the next-order" in text
    assert "resolved (> 2 SE) at N = 10, 100, 1,000 and" in text


def test_law_of_Q_T_with_a_next_order_term_at_N_10():
    """The real-data run's figures: N = 10 more than 3 SE above C/N, the fit C/N + D/N^2 acceptable with its C
    within 3 SE of the prediction: O(1/N) with the next-order term, said so."""
    C, C_se = 0.015879, 0.000241
    gaps = [0.01743 / 10, 0.01552 / 100, 0.01617 / 1000, 0.01494 / 10000]
    ses = [0.00046 / 10, 0.00041 / 100, 0.00045 / 1000, 0.00041 / 10000]
    fn = _with_law(gaps, ses, C=C, C_se=C_se)
    fn["law"]["var_gap_pulls"]["10"] = 3.2
    text = " ".join(finite_n_sentences(fn))
    assert "with the next-order term, gap = C/N + D/N^2: C = 0.01543 ± 0.00025" in text
    assert "converges at O(1/N) with the predicted constant; at N = 10 the gap is more than 3 SE from C/N" in text
    assert "falling like the predicted C/N plus a next-order term" in _law_summary(fn)
    far = _with_law(gaps, ses, C=0.0175, C_se=C_se)
    far["law"]["var_gap_pulls"]["10"] = 3.2
    assert "O(1/N) is not confirmed there" in " ".join(finite_n_sentences(far))


def test_law_of_Q_T_says_when_the_pure_power_is_rejected_though_every_point_is_within_3_SE():
    """The real-data run (COTAHIST January 2021): pulls 2.97, -0.74, 0.57, -1.98, p = 1 rejected (LR p-value
    0.0006), D/N^2 resolved. The sentence gave the p-value bare and then "converges at O(1/N) as predicted"."""
    gaps = [0.01743 / 10, 0.01552 / 100, 0.01617 / 1000, 0.01494 / 10000]
    ses = [0.00046 / 10, 0.00041 / 100, 0.00045 / 1000, 0.00041 / 10000]
    fn = _with_law(gaps, ses, C=0.015879, C_se=0.000241)
    law = fn["law"]["rate_fit"]
    assert law["p_value_one_over_N"] < 0.05 and max(abs(z) for z in fn["law"]["var_gap_pulls"].values()) <= 3.0
    text = " ".join(finite_n_sentences(fn))
    assert "O(1/N) likelihood-ratio p-value 0.00059, rejects a pure power N^-1 over these N; with the next-order" in text
    assert "converges at O(1/N) with the predicted constant, the pure power's rejection carried by D/N^2" in text
    assert "as predicted" not in text


def test_every_epsilon_figure_carries_its_uncertainty():
    """The played, predicted and best-response sentences (the real-data run's figures of January 2021): once every
    'value ± uncertainty (± uncertainty)' group, every 'N = n' and the fixed words with digits are removed, no
    digit is left, so no figure is stated bare (the '% more' too)."""
    import re

    fn = _fn([3.0e-2, 3.0e-3, 1.0e-4, 2.0e-6], [1e-3, 3e-4, 2e-4, 1e-5])
    br = {"epsilon": 3.0534e-3, "epsilon_error": 1.0156e-4, "greedy": 2.7663e-3, "greedy_error": 1.5369e-4,
          "difference": 2.8707e-4, "difference_error": 1.5641e-4}
    fn["epsilon_complete"] = [
        {"N": 10, "epsilon": 2.0480e-3, "epsilon_se": 2.6746e-4, "epsilon_time_error": 3.4378e-4,
         "predicted": 1.9470e-3, "predicted_se": 2.2514e-4, "predicted_time_error": 4.1129e-4,
         "difference": 1.0e-4, "difference_se": 2.0e-4, "difference_time_error": 3.0e-4, "confirmed": True,
         "best_response": br},
        {"N": 100, "epsilon": 4.1781e-4, "epsilon_se": 1.5769e-4, "epsilon_time_error": 4.2758e-4,
         "predicted": 6.2721e-4, "predicted_se": 1.4051e-4, "predicted_time_error": 3.6477e-4,
         "difference": -2.1e-4, "difference_se": 0.3e-4, "difference_time_error": 0.2e-4, "confirmed": False,
         "best_response": dict(br, epsilon=5.6858e-4, epsilon_error=3.4856e-5, greedy=5.6764e-4,
                               greedy_error=3.4749e-5, difference=9.4665e-7, difference_error=3.2105e-7)}]
    sentences = [s for s in finite_n_sentences(fn) if "deviat" in s]
    assert len(sentences) == 2
    text = " ".join(sentences)
    assert "gains N = 10: 0.00205 ± 0.00027 ± 0.00034;" in text
    assert "(difference 0.00029 ± 0.00016, 10.4 ± 6.2% more)" in text
    number = r"-?[\d.,]+(?:e-?\d+)?"
    left = re.sub(rf"{number}(?: ± {number})+%?", "", text)
    left = re.sub(r"N = [\d,]+|N - 1|3 SE|section 10", "", left)
    assert not re.search(r"\d", left), left
