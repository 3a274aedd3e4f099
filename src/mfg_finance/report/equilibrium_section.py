"""Report section of issue 17: the market maker and the crowd in one equilibrium, and the liquidity regimes.

Reads the artefacts named in ``EQUILIBRIUM_REPORT_INPUTS`` (``workflow/rules/equilibrium.smk``); returns ``None``
when they are not among the report's inputs.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Mapping

import pandas as pd

from mfg_finance.io import read_json, read_parquet
from mfg_finance.report.formatting import figure, html_table, html_tables_fitting
from mfg_finance.report.uncertain import with_error

#: (outcome key, label with unit) of the scenario table
OUTCOMES = (("crowd_liquidation_speed", "crowd's liquidation speed (1/day)"),
            ("crowd_half_life", "crowd's half-life (days)"),
            ("crowd_cost", "crowd's cost (cost units)"),
            ("price_impact_bps", "temporary impact paid per unit traded (bps)"),
            ("crowd_paid_spread_brl", "spread the crowd pays (BRL, time average)"),
            ("mm_mean_spread_brl", "average quoted spread (BRL)"),
            ("mm_mean_skew_brl", "average skew delta_b - delta_a (BRL)"),
            ("mm_pnl_brl", "market maker's expected PnL (BRL)"),
            ("mm_inventory_risk_brl", "market maker's inventory risk (BRL)"),
            ("mm_terminal_inventory_std_lots", "market maker's terminal inventory std (lots)"),
            ("mm_max_limit_mass", "largest probability at an inventory limit"))

#: regimes table: (column, label)
REGIME_COLUMNS = (("gamma", "γ (1/BRL)"), ("Q_max", "Q_max (lots)"), ("crowd_size", "crowd size"),
                  ("m0_mean", "m0 (inv. units)"), ("mm_mean_spread_brl", "quoted spread (BRL)"),
                  ("crowd_paid_spread_brl", "paid spread (BRL)"),
                  ("crowd_liquidation_speed", "speed (1/day)"), ("crowd_cost", "crowd cost"),
                  ("price_impact_bps", "temporary impact paid (bps)"), ("mm_pnl_brl", "MM PnL (BRL)"),
                  ("mm_inventory_risk_brl", "MM inventory risk (BRL)"))


def _paths(inputs: Mapping[str, Any], key: str) -> list[str]:
    value = inputs.get(key) or []
    return [str(value)] if isinstance(value, (str, Path)) else [str(v) for v in value]


def _scenario(path: str, figures: list[str]) -> dict[str, Any]:
    metrics = read_json(path)
    name = Path(path).parent.name
    outcomes, errors = metrics["outcomes"], metrics["outcome_errors"]
    rows = [{"outcome": label, "value ± estimated error": with_error(outcomes.get(key), errors.get(key))}
            for key, label in OUTCOMES]
    mm = metrics["market_maker"]
    horizon_s = float(metrics["crowd_config"]["grid"]["T"]) * float(metrics["units"]["seconds_per_trading_day"])
    return {"name": name, "metrics": metrics, "ticker": metrics["ticker"], "params": metrics["market_maker_params"],
            "horizon_s": horizon_s,
            "units": metrics["units"], "theta": metrics["theta"], "spread_ref": metrics["spread_ref_brl"],
            "run": metrics["run"], "table": html_table(pd.DataFrame(rows)), "law_mass_error": mm["law_mass_error"],
            "figures": [figure(f, f"Equilibrium {name}: " + ("paths" if "paths" in f else "fixed-point residuals"))
                        for f in figures if Path(f).parent.name == name]}


def equilibrium_section(inputs: Mapping[str, Any]) -> dict[str, Any] | None:
    metrics = _paths(inputs, "equilibrium_metrics")
    if not metrics and not inputs.get("regimes_table"):
        return None
    figures = _paths(inputs, "equilibrium_figures")
    scenarios = [_scenario(p, figures) for p in metrics]
    regimes = None
    if inputs.get("regimes_table"):
        table = read_parquet(inputs["regimes_table"])
        summary = read_json(inputs["regimes_summary"])
        shown = table[[c for c, _ in REGIME_COLUMNS]].rename(columns=dict(REGIME_COLUMNS))
        failed = table[~table["converged"]][["gamma", "Q_max", "crowd_size", "m0_mean", "error"]]
        keys = [label for _, label in REGIME_COLUMNS[:4]]
        regimes = {"comparison": summary["comparison"], "n_points": summary["n_points"],
                   "n_converged": summary["n_converged"],
                   # split so that every table fits the page, the four axes repeated in each
                   "table": html_tables_fitting(shown, keys, max_columns=4),
                   "failed_table": html_table(failed, classes="sortable fitwrap") if len(failed) else None,
                   "figure": figure(inputs["regimes_figure"], "Liquidity regimes")}
    return {"scenarios": scenarios, "regimes": regimes}
