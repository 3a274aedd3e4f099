"""Rule plot_analytics: the analytics charts of reports/analytics/."""
from pathlib import Path

from mfg_finance.io import read_parquet
from mfg_finance.logs import configure_logging
from mfg_finance.report.figures.analytics import plot_analytics

log = configure_logging(snakemake.log[0])
written = plot_analytics(read_parquet(snakemake.input.returns), read_parquet(snakemake.input.asset_stats),
                         read_parquet(snakemake.input.equities), Path(snakemake.output[0]).parent,
                         top_n=snakemake.params.top_n)
log.info("figures: %s", sorted(str(p) for p in written.values()))
