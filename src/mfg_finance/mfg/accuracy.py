r"""Outcomes extrapolated in time, and the estimated discretisation error of every outcome, from companion solves.

What limits the accuracy (docs/mfg.md, section 11, has the measurements). On the graded inventory mesh the
central/upwind scheme (:mod:`mfg_finance.mfg.hjb`) reproduces a quadratic value and the law's first two
moments exactly wherever it is central, so on the calibrated problems the error left is that of backward
Euler in time: first order in every ``dt_n`` and cleanly asymptotic at the default grid (stiff baseline,
``nt`` = 75 / 150 / 300 / 600 at fixed nodes: cost error 1.01 / 0.49 / 0.24 / 0.12 %, while ``nx`` = 201 / 401 / 801
at ``nt = 150`` changes nothing). Where the drift dominates the noise (cell Peclet number above 2 where
the mass is, e.g. ``sigma = 0.02``: no affordable mesh keeps it central) the scheme is upwind there and
first order in space as well.

Four companion solves (five on a graded mesh: ``X+``, below), each from its own first guess
(:func:`mfg_finance.mfg.solver.initial_eta`; fewer sweeps in total than from the fine cost path, measured:
docs/mfg.md, section 11):

* ``T``: the same nodes, ``nt_T = nt / 2`` steps of the same mesh law (a graded mesh is the image of a
  fixed map of ``k / nt``, so every step scales by ``r = nt / nt_T``);
* ``T2``: the same nodes, ``nt_T2 = nt / 4`` steps;
* ``X`` and ``XX`` (``space``, ``space_coarse``), ``nt_T`` steps each: on a graded inventory mesh, meshes built
  by the same rule with ``SPACE_FRACTIONS`` = 3/4 and 1/2 of the fine cells (spacing ratios ``s1 = 4/3``,
  ``s2 = 2``), *not* subsets of the fine nodes (the order fit below on every other and every fourth node missed
  the factor 3 more often, e.g. the 61 x 40 half-lives at 0.21-0.29 of their error: docs/mfg.md, section 11); on
  a uniform mesh, and for a transport-dominated law (:func:`transport_dominated`), every other and
  every fourth node (``s1 = 2``, ``s2 = 4``; uniform: the same rule).

For each outcome ``O`` with fine value ``O_h`` (``O_h = O + C dt + D dt^2 + e_x``)::

    time-extrapolated  R  = O_h + (O_h - O_T) / (r - 1)          (Richardson: second order in time)
    the same one level down  R2 = O_T + (O_T - O_T2) / (r2 - 1)
    its time remainder  e_R = |R - R2| / (r^2 - 1)                (the next, second-order, term)

*Space: the order fit* (:func:`order_fit_error`). With ``d_k = O_{X_k} - O_T`` (same steps) and
``O(s h) = O + C (s h)^p``, ``d2 / d1 = (s2^p - 1) / (s1^p - 1)`` gives the order ``p`` (:func:`fitted_order`,
kept within ``ORDER_RANGE`` = [1, 3]: first order where the scheme is upwind, second where it is central, up to
3 where a coarse companion under-resolves the terminal law) and the fine grid's spatial error
``e_x = |d_k| / (s_k^p - 1)`` (the mean of the two when ``p`` is clamped).

*A finer companion* (``X+``, graded meshes; ``space_refined``: ``REFINED_FACTOR`` = 2 times the cells by the same
rule, ``nt_T`` steps) checks the order fit from above: its first-order estimate ``|O_X+ - O_T| / (1 - 1/2)``
(:func:`refined_error`) is a floor under the fit's. Where the coarser companions are no worse than the fine grid
where the law starts (61 x 40, corners ``phi = 0.5``: the half-life's estimates were 0.16-0.19 of the error)
only a finer mesh shows the error (docs/mfg.md, section 11).

*The expected cost* takes its spatial error from the fine solve itself wherever it is not extrapolated in space
(:mod:`mfg_finance.mfg.cost_residual`: the variance the upwind cells add, priced at the value's curvature), not
from the order fit: on graded meshes the error vanishes at a finite resolution (once every cell the law uses is
central), which no power law of the companions' spacing shows (corner ``phi = 0.5``, ``gamma_T = 0.05``: the
fit gave 3.2 times the error, the residual 1.47 times; docs/mfg.md, section 11).

*The peak* ``eta`` *read at* ``t = 0`` (:func:`initial_outcomes`, when ``eta`` peaks there) takes ``p = 1`` in the
order fit: its error is that of the grid's feedback after the whole backward sweep, which the coarser companions
see deteriorate faster than the fine grid improves (docs/mfg.md, section 11). The flows and prices at ``t = 0``
and ``T`` are the mean path's (:meth:`mfg_finance.mfg.solution.MfgSolution.end_flows`), not that feedback's: the
order fit as for every outcome. The price impact's estimate is at least ``|est(p_0) - est(p_T)|``
(:func:`impact_error`).

*Space: transport-dominated laws.* ``E`` is the numerical diffusion the scheme added where it is upwind,
integrated over the law (:func:`mfg_finance.mfg.hjb.excess_diffusion`). When it exceeds the noise's
``sigma^2 T`` the law is upwind wherever it is (``sigma = 0.02``), the companions are nested, ``E`` doubles
with the spacing and the sequence ``O_T, O_X, O_XX`` is first order in ``E`` (measured: differences in the
ratio 1.96-2.06 on the check set's transport-dominated problems); there the spatial error is extrapolated away
(:func:`space_extrapolation`: reported ``R - c1 E_h`` with ``c1 = (O_X - O_T) / (E_X - E_T)``, space error
``e_x = |c2 - c1| E_h`` from the slope ``c2`` of the next level), and where ``E``
does not scale, the order fit. The terminal std uses ``E`` weighted by what of each step's variance the law
keeps to ``T`` (:func:`surviving_fraction`): it feels the terminal layer's cells, not the transport the law
has forgotten.

*Terminal std of a transport-dominated law* (:func:`terminal_variance_extrapolation`). Its spatial error is not
first order in the spacing (set 3 at ``nt -> inf``: 3.3e-4, 7.5e-4, 1.5e-3 on 201, 101, 51 nodes) but the
terminal *variance*'s error is proportional to the diffusion that reaches ``T`` (ratio 0.82-0.89), and the slope
differs between ``nt_T`` and ``nt`` (0.69, 0.92): one more companion, every other node at the fine step
(``space_fine``), gives both levels time-extrapolated and the slope at the fine step; reported
``sqrt(R_h^2 - c E_h)`` (set 3: -1.05 %, against -3.9 % extrapolated in the std on ``E``).

The reported outcome is ``R`` (less the spatial correction) with the error estimate ``e_R + e_x`` when the
time sequence is asymptotic (``|R - R2| <= |O_h - O_T|``: the second-order term smaller than the first),
else the fine value ``O_h`` (less the spatial correction) with the estimate ``|O_h - O_T| / (r - 1) + e_x``
(``extrapolated`` and ``space_extrapolated`` list the outcomes that were).

*The mean-path outcomes* (``liquidation_half_life``, ``liquidation_speed``, ``mean_inventory_terminal``) are those of
the linear feedback on each solve's cost path (:mod:`mfg_finance.mfg.mean_path`), not of the density's mean: their
relative accuracy is that of the cost path however small ``Q_T`` is. The speed is extrapolated like every outcome
(it is ``-ln(Q_T/Q_0)/T``, in which the path's error is linear) and the reported ``Q_T = Q_0 exp(-T speed)`` with
the error ``|Q_T| (exp(T est(speed)) - 1)`` (:func:`mfg_finance.mfg.mean_path.terminal_mean_from_speed`).
Their spatial error is the cost path's; where the companions show it first order (:func:`first_order_bracket`:
both first-order predictions of the fine error agree, the coefficient not growing toward the fine level), the
fine grid's error lies between 0 and that prediction ``e1`` (the coefficient only falls as the upwind cells
where the law starts turn central: measured 25.4, 25.2, 23.8, 22.0, 20.1, 10.0 on 101 ... 401 nodes at the
corner ``phi = 0.5``, ``gamma_T = 5``) and the outcome is reported at the midpoint, ``R - e1 / 2``, with the
spatial error ``|e1| / 2`` (``Q_T = e^-16 Q_0`` there: +2.0 % -> +0.84 %); elsewhere the order fit.

``unresolved``: outcomes the grid cannot resolve, with the estimate widened to what they may be:

* ``terminal_dispersion`` when the terminal std spans fewer than 2 cells where the terminal law sits
  (estimate ``max(|est|, value)``);
* any outcome whose estimate is at least half its magnitude, and for ``mean_inventory_terminal`` then the speed
  ``-ln(Q_T / Q_0) / T`` with it (estimate widened to ``ln(1 + est(Q_T) / |Q_T|) / T``, or to the speed
  itself when ``est(Q_T) > |Q_T|``: not even the order of magnitude of ``Q_T`` is known);
* an outcome the fine grid computes and a companion cannot (e.g. a speed whose terminal mean overshoots zero
  there): estimate ``|value|``;
* every outcome when the terminal layer ``eta0 / gamma_T`` is shorter than the last time step and that step is
  an implicit one (a solution without the exact last interval of :mod:`mfg_finance.mfg.terminal_interval`,
  which holds such a layer): every grid is then pre-asymptotic.
"""

