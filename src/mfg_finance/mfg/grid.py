"""Space-time grid of the MFG solver and the discrete initial law.

Inventory nodes ``q_i = x_min + i dx`` (``i = 0..nx-1``, inventory units) and time nodes
``0 = t_0 < t_1 < ... < t_nt = T`` (trading days) with steps ``dt_n = t_{n+1} - t_n``. The grid is
vertex-centred: node ``i`` carries the probability mass ``mu_i dx`` of the cell
``[q_i - dx/2, q_i + dx/2]``. The time mesh is uniform or graded towards ``T``
(:func:`time_mesh`).
"""

from __future__ import annotations

import functools
import math
from dataclasses import dataclass
from typing import Sequence

import numpy as np

TIME_MESHES = ("uniform", "graded")
INVENTORY_MESHES = ("graded", "uniform")
#: Narrowest terminal layer the graded mesh resolves, as a fraction of ``T``. The steps are computed as
#: differences of distances to ``T`` (not of times), so a step of 1e-16 T is exact, not round-off.
MIN_LAYER = 1.0e-16


def cell_widths(q: np.ndarray) -> np.ndarray:
    """(nx,) widths of the cells the nodes carry (inventory units): ``(q_{i+1} - q_{i-1}) / 2`` inside, the
    adjacent spacing at the two ends (so a uniform grid has every width ``dx``). Probability mass of
    node ``i``: ``mu_i w_i``."""
    q = np.asarray(q, dtype=float)
    h = np.diff(q)
    w = np.empty_like(q)
    w[1:-1] = 0.5 * (h[:-1] + h[1:])
    w[0], w[-1] = h[0], h[-1]
    return w


@dataclass(frozen=True)
class Grid:
    """Grid: ``q`` (nx,) inventory nodes, ``t`` (nt+1,) time nodes and ``dts`` (nt,) time steps.

    ``dts[n]`` is the step ``[t_n, t_{n+1}]`` used by the scheme (trading days). The inventory
    nodes are uniform or graded (:func:`inventory_nodes`); ``weights`` are the cell widths
    (:func:`cell_widths`), with which every integral over ``q`` is taken: ``int f mu dq = sum f_i mu_i w_i``.
    """

    q: np.ndarray
    t: np.ndarray
    dts: np.ndarray

    @property
    def dx(self) -> float:
        """Largest node spacing (inventory units): the spacing of a uniform grid, the mesh size of a graded one."""
        return float(np.max(np.diff(self.q)))

    @property
    def weights(self) -> np.ndarray:
        return cell_widths(self.q)

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


#: The graded time mesh grades from no less than this fraction of ``T``: the last interval is solved exactly
#: (:mod:`mfg_finance.mfg.terminal_interval`), so the e-folds of a thinner layer need no steps.
TERMINAL_LAYER_FLOOR = 1.0e-4
#: ... and, when the terminal law is much narrower than the cell at ``q = 0`` (spacing ``h0``), from no less than the
#: time over which the noise spreads a point over ``sqrt(10) ~ 3`` such cells (``10 h0^2 / sigma^2``): closer to
#: ``T`` the grid cannot follow the law's contraction (its upwind steps hold it on cells far wider than it, at a
#: cost ``~ eta h0^2 / (T - t)^2``), and the exact last interval carries it instead.
TERMINAL_LAYER_CELLS2 = 10.0
#: ... "narrower than the cell": a terminal std below this fraction of ``h0`` (1/3).
TERMINAL_LAW_CELLS = 3.0


def mesh_layer(params, T: float, q: np.ndarray) -> float:
    """Layer scale (trading days) the graded time mesh grades from, for the inventory nodes ``q``.

    ``max(eta0 / gamma_T, TERMINAL_LAYER_FLOOR T, c)`` with ``c = TERMINAL_LAYER_CELLS2 h0^2 / sigma^2`` when the
    terminal std of the law's envelope (:func:`law_envelope`) is below a third of the spacing ``h0`` at the node
    nearest 0 (where the law ends), else ``c = 0``; ``inf`` (uniform steps) without a terminal penalty. Below this scale
    the exact last interval (:mod:`mfg_finance.mfg.terminal_interval`) holds the layer. Measured on the
    ``gamma_T`` ladder (``1e2 .. 1e12``, 201 x 150): grading to ``eta0 / gamma_T`` itself left ``gamma_T = 1e12``'s
    32 e-folds to backward Euler (cost +24 %); grading a uniform inventory mesh (spacing 0.037 against a
    terminal std of 1e-8 ... 0.003) down to the layer made the law's unresolved contraction cost +27 ... +43 %.
    """
    tau = layer_scale(params["eta0"], params["gamma_T"])
    if not math.isfinite(tau):
        return tau
    q = np.asarray(q, dtype=float)
    i0 = int(np.argmin(np.abs(q)))
    h0 = float(np.min(np.diff(q)[max(i0 - 1, 0):i0 + 1]))
    cells = 0.0
    if params["sigma"] > 0.0:
        env = law_envelope(params, T) if "m0_mean" in params else None
        if env is not None and TERMINAL_LAW_CELLS * float(env.std[-1]) < h0:
            cells = TERMINAL_LAYER_CELLS2 * h0 * h0 / params["sigma"] ** 2
    return max(tau, TERMINAL_LAYER_FLOOR * T, cells)


