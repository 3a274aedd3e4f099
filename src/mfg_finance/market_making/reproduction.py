r"""Reproduction of the simulation of Avellaneda & Stoikov (2008), section 3.3, Tables 1-3.

Setup of the paper: ``s = 100``, ``T = 1``, ``sigma = 2``, ``dt = 0.005`` (200 steps), ``q0 = 0``,
``k = 1.5``, ``A = 140``, 1000 paths, risk aversion ``gamma`` in {0.1, 0.01, 0.5}; the mid moves
``+- sigma sqrt(dt)`` with probability 1/2, and each quote fills within a step with probability
``lambda dt = A exp(-k delta) dt`` (capped at 1). No inventory limit.

* ``inventory`` strategy: quotes around the reservation price ``r = s - q gamma sigma^2 (T - t)``
  with total spread ``gamma sigma^2 (T - t) + (2/gamma) ln(1 + gamma/k)`` (the paper's formulas).
* ``symmetric`` strategy: quotes centred on the *mid*, ``s -+ (1/gamma) ln(1 + gamma/k)``. The
  paper says it uses "the same spread"; the constant part ``(2/gamma) ln(1 + gamma/k)`` is what its
  tables print as the average spread (1.29, 1.33, 1.15) and what reproduces its symmetric rows
  (a spread that also carries ``gamma sigma^2 (T - t)`` would give a profit of ~59 instead of 66.2
  at ``gamma = 0.5``).

Output columns: ``gamma, strategy, spread`` (mean quoted spread over steps and paths),
``profit_mean, profit_std`` (final PnL ``X_T + q_T S_T``), ``q_mean, q_std`` (final inventory).
Both strategies see the same mid paths and fill draws (common random numbers).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from mfg_finance.market_making.avellaneda_stoikov import as_spreads
from mfg_finance.market_making.simulator import Dynamics, QuoteTable, simulate_table

#: the paper's simulation setup
PAPER_SETUP = {"S0": 100.0, "T": 1.0, "sigma": 2.0, "dt": 0.005, "k": 1.5, "A": 140.0, "q0": 0,
               "n_paths": 1000, "gammas": (0.1, 0.01, 0.5)}

COLUMNS = ("gamma", "strategy", "spread", "profit_mean", "profit_std", "q_mean", "q_std")

#: Avellaneda & Stoikov (2008), Tables 1-3 (gamma = 0.1, 0.01, 0.5): average spread, mean and std
#: of the profit, mean and std of the final inventory, over 1000 simulations.
PAPER_TABLES = (
    (0.1, "inventory", 1.29, 62.94, 5.89, 0.10, 2.80),
    (0.1, "symmetric", 1.29, 67.21, 13.43, -0.018, 8.66),
    (0.01, "inventory", 1.33, 66.78, 8.76, -0.02, 4.70),
    (0.01, "symmetric", 1.33, 67.36, 13.40, -0.31, 8.65),
    (0.5, "inventory", 1.15, 33.92, 4.72, -0.02, 1.88),
    (0.5, "symmetric", 1.15, 66.20, 14.53, 0.25, 9.06),
)


def paper_table() -> pd.DataFrame:
    """The published Tables 1-3 with the columns of :func:`avellaneda_stoikov_2008`."""
    return pd.DataFrame(PAPER_TABLES, columns=list(COLUMNS))


def _tables(gamma: float, times: np.ndarray, Q: int) -> dict[str, QuoteTable]:
    setup = PAPER_SETUP
    q = np.arange(-Q, Q + 1)
    delta_b, delta_a = as_spreads(times[:, None], q[None, :], gamma=gamma, sigma=setup["sigma"],
                                  k=setup["k"], T=setup["T"])
    half = np.log1p(gamma / setup["k"]) / gamma
    flat = np.full(delta_b.shape, half)
    return {"inventory": QuoteTable(delta_b, delta_a, Q, name="inventory"),
            "symmetric": QuoteTable(flat, flat.copy(), Q, name="symmetric")}


def avellaneda_stoikov_2008(n_paths: int = 1000, seed: int = 2008, *, gammas=None,
                            engine: str = "auto") -> pd.DataFrame:
    """Run the A&S (2008) experiment; one row per (gamma, strategy), in the paper's order.

    Parameters
    ----------
    n_paths : number of simulated paths per (gamma, strategy) (paper: 1000).
    seed : seed of the random streams (the same paths for every gamma and strategy).
    gammas : risk aversions (default the paper's 0.1, 0.01, 0.5).
    engine : simulation engine ("auto", "numba", "numpy").
    """
    setup = PAPER_SETUP
    n_steps = int(round(setup["T"] / setup["dt"]))
    dyn = Dynamics(sigma=setup["sigma"], A=setup["A"], k=setup["k"], dt=setup["dt"], n_steps=n_steps,
                   S0=setup["S0"], fill_model="linear", mid_model="binomial")
    # |q| <= n_steps after n_steps steps, so this limit never binds: the paper has none.
    Q = n_steps
    rows = []
    for gamma in (setup["gammas"] if gammas is None else gammas):
        for strategy, table in _tables(float(gamma), dyn.times, Q).items():
            result = simulate_table(table, dyn, n_paths=n_paths, seed=seed, q0=setup["q0"], engine=engine)
            rows.append((float(gamma), strategy, float(result.mean_spread.mean()),
                         float(result.final_pnl.mean()), float(result.final_pnl.std(ddof=1)),
                         float(result.final_inventory.mean()), float(result.final_inventory.std(ddof=1))))
    return pd.DataFrame(rows, columns=list(COLUMNS))


def compare_with_paper(ours: pd.DataFrame, n_paths: int | None = None) -> pd.DataFrame:
    """Ours beside the paper's values, with Monte Carlo standard errors of our means and stds.

    ``*_se`` use ``std/sqrt(n)`` for means and ``std/sqrt(2(n-1))`` for standard deviations
    (Gaussian approximation); ``*_z`` = (ours - paper) / se.
    """
    n = PAPER_SETUP["n_paths"] if n_paths is None else n_paths
    merged = ours.merge(paper_table(), on=["gamma", "strategy"], suffixes=("", "_paper"))
    merged["profit_mean_se"] = merged["profit_std"] / np.sqrt(n)
    merged["profit_std_se"] = merged["profit_std"] / np.sqrt(2 * (n - 1))
    merged["q_mean_se"] = merged["q_std"] / np.sqrt(n)
    merged["q_std_se"] = merged["q_std"] / np.sqrt(2 * (n - 1))
    for metric in ("profit_mean", "profit_std", "q_mean", "q_std"):
        merged[f"{metric}_z"] = (merged[metric] - merged[f"{metric}_paper"]) / merged[f"{metric}_se"]
    return merged
