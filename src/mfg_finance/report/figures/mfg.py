"""Figures of the MFG stage (one function per figure; Agg backend; saved with ``save_figure``).

Units: time in trading days, inventory in inventory units, order flow in inventory units per
trading day, value in cost units, price in BRL.
"""

from __future__ import annotations

from typing import Any, Mapping, Sequence

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.colors import LogNorm

from mfg_finance.io import save_figure

T_LABEL = "time t (trading days)"
Q_LABEL = "inventory q (inventory units)"
FLOW_UNITS = "inventory units / trading day"


def _nodes_at(t: np.ndarray, fractions: Sequence[float]) -> list[int]:
    """Indices of the time nodes nearest to ``t_0 + f (t_nt - t_0)`` for each ``f`` (sorted, no repeats).

    By time, not by index: the time mesh may be graded towards ``T`` (``grid.time_mesh``).
    """
    t = np.asarray(t, dtype=float)
    targets = t[0] + np.asarray(fractions, dtype=float) * (t[-1] - t[0])
    return sorted({int(np.argmin(np.abs(t - x))) for x in targets})


def _cut_indices(t: np.ndarray) -> list[int]:
    """Time nodes nearest to 0, T/4, T/2, 3T/4 and the last one (without repeats)."""
    return _nodes_at(t, (0.0, 0.25, 0.5, 0.75, 1.0))


def _support(solution, *, floor: float = 1e-4, pad: float = 0.5) -> tuple[float, float]:
    """Inventory range where the density exceeds ``floor`` x its max at some time, padded."""
    q = solution.q
    mask = (solution.density >= floor * solution.density.max(axis=1, keepdims=True)).any(axis=0)
    lo, hi = q[mask][0], q[mask][-1]
    width = max(hi - lo, 10 * (q[1] - q[0]))
    return max(q[0], lo - pad * width), min(q[-1], hi + pad * width)


def plot_value_function(solution, path) -> None:
    """Value function: cuts ``u(t, .)`` away from the terminal layer, and ``u(., q)`` over time.

    The terminal condition ``gamma_T q^2`` dwarfs the rest, so the cuts stop at ``0.9 T`` and the
    time profiles (log scale) show the growth towards it.
    """
    fig, (ax_q, ax_t) = plt.subplots(1, 2, figsize=(11.5, 4.2), constrained_layout=True)
    lo, hi = _support(solution)
    keep = (solution.q >= lo) & (solution.q <= hi)
    cmap = plt.get_cmap("viridis")
    idx = _nodes_at(solution.t, (0.0, 0.25, 0.5, 0.75, 0.9))
    for j, n in enumerate(idx):
        ax_q.plot(solution.q[keep], solution.u[n, keep], color=cmap(j / max(len(idx) - 1, 1)),
                  label=f"t = {solution.t[n]:.3g}")
    ax_q.set_xlabel(Q_LABEL)
    ax_q.set_ylabel("value u(t, q) (cost units)")
    ax_q.set_title("Value function before the terminal layer")
    ax_q.legend(fontsize=8)
    p = solution.config["params"]
    targets = [p["m0_mean"] + k * p["m0_std"] for k in (0.0, 1.0, 2.0)]
    for j, target in enumerate(targets):
        i = int(np.argmin(np.abs(solution.q - target)))
        values = solution.u[:, i]
        positive = values > 0.0
        ax_t.semilogy(solution.t[positive], values[positive], color=f"C{j}", label=f"q = {solution.q[i]:.3g}")
    ax_t.set_xlabel(T_LABEL)
    ax_t.set_ylabel("value u(t, q) (cost units)")
    ax_t.set_title("Value over time (terminal penalty gamma_T q^2 at T)")
    ax_t.legend(fontsize=8)
    save_figure(fig, path)


def plot_feedback(solution, path) -> None:
    """Optimal feedback ``alpha*(t, q)`` at a few times (symmetric-log scale: it is stiff near T)."""
    fig, ax = plt.subplots(figsize=(6.4, 4.2), constrained_layout=True)
    lo, hi = _support(solution)
    keep = (solution.q >= lo) & (solution.q <= hi)
    cmap = plt.get_cmap("plasma")
    idx = _cut_indices(solution.t)
    for j, n in enumerate(idx):
        ax.plot(solution.q[keep], solution.alpha[n, keep], color=cmap(j / max(len(idx) - 1, 1)),
                label=f"t = {solution.t[n]:.3g}")
    ax.set_yscale("symlog", linthresh=1.0)
    ax.axhline(0.0, color="0.6", lw=0.6)
    ax.set_xlabel(Q_LABEL)
    ax.set_ylabel(f"feedback alpha*(t, q) ({FLOW_UNITS})")
    ax.set_title("Optimal feedback (> 0 buys, < 0 sells)")
    ax.legend(fontsize=8)
    save_figure(fig, path)