from __future__ import annotations

import copy
import math
from dataclasses import dataclass
from typing import Any, Callable, Mapping

import numpy as np

from mfg_finance.errors import ConfigError, MfgConvergenceError, MfgDomainError
from mfg_finance.mfg.cost_residual import cost_spatial_error
from mfg_finance.mfg.grid import mesh_layer
from mfg_finance.mfg.held_cost_path import held_cost_path_errors
from mfg_finance.mfg.mean_path import terminal_mean_from_speed

#: Terminal std below this many cells: ``terminal_dispersion`` is unresolved.
RESOLVED_CELLS = 2.0
#: An outcome whose estimated error is at least this fraction of its magnitude is unresolved.
UNRESOLVED_RELATIVE = 0.5
#: The spatial error is extrapolated only where it is in its asymptotic first-order regime: the law upwind
#: wherever it is, so that the numerical diffusion grows with the spacing, ``E_X / E_T`` and ``E_XX / E_X``
#: within this relative distance of the spacing ratios. Where part of the law is on central cells the upwind
#: share changes with the spacing and the error is not linear in it (measured: docs/mfg.md, section 11).
SCALING_TOLERANCE = 0.1
#: The order of the spatial error fitted from the two space companions is taken in this range: first order
#: where the scheme is upwind, second where it is central (docs/mfg.md, section 11).
ORDER_RANGE = (1.0, 3.0)
#: The space companions on a graded inventory mesh: this fraction of the fine cells and half of them, each
#: mesh built by the same rule (:func:`mfg_finance.mfg.grid.inventory_nodes`), not a subset of the fine nodes.
SPACE_FRACTIONS = (0.75, 0.5)
#: The finer graded space companion: this many times the fine cells, at ``nt_T`` steps. Its first-order estimate
#: bounds the order fit's from below (:func:`refined_error`): on small meshes the coarser companions are no worse
#: than the fine one where the law starts (61 x 40, corner ``phi = 0.5``: half-life at ``nt_T`` -1.03, -1.03,
#: -1.08 % on 31, 46, 61 nodes, -0.69 % on 121), so they cannot show its error (docs/mfg.md, section 11).
REFINED_FACTOR = 2
#: The mean-path outcomes whose spatial error (the cost path's) is bracketed by its first-order prediction where
#: the companions' sequence is first order (:func:`first_order_bracket`; docs/mfg.md, section 11). The terminal
#: mean follows the speed.
MEAN_PATH_BRACKETED = ("liquidation_speed", "liquidation_half_life")
#: ... first order: the two first-order predictions of the fine grid's error agree within this fraction of
#: their mean (the companions' coefficient constant; measured on the corners ``phi = 0.5``: 8-9 %).
BRACKET_AGREEMENT = 0.15
#: ... unless the fine solve's numerical diffusion is above this many times the noise's variance ``sigma^2 T``
#: (:func:`transport_dominated`): then every other and every fourth node, on which ``E`` doubles.
TRANSPORT_EXCESS = 1.0


