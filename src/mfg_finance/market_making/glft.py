r"""Guéant-Lehalle-Fernandez-Tapia (2013) optimal quotes with inventory limits.

Model (price in "price units": ticks or BRL, time in seconds, inventory in lots)::

    dS_t = sigma dW_t                                  mid price
    lambda^b(delta) = lambda^a(delta) = A exp(-k delta) fill intensity of a quote delta away from mid
    q_t in {-Q_max, ..., Q_max}                        no bid at Q_max, no ask at -Q_max
    maximise E[-exp(-gamma (X_T + q_T S_T - phi q_T^2))]

With :math:`u = -\exp(-\gamma(x + q s))\, v_q(t)^{-\gamma/k}` the HJB equation becomes the *linear*
system :math:`\dot v = M v`, :math:`M` tridiagonal and symmetric::

    M_qq = alpha q^2,  M_{q,q+-1} = -eta,   alpha = k gamma sigma^2 / 2,
    eta = A (1 + gamma/k)^(-(1 + k/gamma)),  v_q(T) = exp(-k phi q^2)

so :math:`v(t) = \exp(-M (T-t))\, v(T)` and the optimal distances to the mid are::

    delta_b(t, q) = (1/k) ln(v_q / v_{q+1}) + (1/gamma) ln(1 + gamma/k)      (q < Q_max)
    delta_a(t, q) = (1/k) ln(v_q / v_{q-1}) + (1/gamma) ln(1 + gamma/k)      (q > -Q_max)

``theta_q(t) = (1/k) ln v_q(t)`` is the certainty-equivalent inventory value (price units).

Three solvers share this module:

* ``exact``: eigendecomposition :math:`M = U \Lambda U^T`, evaluated as
  :math:`v(t) = e^{-\lambda_0 \tau}\, U e^{-(\Lambda - \lambda_0)\tau} U^T v(T)`, with
  :math:`\tau = T - t` and :math:`\lambda_0` the smallest eigenvalue. Every exponent is <= 0, so
  nothing overflows at any horizon (the plain ``expm(-M tau)`` overflows once
  :math:`-\lambda_0 \tau > 709`, i.e. after ~1,100 s with the defaults). The prefactor is kept in
  log form. Entries of ``v`` too small for the eigenvectors to resolve are recomputed by
  uniformization (positive series, full relative precision).
* ``numerical``: explicit backward Euler on the nonlinear ODE for ``theta`` with step ``dt``,
  first order in ``dt``:
  ``d theta_q/dt = gamma sigma^2 q^2 / 2 - (eta/k) [exp(k(theta_{q+1}-theta_q)) + exp(k(theta_{q-1}-theta_q))]``.
* ``asymptotic``: the closed forms of GLFT (2013) / Guéant (2017), valid far from ``T`` and from
  the inventory limits::

    delta_b(q) ~ (1/gamma) ln(1 + gamma/k) + (2q + 1)/2 * omega
    delta_a(q) ~ (1/gamma) ln(1 + gamma/k) - (2q - 1)/2 * omega
    omega = sqrt( sigma^2 gamma / (2 k A) * (1 + gamma/k)^(1 + k/gamma) )

A side that is not quoted (bid at ``Q_max``, ask at ``-Q_max``) has distance ``+inf``.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np

from mfg_finance.errors import ConfigError, MfgFinanceError
from mfg_finance.market_making import _checks

METHODS = ("exact", "numerical", "asymptotic")


class QuoteSolverError(MfgFinanceError, ArithmeticError):
    """The quote solver cannot reach double precision for these parameters (message says why)."""


@dataclass(frozen=True)
class HJBParameters:
    """Parameters of the GLFT market-making problem.

    Defaults are the example of Guéant, Lehalle & Fernandez-Tapia (2013), in ticks and seconds.

    Attributes
    ----------
    sigma : float
        Mid-price volatility (price units / sqrt(s)). Default 0.3 tick/sqrt(s).
    A : float
        Fill intensity at zero distance (1/s). Default 0.9.
    k : float
        Decay of the fill intensity with distance (1/price unit). Default 0.3 /tick.
    gamma : float
        CARA risk aversion (1/price unit). Default 0.01 /tick.
    phi : float
        Terminal inventory penalty ``phi q^2`` (price units / lot^2). Default 0: inventory is
        marked to the mid at ``T`` (GLFT's convention ``v_q(T) = 1``).
    T : float
        Horizon (s). Default 600.
    dt : float
        Step of the numerical backward scheme (s). Default 0.1.
    Q_max : int
        Inventory limit (lots). Default 30.
    delta_min, delta_max : float or None
        Optional clipping of the quoted distances (price units). Default None (off).
    """

    sigma: float = 0.3
    A: float = 0.9
    k: float = 0.3
    gamma: float = 0.01
    phi: float = 0.0
    T: float = 600.0
    dt: float = 0.1
    Q_max: int = 30
    delta_min: float | None = None
    delta_max: float | None = None

    def __post_init__(self):
        checked = {
            "sigma": _checks.non_negative("sigma", self.sigma, unit="price units/sqrt(s)"),
            "A": _checks.positive("A", self.A, unit="1/s"),
            "k": _checks.positive("k", self.k, unit="1/price unit"),
            "gamma": _checks.positive("gamma", self.gamma, unit="1/price unit"),
            "phi": _checks.non_negative("phi", self.phi, unit="price units/lot^2"),
            "T": _checks.positive("T", self.T, unit="s"),
            "dt": _checks.positive("dt", self.dt, unit="s"),
            "Q_max": _checks.positive_int("Q_max", self.Q_max, unit="lots"),
        }
        for name, value in checked.items():  # floats from here on, whatever came in
            object.__setattr__(self, name, value)
        _checks.bounded_scales(sigma=self.sigma, gamma=self.gamma, k=self.k, Q_max=self.Q_max)
        lo, hi = self.delta_min, self.delta_max
        if lo is not None and hi is not None and _checks.as_float("delta_min", lo) > \
                _checks.as_float("delta_max", hi):
            raise ConfigError(f"delta_min ({lo}) must not exceed delta_max ({hi})")

    def to_dict(self) -> dict:
        return asdict(self)

    @property
    def alpha(self) -> float:
        """Diagonal coefficient ``k gamma sigma^2 / 2`` of M (1/s per lot^2)."""
        return 0.5 * self.k * self.gamma * self.sigma**2

    @property
    def eta(self) -> float:
        """Off-diagonal coefficient ``A (1 + gamma/k)^-(1 + k/gamma)`` of M (1/s)."""
        ratio = self.gamma / self.k
        return self.A * np.exp(-(1.0 + 1.0 / ratio) * np.log1p(ratio))

    @property
    def static_half_spread(self) -> float:
        """``(1/gamma) ln(1 + gamma/k)``: the quote with no inventory risk (price units)."""
        return float(np.log1p(self.gamma / self.k) / self.gamma)

    @property
    def inventories(self) -> np.ndarray:
        return np.arange(-self.Q_max, self.Q_max + 1)


def generator_bands(params: HJBParameters) -> tuple[np.ndarray, np.ndarray]:
    """Diagonal and off-diagonal of M (1/s): ``alpha q^2`` and ``-eta``."""
    q = params.inventories.astype(float)
    return params.alpha * q**2, np.full(q.size - 1, -params.eta)


def generator_matrix(params: HJBParameters) -> np.ndarray:
    """Dense M, for checks and for the plain ``expm`` comparison only."""
    diag, off = generator_bands(params)
    return np.diag(diag) + np.diag(off, 1) + np.diag(off, -1)


def terminal_log_v(params: HJBParameters) -> np.ndarray:
    """``ln v_q(T) = -k phi q^2``."""
    return -params.k * params.phi * params.inventories.astype(float) ** 2


def spreads_from_log_v(log_v: np.ndarray, params: HJBParameters) -> tuple[np.ndarray, np.ndarray]:
    """Optimal distances from ``ln v`` (last axis = inventory); ``inf`` where a side is not quoted."""
    log_v = np.asarray(log_v, dtype=float)
    static = params.static_half_spread
    delta_b = np.full(log_v.shape, np.inf)
    delta_a = np.full(log_v.shape, np.inf)
    step = (log_v[..., :-1] - log_v[..., 1:]) / params.k     # theta_q - theta_{q+1}
    delta_b[..., :-1] = step + static
    delta_a[..., 1:] = -step + static
    return delta_b, delta_a


def asymptotic_spreads(q, params: HJBParameters) -> tuple[np.ndarray, np.ndarray]:
    """Closed-form asymptotic quotes of GLFT (2013) / Guéant (2017) (price units), no limits applied."""
    q = np.asarray(q, dtype=float)
    ratio = params.gamma / params.k
    omega = np.sqrt(params.sigma**2 * params.gamma / (2.0 * params.k * params.A)
                    * np.exp((1.0 + 1.0 / ratio) * np.log1p(ratio)))
    static = params.static_half_spread
    return static + 0.5 * (2.0 * q + 1.0) * omega, static - 0.5 * (2.0 * q - 1.0) * omega


class _ExactSolver:
    """``ln v(t)`` through the eigendecomposition of M, normalised so that no exponent is positive.

    Eigenvectors are accurate in norm, not entry by entry, so an entry of ``v`` far below the
    largest (an extreme inventory, strong penalty or strong risk aversion) can lose its relative
    precision. A rounding bound flags such times; they are recomputed by uniformization
    (:func:`_uniformized_log_v`), which is exact too and keeps every entry to full relative precision.
    """

    #: largest accepted relative error bound of an entry of v (quote error <= 2e-6/k) before
    #: switching to uniformization; the bound is conservative (actual errors ~1e-10 by default)
    max_relative_error = 1e-6

    def __init__(self, params: HJBParameters):
        from scipy.linalg import eigh_tridiagonal  # scipy where used: importers of the strategies may need none

        self.params = params
        diag, off = generator_bands(params)
        self.eigenvalues, self.eigenvectors = eigh_tridiagonal(diag, off)
        self.log_v_terminal = terminal_log_v(params)
        # v(T) scaled by its largest entry; the scale goes back in log form.
        scale = self.log_v_terminal.max()
        self.coefficients = self.eigenvectors.T @ np.exp(self.log_v_terminal - scale)
        self.log_scale = scale
        # Absolute error of the entries of unit eigenvector j ~ n eps ||M|| / gap_j (Davis-Kahan).
        n = diag.size
        eps = np.finfo(float).eps
        norm = np.abs(diag).max() + 2.0 * params.eta
        gaps = np.full(n, np.inf)
        if n > 1:
            spacing = np.diff(self.eigenvalues)
            gaps[:-1] = spacing
            gaps[1:] = np.minimum(gaps[1:], spacing)
        vector_error = n * eps * (1.0 + norm / np.maximum(gaps, norm * eps))
        self.entry_error = n * eps * np.abs(self.eigenvectors) + vector_error[None, :]

    def log_v(self, t: np.ndarray) -> np.ndarray:
        p = self.params
        tau = p.T - np.clip(np.asarray(t, dtype=float).ravel(), 0.0, p.T)
        lam0 = self.eigenvalues[0]
        decay = np.exp(-np.outer(tau, self.eigenvalues - lam0)) * self.coefficients
        v = decay @ self.eigenvectors.T
        bound = np.abs(decay) @ self.entry_error.T
        imprecise = (tau > 0.0) & ~np.all(v * self.max_relative_error > bound, axis=1)
        with np.errstate(divide="ignore", invalid="ignore"):
            out = np.log(v) + self.log_scale - lam0 * tau[:, None]
        out[tau == 0.0] = self.log_v_terminal
        if imprecise.any():
            out[imprecise] = _uniformized_log_v(p, tau[imprecise])
        return out

    def stationary_log_v(self) -> np.ndarray:
        """``ln v`` up to a constant as T - t -> infinity: the ground state of M (positive vector)."""
        ground = np.abs(self.eigenvectors[:, 0])
        if np.all(ground * self.max_relative_error > self.entry_error[:, 0]):
            return np.log(ground)
        return _uniformized_log_v(self.params, np.array([np.inf]))[0]


#: Most uniformization steps (each ``c h = 20``) one solve may take before the ground state is
#: reached; ~1-2 ms a step at ``Q_max`` = 30, so a solve stays within about half a minute. A
#: stiffer problem (``c (T - t)`` beyond ``20 x`` this) is refused with the estimate instead.
MAX_UNIFORMIZATION_STEPS = 20_000


def _uniformized_log_v(params: HJBParameters, taus: np.ndarray, *, step_rate: float = 20.0) -> np.ndarray:
    r"""``ln v`` at remaining times ``taus`` by uniformization, with full relative precision.

    With ``c = max(alpha q^2) + 2 eta`` the matrix ``K = c I - M`` has no negative entry, so
    ``exp(-M h) v = e^{-c h} sum_n (h^n / n!) K^n v`` is a sum of non-negative vectors: no
    cancellation, every entry keeps its relative precision whatever its size. Steps of
    ``c h = step_rate`` keep the series short (about 60 terms); the vector is renormalised after
    each step with the scale kept in log form. Once the normalised vector stops changing (the
    ground state is reached; entries that underflowed to zero count as unchanged) later times follow
    by the decay rate alone. ``tau = inf`` returns the stationary shape. The work is bounded: a
    solve that has not reached the ground state after :data:`MAX_UNIFORMIZATION_STEPS` steps raises
    :class:`QuoteSolverError` with the number of steps the horizon would need.
    """
    diag, off = generator_bands(params)
    eta = -off[0] if off.size else 0.0
    c = diag.max() + 2.0 * eta
    weight = c - diag                                  # >= 0 by construction
    log_w = terminal_log_v(params)
    shift = log_w.max()
    w, log_scale = np.exp(log_w - shift), shift        # v = w * exp(log_scale), max(w) = 1
    order = np.argsort(taus)
    out = np.empty((taus.size, diag.size))
    h_full = step_rate / c
    n_terms = int(step_rate + 12.0 * np.sqrt(step_rate) + 30.0)
    tau_now, rate, n_steps = 0.0, None, 0
    with np.errstate(divide="ignore"):
        previous = np.log(w)

    def propagate(w, h):
        total, term = w.copy(), w
        for n in range(1, n_terms + 1):
            term = (h / n) * (weight * term + eta * (np.concatenate(([0.0], term[:-1]))
                                                     + np.concatenate((term[1:], [0.0]))))
            total += term
            if np.all(term <= 1e-17 * total):
                break
        top = total.max()
        return total / top, np.log(top) - c * h

    for index in order:
        target = taus[index]
        while tau_now < target and rate is None:
            if n_steps >= MAX_UNIFORMIZATION_STEPS:
                finite = taus[np.isfinite(taus)]
                needed = c * (finite.max() if finite.size else target) / step_rate
                raise QuoteSolverError(
                    f"GLFT problem too stiff: uniformization needs ~{needed:.3g} steps for "
                    f"T-t={target:.6g} s (rate c = max(alpha q^2) + 2 eta = {c:.3g} 1/s) and has not "
                    f"reached the stationary quotes after {MAX_UNIFORMIZATION_STEPS}; lower sigma, "
                    f"gamma, Q_max or the horizon")
            h = min(h_full, target - tau_now)
            w, gained = propagate(w, h)
            log_scale += gained
            tau_now += h
            n_steps += 1
            with np.errstate(divide="ignore"):
                current = np.log(w)
            if h == h_full and _unchanged(current, previous):
                rate = gained / h                          # stationary: v decays as exp(rate tau)
            previous = current
        with np.errstate(divide="ignore"):
            log_v = np.log(w)
        if not np.all(w >= np.finfo(float).tiny):      # zero or subnormal: precision is gone
            raise QuoteSolverError(
                f"GLFT value function spans more than the double range at T-t={target:.6g} s "
                f"(q = +-{params.Q_max}); lower sigma, phi, gamma or Q_max")
        if np.isinf(target):
            out[index] = log_v
        else:
            extra = (target - tau_now) * rate if rate is not None and target > tau_now else 0.0
            out[index] = log_v + log_scale + extra
    return out


def _unchanged(current: np.ndarray, previous: np.ndarray) -> bool:
    """``ln w`` equal to 1e-13 relative, entries at ``-inf`` (underflowed) on both sides included."""
    with np.errstate(invalid="ignore"):
        close = np.abs(current - previous) <= 1e-13 * (1.0 + np.abs(current))
    return bool(np.all(close | (current == previous)))


class _NumericalSolver:
    """Explicit backward Euler on ``theta`` with step ``dt`` (rounded so that ``T/dt`` is an integer)."""

    def __init__(self, params: HJBParameters):
        self.params = params
        self.n_steps = max(1, int(np.ceil(params.T / params.dt - 1e-9)))
        self.dt = params.T / self.n_steps
        q = params.inventories.astype(float)
        self.running = 0.5 * params.gamma * params.sigma**2 * q**2

    def _rhs(self, theta: np.ndarray) -> np.ndarray:
        p = self.params
        rate = p.eta / p.k
        up = theta[1:] - theta[:-1]                    # theta_{q+1} - theta_q
        out = self.running.copy()
        with np.errstate(over="raise"):
            out[:-1] -= rate * np.exp(p.k * up)
            out[1:] -= rate * np.exp(-p.k * up)
        return out

    def log_v(self, t: np.ndarray) -> np.ndarray:
        p = self.params
        # positions in backward steps (0 at T): each request interpolates two neighbouring steps
        steps = (p.T - np.clip(np.asarray(t, dtype=float).ravel(), 0.0, p.T)) / self.dt
        lower = np.minimum(np.floor(steps).astype(np.int64), self.n_steps)
        weight = steps - lower
        out = np.empty((steps.size, p.inventories.size))
        needed = set(np.union1d(lower, np.minimum(lower + 1, self.n_steps)).tolist())
        snapshots = {}
        theta = terminal_log_v(p) / p.k
        try:
            for m in range(max(needed) + 1):
                if m in needed:
                    snapshots[m] = theta.copy()
                theta = theta - self.dt * self._rhs(theta)
        except FloatingPointError:
            raise QuoteSolverError(f"numerical GLFT scheme diverged with dt={self.dt:.3g} s; "
                                   "use a smaller dt or method='exact'") from None
        for i, (m, w) in enumerate(zip(lower, weight)):
            upper = snapshots[min(m + 1, self.n_steps)]
            out[i] = (1.0 - w) * snapshots[m] + w * upper
        return out * p.k


class InventoryHJB:
    """Optimal GLFT quotes for given parameters.

    Parameters
    ----------
    params : HJBParameters, optional
        Model parameters (default: the GLFT paper's example).
    method : {"exact", "numerical", "asymptotic"}
        How ``v`` is obtained (see module docstring). Default ``"exact"``.

    Examples
    --------
    >>> model = InventoryHJB(HJBParameters())
    >>> delta_b, delta_a = model.get_optimal_spreads(0.0, 0)
    """

    def __init__(self, params: HJBParameters | None = None, *, method: str = "exact"):
        self.params = params if params is not None else HJBParameters()
        self.method = _checks.choice("method", method, METHODS)
        self._solver = {"exact": _ExactSolver, "numerical": _NumericalSolver,
                        "asymptotic": lambda p: None}[method](self.params)

    # -- value function ------------------------------------------------------------------------
    def log_v(self, t) -> np.ndarray:
        """``ln v_q(t)`` (shape ``(len(t), 2 Q_max + 1)``); ``theta = ln v / k`` in price units."""
        if self._solver is None:
            raise ConfigError("method='asymptotic' has no value function; use 'exact' or 'numerical'")
        return self._solver.log_v(np.atleast_1d(np.asarray(t, dtype=float)))

    # -- quotes -------------------------------------------------------------------------------
    def spread_table(self, t) -> tuple[np.ndarray, np.ndarray]:
        """Distances ``(delta_b, delta_a)`` for every time in ``t`` and every inventory.

        Returns two arrays of shape ``(len(t), 2 Q_max + 1)`` in price units (column ``j`` is
        ``q = j - Q_max``); ``inf`` marks a side that is not quoted. Clipping applies if set.
        """
        t = np.atleast_1d(np.asarray(t, dtype=float))
        if self.method == "asymptotic":
            delta_b, delta_a = asymptotic_spreads(self.params.inventories, self.params)
            delta_b = np.broadcast_to(delta_b, (t.size, delta_b.size)).copy()
            delta_a = np.broadcast_to(delta_a, (t.size, delta_a.size)).copy()
            delta_b[:, -1] = np.inf
            delta_a[:, 0] = np.inf
        else:
            delta_b, delta_a = spreads_from_log_v(self.log_v(t), self.params)
        return self._clip(delta_b), self._clip(delta_a)

    def stationary_spreads(self) -> tuple[np.ndarray, np.ndarray]:
        """Limit of the exact quotes as ``T - t -> infinity`` (per inventory, price units)."""
        solver = self._solver if isinstance(self._solver, _ExactSolver) else _ExactSolver(self.params)
        delta_b, delta_a = spreads_from_log_v(solver.stationary_log_v(), self.params)
        return self._clip(delta_b), self._clip(delta_a)

    def asymptotic_spreads(self, q) -> tuple[np.ndarray, np.ndarray]:
        """Closed-form asymptotic distances at inventory ``q`` (no limits, no clipping)."""
        return asymptotic_spreads(q, self.params)

    def get_optimal_spreads(self, t, q):
        """Optimal distances to the mid ``(delta_b, delta_a)`` at time ``t`` (s) and inventory ``q``.

        ``t`` and ``q`` broadcast against each other; scalars in, floats out.
        """
        t_arr, q_arr = np.broadcast_arrays(np.asarray(t, dtype=float), np.asarray(q))
        index = self._inventory_index(q_arr)
        unique_t, inverse = np.unique(t_arr.ravel(), return_inverse=True)
        table_b, table_a = self.spread_table(unique_t)
        flat = index.ravel()
        delta_b = table_b[inverse, flat].reshape(t_arr.shape)
        delta_a = table_a[inverse, flat].reshape(t_arr.shape)
        if delta_b.ndim == 0:
            return float(delta_b), float(delta_a)
        return delta_b, delta_a

    def get_quotes(self, t, q, S):
        """Bid and ask prices ``(S - delta_b, S + delta_a)``; ``-inf``/``+inf`` when not quoted."""
        delta_b, delta_a = self.get_optimal_spreads(t, q)
        return S - delta_b, S + delta_a

    # -- helpers ------------------------------------------------------------------------------
    def _inventory_index(self, q: np.ndarray) -> np.ndarray:
        q_int = np.asarray(q).astype(np.int64)
        Q = self.params.Q_max
        if np.any(q_int != q) or np.any(np.abs(q_int) > Q):
            raise ConfigError(f"inventory must be an integer in [-{Q}, {Q}] lots, got {q!r}")
        return q_int + Q

    def _clip(self, delta: np.ndarray) -> np.ndarray:
        lo, hi = self.params.delta_min, self.params.delta_max
        if lo is None and hi is None:
            return delta
        finite = np.isfinite(delta)
        delta = delta.copy()
        delta[finite] = np.clip(delta[finite], -np.inf if lo is None else lo, np.inf if hi is None else hi)
        return delta


def create_default_model(method: str = "exact", **overrides) -> InventoryHJB:
    """``InventoryHJB`` with the GLFT paper's example parameters (ticks, seconds), optionally overridden."""
    return InventoryHJB(HJBParameters(**overrides), method=method)
