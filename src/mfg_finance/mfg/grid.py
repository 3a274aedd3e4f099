"""Space-time grid of the MFG solver and the discrete initial law.

Inventory nodes ``q_i = x_min + i dx`` (``i = 0..nx-1``, inventory units) and time nodes
``t_n = n dt`` (``n = 0..nt``, trading days). The grid is vertex-centred: node ``i`` carries the
probability mass ``mu_i dx`` of the cell ``[q_i - dx/2, q_i + dx/2]``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class Grid:
    """Uniform grid: ``q`` (nx,) inventory nodes, ``t`` (nt+1,) time nodes in trading days."""

    q: np.ndarray
    t: np.ndarray

    @property
    def dx(self) -> float:
        return float(self.q[1] - self.q[0])

    @property
    def dt(self) -> float:
        return float(self.t[1] - self.t[0])

    @property
    def nx(self) -> int:
        return int(self.q.size)

    @property
    def nt(self) -> int:
        return int(self.t.size - 1)


def make_grid(x_min: float, x_max: float, nx: int, T: float, nt: int) -> Grid:
    """Uniform grid on ``[x_min, x_max] x [0, T]`` with ``nx`` space and ``nt + 1`` time nodes."""
    return Grid(q=np.linspace(x_min, x_max, nx), t=np.linspace(0.0, T, nt + 1))


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
