"""Sweep line plots: a non-converged point is a hole in the line, never interpolated."""

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

from mfg_finance.report.figures.sweeps import OUTCOME_LABELS, _lines, plot_sweep  # the package selects Agg


def _table():
    """eta1 sweep of 5 points, the middle one (eta1 = 0.3) not converged; rows deliberately unsorted."""
    x = np.array([0.5, 0.1, 0.3, 0.2, 0.4])
    converged = x != 0.3
    values = {name: np.where(converged, 10.0 * x + i, np.nan) for i, name in enumerate(OUTCOME_LABELS)}
    # A stale finite value on the failed row must not be drawn either.
    values["total_cost"][~converged] = 99.0
    return pd.DataFrame({"param_eta1": x, "converged": converged, **values})


def test_line_breaks_at_non_converged_point():
    fig = _lines(_table(), "param_eta1", "t", others=[])
    try:
        for ax in fig.axes[:len(OUTCOME_LABELS)]:
            data = [ln for ln in ax.get_lines() if ln.get_marker() == "o"]
            assert len(data) == 1
            xs, ys = (np.asarray(a, dtype=float) for a in data[0].get_data())
            np.testing.assert_array_equal(xs, [0.1, 0.2, 0.3, 0.4, 0.5])
            assert np.isnan(ys[2]) and np.isfinite(np.delete(ys, 2)).all()
            # The failed point keeps its red ✕ at x = 0.3.
            crosses = [ln for ln in ax.get_lines() if ln.get_marker() == "x"]
            assert [float(np.asarray(ln.get_xdata())[0]) for ln in crosses] == [0.3]
            assert crosses[0].get_color() == "red"
            # No drawn segment spans the failed point: the path is split into two pieces around it.
            path = data[0].get_path()
            finite = np.isfinite(path.vertices).all(axis=1)
            assert not finite[2] and finite.sum() == 4
    finally:
        plt.close(fig)


def test_line_plot_with_failed_point_saves(tmp_path):
    out = tmp_path / "sweep.png"
    plot_sweep(_table(), out, title="eta1")
    assert out.stat().st_size > 0


def test_lines_carry_error_bars_and_mark_a_speed_read_from_a_mean_within_noise():
    """Real data, sweep sigma0: the speed fell 13.6 -> 10.4 -> 9.8 on the figure with no bar, though its SEs were
    1.3-1.4 and E[Q_T] within 2 SE of 0 at the common-noise points (the summary calls it not resolved)."""
    table = pd.DataFrame({"param_market_share": [0.0, 0.35, 0.7], "converged": [True, True, True],
                          "liquidation_speed": [13.63, 10.4, 9.8], "liquidation_speed_error": [0.02, 0.17, 0.15],
                          "liquidation_speed_se": [0.0, 1.3, 1.4],
                          "mean_inventory_terminal": [5.4e-4, 2.8e-3, 3.9e-3],
                          "mean_inventory_terminal_se": [0.0, 1.7e-3, 2.6e-3],
                          "terminal_dispersion": [0.081, 0.122, 0.139], "total_cost": [0.34, 0.53, 0.63],
                          "total_cost_error": [8e-4, 1.2e-3, 1.4e-3]})
    fig = _lines(table, "param_market_share", "sigma0", others=[])
    try:
        speed, std, cost = fig.axes[:3]
        bars = [c for c in speed.collections if c.__class__.__name__ == "LineCollection"]
        segments = bars[0].get_segments()
        np.testing.assert_allclose([seg[1][1] - seg[0][1] for seg in segments], [0.04, 2 * (0.17 + 2.6),
                                                                                   2 * (0.15 + 2.8)])
        hollow = [c for c in speed.collections if c.__class__.__name__ == "PathCollection"]
        np.testing.assert_allclose(hollow[0].get_offsets()[:, 0], [0.35, 0.7])
        assert not [c for c in std.collections if c.__class__.__name__ == "LineCollection"]   # no error column
        assert [c for c in cost.collections if c.__class__.__name__ == "LineCollection"]
        assert "bars: discretisation estimate + 2 Monte Carlo SE" in fig._suptitle.get_text()
    finally:
        plt.close(fig)


