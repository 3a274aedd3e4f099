"""Accuracy of the MFG headline outcomes against the exact LQ solution, with their error estimates.

Usage::

    python benchmarks/bench_mfg_accuracy.py [--cases stiff,corners,fixed,small,musthold,ladder] [--json OUT]
    python benchmarks/bench_mfg_accuracy.py --raw-only --json OUT   # only the solver's outcomes

For each case (the default grid 201 x 150 unless the case says otherwise) it prints the relative
error of each headline outcome (reported vs exact, %; the reported outcomes are the time-extrapolated
ones of ``mfg.accuracy`` when the solver has them), and, when the solver estimates them, the
estimated error over the true one. ``--raw-only`` computes the outcomes from the solution's arrays
with the helpers below (which mirror :mod:`mfg_finance.mfg.outcomes`), so an older checkout of the
solver can be measured the same way (``PYTHONPATH=<old>/src``) for a before/after table.

Cases: the stiff baseline (eta1 = 1e-3 and 0; with the endogenous price ``PRICE``, as are the corners), the four
corners of the default ``phi_gamma`` sweep
on it (automatic inventory range), the same six on the fixed range [-5, 5] (``fixed``) and on the small config's
61 x 40 grid (``small``), the 14 parameter sets of issue 14
(eta1 in {0, 1}, m0_mean in {0, 1, -1.5}, phi in {0, 5}, gamma_T in {0, 50}, sigma in {0.02, 1.5},
T in {0.1, 5}; eta0 = 0.1, m0_std = 0.5) and the
gamma_T ladder (eta1 = 0, 1e2 .. 1e12, graded and uniform time meshes, each on graded and uniform inventory nodes;
``ladder_fixed``: the same on the fixed range [-5, 5], ``ladder_coupled``: with eta1 = 1e-3, ``ladder_coupled_fixed`` both; not in the default set).
"""

from __future__ import annotations

import argparse
import copy
import json
import math

import numpy as np

STIFF = {"grid": {"nx": 201, "nt": 150, "T": 0.5},
         "params": {"sigma": 0.5, "eta0": 5.0e-4, "eta1": 1.0e-3, "phi": 0.035, "gamma_T": 0.57,
                    "m0_mean": 0.5, "m0_std": 0.5},
         "solver": {"method": "newton", "tol": 1.0e-10, "max_iter": 100, "damping": 0.5}}
HEADLINE = ("liquidation_half_life", "liquidation_speed", "total_cost", "mean_inventory_terminal",
            "terminal_dispersion", "eta_max", "eta_mean", "price_impact")
#: The endogenous price of the stiff baseline and the corners (the ``endogenous_price`` scenario): with a constant
#: supply the impact ``-(m_T - m_0) / kappa`` has the relative error of the flow's change, whatever ``kappa``.
PRICE = {"enabled": True, "kappa": -250.0, "p_ref": 12.0, "supply": 0.0}
#: The fixed inventory range of the tests' stiff baseline (tests/mfg/mfg_cases.py).
FIXED = {"x_min": -5.0, "x_max": 5.0}
#: (eta1, m0_mean, phi, gamma_T, sigma, T)
MUST_HOLD = [(0, 1, 0, 0, 0.02, 0.1), (1, 1, 5, 50, 1.5, 5), (1, -1.5, 0, 50, 0.02, 5), (0, -1.5, 5, 0, 1.5, 0.1),
             (1, 0, 5, 0, 0.02, 5), (0, 0, 0, 50, 1.5, 5), (1, 1, 0, 0, 1.5, 0.1), (0, 1, 5, 50, 0.02, 5),
             (1, -1.5, 5, 0, 0.02, 0.1), (0, -1.5, 0, 50, 1.5, 0.1), (1, 0, 0, 50, 0.02, 0.1), (0, 0, 5, 0, 1.5, 5),
             (1, 1, 5, 50, 0.02, 0.1), (1, -1.5, 5, 50, 1.5, 5)]
