r"""Terminal dispersion of an agent's inventory under common noise, and its error estimate.

With common noise (docs/mfg.md, section 8) an agent's terminal inventory ``q_T`` has the law

    Var(q_T) = E[Var(q_T | W0)] + Var(E[q_T | W0]) = E[V_T] + Var(Q_T)      (inventory units^2),

the *idiosyncratic* part ``E[V_T]`` and the *common* part ``Var(Q_T)``. Given ``W0`` the feedback
``alpha(t, q, Q) = -(k q + l)`` is affine in ``q`` with ``(k, l)`` functions of ``(t, Q_t)`` only, and ``q`` and
``Q`` share ``dW0``, so ``d(q - Q) = -k (q - Q) dt + sigma dW``: along each common-noise path the conditional
variance obeys ``V' = -2 k(t, Q_t) V + sigma^2``, ``V_0 = m0_std^2``. On the solver's steps, with the linearly
implicit step of the paths (:mod:`mfg_finance.mfg.common_noise_paths`, the finite-N game's limit)::

    Q_{n+1} = (Q_n - l_n dt_n + sigma0 sqrt(dt_n) Z_n) / (1 + k_n dt_n),
    V_{n+1} = (V_n + sigma^2 dt_n) / (1 + k_n dt_n)^2,

``(k_n, l_n)`` the policy of step ``n`` at ``Q_n``. The ``n_paths`` paths are those of the fan charts (same
seed, same normals ``Z``): ``E[V_T]`` is their mean and ``Var(Q_T)`` their sample variance, with Monte Carlo
standard errors (of the sum: the per-path ``V_T,i + (Q_T,i - mean)^2``; of a std: the variance's SE over
twice the std).

**Discretisation error.** The same paths on the four companion grids of
:func:`~mfg_finance.mfg.common_noise.solve_with_estimate` -- time companions (every other and every fourth
time node: the graded mesh is nested) and space companions (every other and every fourth ``Q`` node, same time
nodes) -- driven by the *same* Brownian path (on the time companions the normals of two fine steps summed into one
coarse increment, ``Z_c = (sqrt(dt_a) Z_a + sqrt(dt_b) Z_b) / sqrt(dt_a + dt_b)``; the fine normals on the
space companions), so the grids' differences are discretisation, not sampling. The total std and each part are
then estimated as every other path outcome (:func:`mfg_finance.mfg.common_noise_outcomes.estimate_outcome`):
extrapolated in time when the time sequence is asymptotic, time part plus space part, 1.25 safety factor.
``unresolved`` when the estimate is at least half the value (:data:`mfg_finance.mfg.accuracy.UNRESOLVED_RELATIVE`).

*Why the path outcomes' rule* (docs/mfg.md, section 8c, figures there): the former rule -- the fine grid's std
with ``1.25 |f_h - f_2h| / (2^p - 1)`` from the time companions alone -- left the first-order time error in the
value (stiff baseline at ``sigma0 = 0``, ``(160, 201)``: -8.1%, with ``eta1 = 0``: -5.6%), where the
extrapolated value is within 0.3%, and never saw the ``Q`` nodes' error.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np

from mfg_finance.errors import MfgConvergenceError
from mfg_finance.mfg.accuracy import UNRESOLVED_RELATIVE
from mfg_finance.mfg.common_noise import CommonNoiseSolution
from mfg_finance.mfg.common_noise_paths import policy_at

#: The three reported quantities (inventory units).
PARTS = ("total", "common", "idiosyncratic")


def conditional_paths(sol: CommonNoiseSolution, z: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Terminal ``Q_T`` and conditional variance ``V_T`` of each path, each (n_paths,), from the (nt, n_paths)
    standard normals ``z`` of the steps (the recursion of the module docstring, from ``Q_0 = m0_mean``,
    ``V_0 = m0_std^2``)."""
    p = sol.params
    nt = sol.t.size - 1
    if z.shape[0] != nt:
        raise ValueError(f"conditional_paths: {z.shape[0]} rows of normals for {nt} steps")
    Q = np.full(z.shape[1], float(p["m0_mean"]))
    V = np.full(z.shape[1], float(p["m0_std"]) ** 2)
    sigma2, sigma0 = p["sigma"] ** 2, p["sigma0"]
    for n, h in enumerate(sol.dts):
        k, l_, _ = policy_at(sol, n, Q)
        step = 1.0 + k * h
        Q = (Q - l_ * h + sigma0 * np.sqrt(h) * z[n]) / step      # as common_noise_paths: the same bytes
        V = (V + sigma2 * h) / (step * step)
    return Q, V


