"""The intraday figures and report section from an estimates document of two synthetic tickers."""

from __future__ import annotations

import pandas as pd
import pytest

from mfg_finance.calibration import apply_intraday_mm, calibrate_mm
from mfg_finance.io import write_json
from mfg_finance.microstructure.intraday import estimate_sessions
from mfg_finance.report.figures.intraday import FIGURES, plot_intraday
from mfg_finance.report.intraday import intraday_section, quote_changes
from mfg_finance.trades.bars import write_session
from mfg_finance.trades.synthetic import SyntheticInstrument, simulate_session

from test_calibration_intraday import TYPICAL


def test_figures_and_section(tmp_path):
    trades = simulate_session([SyntheticInstrument("TYPA3", impact=5e-6), SyntheticInstrument("TYPB4", price0=9.0)],
                              date="2024-01-02", seed=3)
    write_session(trades, tmp_path / "S1.parquet", tmp_path / "S1_bars.parquet")
    doc = estimate_sessions([tmp_path / "S1.parquet"], ["TYPA3", "TYPB4", "NOPE3"], source="sample")
    assert set(doc["tickers"]) == {"TYPA3", "TYPB4"} and "NOPE3" in doc["missing"]
    write_json(tmp_path / "est.json", doc)
    paths = plot_intraday(doc, tmp_path / "fig")
    assert [p.stem for p in paths] == list(FIGURES) and all(p.stat().st_size > 5000 for p in paths)
    mm = apply_intraday_mm(calibrate_mm(pd.DataFrame([TYPICAL]), tickers=["TYPA3"], gamma=0.1, Q_max=10,
                                        flow_share=0.1), doc, flow_share=0.1)
    section = intraday_section(str(tmp_path / "est.json"), paths, {"parameters": {}}, mm)
    assert section["enabled"] and section["n_sessions"] == 1 and section["flow_share"] == 0.1
    assert "TYPA3 A" in section["comparison"] and "intraday" in section["comparison"]
    assert "Kyle lambda" in section["tickers"]["TYPA3"]["table"]
    assert [f["title"] for f in section["figures"]][0].startswith("Intraday profiles")
    assert intraday_section(None, [], {}, {}) == {"enabled": False}
    # trade files without any of the tickers: the section says why, and shows no empty figure
    write_json(tmp_path / "none.json", {"source": "local", "sessions": ["S1.parquet"], "tickers": {},
                                        "missing": {"PETR4": "no trade of this ticker in the session files"}})
    empty = intraday_section(str(tmp_path / "none.json"), paths, {"parameters": {}}, mm)
    assert empty["enabled"] and empty["figures"] == [] and "PETR4" in empty["missing"]
    changes = quote_changes(mm)
    old, share, used = changes["A (1/s)"].to_numpy()
    assert old == pytest.approx(10 * share)                  # flow_share 0.1 against every trade ours
    skew = changes["skew per lot (BRL)"].to_numpy()
    assert skew[1] > skew[0] > 0                               # fewer fills: inventory is riskier, quotes skew more