def plot_density(solution, path) -> None:
    """Density heatmap over (t, q) on a log colour scale, and cuts at a few times."""
    fig, (ax_map, ax_cut) = plt.subplots(1, 2, figsize=(11.5, 4.2), constrained_layout=True)
    lo, hi = _support(solution)
    keep = (solution.q >= lo) & (solution.q <= hi)
    dens = solution.density[:, keep]
    top = float(dens.max())
    # pcolormesh, not imshow: the time nodes may be graded towards T (non-uniform columns)
    image = ax_map.pcolormesh(solution.t, solution.q[keep], np.maximum(dens.T, top * 1e-8), shading="nearest",
                              cmap="magma", norm=LogNorm(vmin=top * 1e-8, vmax=top), rasterized=True)
    fig.colorbar(image, ax=ax_map, label="density mu(t, q) (1 / inventory units)")
    ax_map.plot(solution.t, solution.mean_inventory, color="cyan", lw=1.0, label="mean inventory")
    ax_map.set_xlabel(T_LABEL)
    ax_map.set_ylabel(Q_LABEL)
    ax_map.set_title("Inventory density")
    ax_map.legend(fontsize=8, loc="upper right")
    cmap = plt.get_cmap("viridis")
    idx = _cut_indices(solution.t)
    for j, n in enumerate(idx):
        ax_cut.plot(solution.q[keep], solution.density[n, keep], color=cmap(j / max(len(idx) - 1, 1)),
                    label=f"t = {solution.t[n]:.3g}")
    ax_cut.set_yscale("log")
    ax_cut.set_ylim(top * 1e-8, top * 2.0)
    ax_cut.set_xlabel(Q_LABEL)
    ax_cut.set_ylabel("density (1 / inventory units)")
    ax_cut.set_title("Density at a few times")
    ax_cut.legend(fontsize=8)
    save_figure(fig, path)


def plot_flow_eta_price(solution, path) -> None:
    """Mean flow ``m_t``, execution cost ``eta_t`` and (when enabled) the clearing price ``p_t``."""
    panels = 3 if solution.price is not None else 2
    fig, axes = plt.subplots(1, panels, figsize=(4.6 * panels, 3.8), constrained_layout=True)
    axes[0].plot(solution.t, solution.mean_flow, color="C0")
    axes[0].axhline(0.0, color="0.6", lw=0.6)
    axes[0].set_xlabel(T_LABEL)
    axes[0].set_ylabel(f"mean flow m_t ({FLOW_UNITS})")
    axes[0].set_title("Crowd's net order flow")
    p = solution.config["params"]
    axes[1].plot(solution.t, solution.eta, color="C1", label="eta0 + eta1 |m_t|")
    axes[1].axhline(p["eta0"], color="0.5", ls="--", lw=0.8, label="eta0")
    axes[1].set_xlabel(T_LABEL)
    axes[1].set_ylabel("eta_t (cost units x trading day / inventory units^2)")
    axes[1].set_title("Flow-dependent execution cost")
    axes[1].legend(fontsize=8)
    if solution.price is not None:
        axes[2].plot(solution.t, solution.price, color="C2")
        axes[2].axhline(solution.config["price"]["p_ref"], color="0.5", ls="--", lw=0.8, label="p_ref")
        axes[2].set_xlabel(T_LABEL)
        axes[2].set_ylabel("clearing price p_t (BRL)")
        axes[2].set_title("Endogenous price")
        axes[2].legend(fontsize=8)
    save_figure(fig, path)


def plot_convergence(residuals: Sequence[float], path, *, tol: float, method: str = "") -> None:
    """Fixed-point residual after each HJB/FP sweep (log scale) with the tolerance."""
    fig, ax = plt.subplots(figsize=(6.0, 3.8), constrained_layout=True)
    r = np.asarray(residuals, dtype=float)
    ax.semilogy(np.arange(1, r.size + 1), np.maximum(r, np.finfo(float).tiny), "o-", ms=4)
    ax.axhline(tol, color="C3", ls="--", lw=0.8, label=f"tol = {tol:.0e}")
    ax.set_xlabel("HJB/FP sweep")
    ax.set_ylabel("residual max|eta0 + eta1|m| - eta| / max eta (-)")
    ax.set_title(f"Convergence of the coupling ({method})" if method else "Convergence of the coupling")
    ax.legend(fontsize=8)
    save_figure(fig, path)


