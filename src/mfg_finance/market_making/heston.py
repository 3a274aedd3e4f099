r"""Heston stochastic volatility for the mid price: simulation, known moments, characteristic function.

Model (time in seconds; ``v`` is the variance of log-returns per second, 1/s)::

    d ln S_t = -v_t / 2 dt + sqrt(v_t) dW_t
    dv_t     = kappa (theta - v_t) dt + xi sqrt(v_t) dB_t,      d<W, B>_t = rho dt

``kappa`` (1/s) is the mean-reversion speed, ``theta`` (1/s) the long-run variance, ``xi``
(1/s) the volatility of variance, ``rho`` the leverage correlation, ``v0`` (1/s) the initial variance.
The mid's instantaneous price volatility is ``S sqrt(v)`` (price units / sqrt(s)): the GLFT ``sigma``.

Simulation: full-truncation Euler (Lord, Koekkoek and van Dijk 2010) on ``x = ln S``::

    v+ = max(v_n, 0)
    v_{n+1} = v_n + kappa (theta - v+) dt + xi sqrt(v+ dt) Z_v
    x_{n+1} = x_n - v+ dt / 2 + sqrt(v+ dt) (rho Z_v + sqrt(1 - rho^2) Z)

(the auxiliary ``v`` may go negative; only ``v+`` enters the dynamics, so the variance used is never
negative), weakly first-order in ``dt``. ``Z`` are the engine's mid normals, ``Z_v`` come from a
stream of their own.

Known moments checked against the simulation: ``E v_t = theta + (v0 - theta) e^{-kappa t}``,
``Var v_t = v0 xi^2/kappa (e^{-kappa t} - e^{-2 kappa t}) + theta xi^2/(2 kappa) (1 - e^{-kappa t})^2``,
the cumulants of ``ln(S_T/S_0)`` from the characteristic function (Albrecher et al. 2007 form),
and the European call price by Lewis's (2001) single integral.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np
from scipy.integrate import quad

from mfg_finance.errors import ConfigError
from mfg_finance.market_making import _checks


@dataclass(frozen=True)
class HestonParameters:
    """Heston parameters (see the module docstring); all rates per second."""

    kappa: float
    theta: float
    xi: float
    rho: float
    v0: float

    def __post_init__(self):
        _checks.positive("kappa", self.kappa, unit="1/s")
        _checks.positive("theta", self.theta, unit="1/s")
        _checks.non_negative("xi", self.xi, unit="1/s")
        _checks.non_negative("v0", self.v0, unit="1/s")
        if not -1.0 <= _checks.as_float("rho", self.rho) <= 1.0:
            raise ConfigError(f"rho must lie in [-1, 1], got {self.rho!r}")

    def to_dict(self) -> dict:
        return {key: float(value) for key, value in asdict(self).items()}

    @property
    def feller(self) -> float:
        """``2 kappa theta / xi^2``: >= 1 means the variance never reaches 0 in continuous time."""
        return 2.0 * self.kappa * self.theta / self.xi**2 if self.xi > 0 else float("inf")


def variance_mean(p: HestonParameters, t) -> np.ndarray:
    t = np.asarray(t, dtype=float)
    return p.theta + (p.v0 - p.theta) * np.exp(-p.kappa * t)


def variance_variance(p: HestonParameters, t) -> np.ndarray:
    t = np.asarray(t, dtype=float)
    e = np.exp(-p.kappa * t)
    return p.v0 * p.xi**2 / p.kappa * (e - e**2) + p.theta * p.xi**2 / (2.0 * p.kappa) * (1.0 - e) ** 2


def characteristic_function(p: HestonParameters, u, T: float) -> np.ndarray:
    """``E exp(i u ln(S_T/S_0))`` (complex ``u`` allowed), the "little trap" form (no branch jumps)."""
    u = np.asarray(u, dtype=complex)
    iu = 1j * u
    b = p.kappa - p.rho * p.xi * iu
    d = np.sqrt(b**2 + p.xi**2 * (iu + u**2))
    g = (b - d) / (b + d)
    e = np.exp(-d * T)
    if p.xi == 0.0:
        raise ConfigError("characteristic_function needs xi > 0")
    c = p.kappa * p.theta / p.xi**2 * ((b - d) * T - 2.0 * np.log((1.0 - g * e) / (1.0 - g)))
    dd = (b - d) / p.xi**2 * (1.0 - e) / (1.0 - g * e)
    return np.exp(c + dd * p.v0)


def log_return_cumulants(p: HestonParameters, T: float, *, h: float = 1e-3) -> tuple[float, float]:
    """Mean and variance of ``ln(S_T/S_0)`` from the characteristic function (central differences)."""
    log_phi = lambda u: np.log(characteristic_function(p, u, T))  # noqa: E731
    first = (log_phi(h) - log_phi(-h)) / (2.0 * h)
    second = (log_phi(h) - 2.0 * log_phi(0.0) + log_phi(-h)) / h**2
    return float((first / 1j).real), float((-second).real)


def call_price(p: HestonParameters, S0: float, K: float, T: float) -> float:
    """European call (zero rates) by Lewis: ``S0 - sqrt(S0 K)/pi int_0^inf Re[e^{iuk} phi(u - i/2)]/(u^2+1/4) du``."""
    k = np.log(S0 / K)

    def integrand(u):
        return (np.exp(1j * u * k) * characteristic_function(p, u - 0.5j, T)).real / (u**2 + 0.25)

    # phi decays on the scale u ~ 1/sqrt(integrated variance): integrate on pieces of that size, up
    # to where |phi| < 1e-30 (a Gaussian bound with the smaller of v0, theta would be too optimistic)
    scale = 1.0 / np.sqrt(max(min(p.v0, p.theta), 1e-300) * T + 1e-300)
    edges = scale * np.arange(0.0, 61.0, 2.0)
    integral = sum(quad(integrand, a, b, limit=200, epsabs=1e-14, epsrel=1e-9)[0]
                   for a, b in zip(edges[:-1], edges[1:]))
    return float(S0 - np.sqrt(S0 * K) / np.pi * integral)


class HestonMids:
    """Heston mids for the multi-asset engine (``d = 1``): ``increments(n, z)`` advances every path.

    ``stationary_start`` draws each path's ``v_0`` from the variance's stationary Gamma law (a
    session starting at a random volatility regime) instead of ``v0``.
    ``variance`` (1/s) holds ``max(v_n, 0)`` of every path at the current step (what a
    variance-aware strategy reads before quoting); ``price`` the current mids (price units).
    """

    def __init__(self, p: HestonParameters, *, S0: float, dt: float, n_paths: int, seed,
                 stationary_start: bool = False):
        self.p, self.dt = p, float(dt)
        self.rng = np.random.Generator(np.random.PCG64(np.random.SeedSequence(seed).spawn(4)[3]))
        if stationary_start and p.xi > 0:
            # CIR stationary law: Gamma(shape 2 kappa theta / xi^2, scale xi^2 / (2 kappa))
            self.v = self.rng.gamma(p.feller, p.xi**2 / (2.0 * p.kappa), n_paths)
        else:
            self.v = np.full(n_paths, float(p.v0))
        self.price = np.full(n_paths, float(S0))
        self.log_price = np.log(self.price)

    @property
    def variance(self) -> np.ndarray:
        return np.maximum(self.v, 0.0)

    def step(self, z: np.ndarray) -> None:
        p, dt = self.p, self.dt
        vp = self.variance
        zv = self.rng.standard_normal(vp.shape)
        root = np.sqrt(vp * dt)
        self.log_price = self.log_price - 0.5 * vp * dt + root * (p.rho * zv + np.sqrt(1.0 - p.rho**2) * z)
        self.v = self.v + p.kappa * (p.theta - vp) * dt + p.xi * root * zv

    def increments(self, n: int, z: np.ndarray) -> np.ndarray:
        old = self.price
        self.step(z[:, 0])
        self.price = np.exp(self.log_price)
        return (self.price - old)[:, None]


def simulate_terminal(p: HestonParameters, *, T: float, dt: float, n_paths: int, seed) -> tuple[np.ndarray, np.ndarray]:
    """``(ln(S_T/S_0), v_T)`` over ``n_paths`` full-truncation paths (for checks and studies)."""
    n_steps = int(round(T / dt))
    if n_steps < 1 or abs(n_steps * dt - T) > 1e-9 * T:
        raise ConfigError(f"T / dt must be a whole number of steps; got {T} / {dt}")
    mids = HestonMids(p, S0=1.0, dt=dt, n_paths=n_paths, seed=seed)
    z_rng = np.random.Generator(np.random.PCG64(np.random.SeedSequence(seed).spawn(4)[0]))
    for _ in range(n_steps):
        mids.step(z_rng.standard_normal(n_paths))
    return mids.log_price.copy(), mids.v.copy()
