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


def test_charts_have_titles_unit_labels_log_axes_and_no_excluded_asset(tmp_path, small_market, monkeypatch):
    """Inspect the figures themselves (not just the files): every axis with data has a title and labels
    that carry units, the liquidity scatter is log-log, and the excluded ticker appears nowhere."""
    import matplotlib.pyplot as plt

    from mfg_finance.report.figures import analytics

    captured = {}

    def keep(fig, path, **kwargs):
        captured[path.stem] = fig
        path.write_bytes(PNG_MAGIC)

    monkeypatch.setattr(analytics, "save_figure", keep)
    frame, result = small_market
    assert not result.asset_stats.set_index("ticker").loc["SHRT3", "included"]
    analytics.plot_analytics(result.returns, result.asset_stats, frame, tmp_path, top_n=3)
    assert set(captured) == set(FIGURES)
    unit_words = ("%", "BRL", "1/", "session", "log")
    try:
        for name, fig in captured.items():
            axes = [ax for ax in fig.axes if ax.has_data() and ax.get_label() != "<colorbar>"]
            assert axes, name
            assert fig._suptitle is not None or all(ax.get_title() for ax in axes[:1]), name
            for ax in axes:
                label = ax.get_xlabel() + " " + ax.get_ylabel()
                assert label.strip() and any(w in label for w in unit_words), (name, label)
                texts = [t.get_text() for t in ax.texts] + [ax.get_title()] + \
                        [t.get_text() for t in ax.get_xticklabels() + ax.get_yticklabels()]
                legend = ax.get_legend()
                texts += [t.get_text() for t in legend.get_texts()] if legend else []
                assert not any("SHRT3" in t for t in texts), (name, "excluded asset shown")
        liquidity = [ax for ax in captured["liquidity_vs_volatility"].axes if ax.has_data()][0]
        assert liquidity.get_xscale() == "log" and liquidity.get_yscale() == "log"
        top = [ax for ax in captured["top_volatility"].axes if ax.has_data()][0]
        assert "Top 3" in top.get_title()
    finally:
        for fig in captured.values():
            plt.close(fig)


def test_inputs_read_from_the_files_give_the_same_charts(tmp_path, small_market):
    """The two charts whose inputs analytics_inputs reduces (returns, equity volumes): same PNG bytes."""
    from mfg_finance.io import save_figure, write_parquet
    from mfg_finance.report.figures import analytics

    frame, result = small_market
    for name, table in (("equities", frame), ("returns", result.returns), ("asset_stats", result.asset_stats)):
        write_parquet(tmp_path / f"{name}.parquet", table)
    returns, asset_stats, equities = analytics.analytics_inputs(
        tmp_path / "returns.parquet", tmp_path / "asset_stats.parquet", tmp_path / "equities.parquet")
    assert list(returns.columns) == ["ticker", "log_return"] and list(equities.columns) == ["date", "ticker", "volume"]
    included = analytics._included(result.asset_stats)
    pooled, top = list(included["ticker"]), list(included["ticker"])[:3]
    for name, (before, after) in {
            "returns": (lambda: analytics.plot_return_distribution(result.returns, pooled, top),
                        lambda: analytics.plot_return_distribution(returns, pooled, top)),
            "volume": (lambda: analytics.plot_volume_profile(frame, included, top),
                       lambda: analytics.plot_volume_profile(equities, analytics._included(asset_stats), top))}.items():
        save_figure(before(), tmp_path / f"{name}_1.png")
        save_figure(after(), tmp_path / f"{name}_2.png")
        assert (tmp_path / f"{name}_1.png").read_bytes() == (tmp_path / f"{name}_2.png").read_bytes(), name
