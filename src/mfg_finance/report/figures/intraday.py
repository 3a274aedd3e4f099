"""Figures of the intraday calibration (trade-by-trade files), one function per figure.

Every figure reads only the estimates document of the ``estimate_intraday`` rule
(``results/trades/intraday_estimates.json``), one line or panel per ticker.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Mapping

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

from mfg_finance.io import save_figure  # noqa: E402

#: File names written by :func:`plot_intraday` (without ``.png``).
FIGURES = ("intraday_profile", "signature_plot", "impact_fit")


def intraday_profile(doc: Mapping[str, Any], path: str | Path) -> None:
    """Trade count, volume and realized variance per clock bin, relative to their daily mean."""
    fig, axes = plt.subplots(1, 3, figsize=(11, 3.4), sharey=True)
    for ticker, entry in doc["tickers"].items():
        prof = entry["profile"]
        hours = np.asarray(prof["bin_start_s"]) / 3600
        for ax, key in zip(axes, ("trades", "volume", "rv")):
            ax.step(hours, prof[key], where="post", label=ticker)
    for ax, title in zip(axes, ("trades", "volume (shares)", "realized variance")):
        ax.set_title(title)
        ax.set_xlabel("hour (exchange time)")
        ax.axhline(1.0, color="0.6", lw=0.8)
    axes[0].set_ylabel("relative to the day's mean bin")
    axes[0].legend()
    save_figure(fig, path)


def signature_plot(doc: Mapping[str, Any], path: str | Path) -> None:
    """Realized variance per second against the sampling interval, with the TSRV estimate."""
    fig, ax = plt.subplots(figsize=(6.5, 4))
    for ticker, entry in doc["tickers"].items():
        sig = entry["signature"]
        line, = ax.plot(sig["interval_s"], sig["rv_per_second"], "o-", label=f"{ticker}: RV")
        var = entry["estimates"].get("variance_per_second")
        if var:
            ax.axhspan(var["value"] - 2 * var["se"], var["value"] + 2 * var["se"], color=line.get_color(), alpha=0.15)
            ax.axhline(var["value"], color=line.get_color(), ls="--", label=f"{ticker}: TSRV +/- 2 SE")
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlabel("sampling interval (s)")
    ax.set_ylabel("realized variance per second (BRL$^2$/s)")
    ax.set_title("Signature plot: noise inflates RV at short intervals")
    ax.legend()
    save_figure(fig, path)


def impact_fit(doc: Mapping[str, Any], path: str | Path) -> None:
    """Binned bounce-corrected price change against signed flow, with the Kyle and square-root fits."""
    tickers = [t for t, e in doc["tickers"].items() if e.get("impact_curve")]
    fig, axes = plt.subplots(1, max(len(tickers), 1), figsize=(5.2 * max(len(tickers), 1), 4), squeeze=False)
    for ax, ticker in zip(axes[0], tickers):
        entry = doc["tickers"][ticker]
        curve, est = entry["impact_curve"], entry["estimates"]
        q = np.asarray(curve["Q"])
        ax.errorbar(q, curve["dP"], yerr=2 * np.asarray(curve["se"]), fmt="o", label="binned mean +/- 2 SE")
        grid = np.linspace(q.min(), q.max(), 200)
        if "kyle_lambda" in est:
            lam = est["kyle_lambda"]
            ax.plot(grid, lam["value"] * grid, label=f"Kyle: lambda = {lam['value']:.3g} +/- {lam['se']:.2g} BRL/share")
        if "sqrt_law_y" in est and "sigma" in est:
            y, sigma = est["sqrt_law_y"], est["sigma"]["value"]
            scale = sigma * np.sqrt(curve["tau_mean"][0])
            ax.plot(grid, y["value"] * scale * np.sign(grid) * np.sqrt(np.abs(grid) / curve["vbar"][0]),
                    label=f"square root: Y = {y['value']:.3g} +/- {y['se']:.2g}")
        ax.axhline(0, color="0.6", lw=0.8)
        ax.axvline(0, color="0.6", lw=0.8)
        ax.set_title(f"{ticker}: price impact of signed flow")
        ax.set_xlabel("signed volume between the two prices (shares)")
        ax.set_ylabel("price change minus bounce (BRL)")
        ax.legend(fontsize=7.5)
    save_figure(fig, path)


def plot_intraday(doc: Mapping[str, Any], out_dir: str | Path) -> list[Path]:
    """All intraday figures into ``out_dir``; returns their paths."""
    out_dir = Path(out_dir)
    paths = []
    for name, fn in (("intraday_profile", intraday_profile), ("signature_plot", signature_plot),
                     ("impact_fit", impact_fit)):
        paths.append(out_dir / f"{name}.png")
        fn(doc, paths[-1])
    return paths
