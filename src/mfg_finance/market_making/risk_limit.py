r"""Choose the risk aversion that meets a CVaR limit on the horizon PnL; the mean-CVaR frontier.

For a portfolio strategy (``multi_exact`` / ``multi_approx`` / ``independent_glft``) and a grid of
portfolio risk aversions ``gamma`` (1/BRL), every point is backtested with the *same* seed (common
random numbers: same mids and uniforms), so differences between points are due to ``gamma`` alone and
the frontier ``(CVaR_alpha(gamma), mean PnL(gamma))`` is smooth. ``loss = -CVaR_alpha`` (BRL; CVaR is
the mean PnL of the worst ``alpha`` of paths, :mod:`.risk_measures`); the limit is ``loss <= max_loss``
(a negative ``max_loss`` demands that the worst paths still gain ``-max_loss`` on average).

Rule: a point is *admissible* when its loss plus one standard error is within the limit,
``loss + se <= max_loss`` (it meets the limit even one se above its estimate). The loss usually
falls as ``gamma`` rises from small values (less inventory) and rises again at large ``gamma`` (wide
quotes, few fills); the first boundary from inadmissible to admissible along the grid is refined by
bisection in ``ln gamma`` (``n_bisect`` steps). The chosen point is the admissible one with the highest mean PnL;
it is then re-simulated with an independent seed (``seed + 1``) and its out-of-sample loss and se are
reported (``meets_limit_out_of_sample``: loss <= max_loss + se). If no point is admissible the search
reports that, and chooses nothing.

The limit in absolute terms (``max_loss``, BRL) depends on the asset, the horizon and the order size:
a value that binds on one data set admits every gamma or none on another. The relative form
``max_loss_sd = k`` scales it by the least constrained strategy, the smallest ``gamma`` of the grid
(mean ``mu_0``, standard deviation ``s_0`` of its horizon PnL, on the same common random numbers):
``max_loss = k s_0 - mu_0``, i.e. the CVaR must stay within ``k`` standard deviations below the
unconstrained mean, ``CVaR >= mu_0 - k s_0``. For Gaussian PnL the unconstrained CVaR is
``mu_0 - s_0 phi(z_alpha)/alpha`` (2.06 s_0 below the mean at alpha = 5%), so ``k`` below that ratio
demands a thinner tail than the unconstrained strategy has, whatever the units of the data.
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pandas as pd

from mfg_finance.errors import ConfigError
from mfg_finance.market_making.multi_asset import MultiAssetParameters
from mfg_finance.market_making.multi_backtest import pnl_statistics, run_multi_backtest


def _point(params, gamma, *, strategy, cvar_level, backtest) -> dict:
    frame = run_multi_backtest(strategy, replace(params, gamma=float(gamma)), **backtest)
    stats = pnl_statistics(frame["final_pnl"].to_numpy(), cvar_level=cvar_level)
    return {"gamma": float(gamma), **stats, "loss": -stats["pnl_cvar"], "loss_se": stats["pnl_cvar_se"]}


def relative_limit(reference: dict, max_loss_sd: float) -> float:
    """``max_loss = k s_0 - mu_0`` (BRL) from the reference point's PnL mean and sd (module docstring)."""
    if not (np.isfinite(max_loss_sd) and max_loss_sd > 0):
        raise ConfigError(f"risk_limit.max_loss_sd must be a finite number > 0, got {max_loss_sd!r}")
    return float(max_loss_sd) * float(reference["pnl_std"]) - float(reference["pnl_mean"])


