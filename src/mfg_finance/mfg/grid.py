"""Space-time grid of the MFG solver and the discrete initial law.

Inventory nodes ``q_i = x_min + i dx`` (``i = 0..nx-1``, inventory units) and time nodes
``0 = t_0 < t_1 < ... < t_nt = T`` (trading days) with steps ``dt_n = t_{n+1} - t_n``. The grid is
vertex-centred: node ``i`` carries the probability mass ``mu_i dx`` of the cell
``[q_i - dx/2, q_i + dx/2]``. The time mesh is uniform or graded towards ``T``
(:func:`time_mesh`).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from scipy.special import lambertw

TIME_MESHES = ("uniform", "graded")
#: Narrowest terminal layer the graded mesh resolves, as a fraction of ``T``.
MIN_LAYER = 1.0e-9


@dataclass(frozen=True)
class Grid:
    """Grid: ``q`` (nx,) inventory nodes, ``t`` (nt+1,) time nodes and ``dts`` (nt,) time steps.

    ``dts[n]`` is the step ``[t_n, t_{n+1}]`` used by the scheme (trading days).
    """

    q: np.ndarray
    t: np.ndarray
    dts: np.ndarray

    @property
    def dx(self) -> float:
        return float(self.q[1] - self.q[0])

    @property
    def dt(self) -> float:
        """Largest time step (trading days): the step of a uniform mesh, the mesh size of a graded one."""
        return float(np.max(self.dts))

    @property
    def nx(self) -> int:
        return int(self.q.size)

    @property
    def nt(self) -> int:
        return int(self.t.size - 1)


def layer_scale(eta0: float, gamma_T: float) -> float:
    """Width ``eta0 / gamma_T`` (trading days) of the terminal boundary layer; ``inf`` if ``gamma_T = 0``.

    Near ``T`` the Riccati coefficient behaves like ``h2 = gamma_T eta / (eta + gamma_T (T - t))``:
    it falls from ``gamma_T`` to ``~eta / (T - t)`` over ``T - t ~ eta / gamma_T``. ``eta0`` is the
    smallest cost the coupling can produce, so this is the narrowest the layer can be.
    """
    return math.inf if gamma_T <= 0.0 else eta0 / gamma_T


def graded_smooth_scale(T: float, layer: float, max_step_ratio: float) -> float:
    """Distance ``l`` from ``T`` (trading days) where the graded mesh turns uniform (see :func:`time_mesh`).

    It solves ``(T + tau - l + l ln(l / tau)) / T = beta`` (``beta = max_step_ratio``), i.e. with
    ``y = l / tau``: ``y (ln y - 1) = (beta - 1) T / tau - 1``, whose root is
    ``y = exp(1 + W((beta - 1) T / (e tau) - 1/e))`` (``W``: principal Lambert function). The left
    side increases with ``l`` (its derivative is ``ln(l / tau) / T``) from 1 at ``l = tau``.
    Returns ``tau`` (uniform mesh) when ``tau`` is infinite or ``beta <= 1``.
    """
    tau = float(layer)
    if not math.isfinite(tau) or max_step_ratio <= 1.0:
        return tau
    c = (max_step_ratio - 1.0) * T / tau - 1.0
    w = float(lambertw(c / math.e).real)
    return tau * math.exp(1.0 + w)


def time_mesh(T: float, nt: int, kind: str = "uniform", *, layer: float = math.inf,
              max_step_ratio: float = 1.5) -> tuple[np.ndarray, np.ndarray]:
    r"""Time nodes ``t`` (nt+1,) and steps ``dts`` (nt,) on ``[0, T]`` (trading days).

    ``uniform``: ``t = linspace(0, T, nt + 1)``, every step ``T / nt``.

    ``graded``: with ``s = T - t`` the distance to the horizon and ``tau = layer`` the width of the
    terminal layer (``eta0 / gamma_T``, :func:`layer_scale`), the step at distance ``s`` is::

        dt(s) = kappa min(s + tau, l)

    Steps grow geometrically (ratio ``e^kappa`` a step) from ``kappa tau`` at ``T`` until
    ``s = l - tau``, then stay uniform, ``kappa l = beta T / nt`` with ``beta = max_step_ratio``,
    down to ``t = 0``. The nodes are ``s_k = S(k)`` for the map ``dS/dk = kappa min(S + tau, l)``,
    ``S(0) = 0``, ``S(nt) = T``::

        S(k) = tau (e^{kappa k} - 1)             for k <= k* = ln(l / tau) / kappa,
        S(k) = l - tau + kappa l (k - k*)        beyond,
        kappa = (T - l + tau + l ln(l / tau)) / (l nt),

    and ``l`` is chosen (:func:`graded_smooth_scale`, closed form) so that the uniform part's step
    is exactly ``beta`` times the uniform mesh's ``T / nt``.

    Why this law. In the layer ``h2 ~ eta / (s + tau)`` and the feedback ``~ q / (s + tau)``: a
    backward-Euler step of length ``dt`` has a relative error ``~ (dt / (s + tau))^2``, so steps
    proportional to ``s + tau`` give the same relative error, ``~ kappa^2``, at every distance
    from ``T`` and resolve the layer with ``ln(l / tau) / kappa`` steps, a logarithm: the same
    ``nt`` suffices. Away from the layer the solution varies on a fixed time scale, where uniform
    steps are right. ``beta`` is the price paid there: the steps away from ``T`` are ``beta`` times
    those of the uniform mesh, so the (first-order) errors of the smooth part grow by about
    ``beta``; every step saved goes to the layer. Nothing depends on the problem but ``tau``,
    computed from the parameters, and ``beta`` is a dimensionless budget, not a tuning knob. With
    the default ``beta = 1.5`` a third of the steps grade the layer (stiff baseline, ``nt = 150``:
    first step ``tau / 14``, growth 7% a step); on its refinement study the feedback and value
    errors fall 8x and 4x, the mean and ``eta`` errors fall too, the (``dx``-limited) variance error
    rises 1.2x (``beta = 2``: feedback a little better, variance worse; ``beta = 1.25`` the
    reverse). Rejected alternatives: a purely geometric mesh (``l = T``), or ``l`` set by the
    relaxation time ``sqrt(eta0 / phi)``, make the steps away from ``T`` up to 6x the uniform ones
    when ``phi`` is small, and the variance error 10x worse.

    For fixed ``(T, tau, beta)`` the mesh is the image of a fixed map of ``k / nt`` (``kappa nt``
    does not depend on ``nt``), so doubling ``nt`` splits every step in two: a refinement study
    keeps the grading law and sees first order. ``tau`` is floored at ``1e-9 T``. Degenerate cases
    are continuous: ``tau = inf`` (``gamma_T = 0``, no layer) or ``beta = 1`` gives the uniform
    mesh; if the layer is so wide that ``l > T + tau`` the mesh is purely geometric,
    ``kappa = ln(1 + T / tau) / nt`` (every step below ``beta T / nt``).
    """
    if kind == "uniform":
        t = np.linspace(0.0, T, nt + 1)
        return t, np.full(nt, t[1] - t[0])
    if kind != "graded":
        raise ValueError(f"time mesh {kind!r} is not one of {TIME_MESHES}")
    # a layer narrower than 1e-9 T is not worth resolving (and steps ~1e-16 T would vanish in round-off)
    tau = max(float(layer), MIN_LAYER * T)
    ell = graded_smooth_scale(T, tau, max_step_ratio)
    if not ell > tau:
        t = np.linspace(0.0, T, nt + 1)
        return t, np.full(nt, t[1] - t[0])
    k = np.arange(nt + 1, dtype=float)
    if ell >= T + tau:   # the layer reaches t = 0: purely geometric
        kappa = math.log1p(T / tau) / nt
        s = tau * np.expm1(kappa * k)
    else:
        log_ratio = math.log(ell / tau)
        kappa = (T - ell + tau + ell * log_ratio) / (ell * nt)
        k_star = log_ratio / kappa
        s = np.where(k <= k_star, tau * np.expm1(kappa * np.minimum(k, k_star)),
                     ell - tau + kappa * ell * (k - k_star))
    s[0], s[-1] = 0.0, T
    t = T - s[::-1]
    t[0] = 0.0
    return t, np.diff(t)


def make_grid(x_min: float, x_max: float, nx: int, T: float, nt: int, kind: str = "uniform", *,
              layer: float = math.inf, max_step_ratio: float = 1.5) -> Grid:
    """Grid on ``[x_min, x_max] x [0, T]``: ``nx`` uniform space nodes, ``nt`` steps of :func:`time_mesh`."""
    t, dts = time_mesh(T, nt, kind, layer=layer, max_step_ratio=max_step_ratio)
    return Grid(q=np.linspace(x_min, x_max, nx), t=t, dts=dts)


def grid_from_config(config) -> Grid:
    """The grid of a validated ``mfg`` config (``grid`` and, for a graded mesh, ``params``).

    A config without ``grid.time_mesh`` (e.g. one recorded in a ``metrics.json`` written before
    graded meshes existed) was solved on the uniform mesh, and gets it here.
    """
    g, p = config["grid"], config["params"]
    return make_grid(g["x_min"], g["x_max"], g["nx"], g["T"], g["nt"], g.get("time_mesh", "uniform"),
                     layer=layer_scale(p["eta0"], p["gamma_T"]),
                     max_step_ratio=g.get("max_step_ratio", 1.5))


def gaussian_density(q: np.ndarray, mean: float, std: float) -> np.ndarray:
    """Normal density ``N(mean, std^2)`` sampled at the nodes and renormalised so ``sum(mu) dx = 1``.

    Sampling (rather than cell averages) keeps the discrete mean and variance equal to
    ``mean`` and ``std^2`` up to the truncation of the tails by the domain: the lattice sum of a
    Gaussian is spectrally accurate in ``dx / std``.
    """
    dx = q[1] - q[0]
    z = (q - mean) / std
    mu = np.exp(-0.5 * z * z)
    return mu / (mu.sum() * dx)


# ---- the domain and the initial law ------------------------------------------------------------

#: The automatic domain reaches this many standard deviations of the widest law beyond the means.
DOMAIN_STDS = 6.0
AUTO = "auto"


def auto_domain(*, m0_mean: float, m0_std: float, sigma: float, T: float, nx: int | None = None,
                eta0: float | None = None, eta1: float = 0.0, phi: float = 0.0,
                gamma_T: float = 0.0) -> tuple[float, float]:
    """Inventory range ``[x_min, x_max]`` (inventory units) that holds the equilibrium law.

    With the cost parameters (``eta0`` given), the range is the envelope of the exact LQ
    equilibrium law (:mod:`mfg_finance.mfg.exact`, the law this model has without a boundary),
    ``DOMAIN_STDS = 6`` standard deviations around its mean at every time, so at most ~2e-9 of the
    mass ever comes near an end::

        x_min = min_t (Q_t - 6 sqrt(V_t)),     x_max = max_t (Q_t + 6 sqrt(V_t))

    (sampled at 400 graded times and widened by 1% of the width on each side), including 0.

    Without them (or if the exact reference cannot be computed) it is the envelope of not trading
    at all, an upper bound (trading only pulls inventories together, and the mean moves from
    ``m0_mean`` towards 0): ``[min(m0_mean, 0) - 6 S, max(m0_mean, 0) + 6 S]``,
    ``S = sqrt(m0_std^2 + sigma^2 T)``.

    With ``nx`` the range is then widened (by less than a cell) so that ``q = 0`` is a node: the
    crowd's law ends concentrated at 0, and with 0 between two nodes its terminal mean would sit at
    the lattice's offset (e.g. -0.0037 instead of a small positive value) rather than at the model's.
    """
    low = high = None
    if eta0 is not None:
        from mfg_finance.errors import MfgConvergenceError
        from mfg_finance.mfg.exact import coupled

        try:
            t, _ = time_mesh(T, 400, "graded", layer=layer_scale(eta0, gamma_T))
            ref = coupled(t, T=T, sigma=sigma, eta0=eta0, eta1=eta1, phi=phi, gamma_T=gamma_T,
                          m0_mean=m0_mean, m0_std=m0_std)
            std = np.sqrt(np.maximum(ref.variance, 0.0))
            low = float(min(np.min(ref.mean - DOMAIN_STDS * std), 0.0))
            high = float(max(np.max(ref.mean + DOMAIN_STDS * std), 0.0))
            if math.isfinite(low) and math.isfinite(high):
                margin = 0.01 * (high - low)      # the envelope is sampled at 400 times: a little slack
                low, high = low - margin, high + margin
            else:
                low = high = None
        except (MfgConvergenceError, ValueError, FloatingPointError):
            low = high = None
    if low is None:
        spread = DOMAIN_STDS * math.sqrt(m0_std * m0_std + sigma * sigma * T)
        low, high = min(m0_mean, 0.0) - spread, max(m0_mean, 0.0) + spread
    if nx is None:
        return float(low), float(high)
    below = min(max(int(round((nx - 1) * -low / (high - low))), 1), nx - 2)   # cells below 0
    dx = max(-low / below, high / (nx - 1 - below))
    return float(-below * dx), float((nx - 1 - below) * dx)


def initial_density(q: np.ndarray, mean: float, std: float) -> np.ndarray:
    r"""``N(mean, std^2)`` projected on the nodes with exactly its mass, mean and variance (density, 1/inventory units).

    * ``std >= dx``: the maximum-entropy law on the nodes with that mean and variance,
      ``mu_i ~ exp(theta_1 z_i + theta_2 z_i^2)`` (``z = (q - mean) / std``), found by Newton's method
      on its convex dual from the sampled Gaussian (``theta = (0, -1/2)``); the correction to the
      sampled Gaussian is exponentially small in ``(std/dx)^2`` plus what the domain's ends cut off.
    * ``std < dx``: a four-node stencil. With ``q_j <= mean < q_{j+1}`` and ``f = (mean - q_j)/dx``, the
      two-node law ``(1 - f, f)`` on ``(q_j, q_{j+1})`` has the mean and variance ``v2 = f (1 - f) dx^2``;
      the rest of the variance comes from mixing in, with weight
      ``lambda = (std^2 - v2) / (vw - v2)``, the two-node law on ``(q_{j-1}, q_{j+2})`` with the
      same mean and variance ``vw = (1 + f)(2 - f) dx^2 > std^2``. Every weight is ``>= 0``.

    Raises
    ------
    ConfigError naming ``mfg.params.m0_std`` when ``std^2 < v2`` (no law on these nodes has that
    mean and so small a variance), and ``mfg.params.m0_mean`` / ``mfg.params.m0_std`` /
    ``mfg.grid`` when ``mean +- 6 std`` (or the stencil) does not fit in the domain.
    """
    from mfg_finance.errors import ConfigError

    q = np.asarray(q, dtype=float)
    dx = float(q[1] - q[0])
    lo, hi = mean - DOMAIN_STDS * std, mean + DOMAIN_STDS * std
    if lo < q[0] or hi > q[-1]:
        raise ConfigError(f"mfg.params.m0_mean, mfg.params.m0_std: the initial law N({mean!r}, {std!r}^2) "
                          f"does not fit in the domain [{q[0]:.6g}, {q[-1]:.6g}] (mfg.grid.x_min, x_max): "
                          f"mean +- {DOMAIN_STDS:g} std spans [{lo:.6g}, {hi:.6g}]; widen the domain or "
                          f"set x_min/x_max to 'auto'")
    if std >= dx:
        return _max_entropy(q, mean, std)
    j = int(np.clip(np.floor((mean - q[0]) / dx), 0, q.size - 2))
    f = (mean - q[j]) / dx
    v2 = f * (1.0 - f) * dx * dx
    if std * std < v2:
        smallest = math.sqrt(v2)
        raise ConfigError(f"mfg.params.m0_std: {std!r} is narrower than any law on nodes {dx:.6g} apart can be "
                          f"with mean {mean!r} (smallest std there: {smallest:.6g}); set m0_std >= "
                          f"{smallest:.6g} or refine mfg.grid.nx")
    if j < 1 or j + 2 > q.size - 1:
        raise ConfigError(f"mfg.params.m0_mean: {mean!r} is within two cells of the domain's end "
                          f"[{q[0]:.6g}, {q[-1]:.6g}]; widen the domain")
    vw = (1.0 + f) * (2.0 - f) * dx * dx
    lam = (std * std - v2) / (vw - v2)
    w = np.zeros_like(q)
    w[j] += (1.0 - lam) * (1.0 - f)
    w[j + 1] += (1.0 - lam) * f
    w[j - 1] += lam * (2.0 - f) / 3.0
    w[j + 2] += lam * (1.0 + f) / 3.0
    return w / dx


def _max_entropy(q: np.ndarray, mean: float, std: float) -> np.ndarray:
    """Maximum-entropy weights on the nodes with mean ``mean`` and variance ``std^2`` (density)."""
    dx = float(q[1] - q[0])
    z = (q - mean) / std
    feats = np.stack([z, z * z])
    target = np.array([0.0, 1.0])
    theta = np.array([0.0, -0.5])

    def dual(th):
        s = th @ feats
        top = s.max()
        return top + math.log(np.exp(s - top).sum()) - th @ target

    for _ in range(100):
        s = theta @ feats
        w = np.exp(s - s.max())
        w /= w.sum()
        moments = feats @ w
        grad = moments - target
        if np.max(np.abs(grad)) <= 1e-14:
            break
        centred = feats - moments[:, None]
        hess = (centred * w) @ centred.T
        step = np.linalg.solve(hess, grad)
        f0, t = dual(theta), 1.0
        while dual(theta - t * step) > f0 - 1e-4 * t * (grad @ step) and t > 1e-10:
            t *= 0.5
        theta = theta - t * step
    s = theta @ feats
    w = np.exp(s - s.max())
    return w / (w.sum() * dx)
