"""Rule plot_intraday: intraday profiles, signature plot and impact fit from the intraday estimates."""
from pathlib import Path

from mfg_finance.io import read_json
from mfg_finance.logs import configure_logging
from mfg_finance.report.figures.intraday import plot_intraday

log = configure_logging(snakemake.log[0])
paths = plot_intraday(read_json(snakemake.input[0]), Path(snakemake.output[0]).parent)
log.info("wrote %s", ", ".join(str(p) for p in paths))
