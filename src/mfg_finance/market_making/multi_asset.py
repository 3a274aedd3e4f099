r"""Multi-asset market making on the inventory lattice (Guéant 2017, "Optimal market making", §5).

Model (price units: BRL or ticks; time in seconds; inventories in lots), ``d`` assets::

    dS_t = Sigma^(1/2) dW_t                         mid prices, covariance Sigma (price units^2 / s)
    lambda_i^b(delta) = lambda_i^a(delta) = A_i exp(-k_i delta)      fills of asset i's quotes
    q in {-Q_1..Q_1} x ... x {-Q_d..Q_d}           no bid on i at q_i = Q_i, no ask at q_i = -Q_i
    maximise E[-exp(-gamma (X_T + q_T . S_T - sum_i phi_i q_{i,T}^2))]

With ``u = -exp(-gamma (x + q.s + theta(t, q)))`` the HJB equation is, for every lattice point::

    0 = d_t theta - (gamma/2) q' Sigma q
        + sum_i [ H_i(theta(q) - theta(q + e_i)) 1{q_i < Q_i} + H_i(theta(q) - theta(q - e_i)) 1{q_i > -Q_i} ]
    H_i(p) = (eta_i / k_i) exp(-k_i p),   eta_i = A_i (1 + gamma/k_i)^-(1 + k_i/gamma),
    theta(T, q) = -sum_i phi_i q_i^2

and the optimal distances are ``delta_i^b = theta(q) - theta(q + e_i) + (1/gamma) ln(1 + gamma/k_i)``
(ask: ``q - e_i``). ``theta`` is the certainty-equivalent value of the inventory (price units).

Two solvers:

* ``exact`` (all ``k_i`` equal to ``k``): ``w = exp(k theta)`` solves the *linear* system
  ``dw/dt = M w`` with the sparse lattice generator
  ``M = diag(k gamma q' Sigma q / 2) - sum_i eta_i (shift_{+e_i} + shift_{-e_i})`` (size
  ``prod(2 Q_i + 1)``), so ``w(t) = exp(-M (T - t)) w(T)``. The sparse matrix-exponential action is
  evaluated by uniformization: with ``c = max diag M`` the matrix ``K = c I - M`` has
  no negative entry and ``exp(-M h) w = e^{-c h} sum_n (h K)^n w / n!`` is a sum of non-negative
  vectors (no cancellation: every lattice point keeps full relative precision, however small its
  ``w``). The vector is renormalised at every step with the scale kept in log form, so no horizon
  overflows. For ``d = 1`` this is the GLFT exact solution of :mod:`.glft`.
* ``ode`` (any ``k_i``): the nonlinear ODE for ``theta`` integrated backwards with an implicit
  Runge-Kutta method (Radau IIA, order 5) with the sparse analytic Jacobian and tight tolerances.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Mapping

import numpy as np

from mfg_finance.errors import ConfigError
from mfg_finance.market_making import _checks
from mfg_finance.market_making.glft import QuoteSolverError

if TYPE_CHECKING:  # scipy is imported where used: most importers only read parameters
    from scipy import sparse

METHODS = ("exact", "ode")


def _vector(name: str, value, d: int, unit: str) -> np.ndarray:
    arr = np.atleast_1d(np.asarray(value, dtype=float))
    if arr.size == 1 and d > 1:
        arr = np.full(d, float(arr[0]))
    if arr.shape != (d,):
        raise ConfigError(f"{name} must have one value per asset ({d}), got {value!r}")
    if not np.all(np.isfinite(arr)):
        raise ConfigError(f"{name} must be finite (in {unit}), got {value!r}")
    return arr


def check_covariance(cov, *, name: str = "covariance") -> np.ndarray:
    """``cov`` as a symmetric positive semi-definite ``(d, d)`` float array, or a ConfigError."""
    cov = np.atleast_2d(np.asarray(cov, dtype=float))
    if cov.ndim != 2 or cov.shape[0] != cov.shape[1] or cov.shape[0] < 1:
        raise ConfigError(f"{name} must be a square (d, d) matrix, got shape {cov.shape}")
    if not np.all(np.isfinite(cov)):
        raise ConfigError(f"{name} must be finite, got {cov.tolist()}")
    if not np.allclose(cov, cov.T, rtol=1e-10, atol=1e-14 * max(np.abs(cov).max(), 1e-300)):
        raise ConfigError(f"{name} must be symmetric, got {cov.tolist()}")
    cov = 0.5 * (cov + cov.T)
    smallest = np.linalg.eigvalsh(cov)[0]
    if smallest < -1e-10 * max(np.abs(cov).max(), 1e-300):
        raise ConfigError(f"{name} must be positive semi-definite (smallest eigenvalue {smallest:.3g})")
    return cov


@dataclass(frozen=True)
class MultiAssetParameters:
    """Parameters of the multi-asset CARA market-making problem (one entry per asset).

    Attributes
    ----------
    covariance : (d, d) covariance of the mid-price increments (price units^2 / s).
    A : fill intensity at zero distance (1/s), per asset (a scalar is broadcast).
    k : intensity decay (1/price unit), per asset.
    gamma : CARA risk aversion (1/price unit), one for the portfolio.
    Q_max : inventory limit (lots), per asset.
    T : horizon (s).
    phi : terminal penalty ``phi_i q_i^2`` (price units / lot^2), per asset; default 0.
    """

    covariance: np.ndarray
    A: np.ndarray
    k: np.ndarray
    gamma: float
    Q_max: np.ndarray
    T: float
    phi: np.ndarray = field(default=0.0)

    def __post_init__(self):
        cov = check_covariance(self.covariance)
        d = cov.shape[0]
        object.__setattr__(self, "covariance", cov)
        for name, unit in (("A", "1/s"), ("k", "1/price unit"), ("phi", "price units/lot^2")):
            object.__setattr__(self, name, _vector(name, getattr(self, name), d, unit))
        if np.any(self.A <= 0) or np.any(self.k <= 0):
            raise ConfigError(f"A (1/s) and k (1/price unit) must be > 0, got A={self.A}, k={self.k}")
        if np.any(self.phi < 0):
            raise ConfigError(f"phi must be >= 0 (price units/lot^2), got {self.phi}")
        q = _vector("Q_max", self.Q_max, d, "lots")
        if np.any(q < 1) or np.any(q != np.round(q)):
            raise ConfigError(f"Q_max must be positive integers (lots), got {self.Q_max!r}")
        object.__setattr__(self, "Q_max", q.astype(np.int64))
        _checks.positive("gamma", self.gamma, unit="1/price unit")
        _checks.positive("T", self.T, unit="s")

    @property
    def d(self) -> int:
        return self.covariance.shape[0]

    @property
    def eta(self) -> np.ndarray:
        """``A_i (1 + gamma/k_i)^-(1 + k_i/gamma)`` (1/s): the fill rate of the static quote, discounted."""
        ratio = self.gamma / self.k
        return self.A * np.exp(-(1.0 + 1.0 / ratio) * np.log1p(ratio))

    @property
    def static_half_spread(self) -> np.ndarray:
        """``(1/gamma) ln(1 + gamma/k_i)`` per asset (price units)."""
        return np.log1p(self.gamma / self.k) / self.gamma

    @property
    def lattice_shape(self) -> tuple[int, ...]:
        return tuple(int(2 * q + 1) for q in self.Q_max)

    def lattice(self) -> np.ndarray:
        """Inventories of every lattice point, shape ``(n_points, d)``, C order (last asset fastest)."""
        axes = [np.arange(-q, q + 1) for q in self.Q_max]
        return np.stack([g.ravel() for g in np.meshgrid(*axes, indexing="ij")], axis=1)

    def running_penalty(self) -> np.ndarray:
        """``(gamma/2) q' Sigma q`` at every lattice point (price units / s)."""
        q = self.lattice().astype(float)
        return 0.5 * self.gamma * np.einsum("ni,ij,nj->n", q, self.covariance, q)

    def terminal_theta(self) -> np.ndarray:
        return -(self.lattice().astype(float) ** 2) @ self.phi