def coarse_normals(z: np.ndarray, dts: np.ndarray) -> np.ndarray:
    """The normals of the grid with every other time node, driven by the same Brownian path:
    ``(sqrt(dt_2j) z_2j + sqrt(dt_2j+1) z_2j+1) / sqrt(dt_2j + dt_2j+1)``."""
    if z.shape[0] % 2:
        raise ValueError(f"coarse_normals: an even number of steps is needed, got {z.shape[0]}")
    root = np.sqrt(np.asarray(dts, dtype=float))[:, None]
    increments = root[0::2] * z[0::2] + root[1::2] * z[1::2]
    return increments / np.sqrt(dts[0::2] + dts[1::2])[:, None]


def _var_se(x: np.ndarray) -> float:
    """Standard error of the sample variance (fourth-moment formula)."""
    n = x.size
    d = x - x.mean()
    m4, m2 = float(np.mean(d ** 4)), float(np.mean(d ** 2))
    return math.sqrt(max(m4 - (n - 3) / (n - 1) * m2 * m2, 0.0) / n)


def dispersion_moments(Q_T: np.ndarray, V_T: np.ndarray) -> dict[str, dict[str, float]]:
    """``{part: {"variance", "variance_se", "std", "std_se"}}`` for ``total``, ``common``, ``idiosyncratic``."""
    n = Q_T.size
    # paths that all end alike (no common noise) have no common part: exactly 0, not the round-off of their mean
    # (a 5e-20 "std" with an SE)
    spread = n > 1 and bool(np.ptp(Q_T) > 0.0)
    common = float(np.var(Q_T, ddof=1)) if spread else 0.0
    idio = float(np.mean(V_T))
    per_path = V_T + ((Q_T - Q_T.mean()) ** 2 * (n / (n - 1)) if spread else 0.0)
    se = {"total": float(np.std(per_path, ddof=1) / math.sqrt(n)) if n > 1 else 0.0,
          "common": _var_se(Q_T) if spread and n > 3 else 0.0,
          "idiosyncratic": float(np.std(V_T, ddof=1) / math.sqrt(n)) if n > 1 else 0.0}
    out = {}
    for part, var in (("total", idio + common), ("common", common), ("idiosyncratic", idio)):
        std = math.sqrt(max(var, 0.0))
        out[part] = {"variance": var, "variance_se": se[part], "std": std,
                     "std_se": se[part] / (2.0 * std) if std > 0.0 else 0.0}
    return out


@dataclass(frozen=True)
class TerminalDispersion:
    """Terminal std of ``q_T`` (inventory units): ``moments`` of the fine grid (:func:`dispersion_moments`),
    per part (:data:`PARTS`) the reported std ``values`` (time-extrapolated where asymptotic), the discretisation
    ``error`` estimate, its ``detail`` (:func:`mfg_finance.mfg.common_noise_outcomes.estimate_outcome`: parts of the
    bound, the five grids' stds); ``unresolved`` the parts whose estimate is at least half their value (or missing);
    ``n_paths``, ``seed``."""

    moments: dict[str, dict[str, float]]
    values: dict[str, float]
    error: dict[str, float]
    detail: dict[str, dict[str, Any]]
    unresolved: list[str]
    n_paths: int
    seed: int

    @property
    def std(self) -> float:
        return self.values["total"]

    def as_dict(self) -> dict[str, Any]:
        """JSON-able: ``{"value", "error", "se", "common": {...}, "idiosyncratic": {...}, ...}`` (std, inventory units)."""
        def part(name):
            m = self.moments[name]
            return {"std": self.values[name], "error": self.error[name], "se": m["std_se"], "variance": m["variance"],
                    "variance_se": m["variance_se"], **self.detail[name]}
        return {"value": self.std, "error": self.error["total"], "se": self.moments["total"]["std_se"],
                **{name: part(name) for name in ("common", "idiosyncratic")},
                "variance": self.moments["total"]["variance"], **self.detail["total"],
                "unresolved": list(self.unresolved), "n_paths": self.n_paths, "seed": self.seed,
                "method": "conditional variance along the common-noise paths + their variance of Q_T; value and "
                          "error from the five grids driven by the same Brownian paths (time-extrapolated where "
                          "asymptotic)"}


