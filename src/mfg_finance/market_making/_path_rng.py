r"""Per-path random streams for the compiled Monte Carlo engine (imported lazily, with numba).

Every path ``p`` owns a xoshiro256** generator (Blackman & Vigna 2018; period ``2**256 - 1``)
whose four state words are the first four outputs of SplitMix64 started at

    ``v_p = mix64(mix64(seed + G) + (p + 1) C)``,  ``G = 0x9E3779B97F4A7C15``, ``C = 0xD1B54A32D192ED03``

(``mix64`` is SplitMix64's output bijection, the seeding recipe xoshiro's authors recommend). A
path's draws therefore depend on ``(seed, p)`` only: not on the number of paths, on how paths are
split among threads, or on the thread count, which is what makes the engine's results
byte-identical for any ``NUMBA_NUM_THREADS``. Two paths' states coincide with probability
``~2**-62`` per pair, and xoshiro256** streams from distinct random states do not overlap within
any feasible run length.

Draws:

* uniform on ``[0, 1)``: the top 53 bits of an output times ``2**-53`` (every double of the form
  ``k 2**-53``, equally likely);
* standard normal: the 256-layer ziggurat of Marsaglia & Tsang (2000) in the form NumPy uses
  (``r = 3.6541528853610088``, layer area ``v = r f(r) + int_r^inf f = 4.928673233974658e-3``):
  one 64-bit output gives the layer (8 bits), the sign (1 bit) and a 52-bit abscissa; ~99.3 % of draws are accepted with one
  comparison, the rest go through the wedge or the exact tail (Marsaglia 1964) and draw again;
* a fair sign: the top bit of an output.

The tables are built once in NumPy from the recursion ``x_{i-1} = f^{-1}(v / x_i + f(x_i))``,
``f(x) = exp(-x^2/2)``; ``tests/market_making/test_path_rng.py`` checks the draws against their
laws.
"""

from __future__ import annotations

import math

import numba
import numpy as np

_U64 = np.uint64
_GOLDEN = _U64(0x9E3779B97F4A7C15)
_PATH_STRIDE = _U64(0xD1B54A32D192ED03)
_MIX1 = _U64(0xBF58476D1CE4E5B9)
_MIX2 = _U64(0x94D049BB133111EB)
_TO_UNIT = 2.0 ** -53

ZIGGURAT_R = 3.6541528853610088
"""Start of the normal tail of the 256-layer ziggurat."""
#: area of each layer and of the base strip plus tail, ``r f(r) + sqrt(pi/2) erfc(r/sqrt(2))``, computed
#: from ``r`` so the top layer closes to rounding (the usual 12-digit constant leaves 5e-12 over)
_ZIGGURAT_V = (ZIGGURAT_R * math.exp(-0.5 * ZIGGURAT_R ** 2)
               + math.sqrt(math.pi / 2) * math.erfc(ZIGGURAT_R / math.sqrt(2)))
_TWO52 = 2.0 ** 52


