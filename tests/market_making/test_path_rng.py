"""Per-path random streams of the compiled engine: reference outputs and the laws of the draws."""

import numpy as np
import pytest
from scipy import stats

path_rng = pytest.importorskip("mfg_finance.market_making._path_rng")

MASK = (1 << 64) - 1


def splitmix64(state):
    """Reference SplitMix64 (Steele, Lea & Flood 2014): (output, new state), plain Python ints."""
    state = (state + 0x9E3779B97F4A7C15) & MASK
    z = state
    z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & MASK
    z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & MASK
    return z ^ (z >> 31), state


def xoshiro256ss(s, n):
    """Reference xoshiro256** (Blackman & Vigna 2018): n outputs from state s (4 ints)."""
    def rotl(x, k):
        return ((x << k) | (x >> (64 - k))) & MASK
    s = list(s)
    out = []
    for _ in range(n):
        out.append(rotl((s[1] * 5) & MASK, 7) * 9 & MASK)
        t = (s[1] << 17) & MASK
        s[2] ^= s[0]
        s[3] ^= s[1]
        s[1] ^= s[2]
        s[0] ^= s[3]
        s[2] ^= t
        s[3] = rotl(s[3], 45)
    return out


def reference_stream(seed, path, n):
    key, _ = splitmix64(seed)                               # mix64(seed + G)
    mixed, _ = splitmix64((key + (path + 1) * 0xD1B54A32D192ED03 - 0x9E3779B97F4A7C15) & MASK)
    state, words = mixed, []
    for _ in range(4):
        word, state = splitmix64(state)
        words.append(word)
    return xoshiro256ss(words, n)


def test_splitmix64_known_value():
    # first output of SplitMix64 seeded with 0 (the published test vector)
    assert int(path_rng.seed_key(0)) == 0xE220A8397B1DCDAF


@pytest.mark.parametrize("seed, path", [(0, 0), (1, 7), (2**63 - 1, 123_456)])
def test_stream_is_xoshiro256ss_seeded_from_seed_and_path(seed, path):
    _, bits = path_rng.path_draws(seed, path, 8, 2)
    assert [int(b) for b in bits] == reference_stream(seed, path, 8)


def test_uniforms_are_uniform_and_paths_independent():
    u0, _ = path_rng.path_draws(5, 0, 200_000, 0)
    u1, _ = path_rng.path_draws(5, 1, 200_000, 0)
    assert u0.min() >= 0.0 and u0.max() < 1.0
    assert stats.kstest(u0, "uniform").pvalue > 1e-4
    # independent streams: correlation ~ N(0, 1/n)
    assert abs(np.corrcoef(u0, u1)[0, 1]) < 4.5 / np.sqrt(u0.size)
    assert abs(np.corrcoef(u0[:-1], u0[1:])[0, 1]) < 4.5 / np.sqrt(u0.size)


def test_ziggurat_tables_close_the_top_layer():
    # every layer has area v; the top one, [0, x_1] x [f(x_1), 1], closes the recursion from r
    ki, wi, fi = path_rng.ziggurat_tables()
    x1 = wi[1] * 2.0 ** 52
    assert x1 * (1.0 - np.exp(-0.5 * x1 * x1)) == pytest.approx(path_rng._ZIGGURAT_V, rel=1e-12)
    assert wi[255] * 2.0 ** 52 == path_rng.ZIGGURAT_R
    assert (np.diff(fi) < 0).all() and fi[0] == 1.0


def test_normals_follow_the_standard_normal_law():
    z, _ = path_rng.path_draws(11, 3, 1_000_000, 1)
    n = z.size
    assert abs(z.mean()) < 4.5 / np.sqrt(n)
    assert abs(z.var() - 1.0) < 4.5 * np.sqrt(2.0 / n)
    assert abs(stats.skew(z)) < 4.5 * np.sqrt(6.0 / n)
    assert abs(stats.kurtosis(z)) < 4.5 * np.sqrt(24.0 / n)
    assert stats.kstest(z, "norm").pvalue > 1e-4
    # the tail branch (|z| > r, p = 2.6e-4) and the wedges: binned counts against the exact law
    edges = np.array([-np.inf, -path_rng.ZIGGURAT_R, -3.0, -2.0, -1.0, -0.5, 0.0, 0.5, 1.0, 2.0, 3.0,
                      path_rng.ZIGGURAT_R, np.inf])
    observed = np.histogram(z, edges)[0]
    expected = n * np.diff(stats.norm.cdf(edges))
    assert stats.chisquare(observed, expected).pvalue > 1e-4
    assert observed[0] > 0 and observed[-1] > 0