def test_bars_title_names_only_the_parts_the_bars_hold():
    """A sweep without common noise (eta1, urgent_share) has no Monte Carlo SE: its title said "+ 2 Monte Carlo SE"."""
    table = pd.DataFrame({"param_eta1": [0.0, 0.01], "converged": [True, True], "liquidation_speed": [13.8, 11.3],
                          "terminal_dispersion": [0.08, 0.07], "total_cost": [0.33, 0.69],
                          "total_cost_error": [3e-5, 1.5e-4]})
    fig = _lines(table, "param_eta1", "eta1", others=[])
    try:
        assert fig._suptitle.get_text().endswith("; bars: discretisation estimate")
    finally:
        plt.close(fig)


def test_a_sweep_with_a_price_shows_its_price_impact_beside_the_three_outcomes():
    """The sigma0 and urgent_share sweeps have a price: their figures showed speed, std and cost only."""
    table = pd.DataFrame({"param_urgent_share": [0.1, 0.5, 0.9], "converged": [True] * 3,
                          "liquidation_speed": [13.8, 14.8, 16.7], "terminal_dispersion": [0.079, 0.070, 0.059],
                          "total_cost": [0.352, 0.394, 0.435], "price_impact": [0.0082, 0.0137, 0.0191],
                          "price_impact_error": [3e-8, 6e-8, 5e-8]})
    fig = _lines(table, "param_urgent_share", "urgent_share", others=[])
    try:
        assert [ax.get_ylabel() for ax in fig.axes] == [*OUTCOME_LABELS.values(), "price impact p_T - p_0 (BRL)"]
    finally:
        plt.close(fig)
    fig = _lines(table.drop(columns=["price_impact", "price_impact_error"]), "param_urgent_share", "u", others=[])
    try:
        assert len(fig.axes) == 3
    finally:
        plt.close(fig)


def _weights_table():
    """A type_weights sweep (text labels) of three points, the middle one not converged, unsorted."""
    labels = ["0.5 / 0.3 / 0.2", "0.2 / 0.3 / 0.5", "0.3 / 0.4 / 0.3"]
    converged = np.array([True, True, False])
    values = {name: np.where(converged, [3.0, 1.0, 2.0], np.nan) for name in OUTCOME_LABELS}
    return pd.DataFrame({"param_type_weights": labels, "converged": converged, **values})


def test_a_weight_vector_axis_is_drawn_at_its_labels_in_order(tmp_path):
    fig = _lines(_weights_table(), "param_type_weights", "w", others=[])
    try:
        ax = fig.axes[0]
        data = [ln for ln in ax.get_lines() if ln.get_marker() == "o"][0]
        xs, ys = (np.asarray(a, dtype=float) for a in data.get_data())
        np.testing.assert_array_equal(xs, [0.0, 1.0, 2.0])
        assert ys[0] == 1.0 and np.isnan(ys[1]) and ys[2] == 3.0 and data.get_linestyle() == "None"
        assert [t.get_text() for t in ax.get_xticklabels()] == ["0.2 / 0.3 / 0.5", "0.3 / 0.4 / 0.3",
                                                                "0.5 / 0.3 / 0.2"]
        crosses = [ln for ln in ax.get_lines() if ln.get_marker() == "x"]
        assert [float(np.asarray(ln.get_xdata())[0]) for ln in crosses] == [1.0]
    finally:
        plt.close(fig)
    # with a numeric axis too: a heatmap, the weight vectors on the axis after the numeric one
    table = pd.concat([_weights_table().assign(param_eta1=e) for e in (0.0, 0.001)], ignore_index=True)
    plot_sweep(table[["param_type_weights", "param_eta1", "converged", *OUTCOME_LABELS]], tmp_path / "h.png")
    assert (tmp_path / "h.png").stat().st_size > 0
