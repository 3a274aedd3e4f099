"""The equilibrium returned by :func:`mfg_finance.mfg.solve` and the outcomes derived from it.

Units: time in trading days, inventory ``q`` in inventory units (those of the calibration),
order flow in inventory units per trading day, costs in the units of ``eta0 alpha^2`` integrated
over trading days, price in BRL.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np

#: Array fields written to ``solution.npz`` (``price`` only when the price is enabled).
ARRAY_FIELDS = ("t", "q", "u", "density", "alpha", "eta", "mean_flow")


@dataclass(frozen=True, eq=False)
class MfgSolution:
    """A converged MFG equilibrium on the grid.

    Attributes
    ----------
    t : (nt+1,) time nodes (trading days); uniform or graded towards ``T`` (``grid.time_mesh``).
    q : (nx,) inventory nodes (inventory units).
    u : (nt+1, nx) value function ``u(t_n, q_i)`` (cost units).
    density : (nt+1, nx) density ``mu(t_n, q_i)`` (1 / inventory units), ``sum(density[n] * weights) = 1``
        (``weights``: the cell widths, ``dx`` on a uniform grid).
    alpha : (nt+1, nx) feedback order flow in force on ``[t_n, t_{n+1})`` (inventory units / day);
        ``alpha[nt]`` is the terminal feedback ``-D u(T) / (2 eta_T)``.
    eta : (nt+1,) equilibrium execution cost ``eta0 + eta1 |m_t|``.
    mean_flow : (nt+1,) crowd's mean flow ``m_t = sum_i alpha_i mu_i w_i`` (inventory units / day).
    price : (nt+1,) clearing price (BRL), or ``None`` when the price is disabled.
    residuals : fixed-point residual after each HJB/FP sweep (dimensionless, see ``solver``).
    iterations : number of HJB/FP sweeps. converged : always True for a returned solution.
    config : the validated config. wall_time_s : solve time in seconds (not deterministic).
    dts : (nt,) time steps ``dt_n`` of the scheme (trading days); ``None`` means ``diff(t)``.
        The solver passes the steps it used (on a uniform mesh every one is ``t[1] - t[0]``).
    domain : the inventory range and how much of the law reached its ends
        (:func:`mfg_finance.mfg.domain.domain_diagnostics`, plus ``x_min``, ``x_max`` and ``sized``:
        ``auto`` / ``config`` / ``mixed``); ``None`` for a solution not made by :func:`solve`.
    accuracy : estimated discretisation error of each outcome
        (:func:`mfg_finance.mfg.accuracy.estimate_errors`), or ``None`` when not estimated.
    """

    t: np.ndarray
    q: np.ndarray
    u: np.ndarray
    density: np.ndarray
    alpha: np.ndarray
    eta: np.ndarray
    mean_flow: np.ndarray
    price: np.ndarray | None
    residuals: list[float]
    iterations: int
    converged: bool
    config: dict[str, Any]
    wall_time_s: float = field(default=0.0)
    dts: np.ndarray | None = field(default=None)
    domain: dict[str, Any] | None = field(default=None)
    accuracy: dict[str, Any] | None = field(default=None)
    #: how many of the last steps were solved in closed form (0 or 1 on a graded time mesh; more on a uniform one,
    #: :func:`mfg_finance.mfg.terminal_interval.exact_steps`): ``u[n]``, ``alpha[n]`` for ``n >= nt - exact_steps``
    #: are their exact cost-to-go and average feedback.
    exact_steps: int = field(default=0)

    @property
    def exact_last_interval(self) -> bool:
        """True when the last interval ``[t_{N-1}, T]`` was solved in closed form
        (:mod:`mfg_finance.mfg.terminal_interval`): ``u[nt-1]`` is then its exact cost-to-go and ``alpha[nt-1]`` its
        average feedback."""
        return self.exact_steps > 0

    # ---- grid -------------------------------------------------------------------------------
    @property
    def dx(self) -> float:
        """Largest node spacing (inventory units): the spacing of a uniform grid, the mesh size of a graded one."""
        return float(np.max(np.diff(self.q)))

    @property
    def dx_min(self) -> float:
        """Smallest node spacing (inventory units)."""
        return float(np.min(np.diff(self.q)))

    @property
    def weights(self) -> np.ndarray:
        """(nx,) cell widths (inventory units): ``int f mu dq = sum f_i mu_i w_i``."""
        from mfg_finance.mfg.grid import cell_widths

        return cell_widths(self.q)

    def spacing_at(self, x: float) -> float:
        """Node spacing (inventory units) of the cell holding ``x`` (the end cell outside the range)."""
        j = int(np.clip(np.searchsorted(self.q, x, side="right") - 1, 0, self.q.size - 2))
        return float(self.q[j + 1] - self.q[j])

    @property
    def time_steps(self) -> np.ndarray:
        """(nt,) steps ``dt_n = t_{n+1} - t_n`` of the scheme (trading days)."""
        return np.diff(self.t) if self.dts is None else np.asarray(self.dts, dtype=float)

    @property
    def dt(self) -> float:
        """Largest time step (trading days): the step of a uniform mesh, the mesh size of a graded one.

        Per-step quantities (costs, CFL numbers) use :attr:`time_steps`.
        """
        return float(np.max(self.time_steps))

    @property
    def max_cfl(self) -> float:
        """``max_n max_i |alpha^n_i| dt_n / h_i`` over the steps (how stiff the advection is; ``h_i`` the
        spacing of the cell the flow leaves through)."""
        h = np.diff(self.q)
        local = np.concatenate([h[:1], np.minimum(h[:-1], h[1:]), h[-1:]])
        speed = np.max(np.abs(self.alpha[:-1]) / local, axis=1)
        return float(np.max(speed * self.time_steps))

    # ---- moments of the law -----------------------------------------------------------------
    @property
    def mass(self) -> np.ndarray:
        """``sum_i mu_i w_i`` at each time node (1 up to round-off)."""
        return self.masses.sum(axis=1)

    @property
    def masses(self) -> np.ndarray:
        """(nt+1, nx) probability of each node, ``mu_i w_i``."""
        return self.density * self.weights

    @property
    def mean_inventory(self) -> np.ndarray:
        """``Q_t = sum_i q_i mu_i w_i`` (inventory units)."""
        return self.masses @ self.q

    @property
    def inventory_std(self) -> np.ndarray:
        """Cross-sectional inventory standard deviation ``sqrt(E[(q - Q_t)^2])`` (inventory units).

        Centred before squaring: ``E[q^2] - Q^2`` would lose the digits of a law much narrower than its mean.
        """
        mean = self.mean_inventory
        centred = self.q[None, :] - mean[:, None]
        return np.sqrt(np.einsum("ni,ni->n", self.masses, centred * centred))

    # ---- scalar outcomes --------------------------------------------------------------------
    @property
    def liquidation_speed(self) -> float:
        """Mean-inventory decay rate ``-ln(Q_T / Q_0) / T`` (1 / trading day).

        From the mean path of the outcomes (:meth:`mean_path`); NaN without an initial position.
        """
        _, log_ratio = self.mean_path()
        if log_ratio is None:
            return math.nan
        return float(-log_ratio / (self.t[-1] - self.t[0]))

    @property
    def terminal_dispersion(self) -> float:
        """Inventory standard deviation at ``T`` (inventory units)."""
        return float(self.inventory_std[-1])

    @property
    def total_cost(self) -> float:
        r"""Expected cost of a representative agent, evaluated forward on the equilibrium.

        ``J = sum_n dt_n <mu^{n+1}, phi q^2 + eta^n (alpha^n)^2> + <mu^N, gamma_T q^2>`` (cost units),
        the discrete counterpart of ``E[int_0^T (eta alpha^2 + phi q^2) dt + gamma_T q_T^2]`` for
        the implicit scheme. By discrete duality it equals ``<mu^0, u^0>`` up to round-off. With an exact last
        interval (``exact_last_interval``; the last ``K = exact_steps``) its running and terminal cost is its exact
        cost-to-go from the law at ``t_{N-K}``: ``J = sum_{n < N-K} dt_n <mu^{n+1}, c^n> + <mu^{N-K}, u^{N-K}>``.
        """
        p = self.config["params"]
        q2 = self.q * self.q
        running = p["phi"] * q2[None, :] + self.eta[:-1, None] * self.alpha[:-1] ** 2
        masses = self.masses
        dts = self.time_steps
        K = self.exact_steps
        if K:
            flow = float(dts[:-K] @ np.sum(masses[1:-K] * running[:-K], axis=1))
            return flow + float(masses[-1 - K] @ self.u[-1 - K])
        flow = float(dts @ np.sum(masses[1:] * running, axis=1))
        terminal = p["gamma_T"] * float(masses[-1] @ q2)
        return flow + terminal

    @property
    def mass_error(self) -> float:
        """``max_n |sum_i mu_i^n w_i - 1|`` (dimensionless)."""
        return float(np.max(np.abs(self.mass - 1.0)))

    @property
    def min_density(self) -> float:
        """Smallest density value over the space-time grid (``>= 0`` by construction)."""
        return float(self.density.min())

    @property
    def price_impact(self) -> float | None:
        """``p_T - p_0`` (BRL) when the price is enabled, else ``None``."""
        if self.price is None:
            return None
        return float(self.price[-1] - self.price[0])

    @property
    def final_residual(self) -> float:
        return float(self.residuals[-1]) if self.residuals else math.nan

    def outcomes(self) -> dict[str, float | None]:
        """Scalar outcomes (JSON-able, keys :data:`mfg_finance.mfg.outcomes.OUTCOME_KEYS`): the time-extrapolated
        ones of :mod:`mfg_finance.mfg.accuracy` when the errors were estimated, else :meth:`grid_outcomes`."""
        reported = (self.accuracy or {}).get("outcomes")
        return dict(reported) if reported else self.grid_outcomes()

    def grid_outcomes(self) -> dict[str, float | None]:
        """Scalar outcomes of this grid solution's own arrays (keys :data:`mfg_finance.mfg.outcomes.OUTCOME_KEYS`)."""
        from mfg_finance.mfg.outcomes import path_outcomes

        path = self._mean_path()
        mean, log_ratio = path[:2]
        flow, price = self.mean_flow, self.price
        if log_ratio is not None:      # (path_outcomes reads the flow and the price at the two ends only)
            flow, price = self.end_flows(path)
        return path_outcomes(self.t, mean, self.terminal_dispersion, flow, self.eta,
                             self.total_cost, price, std_initial=float(self.inventory_std[0]),
                             log_ratio_terminal=log_ratio)

    def end_flows(self, path=None) -> tuple[np.ndarray, np.ndarray | None]:
        """``(m, p)``: the crowd's mean flow at ``t = 0`` and ``T`` on the mean path (:func:`mfg_finance.mfg.mean_path.
        end_flows`; inventory units / day) and the clearing price of each (BRL; ``None`` without a price), the
        outcomes' flows and prices when there is a position (:meth:`grid_outcomes`; ``path``: its mean path, to
        reuse). Without a position, the grid's own flows and prices at the ends.

        The cost's exogenous part at each end, ``eta0`` plus any offset the solve added, is ``eta^n - eta1 |m^n|``
        (the converged cost path on the grid's own flow).
        """
        from mfg_finance.mfg.mean_path import end_flows
        from mfg_finance.mfg.price import clearing_price, supply_path

        _, log_ratio, curvature = path if path is not None else self._mean_path()
        if log_ratio is None:
            return self.mean_flow[[0, -1]], None if self.price is None else self.price[[0, -1]]
        p = self.config["params"]
        floor = tuple(float(self.eta[n] - p["eta1"] * abs(self.mean_flow[n])) for n in (0, -1))
        flows = np.array(end_flows(float(self.mean_inventory[0]), curvature, log_ratio, gamma_T=p["gamma_T"],
                                   eta1=p["eta1"], floor=floor))
        if self.price is None:
            return flows, None
        pc = self.config["price"]
        supply = supply_path(pc["supply"], self.t.size)[[0, -1]]
        return flows, clearing_price(flows, supply, kappa=pc["kappa"], p_ref=pc["p_ref"])

    def mean_path(self) -> tuple[np.ndarray, float | None]:
        """``(Q, ln(Q_T / Q_0))``: the mean inventory path of the outcomes (inventory units).

        With a position (``|Q_0|`` above ``NO_POSITION`` times the initial std), the path of the linear feedback
        on the equilibrium cost path (:mod:`mfg_finance.mfg.mean_path`): relative accuracy however small ``Q_T``
        is. Without one, the density's mean (:attr:`mean_inventory`, 0 up to round-off) and ``None``.
        """
        return self._mean_path()[:2]

    def _mean_path(self) -> tuple[np.ndarray, float | None, float | None]:
        """:meth:`mean_path` and the value's curvature ``H^0`` at ``t = 0`` (``None`` without a position)."""
        from mfg_finance.mfg.mean_path import curvature_and_log_decay
        from mfg_finance.mfg.outcomes import NO_POSITION

        density_mean = self.mean_inventory
        if not abs(float(density_mean[0])) > NO_POSITION * float(self.inventory_std[0]):
            return density_mean, None, None
        p = self.config["params"]
        curvature, logs = curvature_and_log_decay(self.time_steps, self.eta, phi=p["phi"], gamma_T=p["gamma_T"])
        return float(density_mean[0]) * np.exp(logs), float(logs[-1]), float(curvature[0])

    def arrays(self) -> dict[str, np.ndarray]:
        """The arrays of ``solution.npz``; ``price`` is omitted (not NaN-filled) when disabled."""
        out = {name: np.asarray(getattr(self, name), dtype=float) for name in ARRAY_FIELDS}
        if self.price is not None:
            out["price"] = np.asarray(self.price, dtype=float)
        return out
