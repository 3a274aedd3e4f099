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
