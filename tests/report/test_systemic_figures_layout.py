"""The systemic overview figures: no panel's tick labels run into the panel to its left (audit s30: the two-types
figure's eta labels, 0.0016, sat on the flow panel)."""

from __future__ import annotations

import numpy as np

from mfg_finance.report.figures import systemic


def _drawn(monkeypatch, plot, *args):
    """The figure ``plot`` draws (instead of saving it)."""
    kept = []
    monkeypatch.setattr(systemic, "save_figure", lambda fig, path: kept.append(fig))
    plot(*args, "unused.png")
    kept[0].canvas.draw()
    return kept[0]


def _assert_no_overlap(fig):
    renderer = fig.canvas.get_renderer()
    axes = sorted(fig.axes, key=lambda ax: ax.get_position().x0)
    for left, right in zip(axes, axes[1:]):
        labels = [t.get_window_extent(renderer) for t in right.get_yticklabels() if t.get_text()]
        assert labels and min(b.x0 for b in labels) > left.get_window_extent(renderer).x1


# the two-types scenario's scales: eta about 1e-3, a price about 21.5 that moves in its fourth digit
T = np.linspace(0.0, 0.5, 41)


def test_types_panels_keep_their_tick_labels_apart(monkeypatch):
    arrays = {"t": T, "weights": np.array([0.3, 0.7]),
              "mean_inventory_by_type": np.array([0.5 * np.exp(-15 * T), 0.5 * np.exp(-6 * T)]),
              "mean_flow_by_type": np.array([-5.6 * np.exp(-15 * T), -2.5 * np.exp(-6 * T)]),
              "mean_flow": -3.4 * np.exp(-9 * T), "eta": 0.00097 + 0.0007 * np.exp(-8 * T),
              "price": 21.5342 + 0.0149 * (1 - np.exp(-9 * T))}
    _assert_no_overlap(_drawn(monkeypatch, systemic.plot_types, arrays, ["urgent", "patient"]))


def test_fan_chart_panels_keep_their_tick_labels_apart(monkeypatch):
    probs = np.array([0.05, 0.25, 0.5, 0.75, 0.95])
    spread = (probs - 0.5)[:, None]
    arrays = {"t": T, "quantile_probs": probs, "band_Q": 0.5 * np.exp(-9 * T) + 0.1 * spread * T,
              "band_m": -3.4 * np.exp(-9 * T) + spread, "band_eta": 0.00097 + 0.0007 * np.exp(-8 * T) + 1e-5 * spread,
              "band_price": 21.5342 + 0.0149 * (1 - np.exp(-9 * T)) + 0.01 * spread}
    _assert_no_overlap(_drawn(monkeypatch, systemic.plot_fan_chart, arrays))