def cvar_frontier_search(params: MultiAssetParameters, *, strategy: str, gammas, cvar_level: float,
                         max_loss: float | None = None, max_loss_sd: float | None = None, dt_s: float, n_paths: int, seed: int, table_dt_s: float,
                         order_size: float = 1.0, fill_model: str = "exponential",
                         n_bisect: int = 4) -> tuple[pd.DataFrame, dict]:
    """Frontier over ``gammas`` (+ bisection points) and the chosen point (module docstring).

    ``params.gamma`` is replaced by each grid value (already per share of ``order_size``: the caller
    multiplies). Returns ``(frontier, choice)``: one frontier row per evaluated ``gamma`` (sorted, with
    ``pnl_mean(_se)``, ``pnl_cvar(_se)``, ``loss(_se)``, ``sharpe(_se)``, ``admissible``, ``source``
    = grid | bisection) and a dict describing the choice. The limit is ``max_loss`` (BRL) when given,
    else ``max_loss_sd`` in units of the least constrained strategy's PnL sd (:func:`relative_limit`).
    """
    if (max_loss is None) == (max_loss_sd is None):
        raise ConfigError("risk_limit: give exactly one of max_loss (BRL) and max_loss_sd (PnL standard deviations); "
                          f"got max_loss={max_loss!r}, max_loss_sd={max_loss_sd!r}")
    gammas = np.unique(np.asarray(gammas, dtype=float))
    if gammas.size < 2 or np.any(gammas <= 0) or not np.all(np.isfinite(gammas)):
        raise ConfigError(f"risk_limit.gammas must hold at least two positive values (1/BRL), got {gammas}")
    backtest = dict(dt_s=dt_s, n_paths=n_paths, seed=seed, table_dt_s=table_dt_s, order_size=order_size,
                    fill_model=fill_model)
    point = lambda g: _point(params, g, strategy=strategy, cvar_level=cvar_level, backtest=backtest)  # noqa: E731
    rows = [dict(point(g), source="grid") for g in gammas]
    if max_loss is None:
        reference = rows[0]
        max_loss = relative_limit(reference, max_loss_sd)
        limit = {"form": "relative", "max_loss_sd": float(max_loss_sd), "reference_gamma": reference["gamma"],
                 "reference_pnl_mean": reference["pnl_mean"], "reference_pnl_mean_se": reference["pnl_mean_se"],
                 "reference_pnl_std": reference["pnl_std"], "reference_pnl_std_se": reference["pnl_std_se"],
                 "rule": "max_loss = max_loss_sd * sd - mean of the smallest gamma's PnL (CVaR >= mean - k sd)"}
    else:
        limit = {"form": "absolute"}
    max_loss = float(max_loss)

    def admissible(row):
        return row["loss"] + row["loss_se"] <= max_loss

    ok = [admissible(r) for r in rows]
    # bracket: the first admissible grid point preceded by an inadmissible one
    for i in range(1, len(rows)):
        if ok[i] and not ok[i - 1]:
            lo, hi = np.log(rows[i - 1]["gamma"]), np.log(rows[i]["gamma"])
            for _ in range(int(n_bisect)):
                mid = dict(point(np.exp(0.5 * (lo + hi))), source="bisection")
                rows.append(mid)
                lo, hi = (lo, np.log(mid["gamma"])) if admissible(mid) else (np.log(mid["gamma"]), hi)
            break
    frontier = pd.DataFrame(rows).sort_values("gamma", kind="stable").reset_index(drop=True)
    frontier["admissible"] = frontier["loss"] + frontier["loss_se"] <= max_loss
    frontier["cvar_level"] = float(cvar_level)
    frontier["max_loss"] = max_loss
    choice = {"strategy": strategy, "cvar_level": float(cvar_level), "max_loss": max_loss,
              "limit": limit, "n_evaluated": int(len(frontier)),
              "admissible_found": bool(frontier["admissible"].any())}
    if not choice["admissible_found"]:
        # in CVaR terms, so that a negative max_loss (the worst paths must gain) is not read as a loss
        # (0.0 - max_loss: a limit of 0 reads "0", not "-0")
        choice.update(gamma=None, reason=f"no gamma in [{gammas[0]:g}, {gammas[-1]:g}] 1/BRL keeps CVaR "
                                          f"{100 * cvar_level:g}% - se at or above {0.0 - max_loss:g} BRL "
                                          f"(loss + se <= max_loss = {max_loss:g} BRL); widen the gamma grid or "
                                          f"loosen the limit")
        return frontier, choice
    best = frontier[frontier["admissible"]].sort_values(["pnl_mean", "gamma"], ascending=[False, True]).iloc[0]
    check = _point(params, best["gamma"], strategy=strategy, cvar_level=cvar_level,
                   backtest=dict(backtest, seed=int(seed) + 1))
    choice.update(gamma=float(best["gamma"]), pnl_mean=float(best["pnl_mean"]),
                  pnl_mean_se=float(best["pnl_mean_se"]), loss=float(best["loss"]), loss_se=float(best["loss_se"]),
                  out_of_sample_loss=float(check["loss"]), out_of_sample_loss_se=float(check["loss_se"]),
                  meets_limit_out_of_sample=bool(check["loss"] <= max_loss + check["loss_se"]),
                  reason="highest mean PnL among points with loss + se <= max_loss")
    return frontier, choice
