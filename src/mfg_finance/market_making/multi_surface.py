"""A portfolio's quotes at ``t = 0`` on the (q_0, q_1) plane, exact and approximate, and their gap.

For ``d <= 3`` the exact lattice solution (:mod:`.multi_asset`; implicit ODE when the ``k_i``
differ) is solved and compared with the closed-form approximation (:mod:`.multi_approx`) on the
whole lattice; the plane shown is ``q_2 = ... = 0``. For ``d > 3`` only the approximation is shown.
"""

from __future__ import annotations

import numpy as np

from mfg_finance.market_making.multi_approx import approximate_spread_table, approximate_spreads, \
    approximation_error, riccati_matrix
from mfg_finance.market_making.multi_asset import MultiAssetParameters, MultiAssetQuotes

#: lattices up to this many points are solved exactly for the surface (d = 3, Q = 10: 9,261)
MAX_SURFACE_POINTS = 30_000


def quote_surface(params: MultiAssetParameters, *, near: int = 2) -> dict:
    """Bid quotes of asset 0 on the ``(q_0, q_1)`` plane at ``t = 0`` (price units) and the error summary.

    Returns ``{"q0", "q1", "approx_bid", "exact_bid" (or None), "error": {...} or None, "method"}``.
    """
    if params.d < 2:
        raise ValueError("a quote surface needs at least two assets")
    q0 = np.arange(-params.Q_max[0], params.Q_max[0] + 1)
    q1 = np.arange(-params.Q_max[1], params.Q_max[1] + 1)
    out = {"q0": q0, "q1": q1, "exact_bid": None, "error": None, "method": None}
    if params.d <= 3 and np.prod(params.lattice_shape) <= MAX_SURFACE_POINTS:
        method = "exact" if np.allclose(params.k, params.k[0], rtol=1e-12, atol=0.0) else "ode"
        exact_b, _ = MultiAssetQuotes(params, method=method).spread_table([0.0])
        approx_b, _ = approximate_spread_table(params, [0.0])
        out["error"] = approximation_error(params, exact_b[0], approx_b[0], near=near)
        plane = (slice(None), slice(None)) + tuple(int(q) for q in params.Q_max[2:])
        out["exact_bid"] = exact_b[0][plane + (0,)]
        out["approx_bid"] = approx_b[0][plane + (0,)]
        out["method"] = method
        return out
    grid = np.zeros((q0.size, q1.size, params.d))
    grid[..., 0], grid[..., 1] = q0[:, None], q1[None, :]
    bid, _ = approximate_spreads(params, riccati_matrix(params, [0.0])[0], grid.reshape(-1, params.d))
    bid = bid.reshape(q0.size, q1.size, params.d)[..., 0]
    bid[-1, :] = np.inf
    out["approx_bid"] = bid
    return out
