r"""The error of the cost path held over the graded time mesh's exact last interval, which no companion sees.

Why. The exact last interval (:mod:`mfg_finance.mfg.terminal_interval`) holds the crowd's cost ``eta^{N-1}`` over
``[t_{N-1}, T]``, as every implicit step holds its own. On a graded time mesh that interval is the whole distance below
the mesh's grading scale (:func:`mfg_finance.mfg.grid.mesh_layer`): ``1e-4 T``, or, on nodes too coarse for the
terminal law, ``10 h0^2 / sigma^2`` (0.1 day on ``[-5, 5]``'s 201 uniform nodes, 0.04 on the automatic range). Its
length is set by the layer or the nodes, not by ``nt``, so the time companions (same scale) and the space companions
(same steps) all hold the same ``eta`` over it, and the error it makes with ``eta1 > 0`` is in none of their
differences. Measured (stiff baseline, ``eta1 = 1e-3``, graded time, uniform nodes, ``gamma_T = 1e2 ... 1e12``): cost
+0.53 ... +1.17 % on ``[-5, 5]``, +0.07 ... +0.18 % on the automatic range, with estimates 0.004-0.015 of that; the
average ``eta`` -0.14 % (estimate 0.13 of it). A uniform time mesh's exact steps are ``dt`` long and each holds its own
``eta^n``: that error is first order in the steps and in the companions' differences.

The estimate: the interval's exact cost-to-go at the cost the crowd has at its other end, ``eta^N``, against the one
at the held ``eta^{N-1}``, on the law at ``t_{N-1}``::

    e_J = |<p^{N-1}, u(d; eta^N) - u(d; eta^{N-1})>|,        e_eta = d |eta^N - eta^{N-1}| / (2 T),

(``u(d; eta) = H q^2 + C`` of :func:`mfg_finance.mfg.terminal_interval.terminal_interval`; ``e_eta`` the average
``eta``'s share of the swing over the interval): 1.04-1.34 times the cost's error on the cases above, 0.97 times the
average ``eta``'s on ``[-5, 5]``. They are added to the companions' estimates.
"""

from __future__ import annotations

from mfg_finance.mfg.terminal_interval import terminal_interval


def held_cost_path_errors(solution) -> dict[str, float]:
    """``{"total_cost": e_J, "eta_mean": e_eta}`` (cost units; cost units x day / inventory units^2) for a solution on a
    graded time mesh with an exact last interval (module docstring); ``{}`` otherwise."""
    if not solution.exact_last_interval or solution.config["grid"].get("time_mesh", "uniform") != "graded":
        return {}
    p = solution.config["params"]
    d = float(solution.time_steps[-1])
    held, end = (terminal_interval(d, eta=float(e), phi=p["phi"], sigma=p["sigma"], gamma_T=p["gamma_T"])
                 for e in (solution.eta[-2], solution.eta[-1]))
    cost = abs(float(solution.masses[-2] @ (end.value(solution.q) - held.value(solution.q))))
    horizon = float(solution.t[-1] - solution.t[0])
    return {"total_cost": cost, "eta_mean": d * abs(float(solution.eta[-1] - solution.eta[-2])) / (2.0 * horizon)}