def shift_matrices(shape: tuple[int, ...]) -> list[sparse.csr_matrix]:
    """Per asset ``i``, the sparse matrix ``P_i`` with ``(P_i w)(q) = w(q + e_i)`` (0 beyond the limit)."""
    from scipy import sparse
    out = []
    for i, n in enumerate(shape):
        factors = [sparse.identity(m, format="csr") for m in shape]
        factors[i] = sparse.diags(np.ones(n - 1), 1, format="csr")
        mat = factors[0]
        for f in factors[1:]:
            mat = sparse.kron(mat, f, format="csr")
        out.append(mat.tocsr())
    return out


def generator(params: MultiAssetParameters) -> sparse.csr_matrix:
    """Sparse ``M`` of ``dw/dt = M w`` (equal ``k`` only), in 1/s."""
    from scipy import sparse
    k = _common_k(params)
    diag = k * params.running_penalty()
    mat = sparse.diags(diag, format="csr")
    for eta, shift in zip(params.eta, shift_matrices(params.lattice_shape)):
        mat = mat - eta * (shift + shift.T)
    return mat.tocsr()


def _common_k(params: MultiAssetParameters) -> float:
    k = params.k
    if not np.allclose(k, k[0], rtol=1e-12, atol=0.0):
        raise ConfigError(f"method='exact' needs equal k for every asset (got k={k.tolist()}); use method='ode'")
    return float(k[0])


