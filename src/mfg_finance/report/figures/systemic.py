"""Figures of the systemic scenarios (common noise, agent types, finite-N check, their sweeps).

Units: time in trading days, inventory in inventory units, flow in inventory units per trading day,
cost in cost units, price in BRL.
"""

from __future__ import annotations

from typing import Any, Mapping, Sequence

import matplotlib.pyplot as plt
import numpy as np

from mfg_finance.io import save_figure

T_LABEL = "time t (trading days)"
PANELS = (("Q", "conditional mean inventory Q_t (inventory units)"),
          ("m", "crowd's mean flow m_t (inventory units / day)"),
          ("eta", "execution cost eta_t (cost x day / inv.^2)"),
          ("price", "clearing price p_t (BRL)"))


def plot_fan_chart(arrays: Mapping[str, np.ndarray], path, *, title: str = "Common noise") -> None:
    """Quantile bands over common-noise paths of ``Q_t``, ``m_t``, ``eta_t`` and ``p_t`` (when present)."""
    panels = [(k, lab) for k, lab in PANELS if f"band_{k}" in arrays]
    t = arrays["t"]
    probs = np.asarray(arrays["quantile_probs"])
    fig, axes = plt.subplots(1, len(panels), figsize=(4.2 * len(panels), 3.6), squeeze=False, layout="constrained")
    for ax, (key, label) in zip(axes[0], panels):
        band = arrays[f"band_{key}"]
        n = probs.size
        for i in range(n // 2):
            ax.fill_between(t, band[i], band[n - 1 - i], color="tab:blue", alpha=0.18 + 0.2 * i,
                            label=f"{probs[i]:.0%}-{probs[n - 1 - i]:.0%}", linewidth=0)
        if n % 2:
            ax.plot(t, band[n // 2], color="tab:blue", lw=1.5, label="median")
        ax.set_xlabel(T_LABEL)
        ax.set_title(label, fontsize=9)
    axes[0][0].legend(fontsize=7)
    fig.suptitle(title)
    save_figure(fig, path)


def plot_types(arrays: Mapping[str, np.ndarray], names: Sequence[str], path, *, title: str = "Agent types") -> None:
    """Mean inventory of each type, the crowd's flow and ``eta``, and the price when present."""
    t = arrays["t"]
    n = 3 + ("price" in arrays)
    # constrained layout: eta's and the price's long tick labels (0.0016, 21.548) otherwise run into the panel
    # to their left
    fig, axes = plt.subplots(1, n, figsize=(4.2 * n, 3.6), layout="constrained")
    for k, name in enumerate(names):
        axes[0].plot(t, arrays["mean_inventory_by_type"][k], label=f"{name} (w = {arrays['weights'][k]:.2f})")
        axes[1].plot(t, arrays["mean_flow_by_type"][k], label=name)
    axes[1].plot(t, arrays["mean_flow"], color="k", lw=1.5, label="crowd m")
    axes[2].plot(t, arrays["eta"], color="tab:red")
    axes[0].set_title("mean inventory Q_k (inventory units)", fontsize=9)
    axes[1].set_title("mean flow (inventory units / day)", fontsize=9)
    axes[2].set_title("execution cost eta (cost x day / inv.^2)", fontsize=9)
    if "price" in arrays:
        axes[3].plot(t, arrays["price"], color="tab:green")
        axes[3].set_title("clearing price p_t (BRL)", fontsize=9)
    for ax in axes:
        ax.set_xlabel(T_LABEL)
    axes[0].legend(fontsize=7), axes[1].legend(fontsize=7)
    fig.suptitle(title)
    save_figure(fig, path)


def plot_finite_n(result: Mapping[str, Any], path) -> None:
    """Finite-population gap of the mean cost times N against N (2 SE bars; flat for an ``O(1/N)`` gap),
    with the weighted fit ``C N^-p`` over every N, the fit with ``p = 1`` held and that of ``C/N + D/N^2``
    (``N x gap = C + D/N``); and the law of ``Qbar_T`` (:func:`_plot_law_gap`)."""
    rows = result["rows"]
    N = np.array([r["N"] for r in rows], dtype=float)
    gap = np.array([r["cost_gap"] for r in rows])
    se = np.array([r["cost_gap_se"] for r in rows])
    fig, axes = plt.subplots(1, 2, figsize=(10, 3.8))
    ax = axes[0]
    ax.errorbar(N, N * gap, yerr=2 * N * se, fmt="o", capsize=3, label="N (E J_N - E J_inf) +- 2 SE")
    ax.axhline(0.0, color="0.6", lw=0.8)
    fit = result.get("rate_fit")
    if fit:
        fine = np.geomspace(N.min(), N.max(), 50)
        ax.plot(fine, fit["constant"] * fine ** (1.0 - fit["exponent"]), "C1-", lw=1.2,
                label=f"fit C N^-p: p = {fit['exponent']:.3f} +- {fit['exponent_se']:.3f}")
        expansion = fit.get("expansion")
        if expansion:
            ax.plot(fine, expansion["constant"] + expansion["next_order"] / fine, "C2-.", lw=1.2,
                    label=f"fit C/N + D/N^2 (chi2 p-value {expansion['p_value']:.2f})")
        ax.axhline(fit["constant_one_over_N"], color="k", ls="--", lw=1,
                   label=f"O(1/N) fit (p = 1; LR test p-value {fit['p_value_one_over_N']:.2f})")
    _finish_axes(ax, "N x mean-cost gap (cost units)", "mean cost: N-player game vs MFG (N x gap: flat if O(1/N))")
    _plot_law_gap(axes[1], N, rows, result.get("law") or {})
    fig.tight_layout()          # the right panel's y label otherwise sits on its tick labels
    save_figure(fig, path)


def _plot_law_gap(ax, N: np.ndarray, rows, law: Mapping[str, Any]) -> None:
    """``N x (var(Qbar_T) - var(Q_T))`` (paired, +- 2 SE of the pairs; flat if ``O(1/N)``) against the first-order
    prediction ``C`` (band +- 2 SE) and the idiosyncratic ``E[V_T]`` (what ``C`` would be if the feedback did not
    depend on ``Qbar``)."""
    gap = np.array([r["Q_T_var_gap"] for r in rows])
    se = np.array([r["Q_T_var_gap_se"] for r in rows])
    ax.errorbar(N, N * gap, yerr=2 * N * se, fmt="o", capsize=3, label="N (var Qbar_T - var Q_T) +- 2 SE")
    ax.axhline(0.0, color="0.6", lw=0.8)
    pred = law.get("prediction")
    if pred:
        C, C_se = pred["var_coefficient"], pred["var_coefficient_se"]
        ax.axhline(C, color="k", ls="--", lw=1, label="predicted C +- 2 SE (first order, docs/mfg.md 10)")
        ax.axhspan(C - 2 * C_se, C + 2 * C_se, color="k", alpha=0.12, lw=0)
        ax.axhline(pred["idiosyncratic"], color="C2", ls=":", lw=1, label="E[V_T] (idiosyncratic part only)")
    fit = law.get("rate_fit")
    if fit:
        fine = np.geomspace(N.min(), N.max(), 50)
        ax.plot(fine, fit["constant"] * fine ** (1.0 - fit["exponent"]), "C1-", lw=1.2,
                label=f"fit C N^-p: p = {fit['exponent']:.2f} +- {fit['exponent_se']:.2f}")
    _finish_axes(ax, "N x variance gap of Q_T (inventory units^2)",
                 "law of the terminal mean inventory (N x gap: flat if O(1/N))")


def _finish_axes(ax, ylabel: str, title: str) -> None:
    """The finite-N panels' common finish: a log axis of the number of players N, labels, legend and title."""
    ax.set_xscale("log")
    ax.set_xlabel("number of players N")
    ax.set_ylabel(ylabel)
    ax.legend(fontsize=7)
    ax.set_title(title, fontsize=9)