def companion_config(config: Mapping[str, Any], *, nt_divisor: int = 2, halve_nx: bool = True,
                     nx: int | None = None) -> dict:
    """The validated config with ``nt_c = max(1, round(nt / nt_divisor))`` and ``nx`` nodes (default: with
    ``halve_nx``, ``nx_c = (nx - 1)//2 + 1``, else the fine count).

    A supply path (``price.supply``, one value a time node) is taken at every ``nt_divisor``-th node when
    the companion's nodes are a subset of the fine ones, else the companion has no price.
    """
    cfg = copy.deepcopy(dict(config))
    g = cfg["grid"]
    nt = g["nt"]
    if nx is not None:
        g["nx"] = int(nx)
    elif halve_nx:
        g["nx"] = max(3, (g["nx"] - 1) // 2 + 1)
    g["nt"] = max(1, int(round(nt / nt_divisor)))
    supply = (cfg.get("price") or {}).get("supply")
    if isinstance(supply, (list, tuple)):
        if nt_divisor * g["nt"] == nt:
            cfg["price"]["supply"] = list(supply[::nt_divisor])
        else:
            cfg["price"] = {**cfg["price"], "enabled": False, "supply": 0.0}
    return cfg


def companion_nodes(q: np.ndarray) -> np.ndarray:
    """Every other node of ``q`` (and the last one when ``nx`` is even): the space companion's nested grid."""
    coarse = q[::2]
    return coarse if coarse[-1] == q[-1] else np.append(coarse, q[-1])


def _finite(*values) -> bool:
    return all(v is not None and math.isfinite(v) for v in values)


def _scales(e_fine: float, e_coarse: float, ratio: float) -> bool:
    """``E`` grew by the spacing ratio between two levels (the law upwind wherever it is), within ``SCALING_TOLERANCE``."""
    return e_fine > 0.0 and abs(e_coarse / (e_fine * ratio) - 1.0) <= SCALING_TOLERANCE


def fitted_order(d1: float, d2: float, s1: float, s2: float) -> float:
    """The order ``p`` of ``d_k = C (s_k^p - 1)`` within ``ORDER_RANGE``: ``d_k`` the companions' differences from
    the fine nodes (same steps), ``s_k`` their spacing ratios (``1 < s1 < s2``). ``(s2^p - 1)/(s1^p - 1)`` grows
    with ``p``; a ratio below the range (differences of opposite signs, noise) gives its low end."""
    lo, hi = ORDER_RANGE

    def growth(p):
        return (s2 ** p - 1.0) / (s1 ** p - 1.0)

    if d1 == 0.0 or not d2 / d1 > growth(lo):
        return lo
    if d2 / d1 >= growth(hi):
        return hi
    for _ in range(60):
        mid = 0.5 * (lo + hi)
        lo, hi = (mid, hi) if growth(mid) < d2 / d1 else (lo, mid)
    return 0.5 * (lo + hi)


def order_fit_error(o_t, o_x, o_xx, s1: float, s2: float, order: float | None = None) -> float:
    """The fine nodes' spatial error from the two space companions (module docstring, *space*).

    ``o_t``, ``o_x``, ``o_xx``: the outcome on the fine nodes and the companions' (spacing ratios ``s1 < s2``), all
    at ``nt_T`` steps. The order ``p`` (:func:`fitted_order`, or ``order`` when given) gives two estimates
    ``|d_k| / (s_k^p - 1)``; their mean (they are equal when ``p`` is inside the range). Without ``o_xx``, first
    order: ``|d1| / (s1 - 1)``.
    """
    d1 = o_x - o_t
    if not _finite(o_xx):
        return abs(d1) / (s1 - 1.0)
    d2 = o_xx - o_t
    p = fitted_order(d1, d2, s1, s2) if order is None else order
    return 0.5 * (abs(d1) / (s1 ** p - 1.0) + abs(d2) / (s2 ** p - 1.0))


def refined_error(o_t, o_r) -> float:
    """The fine grid's spatial error from the finer graded companion (``REFINED_FACTOR`` times the cells, same
    steps ``nt_T``) at the scheme's guaranteed order 1: ``|O_X+ - O_T| / (1 - 1 / REFINED_FACTOR)``."""
    return abs(o_r - o_t) / (1.0 - 1.0 / REFINED_FACTOR)


def first_order_bracket(o_t, o_x, o_xx, s1: float, s2: float) -> tuple[float, float] | None:
    """``(correction, error)`` of a mean-path outcome's spatial error bracketed by its first-order prediction, or
    None where the companions' sequence is not first order (module docstring, *the mean-path outcomes*).

    ``o_t``, ``o_x``, ``o_xx``: the outcome on the fine nodes and the two space companions (spacing ratios
    ``s1 < s2``), all at ``nt_T`` steps. The sequence is first order when both first-order predictions
    ``c_k = d_k / (s_k - 1)`` (``d_k = O_{X_k} - O_T``) have the same sign and agree within
    ``BRACKET_AGREEMENT`` of their mean, the nearer companion's not the smaller (``|c1| >= |c2|``: the
    coefficient ``e(h) / h`` does not grow toward the fine level; the order fit then sits at its low end, 1).
    The fine grid's error then lies between 0 and ``e1 = (c1 + c2) / 2``: it keeps its sign and its coefficient
    falls further as the upwind cells where the law is turn central. Correction ``e1 / 2`` (the bracket's
    midpoint), error ``|e1| / 2``.
    """
    if not _finite(o_xx):
        return None
    d1, d2 = o_x - o_t, o_xx - o_t
    if d1 == 0.0 or d2 == 0.0 or (d1 > 0.0) != (d2 > 0.0):
        return None
    c1, c2 = d1 / (s1 - 1.0), d2 / (s2 - 1.0)
    e1 = 0.5 * (c1 + c2)
    if not 0.0 <= abs(c1) - abs(c2) <= BRACKET_AGREEMENT * abs(e1):
        return None
    return 0.5 * e1, 0.5 * abs(e1)


def space_extrapolation(o_t, o_x, o_xx, *, excess: Mapping[str, float], spacing: tuple[float, float] = (2.0, 4.0),
                        reaching: Mapping[str, float] | None = None, share: bool = False) -> tuple[float, float, bool]:
    """``(correction, error, extrapolated)`` of one outcome's spatial error (module docstring, *space*).

    ``o_t``, ``o_x``, ``o_xx``: the outcome on the fine nodes and the two space companions (spacing ratios
    ``spacing = (s1, s2)``), all at ``nt_T`` steps; ``excess``: their numerical diffusions ``time_half``,
    ``space``, ``space_coarse`` and the fine solve's ``fine`` (:func:`mfg_finance.mfg.hjb.excess_diffusion`). The
    fine value's spatial error is ``c1 E_h`` with ``c1 = (O_X - O_T) / (E_X - E_T)``; the next level's slope
    ``c2`` gives its remainder ``|c2 - c1| E_h`` (the slope's uncertainty; for an error quadratic in ``E`` it is
    1.5 times the quadratic term's remainder ``|c2 - c1| E_h (E_X + E_T - E_h) / (E_XX - E_T)``).
    Extrapolated (``O_h - c1 E_h``) when the law is upwind wherever it is (``E`` grows with the spacing at both
    levels, ``SCALING_TOLERANCE``) and that remainder is below the correction itself; else no correction and the
    error of the order fit (:func:`order_fit_error`), or with ``share`` (the multi-type estimate, on nested
    companions) the fine grid's share of the first difference, ``|O_X - O_T| min(1, E_h / (E_X - E_T))``.

    ``reaching`` (the terminal std): the same diffusions weighted by what of them reaches ``T``
    (:func:`surviving_fraction`); they must scale too.
    """
    s1, s2 = spacing
    e_h, e_t, e_x = excess["fine"], excess["time_half"], excess["space"]
    e_xx = excess.get("space_coarse")
    gate = reaching or excess
    if e_x > e_t and _finite(o_xx, e_xx) and _scales(e_t, e_x, s1) and _scales(e_x, e_xx, s2 / s1) and \
            _scales(gate["time_half"], gate["space"], s1) and _scales(gate["space"], gate["space_coarse"], s2 / s1):
        slope = (o_x - o_t) / (e_x - e_t)
        first = slope * e_h
        slope2 = (o_xx - o_x) / (e_xx - e_x)
        # the slope's change between the levels, over the fine grid's E: the measured sequences are not quadratic
        # in E (set 3's speed: a quadratic's remainder, 2/3 of this, was 0.28 of the error left)
        remainder = abs(slope2 - slope) * e_h
        if remainder <= abs(first):
            return first, remainder, True
    if share:
        if not gate["space"] > gate["time_half"]:
            return 0.0, abs(o_x - o_t), False
        return 0.0, abs(o_x - o_t) * min(1.0, gate["fine"] / (gate["space"] - gate["time_half"])), False
    return 0.0, order_fit_error(o_t, o_x, o_xx, s1, s2), False


def terminal_variance_extrapolation(std: Mapping[str, float | None], reaching: Mapping[str, float], *,
                                    ratio: float, ratio2: float) -> tuple[float, float] | None:
    """``(value, error)`` of a transport-dominated law's terminal std, extrapolated in its variance; None when the
    sequence does not allow it (module docstring, *terminal std*).

    ``std``: the grid's terminal std on the fine nodes at ``nt``, ``nt_T``, ``nt_T2`` steps (``fine``,
    ``time_half``, ``time_quarter``), on every other node at ``nt`` and ``nt_T`` (``space_fine``, ``space``)
    and on every fourth at ``nt_T`` (``space_coarse``); ``reaching``: the same solves' numerical diffusion weighted
    by what of it reaches ``T`` (:func:`surviving_fraction`). Both levels are extrapolated in time
    (``R = O_h + (O_h - O_T) / (r - 1)``, likewise ``E``); the terminal variance is linear in what reaches ``T``,
    ``R^2 = V + c E_R``, with the slope ``c`` between the two levels at the fine step (at ``nt_T`` more transport
    variance survives and the slope differs: set 3, 0.92 against 0.69). Error: the time remainder ``|R - R2| /
    (r^2 - 1)`` plus the slope's change to the next level at ``nt_T``, ``|c2 - c1| E_R / (2 sqrt V)``.
    """
    keys = ("fine", "time_half", "time_quarter", "space_fine", "space", "space_coarse")
    if not all(_finite(std.get(k), reaching.get(k)) for k in keys if k != "time_quarter") or \
            not _finite(std.get("time_quarter")):
        return None
    r = ratio
    r_fine = std["fine"] + (std["fine"] - std["time_half"]) / (r - 1.0)
    r_space = std["space_fine"] + (std["space_fine"] - std["space"]) / (r - 1.0)
    e_fine = reaching["fine"] + (reaching["fine"] - reaching["time_half"]) / (r - 1.0)
    e_space = reaching["space_fine"] + (reaching["space_fine"] - reaching["space"]) / (r - 1.0)
    if not e_space > e_fine > 0.0:
        return None
    slope = (r_space ** 2 - r_fine ** 2) / (e_space - e_fine)
    variance = r_fine ** 2 - slope * e_fine
    if not variance > 0.0:
        return None
    # the slope's change between the levels, measured at nt_T where all three levels were solved
    at_half = [reaching[k] for k in ("time_half", "space", "space_coarse")]
    if not at_half[2] > at_half[1] > at_half[0]:
        return None
    c1 = (std["space"] ** 2 - std["time_half"] ** 2) / (at_half[1] - at_half[0])
    c2 = (std["space_coarse"] ** 2 - std["space"] ** 2) / (at_half[2] - at_half[1])
    value = math.sqrt(variance)
    r2 = std["time_half"] + (std["time_half"] - std["time_quarter"]) / (ratio2 - 1.0)
    error = abs(r_fine - r2) / (r * r - 1.0) + abs(c2 - c1) * e_fine / (2.0 * value)
    return value, error


@dataclass(frozen=True)
class SpaceRules:
    """How :func:`combine` takes each outcome's spatial error from the space companions (defaults: the order fit).

    ``spacing``: the space companions' spacing ratios to the fine nodes; ``space_coarse``: the second space
    companion's outcomes. The rules, per outcome (:meth:`error`):

    * with ``excess`` (the four numerical diffusions of :func:`space_extrapolation`) the spatial error is
      extrapolated away where the sequence is asymptotic (``reaching`` gives an outcome the diffusions that reach
      it: the terminal std, weighted by what reaches ``T``; ``share`` as in :func:`space_extrapolation`);
      otherwise it is estimated by the order fit (:func:`order_fit_error`; ``first_order``: outcomes whose fit
      takes ``p = 1``, :func:`initial_outcomes`);
    * ``space_errors``: outcomes whose spatial error is known from the fine solve itself (the cost's residual,
      :mod:`mfg_finance.mfg.cost_residual`), used instead of the order fit or the share wherever the outcome is
      not extrapolated in space;
    * ``bracketed``: outcomes whose spatial error is taken at the midpoint of its first-order bracket where the
      companions' sequence is first order (:func:`first_order_bracket`; graded companions only, i.e. without
      ``excess``), else the order fit;
    * ``refined``: the finer graded companion's outcomes (``REFINED_FACTOR`` times the cells, ``nt_T`` steps);
      its first-order estimate :func:`refined_error` is a floor under the order fit's (not for ``space_errors``,
      nor where the outcome is corrected in space).
    """

    spacing: tuple[float, float] = (2.0, 4.0)
    space_coarse: Mapping[str, float | None] | None = None
    excess: Mapping[str, float] | None = None
    reaching: Mapping[str, Mapping[str, float]] | None = None
    share: bool = False
    first_order: tuple[str, ...] | frozenset = ()
    space_errors: Mapping[str, float] | None = None
    bracketed: tuple[str, ...] | frozenset = ()
    refined: Mapping[str, float | None] | None = None

    def error(self, key: str, o_t: float, o_x: float) -> tuple[float, float | None, bool]:
        """``(correction, e_x, in_space)`` of outcome ``key`` from its value at ``nt_T`` steps on the fine nodes
        (``o_t``) and on the space companion's (``o_x``): the correction to subtract from the fine value, its
        spatial error (None: not estimated) and whether the correction extrapolates it in space."""
        coarse = (self.space_coarse or {}).get(key)
        known = self.space_errors or {}
        correction, e_x, in_space = 0.0, None, False
        if self.excess is None:     # (no diffusions: the space companions are not nested, E is not comparable)
            e_x = order_fit_error(o_t, o_x, coarse, *self.spacing,
                                  order=ORDER_RANGE[0] if key in self.first_order else None)
        else:
            correction, e_x, in_space = space_extrapolation(o_t, o_x, coarse, excess=self.excess,
                                                            spacing=self.spacing,
                                                            reaching=(self.reaching or {}).get(key), share=self.share)
        if not in_space and key in known:
            e_x = known[key]
        elif self.excess is None and key in self.bracketed:
            bracket = first_order_bracket(o_t, o_x, coarse, *self.spacing)
            if bracket is not None:
                correction, e_x = bracket
                in_space = True
        o_r = (self.refined or {}).get(key)
        if not in_space and key not in known and e_x is not None and _finite(o_r):
            # the finer companion's first-order estimate |O_X+ - O_T| / (1 - 1/2): what no coarser one shows
            e_x = max(e_x, refined_error(o_t, o_r))
        return correction, e_x, in_space


def combine(fine: Mapping[str, float | None], time_half: Mapping[str, float | None],
            time_quarter: Mapping[str, float | None], space: Mapping[str, float | None], *,
            ratio: float, ratio2: float, rules: SpaceRules = SpaceRules()) -> dict[str, dict[str, Any]]:
    """Per outcome: ``{"value", "error", "extrapolated", "space_extrapolated"}`` from the companion solves.

    ``ratio = nt / nt_T``, ``ratio2 = nt_T / nt_T2``. Time: Richardson extrapolation where the sequence is
    asymptotic (module docstring); space: ``rules`` (:class:`SpaceRules`). An outcome missing (None/NaN) in the
    fine solve keeps its value with no error; missing in a companion, it is reported unextrapolated with no error
    (and :func:`flag_unresolved` marks it).
    """
    out: dict[str, dict[str, Any]] = {}
    for key, o_h in fine.items():
        o_t, o_t2, o_x = time_half.get(key), time_quarter.get(key), space.get(key)
        if not _finite(o_h, o_t):
            out[key] = {"value": o_h, "error": None, "extrapolated": False, "space_extrapolated": False}
            continue
        first = (o_h - o_t) / (ratio - 1.0)              # the fine value's first-order time error
        correction, e_x, in_space = rules.error(key, o_t, o_x) if _finite(o_x) else (0.0, None, False)
        value, err, in_time = o_h, (None if e_x is None else abs(first) + e_x), False
        if _finite(o_t2):
            r = o_h + first
            r2 = o_t + (o_t - o_t2) / (ratio2 - 1.0)
            if abs(r - r2) <= abs(o_h - o_t):
                value, in_time = r, True
                err = None if e_x is None else abs(r - r2) / (ratio * ratio - 1.0) + e_x
        out[key] = {"value": value - correction, "error": err, "extrapolated": in_time,
                    "space_extrapolated": in_space}
    return out


def flag_unresolved(values: Mapping[str, float | None], errors: dict[str, float | None], *,
                    terminal_std_cells: float, layer_resolved: bool) -> list[str]:
    """Keys of the outcomes the grid does not resolve (module docstring); widens their ``errors`` in place.

    ``terminal_std_cells``: the terminal std over the spacing where the terminal law sits."""
    unresolved = []
    for key, est in errors.items():
        # a value a companion cannot even compute (e.g. the speed of a terminal mean that overshoots zero
        # there): not resolved, and as uncertain as itself
        if est is None and _finite(values.get(key)):
            errors[key] = abs(values[key])
            unresolved.append(key)
    if not layer_resolved:
        return [k for k, v in errors.items() if v is not None]
    for key, est in errors.items():
        value = values.get(key)
        if key in unresolved:
            continue
        if key == "terminal_dispersion" and terminal_std_cells < RESOLVED_CELLS:
            unresolved.append(key)
            if est is not None and _finite(value):
                errors[key] = max(est, abs(value))
        elif est is not None and _finite(value) and est >= UNRESOLVED_RELATIVE * abs(value) > 0.0:
            unresolved.append(key)
    # the speed is -ln(Q_T / Q_0) / T: unresolved with Q_T, and as uncertain as ln Q_T
    if "mean_inventory_terminal" in unresolved and "liquidation_speed" in errors and \
            "liquidation_speed" not in unresolved and errors["liquidation_speed"] is not None:
        unresolved.append("liquidation_speed")
        q_t, horizon = values.get("mean_inventory_terminal"), values.get("_horizon")
        est_q, speed = errors["mean_inventory_terminal"], values.get("liquidation_speed")
        if _finite(q_t, horizon, est_q) and q_t != 0.0:
            if est_q > abs(q_t) and _finite(speed):
                # not even the order of magnitude of Q_T is known (e.g. below round-off): nor the speed
                errors["liquidation_speed"] = max(errors["liquidation_speed"], abs(speed))
            else:
                spread = math.log1p(est_q / abs(q_t)) / horizon
                errors["liquidation_speed"] = max(errors["liquidation_speed"], spread)
    return unresolved


def initial_outcomes(eta: np.ndarray) -> frozenset:
    """``{"eta_max"}`` when the cost path peaks at ``t = 0``, else nothing: the outcome read off the grid's first
    step, whose spatial error the order fit takes as first order.

    Why (docs/mfg.md, section 11, *initial outcomes*): ``eta^0 = eta0 + eta1 |m^0|`` with the grid's flow
    ``m^0 = <alpha^0, p^1>``, the feedback after the whole backward sweep on the initial law; the graded 201-node
    mesh leaves that feedback non-linear in ``q`` by up to 4 % where the law is (corner ``phi = 0.5``: ``m^0``
    +0.78 % at ``nt -> inf``, 0.00 % on 401 nodes), and the coarser companions' differences grow faster than the
    first order (fitted ``p`` 1.2-1.9) because their own feedback deteriorates faster, not because the fine grid
    converges faster: the fit gave 0.19 % for the 0.78 %. The scheme's guaranteed order, 1, does not assume the
    rate. (The outcomes' flows and prices are the mean path's, :meth:`mfg_finance.mfg.solution.MfgSolution.
    end_flows`, which that feedback does not enter: they were taken first order too until then.)
    """
    return frozenset(("eta_max",)) if eta.size and int(np.argmax(eta)) == 0 else frozenset()


def impact_error(errors: Mapping[str, float | None]) -> float | None:
    """The price impact's estimate: at least ``|est(p_0) - est(p_T)|``.

    ``p_T - p_0`` has the error ``e_T - e_0``, and ``|e_T - e_0| >= ||e_T| - |e_0||``: when the two ends'
    estimates hold, the impact's error cannot be smaller than their difference, whatever its own companion
    sequence (which cancels the two ends' errors where it happens to) says.
    """
    own, start, end = (errors.get(k) for k in ("price_impact", "price_initial", "price_terminal"))
    if not _finite(own, start, end):
        return own
    return max(own, abs(start - end))


def _excess(solution, *, terminal: bool = False) -> float:
    """The fine or companion solve's numerical diffusion ``E``; with ``terminal``, each step's share weighted by
    what of its variance survives to ``T`` (:func:`surviving_fraction`): the ``E`` of the terminal std."""
    from mfg_finance.mfg.hjb import excess_diffusion

    weights = surviving_fraction(solution) if terminal else None
    K = solution.exact_steps
    if K:     # the exact steps are crossed by their kernels, not by the chain
        return excess_diffusion(solution.alpha[:-K], solution.masses[:-K], solution.q, solution.time_steps[:-K],
                                solution.config["params"]["sigma"], None if weights is None else weights[:-K])
    return excess_diffusion(solution.alpha, solution.masses, solution.q, solution.time_steps,
                            solution.config["params"]["sigma"], weights)


def surviving_fraction(solution) -> np.ndarray:
    r"""(nt,) the fraction of the variance added on each step that is left at ``T``.

    The law contracts at the rate ``k^n = -cov(q, alpha^n) / var(q)`` under ``p^{n+1}`` (the feedback's slope
    where the mass is; ``alpha = -k q`` in the LQ model), and the implicit step divides the variance by
    ``1 + 2 dt_n k^n``: ``w_n = prod_{m >= n} 1 / (1 + 2 dt_m k^m)``. The terminal std feels the numerical
    diffusion of the terminal layer, not that of the transport long before, which the law forgets.
    """
    p, q, a = solution.masses[1:], solution.q, solution.alpha[:-1]
    mean = p @ q
    centred = q[None, :] - mean[:, None]
    var = np.maximum(np.einsum("ni,ni->n", p, centred * centred), 1e-300)
    slope = np.maximum(-np.einsum("ni,ni->n", p, centred * a) / var, 0.0)
    factor = 1.0 / (1.0 + 2.0 * solution.time_steps * slope)
    return np.cumprod(factor[::-1])[::-1]


def transport_dominated(excess: float, sigma: float, horizon: float) -> bool:
    """The scheme's numerical diffusion ``E`` (variance added by its upwind cells, integrated over the law) exceeds
    the noise's ``sigma^2 T``: the law is upwind wherever it is (measured: 4-240 on the ``sigma = 0.02`` check sets,
    at most 0.43 on the stiff baseline and the sweep corners down to 61 x 40)."""
    return excess > TRANSPORT_EXCESS * sigma * sigma * horizon


def companion_plan(config: Mapping[str, Any], q: np.ndarray, make: Callable[..., dict] = companion_config, *,
                   nested: bool = False) -> tuple[dict[str, dict], dict[str, np.ndarray | None], dict, np.ndarray | None]:
    """The companions' configs and nodes: ``time_half`` (nt/2) and ``time_quarter`` (nt/4) on the fine nodes,
    ``space`` and ``space_coarse`` (both nt/2; the latter returned apart as it is optional). On a graded inventory
    mesh the space companions have ``SPACE_FRACTIONS`` of the fine cells on meshes built by the same rule from
    their config (nodes ``None``: the solver builds them), not subsets of the fine nodes (docs/mfg.md, section 11:
    the order fit on every other and every fourth node missed more often); on a uniform mesh, or with ``nested`` (a
    transport-dominated law, :func:`transport_dominated`, whose spatial error is extrapolated on the numerical
    diffusion of merged cells), every other and every fourth node. ``make`` builds a companion config (``companion_config`` or a multi-type equivalent,
    keywords ``nt_divisor``, ``halve_nx`` and ``nx``)."""
    configs = {"time_half": make(config, nt_divisor=2, halve_nx=False),
               "time_quarter": make(config, nt_divisor=4, halve_nx=False)}
    nodes: dict[str, np.ndarray | None] = {"time_half": q, "time_quarter": q}
    cells = q.size - 1
    counts = [max(3, int(round(f * cells)) + 1) for f in SPACE_FRACTIONS]
    # (a mesh too small to have two coarser ones, nx < 6: the nested companions)
    if not nested and config["grid"].get("inventory_mesh", "uniform") == "graded" and q.size > counts[0] > counts[1]:
        configs["space"] = make(config, nt_divisor=2, halve_nx=False, nx=counts[0])
        nodes["space"] = None
        return configs, nodes, make(config, nt_divisor=2, halve_nx=False, nx=counts[1]), None
    configs["space"] = make(config, nt_divisor=2, halve_nx=True)
    nodes["space"] = companion_nodes(q)
    return configs, nodes, make(configs["space"], nt_divisor=1, halve_nx=True), companion_nodes(nodes["space"])


def spacing_ratios(fine_nx: int, space_nx: int, coarse_nx: int) -> tuple[float, float]:
    """The space companions' nominal spacing over the fine one's, ``(nx - 1) / (nx_c - 1)``."""
    return (fine_nx - 1) / (space_nx - 1), (fine_nx - 1) / (coarse_nx - 1)


def accuracy_of(solution, solve: Callable[..., Any]) -> dict[str, Any]:
    """Solve the companions and return the ``accuracy`` record of ``solution``.

    ``{"method": "richardson-time+space-companion", "companions": {...}, "ratio", "outcomes" (reported),
    "outcome_errors", "extrapolated" (in time), "space_extrapolated", "unresolved", "terminal_std_cells",
    "terminal_layer_resolved", "grid_outcomes" (the fine solve's own)}``; when a companion of the first three
    cannot be solved (e.g. the initial law is narrower than its cells), ``outcome_errors`` holds ``None`` for
    every key, the outcomes are the fine solve's, every one of them is ``unresolved`` and ``error`` says why; when only ``space_coarse`` cannot,
    nothing is extrapolated in space (``space_coarse_error`` says why); when the finer graded companion
    (``space_refined``) cannot, the order fit stands alone (``space_refined_error`` says why).
    """
    fine = solution.grid_outcomes()
    nt = solution.t.size - 1
    p = solution.config["params"]
    horizon = float(solution.t[-1] - solution.t[0])
    nested = transport_dominated(_excess(solution), p["sigma"], horizon)
    configs, nodes, coarse_config, coarse_nodes = companion_plan(solution.config, solution.q, nested=nested)
    layer = p["eta0"] / p["gamma_T"] if p["gamma_T"] > 0 else math.inf
    at_end = solution.spacing_at(solution.mean_inventory[-1])
    record: dict[str, Any] = {
        "method": "richardson-time+space-companion",
        "companions": {k: {"nx": c["grid"]["nx"], "nt": c["grid"]["nt"]} for k, c in configs.items()},
        "terminal_std_cells": solution.terminal_dispersion / at_end,
        # an exact last interval holds the whole layer below its step (mfg.terminal_interval)
        "terminal_layer_resolved": bool(solution.exact_last_interval or float(solution.time_steps[-1]) <= layer),
        "grid_outcomes": fine,
        "space_companions": "nested" if nodes["space"] is not None else "graded"}
    record["companions"]["space_coarse"] = {"nx": coarse_config["grid"]["nx"], "nt": coarse_config["grid"]["nt"]}
    if nested:
        record["companions"]["space_fine"] = {"nx": configs["space"]["grid"]["nx"], "nt": nt}
    elif nodes["space"] is None:      # graded companions: one finer too (REFINED_FACTOR the cells, at nt_T)
        refined_config = companion_config(solution.config, nt_divisor=2, halve_nx=False,
                                          nx=REFINED_FACTOR * (solution.q.size - 1) + 1)
        record["companions"]["space_refined"] = {"nx": refined_config["grid"]["nx"],
                                                 "nt": refined_config["grid"]["nt"]}
    spacing = spacing_ratios(solution.q.size, configs["space"]["grid"]["nx"], coarse_config["grid"]["nx"])
    record["spacing"] = list(spacing)
    companions = {}
    # the fine grid's time-mesh layer: every companion mesh keeps its grading law (nested steps)
    layer = mesh_layer(p, float(solution.t[-1]), solution.q)
    try:
        for name, cfg in configs.items():
            # each from its own first guess (initial_eta): fewer sweeps than from the fine cost path (measured,
            # docs/mfg.md section 11)
            companions[name] = solve(cfg, estimate_errors=False, nodes=nodes[name], time_layer=layer)
    except (ConfigError, MfgConvergenceError, MfgDomainError) as exc:
        # no estimate: every outcome the grid computes is unresolved, and `error` says why (an outcome without an
        # estimate is never reported as if resolved)
        unresolved = [k for k, v in fine.items() if _finite(v)]
        record.update(ratio=None, outcomes=dict(fine), outcome_errors={k: None for k in fine}, extrapolated=[],
                      space_extrapolated=[], unresolved=unresolved,
                      error=f"no companion solve ({name}): {exc}; every outcome unresolved (no error estimate)",
                      companion_outcomes=None)
        return record
    coarse_error = None
    try:      # every fourth node: only for the spatial extrapolation, which is skipped without it
        companions["space_coarse"] = solve(coarse_config, estimate_errors=False, nodes=coarse_nodes, time_layer=layer)
    except (ConfigError, MfgConvergenceError, MfgDomainError) as exc:
        coarse_error = f"no companion solve (space_coarse): {exc}"
    if nested and coarse_error is None:
        try:      # every other node at the fine step: the terminal std's slope in its variance
            companions["space_fine"] = solve(companion_config(solution.config, nt_divisor=1), estimate_errors=False,
                                             nodes=nodes["space"], time_layer=layer)
        except (ConfigError, MfgConvergenceError, MfgDomainError):
            pass      # (then the terminal std keeps the extrapolation on the diffusion at nt_T)
    refined_error_message = None
    if "space_refined" in record["companions"]:
        try:      # twice the cells by the mesh rule, at nt_T: the order fit's check from above
            companions["space_refined"] = solve(refined_config, estimate_errors=False, time_layer=layer)
        except (ConfigError, MfgConvergenceError, MfgDomainError) as exc:
            refined_error_message = f"no companion solve (space_refined): {exc}"
    spatial = {"fine": solution, **{name: c for name, c in companions.items()
                                    if name not in ("time_quarter", "space_refined")}}
    excess = {name: _excess(c) for name, c in spatial.items()}
    terminal_excess = {name: _excess(c, terminal=True) for name, c in spatial.items()}
    ratio = nt / (companions["time_half"].t.size - 1)
    ratio2 = (companions["time_half"].t.size - 1) / (companions["time_quarter"].t.size - 1)
    outs = {name: s.grid_outcomes() for name, s in companions.items()}
    rules = SpaceRules(spacing=spacing, space_coarse=outs.get("space_coarse"), excess=excess if nested else None,
                       reaching={"terminal_dispersion": terminal_excess},
                       first_order=initial_outcomes(np.asarray(solution.eta)),
                       # the cost's spatial error from the fine solve's own residual, not the companions'
                       # sequence (docs/mfg.md section 11, *The cost's spatial error*)
                       space_errors={"total_cost": abs(cost_spatial_error(solution))},
                       bracketed=MEAN_PATH_BRACKETED, refined=outs.get("space_refined"))
    combined = combine(fine, outs["time_half"], outs["time_quarter"], outs["space"], ratio=ratio, ratio2=ratio2,
                       rules=rules)
    key = "terminal_dispersion"
    if "space_fine" in companions and key in combined and combined[key]["space_extrapolated"] and \
            combined[key]["extrapolated"]:
        std = {name: outs[name].get(key) for name in outs}
        std["fine"] = fine.get(key)
        in_variance = terminal_variance_extrapolation(std, {**terminal_excess,
                                                            "time_quarter": _excess(companions["time_quarter"],
                                                                                    terminal=True)},
                                                      ratio=ratio, ratio2=ratio2)
        if in_variance is not None:
            combined[key] = {**combined[key], "value": in_variance[0], "error": in_variance[1]}
    values = {k: c["value"] for k, c in combined.items()}
    errors = {k: c["error"] for k, c in combined.items()}
    # Q_T from the mean path (mfg.mean_path): its error is linear in ln Q_T, i.e. in the speed, whose extrapolation
    # and estimate it takes; where in its cell the density's mass sits no longer matters (no cell rule for Q_T)
    terminal_mean_from_speed(values, errors, horizon)
    held = held_cost_path_errors(solution)      # the graded mesh's exact interval: in no companion's difference
    for key, extra in held.items():
        if errors.get(key) is not None:
            errors[key] += extra
    record["held_cost_path"] = held
    if "price_impact" in errors:
        errors["price_impact"] = impact_error(errors)
    unresolved = flag_unresolved({**values, "_horizon": horizon}, errors,
                                 terminal_std_cells=record["terminal_std_cells"],
                                 layer_resolved=record["terminal_layer_resolved"])
    record.update(ratio=ratio, excess_diffusion={**excess, "terminal": terminal_excess}, outcomes=values, outcome_errors=errors,
                  extrapolated=[k for k, c in combined.items() if c["extrapolated"]],
                  space_extrapolated=[k for k, c in combined.items() if c["space_extrapolated"]],
                  unresolved=unresolved, error=None, space_coarse_error=coarse_error, companion_outcomes=outs,
                  space_refined_error=refined_error_message)
    return record