def grids_and_normals(estimate, *, n_paths: int, seed: int) -> tuple[tuple, list[np.ndarray]]:
    """The three grids (fine, coarse, coarser) of an estimate and the same Brownian paths' normals on each.

    Raises MfgConvergenceError if the companions' time nodes are not every other node of the finer grid's."""
    grids = (estimate.fine, estimate.coarse, estimate.coarser)
    for finer, coarser in zip(grids[:-1], grids[1:]):
        if finer.t.size != 2 * (coarser.t.size - 1) + 1 or not np.allclose(finer.t[::2], coarser.t, rtol=0,
                                                                          atol=1e-12 * finer.t[-1]):
            raise MfgConvergenceError("terminal dispersion: the companion grids' time nodes are not nested")
    z = np.random.default_rng(seed).standard_normal((estimate.fine.t.size - 1, n_paths))
    normals = [z, coarse_normals(z, estimate.fine.dts)]
    normals.append(coarse_normals(normals[1], estimate.coarse.dts))
    return grids, normals


def terminal_dispersion(estimate, *, n_paths: int, seed: int,
                        terminal: dict[str, tuple[np.ndarray, np.ndarray]] | None = None) -> TerminalDispersion:
    """Terminal std of an agent's inventory, its common/idiosyncratic split, Monte Carlo SEs and the
    discretisation error estimate, from a :class:`~mfg_finance.mfg.common_noise.SolutionWithEstimate`
    (``fine``, ``coarse``, ``coarser``). The paths are those of
    :func:`~mfg_finance.mfg.common_noise_paths.simulate_paths` with the same ``seed``.

    ``terminal``: the five grids' ``(Q_T, V_T)`` of those paths when the caller has simulated them
    (:attr:`mfg_finance.mfg.common_noise_outcomes.PathOutcomes.terminal`, the same bytes); else simulated here.

    Raises MfgConvergenceError if the companions' time nodes are not every other node of the finer grid's.
    """
    return estimated_dispersion([dispersion_moments(*state) for state in terminal_states(
        estimate, conditional_paths, n_paths=n_paths, seed=seed, terminal=terminal)], n_paths=n_paths, seed=seed)


def terminal_states(estimate, simulate, *, n_paths: int, seed: int,
                    terminal: dict[str, tuple[np.ndarray, np.ndarray]] | None) -> list[tuple[np.ndarray, np.ndarray]]:
    """The five grids' terminal ``(Q_T, V_T)`` (order of :func:`five_grids`): ``terminal``'s if given, else
    ``simulate(grid, normals)`` on each grid with the same Brownian path."""
    from mfg_finance.mfg.common_noise_outcomes import GRIDS

    if terminal is not None:
        return [terminal[g] for g in GRIDS]
    grids, normals = five_grids(estimate, n_paths=n_paths, seed=seed)
    return [simulate(s, zz) for s, zz in zip(grids, normals)]


def five_grids(estimate, *, n_paths: int, seed: int) -> tuple[tuple, list[np.ndarray]]:
    """The five grids of an estimate (fine, time companions, space companions) and the same Brownian paths'
    normals on each (:func:`grids_and_normals`; the space companions share the fine time nodes and normals)."""
    grids, normals = grids_and_normals(estimate, n_paths=n_paths, seed=seed)
    return (*grids, estimate.space, estimate.spacer), [*normals, normals[0], normals[0]]


def estimated_dispersion(moments: list[dict[str, dict[str, float]]], *, n_paths: int, seed: int) -> TerminalDispersion:
    """A :class:`TerminalDispersion` from the five grids' :func:`dispersion_moments` (order of :func:`five_grids`):
    each part's std estimated by the path outcomes' rule (module docstring)."""
    from mfg_finance.mfg.common_noise_outcomes import GRIDS, estimate_outcome

    values, error, detail, unresolved = {}, {}, {}, []
    for part in PARTS:
        est = estimate_outcome({g: m[part]["std"] for g, m in zip(GRIDS, moments)})
        values[part], error[part] = est["value"], est["error"]
        detail[part] = {k: v for k, v in est.items() if k not in ("value", "error")}
        if error[part] is None or (values[part] > 0.0 and error[part] >= UNRESOLVED_RELATIVE * values[part]):
            unresolved.append(part)
    return TerminalDispersion(moments=moments[0], values=values, error=error, detail=detail, unresolved=unresolved,
                              n_paths=int(n_paths), seed=int(seed))
