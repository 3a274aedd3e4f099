r"""The crowd's best response to a spread path: the MFG of :mod:`mfg_finance.mfg` with the cost

    eta(t) = eta0 + eta1 |m_t| + theta * spread_t

(``theta * spread_t`` enters the solver as an exogenous offset of the cost floor, ``solve(eta_offset=...)``).
"""

from __future__ import annotations

import dataclasses
import functools
from typing import Any, Mapping

import numpy as np

from mfg_finance.mfg.accuracy import accuracy_of
from mfg_finance.mfg.solution import MfgSolution
from mfg_finance.mfg.solver import solve


class StepPath:
    """A path that is constant on each step of a mesh: ``values[n]`` on ``[t_n, t_{n+1})``, ``values[nt]`` at ``T``.

    Called on the nodes of another mesh of the same horizon it returns the exact average over each of
    its steps (and the terminal value at its last node): how the spread path reaches the half-resolution
    companion solve of the MFG's error estimate.
    """

    def __init__(self, t: np.ndarray, values: np.ndarray):
        self.t = np.asarray(t, dtype=float)
        self.values = np.asarray(values, dtype=float)
        if self.values.shape != self.t.shape:
            raise ValueError(f"StepPath: {self.values.shape} values for {self.t.shape} nodes")
        self._integral = np.concatenate(([0.0], np.cumsum(self.values[:-1] * np.diff(self.t))))

    def integral(self, x: np.ndarray) -> np.ndarray:
        """``int_{t_0}^x path`` (piecewise linear in ``x``)."""
        x = np.clip(np.asarray(x, dtype=float), self.t[0], self.t[-1])
        return np.interp(x, self.t, self._integral)

    def __call__(self, nodes: np.ndarray) -> np.ndarray:
        nodes = np.asarray(nodes, dtype=float)
        if np.array_equal(nodes, self.t):
            return self.values.copy()
        out = np.empty(nodes.size)
        out[:-1] = np.diff(self.integral(nodes)) / np.diff(nodes)
        out[-1] = self.values[-1]
        return out


def best_response(mfg_config: Mapping[str, Any], t: np.ndarray, spread: np.ndarray, theta: float, *,
                  estimate_errors: bool = False, near: tuple[MfgSolution, np.ndarray] | None = None) -> MfgSolution:
    """The crowd's equilibrium given the market maker's spread path ``spread`` (BRL, on the nodes ``t``,
    value ``n`` in force on step ``n``); ``theta`` in cost units x day / units^2 per BRL.

    ``near = (crowd, its spread)``: the crowd's equilibrium at a nearby spread path (the previous round of the
    fixed point), whose cost path, shifted by the change of the offset ``theta (spread - its spread)``, is the
    MFG solver's first iterate instead of its own guess. The solve still runs to ``solver.tol``.
    """
    spread = np.asarray(spread, dtype=float)
    start = None
    if near is not None:
        crowd, near_spread = near
        guess = crowd.eta + theta * (spread - np.asarray(near_spread, dtype=float))

        def start(nodes, _t=np.asarray(t, dtype=float), _guess=guess):
            return _guess.copy() if np.array_equal(nodes, _t) else np.interp(nodes, _t, _guess)
    # theta = 0 still goes through the offset path: the decoupled check then tests the hook too
    return solve(mfg_config, estimate_errors=estimate_errors, eta_offset=StepPath(t, theta * spread),
                 eta_start=start)


def with_error_estimates(crowd: MfgSolution, t: np.ndarray, spread: np.ndarray, theta: float) -> MfgSolution:
    """``crowd`` (the crowd's equilibrium given ``spread``, solved without error estimates) with the MFG
    solver's two-grid error estimates attached: the companion solves of ``solve(estimate_errors=True)``,
    without solving the fine grid again."""
    offset = StepPath(t, theta * np.asarray(spread, dtype=float))
    accuracy = accuracy_of(crowd, functools.partial(solve, eta_offset=offset))
    return dataclasses.replace(crowd, accuracy=accuracy)