def _lattice_operator(weight: np.ndarray, eta: np.ndarray, shape: tuple[int, ...]):
    """``w -> weight * w + sum_i eta_i (w(q + e_i) + w(q - e_i))`` on the flattened lattice (numpy slices)."""
    ndim = len(shape)
    pairs = []
    for i in range(ndim):
        lower, upper = [slice(None)] * ndim, [slice(None)] * ndim
        lower[i], upper[i] = slice(None, -1), slice(1, None)
        pairs.append((tuple(lower), tuple(upper)))

    def apply(w: np.ndarray) -> np.ndarray:
        grid = w.reshape(shape)
        out = (weight * w).reshape(shape)
        for e, (lower, upper) in zip(eta, pairs):
            out[lower] += e * grid[upper]
            out[upper] += e * grid[lower]
        return out.ravel()
    return apply


def uniformized_log_w(params: MultiAssetParameters, taus: np.ndarray, *, step_rate: float = 100.0) -> np.ndarray:
    """``ln w`` at remaining times ``taus`` (s), shape ``(len(taus), n_points)`` (equal ``k``).

    See the module docstring: positive series of ``K = c I - M``, steps with ``rho h <= step_rate``
    (``rho = c + 2 sum eta_i`` bounds the spectral radius of ``K``, so ~``step_rate`` terms per step),
    renormalised after each step with the scale kept in log form.
    """
    taus = np.asarray(taus, dtype=float).ravel()
    if np.any(taus < 0) or not np.all(np.isfinite(taus)):
        raise ConfigError(f"remaining times must be finite and >= 0 s, got {taus}")
    k = _common_k(params)
    diag = k * params.running_penalty()
    c = diag.max()
    apply_k = _lattice_operator(c - diag, params.eta, params.lattice_shape)   # K = c I - M >= 0
    radius = c + 2.0 * params.eta.sum()                     # row-sum bound on the spectral radius of K
    log_w0 = k * params.terminal_theta()
    shift0 = log_w0.max()
    w, log_scale = np.exp(log_w0 - shift0), shift0
    h_full = step_rate / radius
    n_terms = int(step_rate + 12.0 * np.sqrt(step_rate) + 30.0)
    out = np.empty((taus.size, diag.size))
    tau_now = 0.0
    for index in np.argsort(taus, kind="stable"):
        target = taus[index]
        while tau_now < target:
            h = min(h_full, target - tau_now)
            total, term = w.copy(), w
            for n in range(1, n_terms + 1):
                term = apply_k(term) * (h / n)
                total += term
                if n % 4 == 0 and n > radius * h and np.all(term <= 1e-17 * total):
                    break
            top = total.max()
            w, log_scale = total / top, log_scale + np.log(top) - c * h
            tau_now += h
        if not np.all(w >= np.finfo(float).tiny):
            raise QuoteSolverError(f"multi-asset value spans more than the double range at T-t={target:.6g} s; "
                                   "lower phi, gamma or Q_max")
        out[index] = np.log(w) + log_scale
    return out


def _ode_theta(params: MultiAssetParameters, taus: np.ndarray, *, rtol: float, atol: float) -> np.ndarray:
    """``theta`` at remaining times ``taus`` from the nonlinear ODE (Radau IIA, sparse Jacobian)."""
    from scipy import sparse
    from scipy.integrate import solve_ivp
    taus = np.asarray(taus, dtype=float).ravel()
    shifts = shift_matrices(params.lattice_shape)
    n = int(np.prod(params.lattice_shape))
    running = params.running_penalty()
    # (neighbour operator, eta_i, k_i) for both sides of every asset; the operator's rows are empty at the limit
    sides = [(op, eta, k) for shift, eta, k in zip(shifts, params.eta, params.k) for op in (shift, shift.T.tocsr())]
    has = [np.asarray(op.sum(axis=1)).ravel() > 0 for op, _, _ in sides]
    # drift removed so that the unknown stays O(1): theta = vartheta + drift * tau
    drift = float(np.sum(2.0 * params.eta / params.k))

    def rates(theta):
        out = []
        for (op, eta, k), present in zip(sides, has):
            gap = op @ theta - theta                        # theta(q +- e_i) - theta(q)
            out.append(np.where(present, eta * np.exp(np.where(present, k * gap, 0.0)), 0.0))
        return out

    def rhs(tau, theta):
        total = -running - drift
        for (op, eta, k), r in zip(sides, rates(theta)):
            total = total + r / k
        return total

    def jac(tau, theta):
        mat = sparse.csr_matrix((n, n))
        for (op, eta, k), r in zip(sides, rates(theta)):
            mat = mat + sparse.diags(r) @ op - sparse.diags(r)
        return mat.tocsc()

    order = np.argsort(taus)
    span = (0.0, float(max(taus.max(), 0.0)))
    theta0 = params.terminal_theta()
    if span[1] == 0.0:
        return np.broadcast_to(theta0, (taus.size, n)).copy()
    sol = solve_ivp(rhs, span, theta0, method="Radau", t_eval=np.sort(taus), jac=jac, rtol=rtol, atol=atol)
    if not sol.success:
        raise QuoteSolverError(f"implicit ODE solve of the multi-asset HJB failed: {sol.message}")
    out = np.empty((taus.size, n))
    out[order] = sol.y.T + drift * np.sort(taus)[:, None]
    return out


