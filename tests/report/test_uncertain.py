"""``value ± error (SE se)``: the report's one rule for a number with its uncertainty (report.uncertain)."""

from __future__ import annotations

import math

import numpy as np
import pytest

from mfg_finance.report.uncertain import MAX_DIGITS, plus_minus, plus_minus_both, with_error


def test_the_value_is_rounded_to_the_uncertainty_s_second_digit():
    assert plus_minus(12.2882, 0.0639) == "12.288 ± 0.064"
    assert plus_minus(0.12871, 2.4e-4) == "0.12871 ± 0.00024"
    assert plus_minus(-0.5, 0.01) == "-0.500 ± 0.010"
    assert plus_minus(123456.7, 12) == "123457 ± 12"
    assert plus_minus(0.03, 5) == "0.0 ± 5.0"


def test_a_tiny_error_does_not_print_ten_digits_of_the_value():
    # the real-data report's "0.0068172725 ± 0.000000023" and "17.1658403947 ± 0.0000000075"
    assert plus_minus(0.0068172725, 2.3e-8) == "0.00681727 ± 2.3e-8"
    assert plus_minus(17.16584039465264, 7.48e-9) == "17.1658 ± 7.5e-9"
    assert plus_minus(11.27304, 1.0e-4) == "11.2730 ± 0.0001"
    assert plus_minus(1234567.0, 0.5) == "1234567 ± 0.5"          # an integer part is never cut
    assert plus_minus(1e-12, 1e-14) == "1.000e-12 ± 1e-14"        # past ten decimals: exponent form


def test_no_uncertainty_or_no_value():
    assert plus_minus(0.5, None) == plus_minus(0.5, 0.0) == plus_minus(0.5, float("nan")) == "0.5"
    assert plus_minus(float("nan"), 0.1) == plus_minus(None, 0.1) == "—"
    assert with_error(None) == "—" and with_error(1234.5678) == "1,235"
    assert with_error(0.5, None, fmt=".4f") == "0.5000"


@pytest.mark.parametrize("seed", range(4))
def test_what_is_shown_is_the_value_to_within_its_rounding_and_never_over_precise(seed):
    rng = np.random.default_rng(seed)
    for _ in range(500):
        value = float(rng.choice([-1, 1]) * 10.0 ** rng.uniform(-4, 6))
        error = abs(value) * 10.0 ** rng.uniform(-11, 1)
        shown_value, shown_error = plus_minus(value, error).split(" ± ")
        # the value to half a unit of the error's second digit, or of the sixth significant digit
        tolerance = max(0.05 * 10.0 ** math.floor(math.log10(error)), 5.0 * 10.0 ** (math.floor(math.log10(abs(value)))
                                                                                       - MAX_DIGITS)) * (1 + 1e-9)
        assert abs(float(shown_value) - value) <= tolerance, (value, error)
        assert abs(float(shown_error.replace(",", "")) - error) <= 0.5 * error, (value, error)
        digits = shown_value.lstrip("-").replace(".", "").lstrip("0")
        assert len(digits) <= max(MAX_DIGITS, math.floor(math.log10(abs(value))) + 1), (value, error, shown_value)


def test_round_off_is_left_out_and_a_monte_carlo_se_is_said():
    assert with_error(0.5, 1e-16) == "0.5"                                # the initial mean's round-off error
    assert with_error(13.8160856426, 7.1e-15) == "13.82"
    assert with_error(17.17, 7.5e-9) == "17.1700 ± 7.5e-9"                # 4e-10 of the value: a genuine error
    assert with_error(12.2882, 0.0639, 1.07, unit=" per day") == "12.3 ± 0.064 per day (SE 1.1)"
    assert with_error(0.03, None, 0.004, unit=" BRL") == "0.0300 ± 0.0040 BRL (SE)"
    assert with_error(15.443, 0.023, 1.3e-17) == "15.443 ± 0.023"          # identical paths: no SE
    assert with_error(5.4e-4, 1e-5, 3e-4) == "0.00054 ± 1e-5 (SE 0.0003)"


def test_scale_and_unresolved():
    assert with_error(0.0712, 3.1e-4, scale=420.0) == plus_minus(0.0712 * 420.0, 3.1e-4 * 420.0) == "29.90 ± 0.13"
    assert with_error(0.00054392, 4.1e-6, unresolved=True) == "0.0005439 ± 0.0000041 (unresolved)"
    assert with_error(0.5, 1e-16, unresolved=True) == "0.5 (unresolved)"


def test_value_with_se_and_time_error_keeps_the_digit_they_resolve():
    # the real-data report's "0.002 ± 0.00027 ± 0.00034": the value had lost the digit its errors resolve
    assert plus_minus_both(0.0020512, 2.7e-4, 3.4e-4) == "0.00205 ± 0.00027 ± 0.00034"
    assert plus_minus_both(1.35e-4, 7e-6, 5e-6) == "0.0001350 ± 0.0000070 ± 0.0000050"   # to the larger one
    assert plus_minus_both(2.0512e-3, 2.7e-4, 0.0) == plus_minus(2.0512e-3, 2.7e-4)       # one of them absent
    assert plus_minus_both(2.0512e-3, float("nan"), 3.4e-4) == plus_minus(2.0512e-3, 3.4e-4)
    assert plus_minus_both(None, 1.0, 1.0) == "—"
