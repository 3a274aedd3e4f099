r"""The crowd's mean inventory path from the equilibrium cost path, with relative accuracy at any size.

In this model (docs/mfg.md, section 1) the value is quadratic and even in ``q``, ``u = h2(t) q^2 + h0(t)``,
whatever the law does: the running and terminal costs are ``phi q^2`` and ``gamma_T q^2`` and the crowd enters
the agents' problem only through the cost path ``eta(t)``. Hence, with the cost path given (time in trading
days, inventory in inventory units)::

    h2' = h2^2 / eta - phi,   h2(T) = gamma_T,          d ln Q / dt = -h2 / eta,

and ``Q_T / Q_0 = exp(-int_0^T h2 / eta dt)`` (the mean of the law the linear feedback ``-h2 q / eta`` moves;
the noise does not move it). Over each of the solver's steps the cost is one number, ``eta^n`` (the value the
implicit step used on ``[t_n, t_{n+1})``), and the pair is then solved in closed form, exactly as the exact last
interval does (:func:`mfg_finance.mfg.terminal_interval.terminal_interval` with ``gamma_T`` replaced by the
curvature ``H^{n+1}`` at the step's end)::

    H^n = H(dt_n; eta^n, phi, H^{n+1}),   H^N = gamma_T,        Q^{n+1} / Q^n = r(dt_n; eta^n, phi, H^{n+1}),

accumulated as ``ln(Q^n / Q^0)``: products of positive factors, so the *relative* error of ``Q_T`` is the error
of ``int h2 / eta``, i.e. that of the cost path (first order in the steps for ``eta1 > 0``, through ``eta^n``
held over a step; none for ``eta1 = 0``), and never the density's absolute accuracy. The density's own mean
``sum_i q_i mu_i w_i`` carries the scheme's first-order time error in the exponent (backward Euler's
``1 / (1 + k dt)`` against ``exp(-k dt)``, ``k dt`` up to 3 on the calibrated problems) and, once ``Q_T`` is
below a cell, where in its cell the mass sits: +80 % to +1e6 % at ``Q_T / Q_0 = e^-12 ... e^-39``
(docs/mfg.md, section 11, *The mean path*).

Validity: the law held by the domain (:class:`~mfg_finance.errors.MfgDomainError` otherwise: a reflecting end
would move the mean by what this path does not see); ``eta^n > 0``. With ``eta1 > 0`` the cost path
``eta0 + eta1 |m|`` has a kink where ``m`` changes sign; the path never does here (``h2 > 0``: ``Q`` keeps its
sign and decays monotonically), so neither the mean nor ``m`` overshoots zero. A law without a position
(``Q_0 = 0``, within round-off of its width) has ``Q = 0``: no speed or half-life (NaN, rendered "—").
"""

from __future__ import annotations

import math

import numpy as np

from mfg_finance.mfg.terminal_interval import terminal_interval


def curvature_and_log_decay(time_steps: np.ndarray, eta: np.ndarray, *, phi: float,
                            gamma_T: float) -> tuple[np.ndarray, np.ndarray]:
    """``(H, ln(Q_n / Q_0))``, each (nt+1,) on the time nodes (module docstring): the value's curvature ``H^n``
    (``H^N = gamma_T``; cost units / inventory units^2) and the mean's log decay.

    ``time_steps`` (nt,) the solver's steps ``dt_n`` (trading days); ``eta`` (nt+1,) or (nt,) the cost path,
    ``eta[n]`` held on step ``n`` (cost units x trading day / inventory units^2); ``phi``, ``gamma_T`` the
    running and terminal inventory penalties.
    """
    dts = np.asarray(time_steps, dtype=float)
    eta = np.asarray(eta, dtype=float)
    if not np.all(eta[:dts.size] > 0.0):
        raise ValueError("mean_path.curvature_and_log_decay: the cost path eta must be positive on every step")
    steps = np.empty(dts.size)
    curvature = np.empty(dts.size + 1)
    curvature[-1] = float(gamma_T)
    for n in range(dts.size - 1, -1, -1):
        interval = terminal_interval(dts[n], eta=float(eta[n]), phi=float(phi), sigma=0.0,
                                     gamma_T=float(curvature[n + 1]))
        curvature[n] = interval.H
        steps[n] = math.log(interval.r)
    return curvature, np.concatenate(([0.0], np.cumsum(steps)))


