"""The report's sentence on the calibrated market-wide share ``rho`` and ``sigma0``, with their standard errors
(:mod:`mfg_finance.mfg.systemic_calibration`: delete-one-session jackknife, delta method), and what that
uncertainty is not: the ``±`` of the systemic figures is their discretisation / Monte Carlo error at the
calibrated ``sigma0``. Where the ``market_share`` sweep (same total noise as the calibration) has rows on both
sides of ``rho ± SE``, the expected cost at the nearest such rows is read off, a bound on its move over that range.
"""

from __future__ import annotations

from typing import Any, Mapping, Sequence

from mfg_finance.report.formatting import num
from mfg_finance.report.uncertain import plus_minus, with_error


def _bracketing_rows(rows: Sequence[Mapping[str, Any]], low: float, high: float):
    """The sweep rows nearest ``[low, high]`` from outside (largest ``market_share <= low``, smallest
    ``>= high``) with an expected cost, or ``None`` when the sweep does not reach both sides."""
    costed = [r for r in rows if isinstance(r.get("expected_cost"), Mapping)]
    below = [r for r in costed if r["market_share"] <= low]
    above = [r for r in costed if r["market_share"] >= high]
    if not below or not above:
        return None
    return max(below, key=lambda r: r["market_share"]), min(above, key=lambda r: r["market_share"])


def _cost(row: Mapping[str, Any]) -> str:
    c = row["expected_cost"]
    return with_error(c.get("mean"), c.get("error"), c.get("se"))


def calibration_sentence(doc: Mapping[str, Any] | None,
                         market_share_rows: Sequence[Mapping[str, Any]] | None = None) -> str | None:
    """rho ± SE and sigma0 ± SE from ``systemic_params.yaml`` (``doc``; ``None``: no sentence), the note on the
    systemic figures' ``±`` and, given the ``market_share`` sweep's rows (report/systemic.py ``_sweep_rows``), the
    expected cost across the rows bracketing ``rho ± SE``."""
    if not doc:
        return None
    rho, sigma0 = doc["rho"], doc["sigma0"]
    rho_se, sigma0_se = rho.get("se"), sigma0.get("se")
    text = (f"Calibrated market-wide share of daily-return variance rho = {plus_minus(rho['value'], rho_se)} "
            f"({rho['reason']}; {doc['sample']['n_assets']} assets"
            + (f"; ± one SE, {rho['se_reason']}" if rho_se is not None else
               f"; no SE: {rho['se_reason']}" if rho.get("se_reason") else "")
            + f"), hence sigma0 = {plus_minus(sigma0['value'], sigma0_se)} inventory units / sqrt(day)"
            + (" (± one SE, delta method: sigma * SE(rho) / (2 sqrt(rho)))." if sigma0_se is not None else "."))
    if rho_se is None:
        return text
    text += (" The ± of the systemic figures below is their discretisation and Monte Carlo error at the calibrated "
             "sigma0, not this calibration uncertainty")
    pair = _bracketing_rows(market_share_rows or [], rho["value"] - rho_se, rho["value"] + rho_se)
    if pair:
        lo, hi = pair
        text += (f"; across the market_share sweep's rows that bracket rho ± SE (rho = {num(lo['market_share'], 3)}"
                 f" and {num(hi['market_share'], 3)}, same total noise) the expected cost goes from {_cost(lo)} to "
                 f"{_cost(hi)}, a bound on its move over that range")
    return text + "."