def exact_stretch_scale(params, T: float, layer: float, max_step_ratio: float) -> float:
    """Distance to ``T`` (trading days) that a *uniform* time mesh solves exactly when its last step is longer than the
    layer (:func:`mfg_finance.mfg.terminal_interval.exact_steps`): the larger of ``layer`` (:func:`mesh_layer`, which
    covers where the nodes cannot hold the law) and the scale where the graded mesh of the true layer turns uniform,
    ``graded_smooth_scale(T, max(eta0 / gamma_T, TERMINAL_LAYER_FLOOR T), max_step_ratio)``: beyond it every uniform
    step has ``dt / (s + tau) <= kappa / beta``, below the graded mesh's ratio. At most ``EXACT_END_MAX_FRACTION T``,
    as the graded mesh's exact interval: on coarse nodes (51 on ``[-5, 5]``: ``mesh_layer`` 1.6 day) the stretch would
    otherwise be the whole horizon, and the grid solver the closed form of the LQ model."""
    tau = max(layer_scale(params["eta0"], params["gamma_T"]), TERMINAL_LAYER_FLOOR * T)
    return min(max(float(layer), graded_smooth_scale(T, tau, max_step_ratio)), EXACT_END_MAX_FRACTION * T)


def graded_smooth_scale(T: float, layer: float, max_step_ratio: float) -> float:
    """Distance ``l`` from ``T`` (trading days) where the graded mesh turns uniform (see :func:`time_mesh`).

    It solves ``(T + tau - l + l ln(l / tau)) / T = beta`` (``beta = max_step_ratio``), i.e. with
    ``y = l / tau``: ``y (ln y - 1) = C = (beta - 1) T / tau - 1``, whose root is
    ``y = exp(1 + W(C / e))`` (``W``: principal Lambert function). The left side increases with ``l``
    (its derivative is ``ln(l / tau) / T``) from 1 at ``l = tau``. Returns ``tau`` (uniform mesh) when
    ``tau`` is infinite or ``beta <= 1``.
    """
    tau = float(layer)
    if not math.isfinite(tau) or max_step_ratio <= 1.0:
        return tau
    return tau * math.exp(_log_root((max_step_ratio - 1.0) * T / tau - 1.0))


def _log_root(c: float) -> float:
    """The root ``x > 0`` of ``g(x) = e^x (x - 1) - c`` for ``c > -1``, i.e. ``1 + W(c / e)``, to round-off.

    ``g`` is increasing and convex for ``x > 0`` (``g' = x e^x``, ``g'' = (x + 1) e^x``) and
    ``g(1 + ln(1 + max(c, 0))) >= 0``, so Newton's method from there descends monotonically onto the root
    (quadratically; a handful of steps). Plain Python: scipy's Lambert function would cost the solver
    the import of ``scipy.special`` (a third of a second).
    """
    x = 1.0 + math.log1p(max(c, 0.0))
    for _ in range(200):
        ex = math.exp(x)
        step = (ex * (x - 1.0) - c) / (x * ex)
        x_new = x - step
        if not x_new < x:          # monotone from above: stops at the round-off floor
            break
        x = x_new
    return x