def end_flows(mean_initial: float, curvature_initial: float, log_ratio_terminal: float, *, gamma_T: float,
              eta1: float, floor: tuple[float, float]) -> tuple[float, float]:
    r"""``(m_0, m_T)``: the crowd's mean flow at ``t = 0`` and at ``T`` on the mean path (inventory units / day).

    The flow of the linear feedback ``-H q / eta`` on the law of mean ``Q`` is ``m = -H Q / eta``, at the ends
    ``-H^0 Q_0 / eta_0`` and ``-gamma_T Q_T / eta_T``, with ``H^0`` (``curvature_initial``) and
    ``Q_T = Q_0 exp(log_ratio_terminal)`` from the cost path (:func:`curvature_and_log_decay`) and the cost at each end the model's ``eta = f + eta1 |m|`` for that very
    flow (``f``: ``floor``, the cost's exogenous part there, ``eta0`` plus any offset)::

        eta = (f + sqrt(f^2 + 4 eta1 |H Q|)) / 2,        m = -H Q / eta .

    Why not the grid's flows: ``m^n = <alpha^n, mu^{n+1}>`` is the flow that carries the mean over step ``n``
    (its average over the step, first order off the flow at ``t_n``), through a feedback that is not linear in
    ``q`` on upwind cells, and ``m^N`` is taken on the density's own ``Q_T``; they were -3.4 ... -6 % off in the
    price impact at the default grid, the closed form here -0.05 ... +0.4 % (docs/mfg.md, section 11,
    *The price impact*). Like the mean path, its relative accuracy is that of the cost path (exact for
    ``eta1 = 0``), and the cost at the ends is the model's for the path's flow, not the grid's (whose own flow
    sets it). Units: ``mean_initial`` inventory units, ``curvature_initial`` and ``gamma_T`` cost units /
    inventory units^2, ``floor`` cost units x trading day / inventory units^2, ``eta1`` as in the config.
    """

    def flow(h: float, q: float, f: float) -> float:
        drive = h * q
        if drive == 0.0:
            return 0.0
        return -drive / end_cost(f, eta1, drive)

    q_terminal = float(mean_initial) * math.exp(float(log_ratio_terminal))
    return flow(float(curvature_initial), float(mean_initial), floor[0]), flow(float(gamma_T), q_terminal, floor[1])


def end_cost(floor: float, eta1: float, drive: float) -> float:
    """The model's cost ``eta = (f + sqrt(f^2 + 4 eta1 |H Q|)) / 2`` at an end for the crowd's drive ``H Q`` (its
    flow is ``-H Q / eta``; :func:`end_flows`): ``floor`` the cost's exogenous part ``f`` there."""
    return 0.5 * (floor + math.sqrt(floor * floor + 4.0 * eta1 * abs(drive)))


def terminal_mean_from_speed(values: dict, errors: dict, horizon: float) -> None:
    """Report ``Q_T = Q_0 exp(-T speed)`` from the (time-extrapolated) speed and its error, in place.

    The speed is ``-ln(Q_T / Q_0) / T``: extrapolating it extrapolates ``ln Q_T``, in which the mean path's error is
    linear (module docstring), while ``Q_T`` itself is its exponential (first-order errors of 7-20 % in ``Q_T`` at
    the default grid, where ``Q_T`` extrapolated linearly keeps a few % of bias). Error:
    ``|Q_T| (exp(T est(speed)) - 1)``. Nothing changes without a finite speed and estimate.
    """
    speed, q0 = values.get("liquidation_speed"), values.get("mean_inventory_initial")
    est = errors.get("liquidation_speed")
    if speed is None or q0 is None or not (math.isfinite(speed) and math.isfinite(q0)) or q0 == 0.0:
        return
    values["mean_inventory_terminal"] = q0 * math.exp(-horizon * speed)
    if est is not None and math.isfinite(est):
        errors["mean_inventory_terminal"] = abs(values["mean_inventory_terminal"]) * math.expm1(horizon * est)