LADDER = (1e2, 1e4, 1e8, 1e12)


def make(base: dict, **sections) -> dict:
    cfg = copy.deepcopy(base)
    for name, values in sections.items():
        cfg.setdefault(name, {}).update(values)
    return cfg


def cases(groups: set[str]):
    if "stiff" in groups:
        yield "stiff eta1=1e-3", make(STIFF, price=PRICE)
        yield "stiff eta1=0", make(STIFF, params={"eta1": 0.0}, price=PRICE)
    if "corners" in groups:
        for phi in (0.005, 0.5):
            for g in (0.05, 5.0):
                yield (f"corner phi={phi:g} gamma_T={g:g}",
                       make(STIFF, params={"phi": phi, "gamma_T": g}, price=PRICE))
    if "fixed" in groups:      # the same on the fixed range of the tests' STIFF
        yield "fixed stiff eta1=1e-3", make(STIFF, grid=FIXED, price=PRICE)
        yield "fixed stiff eta1=0", make(STIFF, params={"eta1": 0.0}, grid=FIXED, price=PRICE)
        for phi in (0.005, 0.5):
            for g in (0.05, 5.0):
                yield (f"fixed corner phi={phi:g} gamma_T={g:g}",
                       make(STIFF, params={"phi": phi, "gamma_T": g}, grid=FIXED, price=PRICE))
    if "small" in groups:      # the small config's grid (tests/configs/small.yaml): 61 x 40
        yield "stiff 61x40 eta1=1e-3", make(STIFF, grid={"nx": 61, "nt": 40}, price=PRICE)
        yield "stiff 61x40 eta1=0", make(STIFF, params={"eta1": 0.0}, grid={"nx": 61, "nt": 40}, price=PRICE)
        for phi in (0.005, 0.5):
            for g in (0.05, 5.0):
                yield (f"corner 61x40 phi={phi:g} gamma_T={g:g}",
                       make(STIFF, params={"phi": phi, "gamma_T": g}, grid={"nx": 61, "nt": 40}, price=PRICE))
    if "musthold" in groups:
        for k, (eta1, m0, phi, g, sigma, T) in enumerate(MUST_HOLD):
            yield (f"set {k + 1:2d} eta1={eta1} m0={m0} phi={phi} gT={g} sigma={sigma} T={T}",
                   {"grid": {"nx": 201, "nt": 150, "T": float(T)},
                    "params": {"sigma": sigma, "eta0": 0.1, "eta1": float(eta1), "phi": float(phi),
                               "gamma_T": float(g), "m0_mean": float(m0), "m0_std": 0.5},
                    "solver": STIFF["solver"]})
    # the ladder (eta1 = 0) on the automatic range; "ladder_fixed" on [-5, 5]; "ladder_coupled" with eta1 = 1e-3
    for group, eta1, fixed in (("ladder", 0.0, False), ("ladder_fixed", 0.0, True), ("ladder_coupled", 1e-3, False),
                               ("ladder_coupled_fixed", 1e-3, True)):
        if group not in groups:
            continue
        for mesh in ("graded", "uniform"):
            for nodes in ("graded", "uniform"):
                label = ("" if nodes == "graded" else " uniform-nodes") + (" [-5,5]" if fixed else "") + \
                    (f" eta1={eta1:g}" if eta1 else "")
                for g in LADDER:
                    grid = {"time_mesh": mesh, "inventory_mesh": nodes}
                    if fixed:
                        grid.update(x_min=-5.0, x_max=5.0)
                    yield (f"ladder {mesh}{label} gamma_T={g:g}",
                           make(STIFF, params={"eta1": eta1, "gamma_T": g}, grid=grid))


