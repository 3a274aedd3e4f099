"""Report section of issue 18: correlated portfolios, Heston robustness, CVaR-limited risk aversion.

Reads the artefacts named in the ``render_report`` inputs (keys of ``MULTI_REPORT_INPUTS`` in
``workflow/rules/multi_asset.smk``); returns ``None`` when no portfolio and no Heston study ran.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Mapping

import pandas as pd

from mfg_finance.io import read_json, read_parquet, read_yaml
from mfg_finance.report.formatting import figure, html_table, num
from mfg_finance.report.uncertain import plus_minus


def _paths(inputs: Mapping[str, Any], key: str) -> list[str]:
    value = inputs.get(key) or []
    return [str(value)] if isinstance(value, (str, Path)) else [str(v) for v in value]


def _portfolio_of(path: str) -> str:
    return Path(path).parent.name


def _stats_table(stats: pd.DataFrame) -> str:
    rows = [{"portfolio": r.portfolio, "strategy": r.strategy, "paths": r.n_paths,
             "mean PnL (BRL)": plus_minus(r.pnl_mean, r.pnl_mean_se),
             "PnL std (BRL)": plus_minus(r.pnl_std, r.pnl_std_se),
             "Sharpe = mean/std": plus_minus(r.sharpe, r.sharpe_se),
             f"CVaR {100 * r.cvar_level:g}% (BRL)": plus_minus(r.pnl_cvar, r.pnl_cvar_se),
             "sqrt(mean q'Σq) (BRL/√s)": plus_minus(r.risk_rate_sqrt, r.risk_rate_sqrt_se),
             "trades / path": plus_minus(r.trades_mean, r.trades_mean_se),
             "PnL − independent (BRL, paired)": plus_minus(r.pnl_minus_baseline, r.pnl_minus_baseline_se),
             "mean q'Σq − independent (BRL²/s, paired)": plus_minus(r.risk_rate_minus_baseline,
                                                                    r.risk_rate_minus_baseline_se)}
            for r in stats.itertuples()]
    return html_table(pd.DataFrame(rows), classes="sortable fitwrap")   # cells may wrap: fits the page


def _heston_table(frame: pd.DataFrame) -> str:
    rows = [{"ticker": r.ticker, "strategy": r.strategy, "paths": r.n_paths,
             "mean PnL (BRL)": plus_minus(r.pnl_mean, r.pnl_mean_se),
             "PnL std (BRL)": plus_minus(r.pnl_std, r.pnl_std_se),
             "Sharpe": plus_minus(r.sharpe, r.sharpe_se),
             "CVaR 5% (BRL)": plus_minus(r.pnl_cvar, r.pnl_cvar_se)} for r in frame.itertuples()]
    return html_table(pd.DataFrame(rows))


def tail_wording(choice: Mapping[str, Any]) -> dict[str, str]:
    """The risk limit and the chosen point's tail in words, as CVaR (the mean PnL of the worst ``cvar_level`` of
    paths, BRL): the choice's ``loss`` figures are minus the CVaR, so a negative loss is a gain of the worst paths
    and is stated as one, never as a loss; a CVaR zero at the digits shown is given no sign (nor a ``-0``). Keys:
    ``limit`` (the heading's), ``meaning`` (the limit in words), ``chosen`` and ``out_of_sample`` (each CVaR with
    its se and whether it is a gain; ``None`` without one)."""
    level = num(100 * choice["cvar_level"])
    cvar_min = 0.0 - float(choice["max_loss"])          # 0.0 - x: a limit of 0 is "0", not "-0"
    bound = (f"they must gain at least {num(cvar_min)} BRL on average" if cvar_min > 0 else
             "they must not lose on average" if cvar_min == 0 else
             f"they may lose at most {num(-cvar_min)} BRL on average")

    def cvar(loss_key: str) -> str | None:
        loss = choice.get(loss_key)
        if loss is None:
            return None
        text = plus_minus(0.0 - float(loss), choice.get(loss_key + "_se"))
        shown = text.split(" ±")[0].split("e")[0]
        if shown == "—":
            return text
        if not any(digit in shown for digit in "123456789"):        # zero at the digits shown: no sign to state
            return f"{text.lstrip('-')} BRL, neither gain nor loss at the digits shown"
        return f"{text} BRL, {'a gain' if loss < 0 else 'a loss'}"

    return {"limit": f"CVaR{level}% ≥ {num(cvar_min)} BRL", "meaning": bound, "chosen": cvar("loss"),
            "out_of_sample": cvar("out_of_sample_loss")}


def multi_asset_section(inputs: Mapping[str, Any]) -> dict[str, Any] | None:
    params = {_portfolio_of(p): read_yaml(p) for p in _paths(inputs, "multi_asset_params")}
    heston_params = [read_yaml(p) for p in _paths(inputs, "heston_params")]
    if not params and not heston_params:
        return None
    solves = {_portfolio_of(p): read_json(p) for p in _paths(inputs, "multi_asset_solves")}
    surfaces = {_portfolio_of(p): p for p in _paths(inputs, "multi_asset_surfaces")}
    choices = {_portfolio_of(p): read_json(p) for p in _paths(inputs, "risk_limit_choices")}
    frontiers = {_portfolio_of(p): pd.read_csv(p) for p in _paths(inputs, "risk_limit_frontiers")}
    frontier_figs = {_portfolio_of(p): p for p in _paths(inputs, "risk_limit_figures")}
    stats_paths = _paths(inputs, "multi_asset_stats")
    portfolios = []
    for name, doc in params.items():
        solve = solves.get(name, {})
        error = solve.get("error") or None
        ticks = solve.get("error_ticks") or {}
        choice = choices.get(name)
        frontier = frontiers.get(name)
        portfolios.append({
            "name": name, "tickers": doc["tickers"], "n_sessions": doc["n_common_sessions"],
            "correlation": html_table(pd.DataFrame(doc["correlation"], index=doc["tickers"],
                                                   columns=doc["tickers"]).reset_index(names="ticker")),
            "covariance": html_table(pd.DataFrame(doc["covariance"], index=doc["tickers"],
                                                  columns=doc["tickers"]).reset_index(names="BRL²/s")),
            "gamma": doc["gamma"], "horizon_s": doc["horizon_s"],
            "surface": figure(surfaces[name], f"Quote surface: {name}") if name in surfaces else None,
            "error": error, "error_ticks": ticks, "exact_method": solve.get("exact_method"),
            "choice": choice, "tail": tail_wording(choice) if choice else None,
            "frontier_table": html_table(frontier.drop(columns=["portfolio"], errors="ignore")[
                [c for c in ("gamma", "source", "pnl_mean", "pnl_mean_se", "pnl_cvar", "pnl_cvar_se", "loss",
                             "loss_se", "sharpe", "sharpe_se", "admissible") if c in frontier]])
            if frontier is not None else None,
            "frontier_figure": figure(frontier_figs[name], f"Mean-CVaR frontier: {name}")
            if name in frontier_figs else None,
        })
    heston_tables = pd.concat([pd.read_csv(p) for p in _paths(inputs, "heston_tables")], ignore_index=True) \
        if _paths(inputs, "heston_tables") else None
    return {
        "portfolios": portfolios,
        "stats_table": _stats_table(read_parquet(stats_paths[0])) if stats_paths else None,
        "heston": [{"ticker": h["ticker"], "source": h["source"], "reason": h["reason"],
                    "feller": num(h["feller_ratio"], 3),
                    "parameters": ", ".join(f"{k} = {num(v, 4)}" + (f" ± {num(h['se'][k], 2)}" if k in h.get("se", {}) else "")
                                            for k, v in h["parameters"].items())}
                   for h in heston_params],
        "heston_table": _heston_table(heston_tables) if heston_tables is not None else None,
    }