def time_mesh(T: float, nt: int, kind: str = "uniform", *, layer: float = math.inf,
              max_step_ratio: float = 1.5, true_layer: float | None = None) -> tuple[np.ndarray, np.ndarray]:
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
    keeps the grading law and sees first order. ``tau`` is floored at ``1e-16 T``; the steps are the
    differences of the distances ``s_k`` (exact), while the times ``T - s_k`` of the last few nodes may
    round onto ``T`` when ``tau`` is below ``1e-16 T``, which no outcome divides by. Degenerate cases
    are continuous: ``tau = inf`` (``gamma_T = 0``, no layer) or ``beta = 1`` gives the uniform
    mesh; if the layer is so wide that ``l > T + tau`` the mesh is purely geometric,
    ``kappa = ln(1 + T / tau) / nt`` (every step below ``beta T / nt``).

    ``true_layer`` (``eta0 / gamma_T``) below ``layer`` (:func:`mesh_layer`: the exact last interval holds the
    layer below that scale, :mod:`mfg_finance.mfg.terminal_interval`): the steps grade from the exact interval
    at the rate of the true layer, ``dt(s) = kappa min(s + tau_0, l)`` with ``tau_0 = true_layer``, and the last
    step is the whole of ``s < layer``::

        S(k) = (L + tau_0) e^{kappa k} - tau_0   for 0 < k <= k*,   S(0) = 0,   L = layer,

    (then uniform as above, ``l`` from :func:`graded_smooth_scale` at ``L + tau_0``), so the last step is
    ``~ L (1 + kappa)`` and every implicit step before it has the ratio ``dt / (s + tau_0) = kappa``. Why: with
    ``dt = kappa (s + L)`` the steps inside ``s < L`` are nearly uniform, ``~ kappa L``, while
    ``h2 ~ eta / (s + tau_0)`` varies on the scale ``s`` there: the ``k``-th step from the end has a relative error
    ``~ 1 / k`` in ``h2`` whatever ``kappa``, and the noise cost ``sigma^2 int h2 dt`` gets
    ``~ sigma^2 eta sum 1 / (2 k^2)``, which does not vanish under refinement (``gamma_T`` ladder: +0.8 ... +1.3 %
    of the cost left after the time extrapolation, docs/mfg.md section 11). The map is still fixed in ``k / nt``
    for ``k >= 1`` (doubling ``nt`` splits every implicit step in two; the coarser mesh's last step covers the
    finer one's last two). Used only when ``L`` is below ``EXACT_END_MAX_FRACTION T``.
    """
    if kind == "uniform":
        t = np.linspace(0.0, T, nt + 1)
        return t, np.full(nt, t[1] - t[0])
    if kind != "graded":
        raise ValueError(f"time mesh {kind!r} is not one of {TIME_MESHES}")
    # a layer narrower than 1e-16 T is not worth resolving (the terminal penalty is then a hard constraint)
    tau = max(float(layer), MIN_LAYER * T)
    k = np.arange(nt + 1, dtype=float)
    if true_layer is not None and true_layer < tau <= EXACT_END_MAX_FRACTION * T and max_step_ratio > 1.0:
        s = _exact_end_distances(T, nt, tau, float(true_layer), max_step_ratio)
        return T - s[::-1], np.diff(s)[::-1].copy()
    ell = graded_smooth_scale(T, tau, max_step_ratio)
    if not ell > tau:
        t = np.linspace(0.0, T, nt + 1)
        return t, np.full(nt, t[1] - t[0])
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
    t[0], t[-1] = 0.0, T
    # steps from the distances to T: exact however small (T - s rounds the last nodes onto T)
    return t, np.diff(s)[::-1].copy()


#: The graded mesh grades from the exact last interval (``true_layer`` of :func:`time_mesh`) when that interval
#: is at most this fraction of the horizon; a wider one (coarse nodes, :func:`mesh_layer`'s ``c``) keeps the
#: law ``dt = kappa (s + layer)``.
EXACT_END_MAX_FRACTION = 0.25


def _exact_end_distances(T: float, nt: int, layer: float, tau0: float, beta: float) -> np.ndarray:
    """Distances to ``T`` of the nodes of :func:`time_mesh`'s graded law above an exact last interval (its
    docstring): ``S(0) = 0``, ``S(k) = (L + tau0) e^{kappa k} - tau0`` up to ``l``, then uniform, ``S(nt) = T``."""
    base = layer + tau0
    ell = graded_smooth_scale(T, base, beta)
    k = np.arange(nt + 1, dtype=float)
    if ell >= T + tau0:      # geometric all the way to t = 0
        kappa = math.log((T + tau0) / base) / nt
        s = base * np.exp(kappa * k) - tau0
    else:
        log_ratio = math.log(ell / base)
        kappa = (log_ratio + (T - ell + tau0) / ell) / nt
        k_star = log_ratio / kappa
        s = np.where(k <= k_star, base * np.exp(kappa * np.minimum(k, k_star)) - tau0,
                     ell - tau0 + kappa * ell * (k - k_star))
    s[0], s[-1] = 0.0, T
    return s


def make_grid(x_min: float, x_max: float, nx: int, T: float, nt: int, kind: str = "uniform", *,
              layer: float = math.inf, max_step_ratio: float = 1.5, q: np.ndarray | None = None,
              true_layer: float | None = None) -> Grid:
    """Grid on ``[x_min, x_max] x [0, T]``: ``nx`` space nodes (uniform, or the given ``q``), ``nt`` steps of
    :func:`time_mesh` (``true_layer``: the physical layer ``eta0 / gamma_T``, see there)."""
    t, dts = time_mesh(T, nt, kind, layer=layer, max_step_ratio=max_step_ratio, true_layer=true_layer)
    nodes = np.linspace(x_min, x_max, nx) if q is None else np.asarray(q, dtype=float)
    return Grid(q=nodes, t=t, dts=dts)


def grid_from_config(config, *, layer: float | None = None) -> Grid:
    """The grid of a validated ``mfg`` config (``grid`` and, for graded meshes, ``params``).

    A config without ``grid.time_mesh`` / ``grid.inventory_mesh`` (e.g. one recorded in a ``metrics.json``
    written before graded meshes existed) was solved on uniform meshes, and gets them here. ``layer``: the
    graded time mesh's layer scale (default :func:`mesh_layer` of these nodes; the error estimate's companions
    pass the fine grid's, so that their meshes keep its grading law).
    """
    g, p = config["grid"], config["params"]
    q = grid_nodes(g, p)
    return make_grid(g["x_min"], g["x_max"], g["nx"], g["T"], g["nt"], g.get("time_mesh", "uniform"),
                     layer=mesh_layer(p, g["T"], q) if layer is None else layer,
                     max_step_ratio=g.get("max_step_ratio", 1.5), q=q,
                     true_layer=layer_scale(p["eta0"], p["gamma_T"]))


def grid_nodes(grid, params) -> np.ndarray:
    """The inventory nodes of a ``grid`` config section (ends resolved) and its ``params`` (inventory units)."""
    if grid.get("inventory_mesh", "uniform") == "graded":
        key = (float(grid["x_min"]), float(grid["x_max"]), int(grid["nx"]), float(grid["T"])) + \
            tuple(float(params[k]) for k in _ENVELOPE_KEYS)
        return _graded_nodes(key).copy()
    return np.linspace(grid["x_min"], grid["x_max"], grid["nx"])


@functools.lru_cache(maxsize=64)
def _graded_nodes(key: tuple) -> np.ndarray:
    """:func:`inventory_nodes` of a grid and parameter tuple, kept: a solve asks for them several times
    (the config check, the grid, the error estimate's companions)."""
    x_min, x_max, nx, T, *values = key
    params = dict(zip(_ENVELOPE_KEYS, values))
    return inventory_nodes(x_min, x_max, nx, law_envelope(params, T), sigma=params["sigma"],
                           carried=exactly_carried(params, T))


def exactly_carried(params, T: float) -> float:
    """Distance to ``T`` (trading days) below which the exact last interval carries the law whatever the nodes
    (:mod:`mfg_finance.mfg.terminal_interval`): ``TERMINAL_LAYER_FLOOR T`` when the layer ``eta0 / gamma_T`` is
    thinner than that (the graded time mesh's last step then spans it, :func:`time_mesh`), else 0 (the implicit
    steps resolve the layer and the nodes must hold the law up to ``T``)."""
    floor = TERMINAL_LAYER_FLOOR * T
    return floor if layer_scale(params["eta0"], params["gamma_T"]) < floor else 0.0


# ---- where the law goes: the Gaussian (LQ moment) envelope ---------------------------------------

@dataclass(frozen=True)
class LawEnvelope:
    """Mean ``Q``, std ``S`` and feedback slope ``k = h2 / eta`` of the equilibrium law at the times ``t``.

    ``alpha = -k q`` (per trading day); units: trading days, inventory units.
    """

    t: np.ndarray
    mean: np.ndarray
    std: np.ndarray
    slope: np.ndarray


ENVELOPE_STEPS = 400
#: The parameters that decide the envelope (and with the grid section, the graded nodes).
_ENVELOPE_KEYS = ("sigma", "eta0", "eta1", "phi", "gamma_T", "m0_mean", "m0_std")


def law_envelope(params, T: float) -> LawEnvelope | None:
    r"""Where the equilibrium law goes, from its Gaussian (LQ moment) reduction on a fine graded mesh.

    The model is linear-quadratic: for any cost path ``eta(t)`` the value is ``h2 q^2 + h0`` and the
    law's mean and variance obey closed ODEs (docs/mfg.md, section 6). This integrates them with backward
    Euler on ``ENVELOPE_STEPS = 400`` graded steps at the fixed point of the coupling
    (:func:`mfg_finance.mfg.coupling.lq_moment_guess`; a few ms)::

        h^n = h^{n+1} + dt (phi - (h^n)^2 / eta^n),  Q^{n+1} = Q^n / (1 + dt k^n),
        V^{n+1} (1 + 2 dt k^n) = V^n + sigma^2 dt,   k = h / eta .

    Used only to size and grade the grid (a few % accuracy is ample); ``None`` if the coupling's
    fixed point cannot be found (the callers then fall back to problem-independent choices).
    """
    key = tuple(float(params[k]) for k in _ENVELOPE_KEYS)
    return _envelope(key, float(T))


@functools.lru_cache(maxsize=64)
def _envelope(key: tuple, T: float) -> LawEnvelope | None:
    from mfg_finance.mfg.coupling import lq_moment_guess  # numba: only when the envelope is needed

    sigma, eta0, eta1, phi, gamma_T, m0_mean, m0_std = key
    t, dts = time_mesh(T, ENVELOPE_STEPS, "graded", layer=layer_scale(eta0, gamma_T))
    eta = lq_moment_guess(ENVELOPE_STEPS, dt=dts, phi=phi, gamma_T=gamma_T, eta0=eta0, eta1=eta1, mean0=m0_mean)
    if eta is None or not np.all(np.isfinite(eta)):
        return None
    from mfg_finance.mfg.moments import moment_recursions

    _, k, mean, var = moment_recursions(np.ascontiguousarray(eta, dtype=float), dts, phi, gamma_T, m0_mean,
                                        m0_std * m0_std, sigma)
    return LawEnvelope(t=t, mean=mean, std=np.sqrt(var), slope=k)


#: Graded inventory mesh: the fine spacing covers this many stds around the law's mean at every time ...
COVER_STDS = 5.0
#: ... with at least this many cells a std ...
CELLS_PER_STD = 4.0
#: ... and a cell Peclet number ``|alpha| h / sigma^2`` at most this (the scheme is central, hence
#: second order and free of numerical diffusion, where it is <= 1: :mod:`mfg_finance.mfg.hjb`).
TARGET_PECLET = 1.0
#: Nowhere coarser than this many uniform spacings.
COARSEST = 4.0
#: A law whose wanted mesh needs more than this many times the ``nx - 1`` cells is transport-dominated: no
#: cell it passes through can be central, and its nodes are placed where upwinding costs most
#: (:func:`_budgeted_monitor`). Below, the wanted monitor is squeezed alike everywhere (the check set's
#: ``sigma = 0.02`` problems need 43-1500 times the budget; the stiff baseline, the sweep corners and the
#: ``gamma_T`` ladder 0.9-4.8 times).
TRANSPORT_DOMINATED = 10.0
#: ... and there the terminal law gets this many cells a std: it is an outcome, and the variance the upwind
#: cells add in the terminal layer reaches T undiminished (check set 3's terminal std: +16.9 % with 4 cells,
#: -3.9 % with 8, -3.1 % with 12, -2.4 % with 16, while the other outcomes stay within 1 %).
TERMINAL_CELLS_PER_STD = 8.0


def _side_levels(extent: float, count: int, cell: float) -> np.ndarray:
    """``count + 1`` increasing monitor levels from 0 to ``extent``: steps of exactly ``cell`` over the inner
    half, the rounding of ``count`` absorbed by the outer half."""
    j = np.arange(count + 1, dtype=float)
    core = min(count // 2, int(extent / cell / 2.0))
    levels = cell * j
    if count > core:
        levels[core:] = cell * core + (extent - cell * core) * (j[core:] - core) / (count - core)
    return levels


def _budgeted_monitor(sample: np.ndarray, resolve: np.ndarray, central: np.ndarray, travel: np.ndarray,
                      floor: float, budget: float, terminal: np.ndarray | None = None) -> np.ndarray:
    r"""The monitor (nodes per inventory unit) on ``sample``.

    ``resolve = 1 / h_res`` (the law's std in ``CELLS_PER_STD`` cells), ``central = 1 / h_pec`` (cell Peclet
    number at most ``TARGET_PECLET``), ``travel = W`` (the time-integrated ``|alpha| x density``), ``floor`` the
    coarsest allowed, ``budget = nx - 1`` cells, ``terminal`` the terminal law's ``1 / h`` at
    ``TERMINAL_CELLS_PER_STD`` cells a std (used for transport-dominated laws). The wanted monitor
    ``max(1 / h_res, 1 / h_pec, floor)`` (squeezed alike everywhere by the equidistribution) unless its
    integral exceeds ``TRANSPORT_DOMINATED`` budgets. Then the central (Peclet) part is what cannot be
    afforded, the terminal law is resolved with ``terminal``, and the
    spacing minimises the numerical diffusion the upwind cells then add, ``int W (h - h_pec)^+ dq``, for
    ``int dq / h = budget``: ``h = max(h_pec, sqrt(lambda / W))`` (Lagrange), i.e.
    ``M = max(1 / h_res, min(1 / h_pec, sqrt(W / lambda)), floor)`` with ``lambda`` found by bisection.

    Spreading an unaffordable monitor uniformly thin (every cell the same factor too wide) puts the nodes
    where the drift is largest, wherever the law only passes through, and leaves the law's long stay coarse
    (``sigma = 0.02``: cells 30 stds wide where the law sits for 97% of the horizon).
    """
    monitor = np.maximum(np.maximum(resolve, central), floor)

    widths = np.diff(sample)

    def integral(m):
        return 0.5 * float(widths @ (m[1:] + m[:-1]))

    if integral(monitor) <= TRANSPORT_DOMINATED * budget or not np.any(travel > 0.0):
        return monitor
    root = np.sqrt(travel)
    if terminal is not None:        # the terminal law finer (TERMINAL_CELLS_PER_STD)
        resolve = np.maximum(resolve, terminal)

    def trial(log_lam):
        return np.maximum(np.maximum(resolve, np.minimum(central, root * math.exp(-0.5 * log_lam))), floor)

    lo, hi = -200.0, 200.0          # log lambda: too fine at lo, no Peclet nodes at hi
    for _ in range(60):             # to 4e-16 in log lambda
        mid = 0.5 * (lo + hi)
        if integral(trial(mid)) > budget:
            lo = mid
        else:
            hi = mid
    return trial(hi)


def inventory_nodes(x_min: float, x_max: float, nx: int, envelope: LawEnvelope | None, *,
                    sigma: float, carried: float = 0.0) -> np.ndarray:
    r"""``nx`` inventory nodes on ``[x_min, x_max]`` graded to where the law is (inventory units).

    The spacing the scheme wants at ``q`` (:mod:`mfg_finance.mfg.hjb`: central, hence second order and
    without numerical diffusion, where the cell Peclet number ``|alpha| h / sigma^2 <= 1``; the law
    resolved with ``CELLS_PER_STD`` cells a std), over the times ``t`` whose law covers ``q``
    (``|q - Q_t| <= COVER_STDS S_t``, from :func:`law_envelope`)::

        h*(q) = min_t  min( S_t / CELLS_PER_STD,  TARGET_PECLET sigma^2 / (k_t |q|) ),

    and the nodes equidistribute the monitor ``M(q) = max(1 / h*(q), (nx - 1) / (COARSEST L))``
    (``L = x_max - x_min``): ``int_{q_i}^{q_{i+1}} M dq`` is the same for every cell. The budget
    ``nx`` is spent where the monitor is large; when ``int M dq > nx - 1`` every cell is that factor
    wider than wanted (the upwind fallback of the scheme then acts where Peclet > 2). When it exceeds
    ``TRANSPORT_DOMINATED (nx - 1)`` (``sigma = 0.02``: 43-1500 times) no cell the law passes through can be
    central, and the cells are placed to minimise the numerical diffusion upwinding adds,
    ``int W (h - h_pec)^+ dq`` with ``W`` the time-integrated ``|alpha| x density`` (:func:`_budgeted_monitor`),
    the law's resolution kept: squeezing alike put the nodes where the drift is largest, wherever the law
    only passes through, and left cells 30 stds wide where the law sits (check set 5: cost +25.6 % ->
    +3.0 % on the grid). ``q = 0`` is a
    node when it is inside (the law concentrates there), and the mesh is mirror-symmetric around it over
    its inner half (symmetric monitor, the same monitor increment a cell on both sides; the rounding of
    the two sides' node counts is absorbed by their outer halves): on a lopsided core, a policy at the
    central/upwind switch (``|alpha| h = sigma^2``) would take different values at ``+-h`` and make a
    spurious mean flow, which destabilised the coupling on coarse meshes. Without an envelope the nodes are uniform.
    The error estimate's space companions are meshes of this rule with fewer nodes (mfg.accuracy).

    ``carried`` (trading days, :func:`exactly_carried`): the times closer to ``T`` than this are left out of
    ``h*``; the exact last interval carries the law there and no implicit step sees it. Why: at ``gamma_T = 1e12``
    the law contracts to a std of 1e-8 and resolving every scale of that contraction took about 50 of 201 nodes
    (spacing 1.5e-8 at 0), squeezing the cells where the law starts to 0.10-0.15, upwind there: the quadratic
    coefficient of the value at ``t = 0`` was 5 % high, +1.7 % of the cost (+1.1 % at ``gamma_T = 1e2``).
    """
    return inventory_nodes_for_laws(x_min, x_max, nx, [(envelope, sigma)], carried=carried)


def inventory_nodes_for_laws(x_min: float, x_max: float, nx: int,
                             laws: Sequence[tuple[LawEnvelope | None, float]], *,
                             carried: float = 0.0) -> np.ndarray:
    """:func:`inventory_nodes` for several laws on one grid (the agent types of
    :mod:`mfg_finance.mfg.agent_types_solver`): ``laws`` = ``(envelope, sigma)`` pairs; the spacing wanted at
    ``q`` is the smallest any of them wants there and the upwinding cost (``travel``) is their sum. Uniform if
    any envelope is ``None``."""
    if not laws or any(env is None for env, _ in laws):
        return np.linspace(x_min, x_max, nx)
    L = x_max - x_min
    smallest = max(min(float(np.maximum(env.std, 1e-300).min()) for env, _ in laws), 1e-14 * L)
    decades = math.log10(10.0 * L / smallest)
    geometric = np.geomspace(smallest / 10.0, L, int(40 * decades) + 2)
    even = np.linspace(x_min, x_max, 801)
    times = np.arange(0, laws[0][0].t.size, 4)      # every fourth time of the 400: ample for a smooth path
    if carried > 0.0:      # the law the implicit steps see (the exact last interval carries it closer to T)
        env_t = laws[0][0].t
        times = times[env_t[times] <= env_t[-1] - carried]
    # each law's own neighbourhood at every time, so that a narrow travelling packet is sampled too
    packets = [env.mean[times, None] + np.maximum(env.std, 1e-300)[times, None]
               * np.linspace(-COVER_STDS, COVER_STDS, 21) for env, _ in laws]
    sample = np.sort(np.concatenate([geometric, -geometric, even, -even, [0.0]] + [p.ravel() for p in packets]))
    # np.unique's result, without its import of numpy.ma (9 ms of a fresh process's first solve)
    sample = sample[np.concatenate(([True], sample[1:] != sample[:-1]))]
    sample = sample[(sample >= x_min) & (sample <= x_max)]
    resolve = np.full(sample.size, np.inf)       # cells a std
    central = np.full(sample.size, np.inf)       # cell Peclet number
    terminal = np.full(sample.size, np.inf)      # cells a std of the terminal law
    travel = np.zeros(sample.size)
    absq = np.maximum(np.abs(sample), 1e-300)
    for envelope, sigma in laws:
        S = np.maximum(envelope.std, 1e-300)
        t = envelope.t
        first = np.searchsorted(sample, envelope.mean[times] - COVER_STDS * S[times], side="left")
        last = np.searchsorted(sample, envelope.mean[times] + COVER_STDS * S[times], side="right")
        # near q = 0 (|q| floored at 1e-300) or for a law narrower than round-off a Peclet bound or a
        # standardised distance overflows to inf, or slope x |q| underflows to 0 (a division by zero): the
        # intended 'no constraint' (min with inf) or zero weight
        with np.errstate(over="ignore", divide="ignore"):
            for n, i, j in zip(times, first, last):      # the law at t_n covers sample[i:j]
                if j <= i:
                    continue
                resolve[i:j] = np.minimum(resolve[i:j], S[n] / CELLS_PER_STD)
                if n == times[-1]:
                    terminal[i:j] = np.minimum(terminal[i:j], S[n] / TERMINAL_CELLS_PER_STD)
                if sigma * sigma > 0.0 and envelope.slope[n] > 0.0:   # sigma^2 may underflow
                    central[i:j] = np.minimum(central[i:j],
                                              TARGET_PECLET * sigma * sigma / (envelope.slope[n] * absq[i:j]))
                # time-integrated |alpha| x density: where upwinding adds its variance |alpha| h per unit time
                span = t[min(n + 4, t.size - 1)] - t[n]
                z = (sample[i:j] - envelope.mean[n]) / S[n]
                travel[i:j] += span * envelope.slope[n] * absq[i:j] * np.exp(-0.5 * z * z) / S[n]
    floor = (nx - 1) / (COARSEST * L)
    monitor = _budgeted_monitor(sample, 1.0 / resolve, 1.0 / central, travel, floor, nx - 1, 1.0 / terminal)
    reach = min(-x_min, x_max)
    if reach > 0.0:      # symmetric around 0 where both sides exist (see the mirrored core below)
        inside = np.abs(sample) <= reach
        monitor[inside] = np.maximum(monitor[inside], np.interp(-sample[inside], sample, monitor))
    cumulative = np.concatenate([[0.0], np.cumsum(0.5 * (monitor[1:] + monitor[:-1]) * np.diff(sample))])
    total = cumulative[-1]
    if x_min < 0.0 < x_max:
        at_zero = float(np.interp(0.0, sample, cumulative))
        # an index divisible by 4 (2) when nx - 1 is, so the companions on every fourth (other) node keep q = 0
        step = next(k for k in (4, 2, 1) if (nx - 1) % k == 0 and nx >= 2 * k + 1)
        i0 = int(min(max(step * round(at_zero / total * (nx - 1) / step), 1), nx - 2))
        cell = total / (nx - 1)
        left = at_zero - _side_levels(at_zero, i0, cell)[::-1]
        right = at_zero + _side_levels(total - at_zero, nx - 1 - i0, cell)
        q = np.concatenate([np.interp(left[:-1], cumulative, sample), [0.0],
                            np.interp(right[1:], cumulative, sample)])
    else:
        q = np.interp(np.linspace(0.0, total, nx), cumulative, sample)
    q[0], q[-1] = x_min, x_max
    if not np.all(np.diff(q) > 0.0):     # defensive: a degenerate monitor
        return np.linspace(x_min, x_max, nx)
    return q


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

#: The automatic domain reaches this many standard deviations of the widest law beyond the means ...
DOMAIN_STDS = 6.0
#: ... plus this fraction of its width on each side (the envelope is a 400-step approximation).
ENVELOPE_MARGIN = 0.03
AUTO = "auto"


def auto_domain(*, m0_mean: float, m0_std: float, sigma: float, T: float, nx: int | None = None,
                eta0: float | None = None, eta1: float = 0.0, phi: float = 0.0,
                gamma_T: float = 0.0) -> tuple[float, float]:
    """Inventory range ``[x_min, x_max]`` (inventory units) that holds the equilibrium law.

    With the cost parameters (``eta0`` given), the range is the envelope of the LQ equilibrium law
    (the law this model has without a boundary, :func:`law_envelope`: its moment equations on 400
    graded steps, a few ms), ``DOMAIN_STDS = 6`` standard deviations around its mean at every time,
    so at most ~2e-9 of the mass ever comes near an end::

        x_min = min_t (Q_t - 6 sqrt(V_t)),     x_max = max_t (Q_t + 6 sqrt(V_t))

    widened by ``ENVELOPE_MARGIN`` = 3% of the width on each side, including 0.

    Without them (or if the envelope cannot be computed) it is the envelope of not trading
    at all, an upper bound (trading only pulls inventories together, and the mean moves from
    ``m0_mean`` towards 0): ``[min(m0_mean, 0) - 6 S, max(m0_mean, 0) + 6 S]``,
    ``S = sqrt(m0_std^2 + sigma^2 T)``.

    With ``nx`` the range is then widened (by less than a cell) so that ``q = 0`` is a node: the
    crowd's law ends concentrated at 0, and with 0 between two nodes its terminal mean would sit at
    the lattice's offset (e.g. -0.0037 instead of a small positive value) rather than at the model's.
    """
    low = high = None
    if eta0 is not None:
        env = law_envelope(dict(sigma=sigma, eta0=eta0, eta1=eta1, phi=phi, gamma_T=gamma_T, m0_mean=m0_mean,
                                m0_std=m0_std), T)
        if env is not None:
            low = float(min(np.min(env.mean - DOMAIN_STDS * env.std), 0.0))
            high = float(max(np.max(env.mean + DOMAIN_STDS * env.std), 0.0))
            if math.isfinite(low) and math.isfinite(high):
                margin = ENVELOPE_MARGIN * (high - low)     # the envelope is a 400-step approximation
                low, high = low - margin, high + margin
            else:
                low = high = None
    if low is None:
        spread = DOMAIN_STDS * math.sqrt(m0_std * m0_std + sigma * sigma * T)
        low, high = min(m0_mean, 0.0) - spread, max(m0_mean, 0.0) + spread
    if nx is None:
        return float(low), float(high)
    return zero_on_a_node(low, high, nx)


def zero_on_a_node(low: float, high: float, nx: int) -> tuple[float, float]:
    """``[low, high]`` (containing 0) widened by less than a cell so that ``q = 0`` is a node of ``linspace(., ., nx)``."""
    below = min(max(int(round((nx - 1) * -low / (high - low))), 1), nx - 2)   # cells below 0
    dx = max(-low / below, high / (nx - 1 - below))
    return float(-below * dx), float((nx - 1 - below) * dx)


def initial_density(q: np.ndarray, mean: float, std: float) -> np.ndarray:
    r"""``N(mean, std^2)`` projected on the nodes with exactly its mass, mean and variance (density, 1/inventory units).

    Node ``i`` carries the mass ``p_i = mu_i w_i`` (``w``: :func:`cell_widths`; ``w = dx`` on a uniform grid).

    * ``std`` at least the spacing ``h`` of the cell holding the mean: the maximum-entropy law on the nodes
      with that mean and variance, ``p_i ~ w_i exp(theta_1 z_i + theta_2 z_i^2)`` (``z = (q - mean) / std``),
      found by Newton's method on its convex dual from the sampled Gaussian (``theta = (0, -1/2)``); the
      correction to the sampled Gaussian is exponentially small in ``(std/h)^2`` plus what the domain's
      ends cut off.
    * ``std < h``: a four-node stencil. With ``q_j <= mean < q_{j+1}`` and ``f = (mean - q_j)/h``, the
      two-node law ``(1 - f, f)`` on ``(q_j, q_{j+1})`` has the mean and variance ``v2 = f (1 - f) h^2``;
      the rest of the variance comes from mixing in, with weight ``lambda = (std^2 - v2) / (vw - v2)``,
      the two-node law on ``(q_{j-1}, q_{j+2})`` with the same mean and variance
      ``vw = g (1 - g) (q_{j+2} - q_{j-1})^2 > std^2`` (``g = (mean - q_{j-1}) / (q_{j+2} - q_{j-1})``;
      ``(1 + f)(2 - f) h^2`` on a uniform grid). Every weight is ``>= 0``.

    Raises
    ------
    ConfigError naming ``mfg.params.m0_std`` when ``std^2 < v2`` (no law on these nodes has that
    mean and so small a variance), and ``mfg.params.m0_mean`` / ``mfg.params.m0_std`` /
    ``mfg.grid`` when ``mean +- 6 std`` (or the stencil) does not fit in the domain.
    """
    from mfg_finance.errors import ConfigError

    q = np.asarray(q, dtype=float)
    w = cell_widths(q)
    lo, hi = mean - DOMAIN_STDS * std, mean + DOMAIN_STDS * std
    if lo < q[0] or hi > q[-1]:
        raise ConfigError(f"mfg.params.m0_mean, mfg.params.m0_std: the initial law N({mean!r}, {std!r}^2) "
                          f"does not fit in the domain [{q[0]:.6g}, {q[-1]:.6g}] (mfg.grid.x_min, x_max): "
                          f"mean +- {DOMAIN_STDS:g} std spans [{lo:.6g}, {hi:.6g}]; widen the domain or "
                          f"set x_min/x_max to 'auto'")
    j = int(np.clip(np.searchsorted(q, mean, side="right") - 1, 0, q.size - 2))
    h = float(q[j + 1] - q[j])
    if std >= h:
        return _max_entropy(q, w, mean, std) / w
    f = (mean - q[j]) / h
    v2 = f * (1.0 - f) * h * h
    if std * std < v2:
        smallest = math.sqrt(v2)
        raise ConfigError(f"mfg.params.m0_std: {std!r} is narrower than any law on nodes {h:.6g} apart can be "
                          f"with mean {mean!r} (smallest std there: {smallest:.6g}); set m0_std >= "
                          f"{smallest:.6g} or refine mfg.grid.nx")
    if j < 1 or j + 2 > q.size - 1:
        raise ConfigError(f"mfg.params.m0_mean: {mean!r} is within two cells of the domain's end "
                          f"[{q[0]:.6g}, {q[-1]:.6g}]; widen the domain")
    wide = float(q[j + 2] - q[j - 1])
    g = (mean - q[j - 1]) / wide
    vw = g * (1.0 - g) * wide * wide
    lam = (std * std - v2) / (vw - v2)
    p = np.zeros_like(q)
    p[j] += (1.0 - lam) * (1.0 - f)
    p[j + 1] += (1.0 - lam) * f
    p[j - 1] += lam * (1.0 - g)
    p[j + 2] += lam * g
    return p / w


def _max_entropy(q: np.ndarray, w: np.ndarray, mean: float, std: float) -> np.ndarray:
    """Maximum-entropy masses (relative to the cell widths ``w``) on the nodes with mean ``mean`` and variance ``std^2``."""
    logw = np.log(w)
    z = (q - mean) / std
    feats = np.stack([z, z * z])
    target = np.array([0.0, 1.0])
    theta = np.array([0.0, -0.5])

    def dual(th):
        s = th @ feats + logw
        top = s.max()
        return top + math.log(np.exp(s - top).sum()) - th @ target

    for _ in range(100):
        s = theta @ feats + logw
        p = np.exp(s - s.max())
        p /= p.sum()
        moments = feats @ p
        grad = moments - target
        if np.max(np.abs(grad)) <= 1e-14:
            break
        centred = feats - moments[:, None]
        hess = (centred * p) @ centred.T
        step = np.linalg.solve(hess, grad)
        f0, t = dual(theta), 1.0
        if grad @ step <= 1e-13 * max(1.0, abs(f0)):
            # Newton's quadratic region: the predicted decrease is below the dual's round-off, where a line
            # search tells nothing (it took steps of 1e-5 for 100 iterations on some graded grids, the moments
            # stuck at 5e-12); the full step is right
            theta = theta - step
            continue
        while dual(theta - t * step) > f0 - 1e-4 * t * (grad @ step) and t > 1e-10:
            t *= 0.5
        theta = theta - t * step
    s = theta @ feats + logw
    p = np.exp(s - s.max())
    return p / p.sum()
