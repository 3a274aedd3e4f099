r"""Quoting strategies for ``d`` correlated assets, as tables looked up by (time row, inventory).

``multi_exact`` (``d <= 3``)
    Optimal quotes of the joint problem on the inventory lattice (:mod:`.multi_asset`): exact
    (uniformization) when the ``k_i`` are equal, implicit ODE otherwise.
``multi_approx`` (any ``d``)
    Closed-form quadratic approximation (:mod:`.multi_approx`): ``static_i +- (2 A(t) q)_i + A_ii(t)``.
``independent_glft``
    Baseline that ignores correlation: each asset quoted by the one-asset GLFT exact solution
    (:mod:`.glft`) with its own variance ``Sigma_ii`` and its own inventory only.

Time dependence is tabulated on a quote grid of step ``table_dt`` (s, a multiple of the simulation
step): the quotes of step ``n`` are those of the last grid time ``<= t_n``; the inventory dependence
is exact (looked up at the current inventories every step).
"""

from __future__ import annotations

import numpy as np

from mfg_finance.errors import ConfigError
from mfg_finance.market_making.glft import HJBParameters, InventoryHJB
from mfg_finance.market_making.multi_approx import riccati_matrix
from mfg_finance.market_making.multi_asset import MultiAssetParameters, MultiAssetQuotes

MULTI_STRATEGIES = ("multi_exact", "multi_approx", "independent_glft")
#: largest lattice the exact strategy accepts (d = 3 with Q = 10 has 9,261 points)
MAX_EXACT_POINTS = 30_000


def table_rows(n_steps: int, dt: float, table_dt: float) -> tuple[np.ndarray, np.ndarray]:
    """Quote-grid times (s) and the row used by every simulation step."""
    stride = table_dt / dt
    if stride < 1 or abs(stride - round(stride)) > 1e-9 * stride:
        raise ConfigError(f"table_dt ({table_dt} s) must be a whole multiple of the step dt ({dt} s)")
    stride = int(round(stride))
    row_of_step = np.arange(n_steps) // stride
    return np.arange(row_of_step[-1] + 1) * stride * dt, row_of_step


class LatticeStrategy:
    """Quotes from tables ``delta[row, lattice index, asset]`` (joint inventory lattice)."""

    def __init__(self, name, delta_b, delta_a, Q_max, row_of_step):
        self.name = name
        n_rows = delta_b.shape[0]
        self.delta_b = delta_b.reshape(n_rows, -1, len(Q_max))
        self.delta_a = delta_a.reshape(n_rows, -1, len(Q_max))
        shape = 2 * np.asarray(Q_max) + 1
        self.strides = np.cumprod(np.concatenate(([1], shape[::-1][:-1])))[::-1]
        self.Q_max = np.asarray(Q_max)
        self.row_of_step = row_of_step

    def quotes(self, n, q):
        index = (q + self.Q_max) @ self.strides
        row = self.row_of_step[n]
        return self.delta_b[row, index], self.delta_a[row, index]


class RiccatiStrategy:
    """Approximate quotes ``static +- 2 A q + diag(A)`` from the Riccati matrices ``A(row)``."""

    name = "multi_approx"

    def __init__(self, a_matrices, static, row_of_step):
        self.a = a_matrices
        self.diag = np.diagonal(a_matrices, axis1=1, axis2=2)
        self.static = static
        self.row_of_step = row_of_step

    def quotes(self, n, q):
        row = self.row_of_step[n]
        skew = 2.0 * (q @ self.a[row])              # A symmetric: (2 A q)_i for every path
        base = self.static + self.diag[row]
        return base + skew, base - skew


class IndependentStrategy:
    """One-asset GLFT tables ``delta[row, q_i + Q_i]`` per asset."""

    name = "independent_glft"

    def __init__(self, tables, Q_max, row_of_step):
        self.tables = tables
        self.Q_max = np.asarray(Q_max)
        self.row_of_step = row_of_step

    def quotes(self, n, q):
        row = self.row_of_step[n]
        delta_b = np.empty(q.shape)
        delta_a = np.empty(q.shape)
        for i, (table_b, table_a) in enumerate(self.tables):
            j = q[:, i] + self.Q_max[i]
            delta_b[:, i] = table_b[row, j]
            delta_a[:, i] = table_a[row, j]
        return delta_b, delta_a


def build_multi_strategy(name: str, params: MultiAssetParameters, *, n_steps: int, dt: float, table_dt: float):
    """Strategy ``name`` for the problem ``params`` (horizon ``params.T``) on a grid of ``n_steps`` x ``dt``."""
    times, rows = table_rows(n_steps, dt, table_dt)
    if name == "multi_exact":
        if params.d > 3 or np.prod(params.lattice_shape) > MAX_EXACT_POINTS:
            raise ConfigError(f"multi_exact solves the joint inventory lattice and is limited to d <= 3 and "
                              f"{MAX_EXACT_POINTS} points (got d = {params.d}, "
                              f"{int(np.prod(params.lattice_shape))} points); use multi_approx")
        method = "exact" if np.allclose(params.k, params.k[0], rtol=1e-12, atol=0.0) else "ode"
        delta_b, delta_a = MultiAssetQuotes(params, method=method).spread_table(times)
        return LatticeStrategy(name, delta_b, delta_a, params.Q_max, rows)
    if name == "multi_approx":
        return RiccatiStrategy(riccati_matrix(params, times), params.static_half_spread, rows)
    if name == "independent_glft":
        tables = []
        for i in range(params.d):
            one = HJBParameters(sigma=float(np.sqrt(params.covariance[i, i])), A=float(params.A[i]),
                                k=float(params.k[i]), gamma=params.gamma, phi=float(params.phi[i]), T=params.T,
                                Q_max=int(params.Q_max[i]))
            tables.append(InventoryHJB(one).spread_table(times))
        return IndependentStrategy(tables, params.Q_max, rows)
    raise ConfigError(f"unknown multi-asset strategy {name!r}; allowed: {', '.join(MULTI_STRATEGIES)}")
