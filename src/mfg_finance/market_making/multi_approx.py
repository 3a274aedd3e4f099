r"""Closed-form quadratic approximation of multi-asset optimal quotes (Bergault, Evangelista, Guéant
and Vieira 2021, "Closed-form approximations in multi-asset market making"), for any number of assets.

Same model as :mod:`.multi_asset`. Replacing each Hamiltonian ``H_i(p) = (eta_i/k_i) exp(-k_i p)`` by
its second-order Taylor polynomial at ``p = 0``, ``H_i(p) ~ alpha0_i - alpha1_i p + alpha2_i p^2 / 2``
with ``alpha2_i = eta_i k_i``, the HJB equation has the quadratic solution
``theta(t, q) = -q' A(t) q - C(t)`` (the linear term vanishes: bid and ask intensities are equal),
where, in remaining time ``tau = T - t`` and with ``D = diag(alpha2)`` (1/(price unit s))::

    dA/dtau = (gamma/2) Sigma - 4 A D A,     A(tau = 0) = diag(phi)        (matrix Riccati)

and the approximate quotes are (price units, lots of one)::

    delta_i^b(t, q) = (1/gamma) ln(1 + gamma/k_i) + (2 A(t) q)_i + A_ii(t)
    delta_i^a(t, q) = (1/gamma) ln(1 + gamma/k_i) - (2 A(t) q)_i + A_ii(t)

Closed form. With ``X = D^(1/2) A D^(1/2)``, ``S = D^(1/2) Sigma D^(1/2) = U diag(lambda) U'`` and
``mu = sqrt(gamma lambda / 2) / 2``, the ergodic (``tau -> infinity``) solution is
``X_inf = U diag(mu) U'`` (``4 X_inf^2 = (gamma/2) S``), i.e.
``A_inf = D^(-1/2) X_inf D^(-1/2)``; for ``d = 1`` the quote slope ``2 A_inf`` is GLFT's asymptotic
``omega``. The deviation ``Y = X - X_inf`` satisfies ``dY/dtau = -4 (X_inf Y + Y X_inf + Y^2)``, whose
inverse obeys a *linear* Lyapunov equation; solved in the eigenbasis (``~`` = ``U' . U``)::

    Y~(tau) = E Y~0 (I + F Y~0)^(-1) E,    E = diag(exp(-4 mu tau)),
    F = diag((1 - exp(-8 mu tau)) / (2 mu))   (= 4 tau where mu = 0),    Y~0 = U' X(0) U - diag(mu)

Every exponential is <= 1 (no overflow at any horizon) and ``I + F Y~0`` is invertible for any
``phi >= 0``, so the formula holds without inverting ``Y0``. Cost: one ``d x d`` symmetric
eigendecomposition, then one ``d x d`` solve per time.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from mfg_finance.market_making.multi_asset import MultiAssetParameters


@dataclass(frozen=True)
class _Spectral:
    root_d: np.ndarray        # D^(1/2) diagonal
    vectors: np.ndarray       # U
    mu: np.ndarray            # eigenvalues of X_inf


def _spectral(params: MultiAssetParameters) -> _Spectral:
    alpha2 = params.eta * params.k
    root_d = np.sqrt(alpha2)
    s = root_d[:, None] * params.covariance * root_d[None, :]
    lam, vectors = np.linalg.eigh(0.5 * (s + s.T))
    mu = 0.5 * np.sqrt(0.5 * params.gamma * np.clip(lam, 0.0, None))
    return _Spectral(root_d, vectors, mu)


def ergodic_matrix(params: MultiAssetParameters) -> np.ndarray:
    """``A_inf`` (price units / lot^2): the stationary solution of the Riccati equation."""
    sp = _spectral(params)
    x_inf = (sp.vectors * sp.mu) @ sp.vectors.T
    return x_inf / np.outer(sp.root_d, sp.root_d)


def riccati_matrix(params: MultiAssetParameters, t) -> np.ndarray:
    """``A(t)`` at times ``t`` (s), shape ``(len(t), d, d)`` (price units / lot^2)."""
    sp = _spectral(params)
    t = np.atleast_1d(np.asarray(t, dtype=float))
    tau = params.T - np.clip(t, 0.0, params.T)
    u = sp.vectors
    x0 = u.T @ ((sp.root_d * params.phi * sp.root_d)[:, None] * u)      # U' D^(1/2) diag(phi) D^(1/2) U
    y0 = x0 - np.diag(sp.mu)
    mu = sp.mu[None, :]
    e = np.exp(-4.0 * mu * tau[:, None])                                # (n_t, d)
    with np.errstate(invalid="ignore", divide="ignore"):
        f = np.where(mu > 0, -np.expm1(-8.0 * mu * tau[:, None]) / (2.0 * np.where(mu > 0, mu, 1.0)),
                     4.0 * tau[:, None])
    eye = np.eye(params.d)
    # Y~ = E Y0 (I + F Y0)^-1 E, computed as E [ (I + F Y0)^-T Y0' ]' E (Y0 symmetric)
    lhs = eye[None] + f[:, :, None] * y0[None]
    core = np.linalg.solve(np.transpose(lhs, (0, 2, 1)), np.broadcast_to(y0, lhs.shape))
    y = e[:, :, None] * np.transpose(core, (0, 2, 1)) * e[:, None, :]
    x = np.diag(sp.mu)[None] + y
    x = u[None] @ x @ u.T[None]
    a = x / np.outer(sp.root_d, sp.root_d)[None]
    return 0.5 * (a + np.transpose(a, (0, 2, 1)))


def approximate_spreads(params: MultiAssetParameters, a_matrix: np.ndarray, q) -> tuple[np.ndarray, np.ndarray]:
    """Approximate quotes ``(delta_b, delta_a)`` (price units) for inventories ``q`` (``(..., d)``, lots).

    ``a_matrix`` is ``A`` of shape ``(d, d)`` or ``(n_t, d, d)``; the result has shape
    ``a_matrix.shape[:-2] + q.shape`` (times first). Limits are not applied here.
    """
    q = np.asarray(q, dtype=float)
    a = np.asarray(a_matrix, dtype=float)
    skew = 2.0 * np.einsum("...ij,nj->...ni", a, q.reshape(-1, params.d))     # (2 A q)_i
    diag = np.diagonal(a, axis1=-2, axis2=-1)[..., None, :]
    static = params.static_half_spread
    delta_b = static + skew + diag
    delta_a = static - skew + diag
    shape = a.shape[:-2] + q.shape
    return delta_b.reshape(shape), delta_a.reshape(shape)


def approximate_spread_table(params: MultiAssetParameters, t) -> tuple[np.ndarray, np.ndarray]:
    """Approximate quotes on the whole lattice, same layout as :meth:`MultiAssetQuotes.spread_table`.

    Shape ``(len(t), *lattice_shape, d)``; sides that would breach a limit are ``inf``.
    """
    a = riccati_matrix(params, t)
    lattice = params.lattice()
    delta_b, delta_a = approximate_spreads(params, a, lattice)
    shape = (a.shape[0],) + params.lattice_shape + (params.d,)
    delta_b, delta_a = delta_b.reshape(shape), delta_a.reshape(shape)
    for i, q_max in enumerate(params.Q_max):
        top = [slice(None)] * (params.d + 1) + [i]
        bottom = list(top)
        top[i + 1], bottom[i + 1] = -1, 0
        delta_b[tuple(top)] = np.inf
        delta_a[tuple(bottom)] = np.inf
    return delta_b, delta_a


def approximation_error(params: MultiAssetParameters, exact_b: np.ndarray, approx_b: np.ndarray, *,
                        near: int = 2) -> dict:
    """Largest ``|delta_exact - delta_approx|`` of the bid quotes (price units), at ``|q_i| <= near``
    and over the whole lattice (quoted sides only), with the exact quotes' range for scale.

    ``exact_b``/``approx_b`` have the layout ``(*lattice_shape, d)`` (one time).
    """
    finite = np.isfinite(exact_b) & np.isfinite(approx_b)
    error = np.abs(np.where(finite, exact_b, 0.0) - np.where(finite, approx_b, 0.0))
    centre = tuple(slice(max(int(q) - near, 0), int(q) + near + 1) for q in params.Q_max)
    return {"max_error_near_zero": float(error[centre].max()), "near_zero_radius_lots": int(near),
            "max_error_lattice": float(error.max()),
            "mean_error_lattice": float(error[finite].mean()),
            "exact_quote_min": float(exact_b[finite].min()), "exact_quote_max": float(exact_b[finite].max())}