def ziggurat_tables() -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``(ki, wi, fi)`` of the 256-layer normal ziggurat (Marsaglia & Tsang 2000, 52-bit abscissae).

    Layer ``i`` has right edge ``x_i`` (``x_255 = r``); a draw ``j`` (52 bits) in layer ``i`` gives
    ``x = j wi[i]`` and is accepted at once when ``j < ki[i]`` (``x < x_{i-1}``, inside the layer
    below); ``fi[i] = f(x_i)``. Layer 0 is the base strip plus the tail.
    """
    ki = np.zeros(256, dtype=np.uint64)
    wi = np.zeros(256)
    fi = np.zeros(256)
    dn = tn = ZIGGURAT_R
    q = _ZIGGURAT_V / np.exp(-0.5 * dn * dn)
    ki[0] = np.uint64((dn / q) * _TWO52)
    ki[1] = 0
    wi[0] = q / _TWO52
    wi[255] = dn / _TWO52
    fi[0] = 1.0
    fi[255] = np.exp(-0.5 * dn * dn)
    for i in range(254, 0, -1):
        dn = np.sqrt(-2.0 * np.log(_ZIGGURAT_V / dn + np.exp(-0.5 * dn * dn)))
        ki[i + 1] = np.uint64((dn / tn) * _TWO52)
        tn = dn
        fi[i] = np.exp(-0.5 * dn * dn)
        wi[i] = dn / _TWO52
    return ki, wi, fi


KI, WI, FI = ziggurat_tables()


@numba.njit(inline="always")
def _mix64(z):
    z = (z ^ (z >> _U64(30))) * _MIX1
    z = (z ^ (z >> _U64(27))) * _MIX2
    return z ^ (z >> _U64(31))


@numba.njit(inline="always")
def _rotl(x, k):
    return (x << _U64(k)) | (x >> _U64(64 - k))


@numba.njit(cache=True)
def seed_key(seed):
    """The 64-bit key of a seed in [0, 2**63): ``mix64(seed + G)``."""
    return _mix64(_U64(seed) + _GOLDEN)


@numba.njit(inline="always")
def path_state(key, path):
    """xoshiro256** state ``(s0, s1, s2, s3)`` of path ``path`` (SplitMix64 from ``v_p``)."""
    v = _mix64(key + (_U64(path) + _U64(1)) * _PATH_STRIDE)
    v += _GOLDEN
    s0 = _mix64(v)
    v += _GOLDEN
    s1 = _mix64(v)
    v += _GOLDEN
    s2 = _mix64(v)
    v += _GOLDEN
    s3 = _mix64(v)
    return s0, s1, s2, s3


@numba.njit(inline="always")
def next_u64(s0, s1, s2, s3):
    """One xoshiro256** output: ``(output, s0, s1, s2, s3)``."""
    out = _rotl(s1 * _U64(5), 7) * _U64(9)
    t = s1 << _U64(17)
    s2 ^= s0
    s3 ^= s1
    s1 ^= s2
    s0 ^= s3
    s2 ^= t
    s3 = _rotl(s3, 45)
    return out, s0, s1, s2, s3


@numba.njit(inline="always")
def to_unit(x):
    """Uniform on [0, 1) from the top 53 bits of a 64-bit output."""
    return np.float64(x >> _U64(11)) * _TO_UNIT


@numba.njit
def _normal_slow(idx, x, rabs, s0, s1, s2, s3):
    """The ~0.7 % of draws outside the rectangles: ``(accepted, value, s0, s1, s2, s3)``."""
    if idx == 0:                           # the tail beyond r (Marsaglia 1964): always ends in a value
        while True:
            u, s0, s1, s2, s3 = next_u64(s0, s1, s2, s3)
            xx = -np.log1p(-to_unit(u)) / ZIGGURAT_R
            u, s0, s1, s2, s3 = next_u64(s0, s1, s2, s3)
            yy = -np.log1p(-to_unit(u))
            if yy + yy > xx * xx:
                value = ZIGGURAT_R + xx
                return True, (-value if (rabs >> _U64(8)) & _U64(1) else value), s0, s1, s2, s3
    u, s0, s1, s2, s3 = next_u64(s0, s1, s2, s3)
    accepted = (FI[idx - 1] - FI[idx]) * to_unit(u) + FI[idx] < np.exp(-0.5 * x * x)
    return accepted, x, s0, s1, s2, s3


@numba.njit(inline="always")
def normal(s0, s1, s2, s3):
    """A standard normal draw: ``(z, s0, s1, s2, s3)`` (256-layer ziggurat)."""
    while True:
        r, s0, s1, s2, s3 = next_u64(s0, s1, s2, s3)
        idx = np.int64(r & _U64(0xFF))
        r >>= _U64(8)
        rabs = (r >> _U64(1)) & _U64(0x000FFFFFFFFFFFFF)
        x = np.float64(rabs) * WI[idx]
        if r & _U64(1):
            x = -x
        if rabs < KI[idx]:
            return x, s0, s1, s2, s3
        accepted, x, s0, s1, s2, s3 = _normal_slow(idx, x, rabs, s0, s1, s2, s3)
        if accepted:
            return x, s0, s1, s2, s3


@numba.njit(cache=True)
def path_draws(seed, path, n, kind):
    """``n`` successive draws of path ``path``'s stream (for tests): kind 0 uniform, 1 normal, 2 raw bits.

    Raw bits are returned as int64 views of the uint64 outputs.
    """
    s0, s1, s2, s3 = path_state(seed_key(seed), path)
    out = np.empty(n, dtype=np.float64) if kind != 2 else np.empty(0, dtype=np.float64)
    bits = np.empty(n if kind == 2 else 0, dtype=np.uint64)
    for i in range(n):
        if kind == 0:
            u, s0, s1, s2, s3 = next_u64(s0, s1, s2, s3)
            out[i] = to_unit(u)
        elif kind == 1:
            out[i], s0, s1, s2, s3 = normal(s0, s1, s2, s3)
        else:
            bits[i], s0, s1, s2, s3 = next_u64(s0, s1, s2, s3)
    return out, bits