class MultiAssetQuotes:
    """Optimal multi-asset quotes on the inventory lattice.

    Parameters
    ----------
    params : MultiAssetParameters
    method : "exact" (equal ``k``; linear system, uniformization) or "ode" (any ``k``; implicit ODE).
    rtol, atol : tolerances of the ``ode`` method (theta in price units).

    Examples
    --------
    >>> p = MultiAssetParameters(covariance=[[0.09, 0.05], [0.05, 0.09]], A=0.9, k=0.3, gamma=0.01,
    ...                          Q_max=5, T=600.0)
    >>> delta_b, delta_a = MultiAssetQuotes(p).spread_table([0.0])
    """

    def __init__(self, params: MultiAssetParameters, *, method: str = "exact", rtol: float = 1e-10,
                 atol: float = 1e-10):
        self.params = params
        self.method = _checks.choice("method", method, METHODS)
        self.rtol, self.atol = rtol, atol
        if method == "exact":
            _common_k(params)

    def theta(self, t) -> np.ndarray:
        """``theta(t, q)`` (price units), shape ``(len(t), n_points)``; lattice order of ``params.lattice()``."""
        p = self.params
        t = np.atleast_1d(np.asarray(t, dtype=float))
        taus = p.T - np.clip(t, 0.0, p.T)
        if self.method == "exact":
            return uniformized_log_w(p, taus) / p.k[0]
        return _ode_theta(p, taus, rtol=self.rtol, atol=self.atol)

    def spread_table(self, t) -> tuple[np.ndarray, np.ndarray]:
        """Distances ``(delta_b, delta_a)`` of shape ``(len(t), *lattice_shape, d)`` (price units, inf = no quote).

        Entry ``[n, q_1 + Q_1, ..., q_d + Q_d, i]`` is asset ``i``'s quote at time ``t[n]`` and inventory ``q``.
        """
        theta = self.theta(t)
        return spreads_from_theta(theta, self.params)


def spreads_from_theta(theta: np.ndarray, params: MultiAssetParameters) -> tuple[np.ndarray, np.ndarray]:
    """Quotes ``theta(q) - theta(q +- e_i) + static_i`` from ``theta`` of shape ``(n_times, n_points)``."""
    shape = params.lattice_shape
    grid = np.asarray(theta, dtype=float).reshape((-1,) + shape)
    n_t = grid.shape[0]
    delta_b = np.full((n_t,) + shape + (params.d,), np.inf)
    delta_a = np.full_like(delta_b, np.inf)
    for i in range(params.d):
        axis = i + 1
        lower = [slice(None)] * grid.ndim
        upper = [slice(None)] * grid.ndim
        lower[axis], upper[axis] = slice(None, -1), slice(1, None)
        step = grid[tuple(lower)] - grid[tuple(upper)]          # theta(q) - theta(q + e_i)
        static = params.static_half_spread[i]
        delta_b[tuple(lower) + (i,)] = step + static
        delta_a[tuple(upper) + (i,)] = -step + static
    return delta_b, delta_a


def parameters_from_document(doc: Mapping) -> MultiAssetParameters:
    """:class:`MultiAssetParameters` of a ``params.yaml`` written by
    :func:`mfg_finance.market_making.multi_backtest.portfolio_document` (here, apart from the backtests' pandas: the
    quote surface's job reads the document and nothing else)."""
    try:
        return MultiAssetParameters(covariance=doc["covariance"], A=doc["A"], k=doc["k"],
                                    gamma=doc["gamma_effective"], Q_max=doc["Q_max"], T=doc["horizon_s"],
                                    phi=doc["phi"])
    except KeyError as exc:
        raise ConfigError(f"portfolio parameter document lacks {exc}; was it written by portfolio_document?") from None
