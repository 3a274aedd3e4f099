"""Formatting for the report: numbers, durations, HTML tables, embedded PNG figures (``value ± error``:
:mod:`mfg_finance.report.uncertain`)."""

from __future__ import annotations

import base64
import html
import math
from pathlib import Path
from typing import Iterable

import numpy as np
import pandas as pd

FIGURE_TITLES = {
    "return_distribution": "Distribution of daily log returns",
    "top_volatility": "Most volatile assets",
    "vol_estimators": "Volatility estimators compared",
    "liquidity_vs_volatility": "Liquidity against volatility",
    "volume_profile": "Traded volume over time",
    "value_function": "Value function u(t, q)",
    "feedback": "Optimal feedback alpha*(t, q)",
    "density": "Inventory density mu(t, q): heatmap and cuts",
    "flow_eta_price": "Mean flow, execution cost eta and price",
    "convergence": "Fixed-point residual history",
    "exact_comparison": "PDE solution against the exact LQ reference",
    "convergence_order": "Mesh refinement: error against grid size (log-log)",
    "pnl_distribution": "Final PnL per strategy",
    "inventory_distribution": "Final inventory per strategy",
}

#: seconds in a B3 trading session, when the calibration does not say
DEFAULT_SECONDS_PER_DAY = 25200

#: A&S (2008) reproduction: the compared statistics and their labels
REPRO_METRICS = (("profit_mean", "mean profit"), ("profit_std", "std of profit"),
                 ("q_mean", "mean final q"), ("q_std", "std of final q"))


def embed_png(path: str | Path) -> str:
    """``data:`` URI of a PNG file, so the report needs no other file."""
    data = Path(path).read_bytes()
    if not data.startswith(b"\x89PNG\r\n\x1a\n"):
        raise ValueError(f"{path}: not a PNG file")
    return "data:image/png;base64," + base64.b64encode(data).decode("ascii")


def figure(path: str | Path, title: str | None = None) -> dict[str, str]:
    stem = Path(path).stem
    return {"src": embed_png(path), "title": title or FIGURE_TITLES.get(stem, stem.replace("_", " ")),
            "name": Path(path).name}


def finite(value) -> bool:
    try:
        return value is not None and math.isfinite(float(value))
    except (TypeError, ValueError):
        return False


def num(value, digits: int = 3) -> str:
    """``value`` to ``digits`` significant digits, thousands separated; '—' when missing."""
    if not finite(value):
        return "—"
    value = float(value)
    if value != 0 and (abs(value) >= 1e6 or abs(value) < 1e-3):
        return f"{value:.{digits}g}"
    text = f"{value:,.{digits}g}" if abs(value) < 10 ** digits else f"{value:,.0f}"
    return text


def duration(days: float, seconds_per_day: float | None) -> str:
    """A duration in trading days, said in seconds, minutes or hours of trading."""
    if not finite(days):
        return "—"
    if not seconds_per_day:
        return f"{days:.3g} trading days"
    seconds = days * seconds_per_day
    if seconds < 120:
        return f"{seconds:.0f} seconds"
    if abs(seconds / 3600 - round(seconds / 3600)) < 1e-9:
        hours = round(seconds / 3600)
        return "1 hour" if hours == 1 else f"{hours} hours"
    if seconds < 2 * 3600:
        return f"{seconds / 60:.0f} minutes"
    if days < 2:
        return f"{seconds / 3600:.1f} hours"
    return f"{days:.1f} trading days"


def _cell(value, digits: int) -> str:
    if isinstance(value, (bool, np.bool_)):
        return "yes" if value else "no"
    if isinstance(value, (float, np.floating)):
        if np.isnan(value):
            return "—"
        return f"{value:.{digits}g}"
    if isinstance(value, pd.Timestamp):
        return value.strftime("%Y-%m-%d") if value == value.normalize() else value.isoformat(sep=" ")
    if value is None or value is pd.NaT:
        return "—"
    return html.escape(str(value))


def _header(name) -> str:
    """A header cell; a long snake_case name may break anywhere (class ``snake``) so it cannot widen its table,
    while ordinary words keep whole."""
    text = str(name)
    cls = ' class="snake"' if "_" in text and len(text) > 10 else ""
    return f"<th{cls}>{html.escape(text)}</th>"


def html_table(frame: pd.DataFrame, *, digits: int = 4, table_id: str | None = None,
               classes: str = "sortable", row_classes: Iterable[str] | None = None) -> str:
    """An HTML table (sortable by the report's script) with numbers shown to ``digits`` significant digits."""
    head = "".join(_header(c) for c in frame.columns)
    row_classes = list(row_classes) if row_classes is not None else [""] * len(frame)
    body = "".join((f'<tr class="{cls}">' if cls else "<tr>")
                   + "".join(f"<td>{_cell(v, digits)}</td>" for v in row) + "</tr>"
                   for row, cls in zip(frame.itertuples(index=False, name=None), row_classes))
    attr = f' id="{table_id}"' if table_id else ""
    return f'<table class="{classes}"{attr}><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>'


def html_tables_fitting(frame: pd.DataFrame, keys: Iterable[str], *, max_columns: int = 8, digits: int = 4,
                        classes: str = "sortable", row_classes: Iterable[str] | None = None,
                        box: str | None = "scroll") -> str:
    """``frame`` as consecutive tables of at most ``max_columns`` columns besides ``keys`` (repeated in each),
    each in a ``<div class="{box}">`` (the report's scroll box of long tables) unless ``box`` is None.

    A table wider than the page hides columns behind a scroll bar (or, printed, cuts them off); several
    narrower tables with the same rows show every column.
    """
    keys = [k for k in keys if k in frame.columns]
    others = [c for c in frame.columns if c not in keys]
    row_classes = list(row_classes) if row_classes is not None else None
    n_tables = max(1, math.ceil(len(others) / max_columns))
    size = max(1, math.ceil(len(others) / n_tables))           # balanced: no table with a lone column
    chunks = [others[i:i + size] for i in range(0, len(others), size)] or [[]]
    tables = [html_table(frame[keys + chunk], digits=digits, classes=classes, row_classes=row_classes)
              for chunk in chunks]
    return "\n".join(f'<div class="{box}">{t}</div>' if box else t for t in tables)
