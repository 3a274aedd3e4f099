"""The common-noise expected cost's error estimate against its true error (issue 16; docs/mfg.md, section 8,
*The expected cost's error estimate*): one type on the exact limits (``eta1 = 0``: closed form with the total
noise; ``sigma0 = 0`` and ``1e-3``: the deterministic coupled equilibrium) and against a reference 8x finer in time
and 4x in ``Q`` (stiff baseline with ``sigma0 = 0.2``, real-data-like calibration), and each type's cost of two types
on their exact limits (section 8b). Numbers, not timings: prints one line per case, the reported cost's relative
error, the estimate and the bound over the true error, and whether the estimate is held (``unresolved``: the time
sequence is not asymptotic).

    python benchmarks/bench_common_noise_cost_estimate.py [--types] [--types-default-grid]
"""

from __future__ import annotations

import argparse
import math

import numpy as np

from mfg_finance.mfg import types_common_noise as tcn
from mfg_finance.mfg.agent_types import validate_types
from mfg_finance.mfg.agent_types_exact import exact_types
from mfg_finance.mfg.common_noise import default_halfwidth, solve_with_estimate
from mfg_finance.mfg.exact import closed_form, coupled

STIFF = dict(sigma=0.5, eta0=5.0e-4, eta1=1.0e-3, phi=0.035, gamma_T=0.57, m0_mean=0.5, m0_std=0.5)
MILD = dict(sigma=0.3, eta0=0.1, eta1=0.1, phi=0.5, gamma_T=1.0, m0_mean=1.0, m0_std=0.4)
REALISTIC = dict(sigma=2.55, sigma0=1.19, eta0=5.83e-3, eta1=3.67e-4, phi=0.0702, gamma_T=7.35, m0_mean=0.5,
                 m0_std=0.5)
CASES = {"stiff": (STIFF, 0.5), "mild": (MILD, 1.0), "realistic": (REALISTIC, 0.5)}
TYPE_CASES = {      # tests/mfg/test_mfg_types_common_noise.py
    "mild": (MILD, 1.0, [{"name": "urgent", "weight": 0.3, "phi": 2.0, "gamma_T": 5.0},
                         {"name": "patient", "weight": 0.7, "m0_mean": 0.8}], (80, 97, 17)),
    "stiff": (STIFF, 0.5, [{"name": "urgent", "weight": 0.3, "phi": 0.35, "gamma_T": 5.7},
                           {"name": "patient", "weight": 0.7, "m0_mean": 0.8, "sigma": 0.3}], (160, 201, 33)),
}
GRIDS = [(80, 41), (80, 81), (160, 81), (160, 201), (320, 201), (320, 401)]


def _cost(h2: float, h0: float, m0: float, s0: float) -> float:
    return float(h2 * (m0 * m0 + s0 * s0) + h0)


def _line(label: str, detail: dict, exact: float, uncertainty: float = 0.0) -> str:
    err = detail["value"] - exact
    flag = " unresolved" if detail["unresolved"] else ""
    return (f"{label}: {detail['value']:.6g} vs {exact:.6g} (+-{uncertainty:.1e}) error {100 * err / exact:+.3f}% "
            f"estimate {detail['error']:.2e} ({detail['error'] / abs(err):.2f}x; time {detail['time_error']:+.1e}, "
            f"space {detail['space_error']:+.1e}) bound {detail['error_bound'] / abs(err):.2f}x{flag}")


def one_type() -> None:
    for case, (base, T) in CASES.items():
        for limit in ("eta1=0", "sigma0=0", "sigma0=1e-3"):
            if limit == "eta1=0":
                p = dict(base, eta1=0.0, sigma0=base.get("sigma0", 0.3))
                ex = closed_form(np.array([0.0]), T=T, sigma=math.hypot(p["sigma"], p["sigma0"]), eta=p["eta0"],
                                 phi=p["phi"], gamma_T=p["gamma_T"], m0_mean=1.0, m0_std=1.0)
            else:
                p = dict(base, sigma0=0.0 if limit == "sigma0=0" else 1e-3)
                ex = coupled(np.array([0.0, T]), T=T, **{k: v for k, v in p.items() if k != "sigma0"})
            exact = _cost(ex.h2[0], ex.h0[0], p["m0_mean"], p["m0_std"])
            for nt, nQ in ((160, 201), (320, 201), (320, 401)):
                est = solve_with_estimate(p, T=T, nt=nt, nQ=nQ, halfwidth=default_halfwidth(p, T))
                print(_line(f"{case} {limit} ({nt}, {nQ})", est.cost_detail, exact), flush=True)
    for label, params in (("stiff sigma0=0.2", dict(STIFF, sigma0=0.2)), ("realistic", REALISTIC)):
        L = default_halfwidth(params, 0.5)
        ref = solve_with_estimate(params, T=0.5, nt=2560, nQ=801, halfwidth=L)
        print(f"{label} reference (2560, 801): {ref.expected_cost:.8g} +- {ref.cost_error:.1e} (bound)")
        for nt, nQ in GRIDS:
            est = solve_with_estimate(params, T=0.5, nt=nt, nQ=nQ, halfwidth=L)
            print(_line(f"{label} ({nt}, {nQ})", est.cost_detail, ref.expected_cost, ref.cost_error), flush=True)


def two_types(default_grid: bool) -> None:
    for case, (base, T, spec, grid) in TYPE_CASES.items():
        nt, nX, nD = (320, 201, 41) if default_grid else grid
        types = validate_types(spec, base)
        for over in ({"eta1": 0.0}, {"sigma0": 0.0}):
            params = {"eta0": base["eta0"], "eta1": base["eta1"], "sigma0": 0.3, **over}
            L, LD = tcn.default_halfwidths(types, params["sigma0"], T)
            est = tcn.solve_with_estimate(types, params, T=T, nt=nt, nX=nX, nD=nD, halfwidth=L, D_halfwidth=LD)
            if params["sigma0"] == 0.0:
                ref = exact_types(np.array([0.0, T]), types, T=T, eta0=params["eta0"], eta1=params["eta1"])
                exact = [_cost(ref.h2[k][0], ref.h0[k][0], ty.m0_mean, ty.m0_std) for k, ty in enumerate(types)]
            else:
                exact = []
                for ty in types:
                    ex = closed_form(np.array([0.0]), T=T, sigma=math.hypot(ty.sigma, params["sigma0"]),
                                     eta=params["eta0"], phi=ty.phi, gamma_T=ty.gamma_T, m0_mean=1.0, m0_std=1.0)
                    exact.append(_cost(ex.h2[0], ex.h0[0], ty.m0_mean, ty.m0_std))
            label = f"two types {case} {next(iter(over))}=0 ({nt}, {nX}, {nD})"
            for k, ty in enumerate(types):
                print(_line(f"{label} {ty.name}", est.cost_detail(k), exact[k]), flush=True)
            crowd = sum(ty.weight * e for ty, e in zip(types, exact))
            print(_line(f"{label} crowd", est.total_cost_detail, crowd), flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--types", action="store_true", help="also each type's cost of two types (test grids)")
    parser.add_argument("--types-default-grid", action="store_true", help="the two-type cases on (320, 201, 41)")
    args = parser.parse_args()
    one_type()
    if args.types or args.types_default_grid:
        two_types(args.types_default_grid)


if __name__ == "__main__":
    main()
