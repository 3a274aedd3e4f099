"""plot_analytics writes exactly the five charts, also on thin or degenerate inputs."""

import pytest

from mfg_finance.report.figures.analytics import FIGURES, plot_analytics
from mfg_finance.stats import compute_stats

from stats_synthetic import equities_frame

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


@pytest.fixture(scope="module")
def small_market():
    frame = equities_frame({f"SYN{c}3": {"adv_shares": 10 ** (4 + i % 3), "sigma_annual": 0.2 + 0.05 * i}
                            for i, c in enumerate("ABCDE")} | {"SHRT3": {"sessions": 5}},
                           n_sessions=70, seed=8)
    return frame, compute_stats(frame, min_sessions=30)


def test_writes_exactly_the_five_pngs(tmp_path, small_market):
    frame, result = small_market
    written = plot_analytics(result.returns, result.asset_stats, frame, tmp_path / "analytics", top_n=3)
    assert set(written) == set(FIGURES) == {"return_distribution", "top_volatility", "vol_estimators",
                                            "liquidity_vs_volatility", "volume_profile"}
    assert sorted(p.name for p in (tmp_path / "analytics").iterdir()) == sorted(f"{n}.png" for n in FIGURES)
    for path in written.values():
        assert path.read_bytes()[:8] == PNG_MAGIC and path.stat().st_size > 5_000


def test_top_n_larger_than_assets_and_no_included_asset(tmp_path, small_market):
    frame, result = small_market
    plot_analytics(result.returns, result.asset_stats, frame, tmp_path / "big", top_n=50)
    none_included = result.asset_stats.assign(included=False)
    written = plot_analytics(result.returns, none_included, frame, tmp_path / "none", top_n=5)
    assert all(p.exists() for p in written.values())


def test_rejects_bad_top_n(tmp_path, small_market):
    frame, result = small_market
    with pytest.raises(ValueError, match="top_n"):
        plot_analytics(result.returns, result.asset_stats, frame, tmp_path, top_n=0)