def raw_outcomes(sol) -> dict[str, float]:
    """Outcomes from the arrays (mirrors mfg_finance.mfg.outcomes; works on older solvers too)."""
    t, q = sol.t, sol.q
    h = np.diff(q)
    w = np.concatenate([h[:1], 0.5 * (h[:-1] + h[1:]), h[-1:]])   # cell widths (dx on a uniform grid)
    masses = sol.density * w
    mean = masses @ q
    var = np.einsum("ni,ni->n", masses, (q[None, :] - mean[:, None]) ** 2)
    start = abs(mean[0])
    level = np.abs(mean) - start / 2.0
    below = np.nonzero(level <= 0.0)[0]
    half = math.nan
    if start > 0 and below.size:
        i = int(below[0])
        half = float(t[0]) if i == 0 else float(t[i - 1] + (t[i] - t[i - 1]) * level[i - 1] / (level[i - 1] - level[i]))
    ratio = mean[-1] / mean[0] if mean[0] else math.nan
    return {"liquidation_half_life": half,
            "liquidation_speed": -math.log(ratio) / (t[-1] - t[0]) if ratio > 0 else math.nan,
            "total_cost": float(sol.total_cost), "mean_inventory_terminal": float(mean[-1]),
            "terminal_dispersion": float(math.sqrt(max(var[-1], 0.0))), "eta_max": float(sol.eta.max()),
            "eta_mean": float(np.trapezoid(sol.eta, t) / (t[-1] - t[0])),
            "price_impact": None if getattr(sol, "price", None) is None else float(sol.price[-1] - sol.price[0])}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cases", default="stiff,corners,fixed,small,musthold,ladder")
    parser.add_argument("--raw-only", action="store_true")
    parser.add_argument("--json")
    args = parser.parse_args()
    from mfg_finance.mfg import solve

    results = {}
    for name, cfg in cases(set(args.cases.split(","))):
        try:
            sol = solve(cfg)
        except Exception as exc:   # a refused case is part of the table
            results[name] = {"error": f"{type(exc).__name__}: {exc}"[:160]}
            print(f"{name:58s} {results[name]['error']}")
            continue
        raw = raw_outcomes(sol)
        if getattr(sol, "accuracy", None) and (sol.accuracy.get("outcomes") or {}):
            raw = {k: sol.accuracy["outcomes"].get(k) for k in HEADLINE}     # the reported (extrapolated) outcomes
        acc = getattr(sol, "accuracy", None) or {}
        est = acc.get("outcome_errors") or {}
        entry = {"iterations": sol.iterations, "computed": raw, "estimate": {k: est.get(k) for k in HEADLINE},
                 "unresolved": acc.get("unresolved", []), "accuracy_error": acc.get("error")}
        if not args.raw_only:
            from mfg_finance.mfg.exact import exact_outcomes

            try:
                exact = exact_outcomes(sol.config)
            except Exception as exc:   # the reference's own failure is reported, not the case's
                entry["exact_error"] = f"{type(exc).__name__}: {exc}"[:160]
                results[name] = entry
                print(f"{name:58s} exact reference: {entry['exact_error']}")
                continue
            entry.update(exact={k: exact[k] for k in HEADLINE}, dx=sol.dx,
                         domain=[sol.config["grid"]["x_min"], sol.config["grid"]["x_max"]])
            cells = []
            for k in HEADLINE:
                c, e, s = raw[k], exact[k], est.get(k)
                if e is None or c is None or not (math.isfinite(c) and math.isfinite(e)) or e == 0:
                    cells.append(f"{k[:8]}=   n/a")
                    continue
                rel = 100 * (c - e) / abs(e)
                flag = "*" if k in entry["unresolved"] else ""
                fac = f"/{s / abs(c - e):.2g}" if s is not None and c != e else ""
                cells.append(f"{k[:8]}={rel:+6.2f}%{fac}{flag}")
            print(f"{name:58s} it={sol.iterations:2d} " + " ".join(cells), flush=True)
        results[name] = entry
    if args.json:
        with open(args.json, "w") as fh:
            json.dump(results, fh, indent=1, default=float)


if __name__ == "__main__":
    main()
