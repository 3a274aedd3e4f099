"""What the model jobs import: pandas and scipy only where a job uses them (docs/workflow.md, "Import only
what a job uses"). Each test imports in a fresh interpreter and lists the heavy packages that got loaded."""

from __future__ import annotations

import subprocess
import sys


def _loaded(code: str, packages: tuple[str, ...]) -> list[str]:
    probe = f"{code}\nimport sys\nprint(' '.join(p for p in {packages!r} if p in sys.modules))"
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True)
    return out.stdout.split()


def test_reading_a_calibration_document_loads_no_pandas():
    # the model jobs' reads of a calibration, the quote figures, the intraday comparison: none uses pandas
    code = ("from mfg_finance.calibration import parameter_values, ticker_values\n"
            "from mfg_finance.calibration.documents import parameter_values, ticker_values\n"
            "from mfg_finance.calibration.comparison import heuristic_values\n"      # compare_mfg_intraday
            "from mfg_finance.report.figures.market_making import plot_quotes\n"   # plot_quotes
            "from mfg_finance.market_making.multi_asset import parameters_from_document\n"  # solve_multi_asset
            "from mfg_finance.report.figures.multi_asset import plot_quote_surface")
    assert _loaded(code, ("pandas",)) == []


def test_model_modules_import_scipy_where_used():
    code = ("import mfg_finance.mfg.exact\n"                 # the closed form; the coupled shooting imports it
            "import mfg_finance.mfg.agent_types_solver\n"    # the exact coupled types: a fallback start only
            "import mfg_finance.market_making.multi_asset\n" # parameters read by calibration, risk limit, aggregate
            "import mfg_finance.market_making.glft")         # strategies named by the aggregates
    assert _loaded(code, ("scipy",)) == []


def test_the_ingestion_summary_loads_neither_numba_nor_pandas():
    assert _loaded("from mfg_finance.cotahist.ingest_records import combine_records", ("numba", "pandas")) == []