def plot_exact_comparison(solution, exact, path, *, window: tuple[float, float]) -> None:
    """PDE solution against the exact LQ solution: value, feedback, mean/std and eta paths."""
    fig, axes = plt.subplots(2, 2, figsize=(11.0, 7.6), constrained_layout=True)
    q = solution.q
    keep = (q >= window[0]) & (q <= window[1])
    nt = solution.t.size - 1
    cuts = _nodes_at(solution.t, (0.0, 0.5, 0.95))     # by time: the mesh may be graded towards T
    ax = axes[0, 0]
    for j, n in enumerate(cuts):
        ax.plot(q[keep], exact.value(q[keep])[n], color=f"C{j}", lw=1.2, label=f"exact, t = {solution.t[n]:.3g}")
        ax.plot(q[keep][::4], solution.u[n, keep][::4], "o", color=f"C{j}", ms=2.5)
    ax.set_xlabel(Q_LABEL)
    ax.set_ylabel("value u (cost units)")
    ax.set_title("Value: exact (lines) vs PDE (dots)")
    ax.legend(fontsize=7)
    ax = axes[0, 1]
    for j, n in enumerate(cuts):
        ax.plot(q[keep], exact.feedback(q[keep])[n], color=f"C{j}", lw=1.2, label=f"exact, t = {solution.t[n]:.3g}")
        ax.plot(q[keep][::4], solution.alpha[n, keep][::4], "o", color=f"C{j}", ms=2.5)
    ax.set_xlabel(Q_LABEL)
    ax.set_ylabel(f"feedback alpha* ({FLOW_UNITS})")
    ax.set_title("Feedback: exact (lines) vs PDE (dots)")
    ax.legend(fontsize=7)
    ax = axes[1, 0]
    ax.plot(solution.t, exact.mean, color="C0", label="exact mean")
    ax.plot(solution.t, solution.mean_inventory, "--", color="C0", label="PDE mean")
    ax.plot(solution.t, np.sqrt(exact.variance), color="C1", label="exact std")
    ax.plot(solution.t, solution.inventory_std, "--", color="C1", label="PDE std")
    ax.set_xlabel(T_LABEL)
    ax.set_ylabel("inventory (inventory units)")
    ax.set_title("Mean and dispersion of the law")
    ax.legend(fontsize=7)
    ax = axes[1, 1]
    ax.plot(solution.t, exact.eta, color="C2", label="exact")
    ax.plot(solution.t, solution.eta, "--", color="C3", label="PDE")
    ax.set_xlabel(T_LABEL)
    ax.set_ylabel("eta_t (cost units x trading day / inventory units^2)")
    ax.set_title("Equilibrium execution cost")
    ax.legend(fontsize=7)
    fig.suptitle(f"PDE ({q.size} x {nt}) vs exact LQ solution")
    save_figure(fig, path)


def plot_convergence_order(rows: Sequence[Mapping[str, Any]], path) -> None:
    """Log-log errors against ``dx`` (``dt`` refined with it) with a first-order reference slope."""
    fig, ax = plt.subplots(figsize=(6.4, 4.6), constrained_layout=True)
    dx = np.array([r["dx"] for r in rows], dtype=float)
    names = ("value", "feedback", "mean", "variance", "eta")
    for j, name in enumerate(names):
        err = np.array([r[f"err_{name}"] for r in rows], dtype=float)
        if np.all(err > 0.0):
            ax.loglog(dx, err, "o-", color=f"C{j}", label=f"{name} (last order {rows[-1][f'order_{name}']:.2f})")
    top = max((r[f"err_{n}"] for r in rows for n in names), default=1.0)
    ax.loglog(dx, top * dx / dx[0], "k:", lw=1.0, label="order 1")
    ax.set_xlabel("dx (inventory units); every time step refined with dx")
    ax.set_ylabel("relative error (-)")
    ax.set_title("Mesh refinement against the exact LQ solution")
    ax.legend(fontsize=7)
    save_figure(fig, path)
